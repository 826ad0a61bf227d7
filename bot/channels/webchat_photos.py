"""Photos residents upload in the web chat: kept by the assistant, linked in reports, limited.

The page uploads the file alone (`POST /webhooks/webchat/photo?session=`, the
raw bytes as `application/octet-stream` or `image/*`, types a browser sends
cross-site only after a CORS preflight, which this server never grants, like
the JSON the other web chat calls take). It is checked and re-encoded
(bot/channels/photo_checks.py) and kept in the `webchat_photos` table under a
random reference; the answer names that reference, the photo's link (for the
page to show it) and the GPS position the photo carried. The page then sends the photo as a message (`metadata.photo`),
and only a photo of the same conversation is attached: its signed link
(bot/channels/media.py) becomes the report's `media_url`, which the city's
back office fetches from `GET /webhooks/webchat/media/<ref>?sig=`.

Uploads are limited per conversation and across all web chats (counted in the
database, so every Rasa process shares the count), each file by size, each
Rasa process to a few uploads at once (their bodies are held in memory), and
the retention job forgets photos with the rest of a conversation's transcript.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Dict, Optional

import sqlalchemy as sa
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import Connection

from bot.channels.limits import BodyTooLarge, read_capped_body
from bot.channels.media import MEDIA_HEADERS, MEDIA_REF, media_error, media_signature_ok, signed_media_url
from bot.channels.photo_checks import NOT_A_PHOTO, TOO_LARGE, PhotoRefused, checked_photo
from bot.db.engine import database, utcnow
from bot.db.schema import webchat_photos
from bot.settings import settings

CHANNEL = "webchat"
# What a page may declare its upload as; anything else (a form post, text) is refused before it is read.
UPLOAD_TYPES = ("application/octet-stream", "image/jpeg", "image/png", "image/heic", "image/heif")
# Refusals the page explains to the resident, besides photo_checks' reasons.
BUSY = "busy"
UNAVAILABLE = "unavailable"
# Uploads one Rasa process holds at once (each body up to WEBCHAT_PHOTO_MAX_MB in memory); more get 429 at once.
MAX_UPLOADS_IN_FLIGHT = 4
_in_flight = 0
PHOTO_HEADERS = {**MEDIA_HEADERS, "Content-Security-Policy": "default-src 'none'", "Content-Disposition": "inline"}


def max_photo_bytes() -> int:
    """WEBCHAT_PHOTO_MAX_MB in bytes."""
    return int(settings().webchat_photo_max_mb * 1024 * 1024)


def photos_on() -> bool:
    """Photos are taken only when the city's back office can be given a link to them (PUBLIC_URL)."""
    return (settings().public_url or "").startswith(("http://", "https://"))


def refusal(reason: str, status: int, detail: str) -> HTTPResponse:
    """A refused upload: the page shows the resident the text for `reason`."""
    return response.json({"error": detail, "reason": reason}, status=status)


# --- the store ------------------------------------------------------------------------


async def too_many_uploads(sender_id: str) -> bool:
    """Whether this conversation's hourly allowance, or all web chats' allowance per minute, is used up."""
    now = utcnow()
    per_conversation = sa.select(sa.func.count()).where(
        webchat_photos.c.sender_id == sender_id, webchat_photos.c.created_at >= now - timedelta(hours=1)
    )
    everyone = sa.select(sa.func.count()).where(webchat_photos.c.created_at >= now - timedelta(minutes=1))

    def count(connection: Connection) -> bool:
        return (
            connection.execute(per_conversation).scalar_one() >= settings().webchat_photos_per_hour
            or connection.execute(everyone).scalar_one() >= settings().webchat_photos_per_minute
        )

    return await database().run(count)


async def keep_photo(sender_id: str, content_type: str, data: bytes) -> str:
    """Store a checked photo of a conversation; its new random reference."""
    ref = secrets.token_urlsafe(24)
    row = {"ref": ref, "sender_id": sender_id, "content_type": content_type, "data": data, "created_at": utcnow()}
    await database().run(lambda connection: connection.execute(webchat_photos.insert().values(**row)))
    return ref


@dataclass(frozen=True)
class StoredPhoto:
    sender_id: str
    content_type: str
    data: bytes


async def stored_photo(ref: str) -> Optional[StoredPhoto]:
    """A kept photo by its reference, or None (never kept, or forgotten by the retention job)."""
    if not MEDIA_REF.fullmatch(ref):
        return None
    query = sa.select(webchat_photos.c.sender_id, webchat_photos.c.content_type, webchat_photos.c.data).where(
        webchat_photos.c.ref == ref
    )
    row = await database().run(lambda connection: connection.execute(query).first())
    return StoredPhoto(row.sender_id, row.content_type, bytes(row.data)) if row else None


async def photo_link(sender_id: str, ref: str) -> Optional[str]:
    """The signed link of a photo this conversation uploaded; None for any other reference."""
    photo = await stored_photo(ref)
    if photo is None or photo.sender_id != sender_id:
        return None
    return signed_media_url(CHANNEL, ref)


# --- the routes' work -------------------------------------------------------------------


def _declared_type(request: Request) -> str:
    return (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()


async def receive_photo(request: Request, sender_id: str) -> HTTPResponse:
    """Check, re-encode and keep an upload; answer its reference, link and GPS position (201), or why not (4xx/503)."""
    if not photos_on():
        return refusal(UNAVAILABLE, 503, "photos are off: PUBLIC_URL is not set")
    if _declared_type(request) not in UPLOAD_TYPES:
        return refusal(NOT_A_PHOTO, 415, f"send the file's bytes as one of {', '.join(UPLOAD_TYPES)}")
    global _in_flight
    if _in_flight >= MAX_UPLOADS_IN_FLIGHT or await too_many_uploads(sender_id):
        return refusal(BUSY, 429, "too many photos: try again later")
    limit = max_photo_bytes()
    _in_flight += 1
    try:
        photo = await checked_photo(await read_capped_body(request, limit), limit)
    except BodyTooLarge:
        return refusal(TOO_LARGE, 413, f"the file is larger than {limit} bytes")
    except PhotoRefused as refused:
        return refusal(refused.reason, refused.status, str(refused))
    finally:
        _in_flight -= 1
    ref = await keep_photo(sender_id, photo.content_type, photo.data)
    position: Optional[Dict[str, Any]] = None
    if photo.position:
        position = {"latitude": photo.position[0], "longitude": photo.position[1]}
    return response.json({"photo": ref, "link": signed_media_url(CHANNEL, ref), "position": position}, status=201)


async def serve_photo(request: Request, ref: str) -> HTTPResponse:
    """A kept photo, for whoever holds the link the assistant signed (the city's back office, the page)."""
    if not media_signature_ok(CHANNEL, ref, request.args.get("sig")):
        return media_error(403, "this link is not valid")
    photo = await stored_photo(ref)
    if photo is None:
        return media_error(404, "this file is no longer available")
    return response.raw(photo.data, content_type=photo.content_type, headers=PHOTO_HEADERS)
