"""The web chat: a page residents open in a browser, or embed on the city's own site.

The Rasa server serves the page (`/chat`), its script and styles, the embed
script (`/chat/embed.js`) and a small JSON API under `/webhooks/webchat/`.
Every message of a web chat conversation is written to the `webchat_messages`
table, so a reload shows the conversation again (`history`) and any process,
the worker or a staff console, can reach a resident by adding a row that the
page receives over Server-Sent Events (`events`).

The session id is a random UUID made by the browser and kept in its storage; it
is the resident's address on this channel, like a phone number for SMS.

The page is shown in the language `?lang=` or the browser asks for
(bot/web/language.py), and sends that language with each message as the
channel's hint (`metadata.language`) for a resident the assistant does not know yet.

A new conversation opens with the assistant's greeting (`start`). A resident
shares a location the way Telegram's does (`metadata.location`, from the
browser's geolocation) and sends photos (bot/channels/webchat_photos.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Set, Text

import sqlalchemy as sa
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import Connection

from bot.channels.hooks import NOT_TYPED
from bot.channels.identity import require_production_secret, sender_id_for
from bot.channels.language import resident_texts
from bot.channels.limits import MAX_MESSAGE_CHARS, BodyTooLarge, is_text, read_capped_body, text_too_long
from bot.channels.media import MEDIA_REF
from bot.channels.outbound import Buttons, register_sender
from bot.channels.webchat_photos import max_photo_bytes, photo_link, photos_on, receive_photo, serve_photo
from bot.db.contacts import remember_contact
from bot.db.engine import database, utcnow
from bot.db.schema import webchat_messages
from bot.failures import failure_summary
from bot.i18n.city import branding
from bot.i18n.languages import resident_language, supported
from bot.i18n.messages import messages
from bot.i18n.store import stored_language
from bot.web.hsts import hsts_for_whole_app
from bot.web.language import asked_language, language_tag, page_language, request_language
from bot.web.render import render

logger = logging.getLogger(__name__)

CHANNEL = "webchat"
HISTORY_LIMIT = 500
POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
SETTLE_SECONDS = 5.0  # a row older than this is committed for good
RECONNECT_MILLISECONDS = 3000

USER, BOT, STAFF = "user", "bot", "staff"
OPENING = "/greet"  # what a new conversation says first: the greeting and its starter buttons
PHOTO_TEXT = "channels.telegram_photo"  # what a photo without a caption says to the assistant
PUSHED_ROLES = (BOT, STAFF)

STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"
# Only these files are served: nothing else in the folder (or outside it) is reachable.
JAVASCRIPT = "application/javascript; charset=utf-8"
ASSETS = {
    "chat.js": JAVASCRIPT,
    "chat.css": "text/css; charset=utf-8",
}
# The page loads nothing from elsewhere; bot images may come from any https host.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)
_NOSNIFF = {"X-Content-Type-Options": "nosniff"}

_SESSION = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# A message id as the database keeps it: a signed 64-bit integer, written in ASCII digits.
_MESSAGE_ID = re.compile(r"^[0-9]{1,19}$")
MAX_MESSAGE_ID = 2**63 - 1

# --- the transcript -----------------------------------------------------------


def clean_payload(message: Dict[str, Any]) -> Dict[str, Any]:
    """The parts of a Rasa message a page can show; buttons reduced to title and payload."""
    payload: Dict[str, Any] = {}
    for key in ("text", "image", "attachment"):
        if isinstance(message.get(key), str) and message[key]:
            payload[key] = message[key]
    buttons = [
        {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
        for b in message.get("buttons") or []
        if isinstance(b, dict)
    ]
    if buttons:
        payload["buttons"] = buttons
    if message.get("custom") is not None:
        payload["custom"] = message["custom"]
    return payload


def _as_message(row: sa.engine.Row) -> Dict[str, Any]:
    created = row.created_at
    if created.tzinfo is None:  # SQLite keeps the UTC time without its zone
        created = created.replace(tzinfo=timezone.utc)
    return {"id": row.id, "role": row.role, **json.loads(row.payload), "created_at": created.isoformat()}


async def append_message(sender_id: str, role: str, payload: Dict[str, Any]) -> Dict[str, Any]:
    """Store one message of a conversation; return it as the page receives it (with its id)."""
    if role not in (USER, BOT, STAFF):
        raise ValueError(f"unknown web chat role {role!r}")

    def insert(connection: Connection) -> Dict[str, Any]:
        result = connection.execute(
            webchat_messages.insert().values(
                sender_id=sender_id, role=role, payload=json.dumps(payload), created_at=utcnow()
            )
        )
        row_id = result.inserted_primary_key[0]
        return _as_message(connection.execute(sa.select(webchat_messages).where(webchat_messages.c.id == row_id)).one())

    return await database().run(insert)


async def messages_after(
    sender_id: str, after: int = 0, roles: Optional[Iterable[str]] = None, limit: int = HISTORY_LIMIT
) -> List[Dict[str, Any]]:
    """A conversation's messages with an id above `after`, oldest first (the last `limit`)."""
    query = sa.select(webchat_messages).where(webchat_messages.c.sender_id == sender_id, webchat_messages.c.id > after)
    if roles is not None:
        query = query.where(webchat_messages.c.role.in_(list(roles)))
    query = query.order_by(webchat_messages.c.id.desc()).limit(limit)
    rows = await database().run(lambda c: c.execute(query).all())
    return [_as_message(row) for row in reversed(rows)]


# --- sending to a web chat --------------------------------------------------------


class WebChatOutput(CollectingOutputChannel):
    """Rasa's replies, written to the transcript as they are sent (and kept for the webhook's answer)."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    async def _persist_message(self, message: Dict[str, Any]) -> None:
        payload = clean_payload(message)
        if payload:
            self.messages.append(await append_message(message["recipient_id"], BOT, payload))


class WebChatSender:
    """Outbound messages (status updates, staff replies, alerts): a row the page picks up."""

    channel = CHANNEL

    async def send(self, address: str, text: str, buttons: Buttons = None, role: str = BOT) -> None:
        """`address` is the session id; `role="staff"` marks a reply written by a person."""
        if role not in PUSHED_ROLES:
            raise ValueError(f"a web chat can only be sent bot or staff messages, not {role!r}")
        payload = clean_payload({"text": text, "buttons": buttons})
        await append_message(sender_id_for(CHANNEL, address), role, payload)

    def write_in(self, connection: Connection, sender_ids: List[str], text: str) -> None:
        """Bot messages to many conversations in the caller's transaction (alerts: with their "sent" mark)."""
        payload, now = json.dumps(clean_payload({"text": text})), utcnow()
        connection.execute(
            webchat_messages.insert(),
            [{"sender_id": sender_id, "role": BOT, "payload": payload, "created_at": now} for sender_id in sender_ids],
        )


def sender_from_env() -> WebChatSender:
    """The web chat needs no credentials: it is always reachable."""
    require_production_secret()
    return WebChatSender()


# --- requests ---------------------------------------------------------------------


class BadRequest(Exception):
    """A request the page should not have sent: answered 4xx with a JSON message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Turn:
    """One message a resident sent from the page."""

    session: str
    text: str  # what Rasa gets: typed text or a button's payload ("" for a photo without a caption)
    shown: str  # what the transcript shows: the same, or the button's title
    metadata: Optional[Dict[str, Any]]
    image: Optional[str] = None  # the signed link of a photo sent with it (see `attach_photo`)

    @property
    def language(self) -> Optional[str]:
        """The language the page was asked in (its hint), if it sent one."""
        return (self.metadata or {}).get("language")


def parse_session(value: Any) -> str:
    """The browser's session id, which must be a UUID (lower case)."""
    session = value.strip().lower() if isinstance(value, str) else ""
    if not _SESSION.match(session):
        raise BadRequest("session must be a UUID made by the page")
    return session


def _optional_text(body: Dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{key} must be a string")
    text = value.strip()
    if text_too_long(text):
        raise BadRequest(f"{key} is longer than {MAX_MESSAGE_CHARS} characters", status=413)
    if not is_text(text):
        raise BadRequest(f"{key} is not valid text")
    return text


def _json_object(raw: bytes) -> Dict[str, Any]:
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body must be JSON") from None
    except RecursionError:  # nested deeper than the parser goes; no page sends that
        raise BadRequest("the body is nested too deeply") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def parse_turn(raw: bytes) -> Turn:
    """Check a webhook body: `{"session", "message", "title"?, "metadata"?: {"location"?, "language"?, "photo"?}}`.

    A message may be empty only when it sends a photo.
    """
    body = _json_object(raw)
    session = parse_session(body.get("session"))
    text = _optional_text(body, "message")
    metadata = parse_metadata(body)
    if not text and not (metadata or {}).get("photo"):
        raise BadRequest("message is required")
    return Turn(session=session, text=text, shown=_optional_text(body, "title") or text, metadata=metadata)


def parse_opening(raw: bytes) -> Turn:
    """Check the body that opens a conversation: `{"session", "metadata"?: {"language"?}}`."""
    body = _json_object(raw)
    language = (parse_metadata(body) or {}).get("language")
    metadata = {NOT_TYPED: True, **({"language": language} if language else {})}
    return Turn(session=parse_session(body.get("session")), text=OPENING, shown="", metadata=metadata)


def parse_metadata(body: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """What the page may tell Rasa besides the text: a shared location, the page's language, an uploaded photo.

    Other keys (a `media_url`, say) are dropped: channels vouch for those, and a
    web page is anyone's to write. A photo is named by the reference its upload
    answered, and `attach_photo` accepts only the conversation's own.
    """
    metadata = body.get("metadata")
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise BadRequest("metadata must be an object")
    parsed: Dict[str, Any] = {}
    if metadata.get("location") is not None:
        parsed["location"] = parse_location(metadata["location"])
    if metadata.get("language") is not None:
        language = parse_language(metadata["language"])
        if language:
            parsed["language"] = language
    if metadata.get("photo") is not None:
        photo = metadata["photo"]
        if not isinstance(photo, str) or not MEDIA_REF.fullmatch(photo):
            raise BadRequest("metadata.photo must be the reference an upload answered")
        parsed["photo"] = photo
    return parsed or None


async def attach_photo(turn: Turn) -> Turn:
    """A turn with a photo, its reference replaced by the link the back office fetches (`media_url`).

    A photo without a caption says `channels.telegram_photo` to the assistant ("photo"), in the resident's language.
    """
    metadata = dict(turn.metadata or {})
    ref = metadata.pop("photo", None)
    if ref is None:
        return turn
    sender_id = sender_id_for(CHANNEL, turn.session)
    link = await photo_link(sender_id, ref)
    if link is None:
        raise BadRequest("metadata.photo is not a photo this conversation uploaded", status=404)
    text = turn.text or (await resident_texts(sender_id, metadata.get("language"))).text(PHOTO_TEXT)
    metadata["media_url"] = link
    return Turn(turn.session, text, turn.shown if turn.text else "", metadata, image=link)


def parse_location(location: Any) -> Dict[str, float]:
    """A shared location: a latitude and longitude on Earth."""
    try:
        latitude, longitude = float(location["latitude"]), float(location["longitude"])
    except (KeyError, TypeError, ValueError):
        raise BadRequest("metadata.location needs a numeric latitude and longitude") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise BadRequest("metadata.location is not a place on Earth")
    return {"latitude": latitude, "longitude": longitude}


def parse_language(value: Any) -> Optional[str]:
    """The page's language as a city language's code ("es-MX" -> "es"); None (dropped) for another language."""
    tag = language_tag(value)
    if tag is None:
        raise BadRequest('metadata.language must be a language tag such as "es"')
    return supported(tag)


def parse_after(request: Request) -> int:
    """Where a stream resumes: `after`, or the browser's Last-Event-ID when it reconnects."""
    values = [request.args.get("after"), request.headers.get("last-event-id")]
    given = [v.strip() for v in values if v not in (None, "")]
    if any(not _MESSAGE_ID.match(v) for v in given):
        raise BadRequest("after must be a message id (a whole number, not negative)")
    numbers = [int(v) for v in given]
    if any(n > MAX_MESSAGE_ID for n in numbers):
        raise BadRequest("after is beyond any message id")
    return max(numbers, default=0)


def error(exc: BadRequest) -> HTTPResponse:
    return response.json({"error": str(exc)}, status=exc.status)


def _age_seconds(message: Dict[str, Any]) -> float:
    return (utcnow() - datetime.fromisoformat(message["created_at"])).total_seconds()


def sse_event(message: Dict[str, Any]) -> str:
    return f"id: {message['id']}\ndata: {json.dumps(message)}\n\n"


# --- the channel ------------------------------------------------------------------


class WebChatInput(InputChannel):
    """The web chat page and its API, mounted at the server's root."""

    def __init__(self) -> None:
        require_production_secret()
        register_sender(WebChatSender())
        self._stopping = False

    @classmethod
    def name(cls) -> Text:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WebChatInput":
        return cls()

    def url_prefix(self) -> Text:
        # Rasa mounts channels at urljoin("/webhooks/", prefix): "/" puts the page at /chat.
        return "/"

    def get_output_channel(self) -> WebChatOutput:
        """Messages Rasa starts itself (reminders, trigger_intent) go to the transcript too."""
        return WebChatOutput()

    async def handle(
        self, turn: Turn, on_new_message: Callable[[UserMessage], Awaitable[Any]], record: bool = True
    ) -> List[Dict[str, Any]]:
        """Record the resident's message (not the opening), run it through Rasa, return the stored replies."""
        sender_id = sender_id_for(CHANNEL, turn.session)
        await remember_contact(sender_id, CHANNEL, turn.session)
        if record:
            await append_message(sender_id, USER, clean_payload({"text": turn.shown, "image": turn.image}))
        output = WebChatOutput()
        try:
            await on_new_message(
                UserMessage(turn.text, output, sender_id, input_channel=CHANNEL, metadata=turn.metadata)
            )
        except Exception as error:  # the resident still gets an answer; the log has where it failed
            logger.error("web chat message could not be handled: %s", failure_summary(error))
            await output.send_text_message(sender_id, await apology(sender_id, turn.language))
        return output.messages

    async def stream(self, request: Request, sender_id: str, after: int) -> None:
        """Push a conversation's new bot and staff messages until the page goes away.

        Sanic cancels this handler when the client disconnects; server shutdown
        ends it through `_stopping`, and the browser reconnects with Last-Event-ID.
        """
        stream = await request.respond(
            content_type="text/event-stream; charset=utf-8",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        await stream.send(f"retry: {RECONNECT_MILLISECONDS}\n\n")
        last_write = time.monotonic()
        sent: Set[int] = set()
        while not self._stopping:
            messages = await messages_after(sender_id, after, roles=PUSHED_ROLES)
            for message in messages:
                if message["id"] not in sent:
                    await stream.send(sse_event(message))
                    sent.add(message["id"])
                    last_write = time.monotonic()
            # Recent rows are read again: on PostgreSQL a lower id can commit after a higher one.
            after = max([after] + [m["id"] for m in messages if _age_seconds(m) > SETTLE_SECONDS])
            sent = {i for i in sent if i > after}
            if time.monotonic() - last_write >= KEEPALIVE_SECONDS:
                await stream.send(": keep-alive\n\n")
                last_write = time.monotonic()
            await asyncio.sleep(POLL_SECONDS)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        web = Blueprint("webchat", __name__)
        hsts_for_whole_app(web)
        logger.info("Web chat is on: GET /chat, embed with /chat/embed.js")

        @web.listener("before_server_stop")
        async def stop_streams(_app: Any, _loop: Any) -> None:
            self._stopping = True

        @web.route("/chat", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            language = page_language(request)
            return response.html(
                render(
                    "chat/chat.html",
                    language=language,
                    hint=request_language(request),
                    photos=photos_on(),
                    photo_max_mb=f"{max_photo_bytes() / (1024 * 1024):g}",
                    photo_max_bytes=max_photo_bytes(),
                ),
                headers={"Content-Security-Policy": PAGE_POLICY, **_by_language(language), **_NOSNIFF},
            )

        @web.route("/chat/static/<name>", methods=["GET"])
        async def asset(_request: Request, name: str) -> HTTPResponse:
            if name == "brand.css":
                return response.text(
                    render("brand.css"),
                    content_type="text/css; charset=utf-8",
                    headers={"Cache-Control": "no-cache", **_NOSNIFF},
                )
            if name not in ASSETS:
                return response.json({"error": "not found"}, status=404)
            return await _static(name, ASSETS[name])

        @web.route("/chat/embed.js", methods=["GET"])
        async def embed(request: Request) -> HTTPResponse:
            language = page_language(request)
            script = render("chat/embed.js", language=language, asked=asked_language(request.args.get("lang")))
            return response.text(script, content_type=JAVASCRIPT, headers={**_by_language(language), **_NOSNIFF})

        @web.route("/webhooks/webchat/webhook", methods=["POST"], stream=True)  # the body is read under its cap
        async def receive(request: Request) -> HTTPResponse:
            try:
                turn = await attach_photo(parse_turn(await read_capped_body(request)))
            except BodyTooLarge as exc:
                return error(BadRequest(str(exc), status=413))
            except BadRequest as exc:
                return error(exc)
            return response.json(await self.handle(turn, on_new_message))

        @web.route("/webhooks/webchat/start", methods=["POST"], stream=True)
        async def start(request: Request) -> HTTPResponse:
            """The greeting of a conversation with nothing in it yet (a page opened for the first time)."""
            try:
                turn = parse_opening(await read_capped_body(request))
            except BodyTooLarge as exc:
                return error(BadRequest(str(exc), status=413))
            except BadRequest as exc:
                return error(exc)
            if await messages_after(sender_id_for(CHANNEL, turn.session), limit=1):
                return response.json([])  # already under way: the page reads its history
            return response.json(await self.handle(turn, on_new_message, record=False))

        @web.route("/webhooks/webchat/photo", methods=["POST"], stream=True)  # read under WEBCHAT_PHOTO_MAX_MB
        async def photo(request: Request) -> HTTPResponse:
            try:
                session = parse_session(request.args.get("session"))
            except BadRequest as exc:
                return error(exc)
            return await receive_photo(request, sender_id_for(CHANNEL, session))

        @web.route("/webhooks/webchat/media/<ref>", methods=["GET"])
        async def media(request: Request, ref: str) -> HTTPResponse:
            return await serve_photo(request, ref)

        @web.route("/webhooks/webchat/history", methods=["GET"])
        async def history(request: Request) -> HTTPResponse:
            try:
                session = parse_session(request.args.get("session"))
            except BadRequest as exc:
                return error(exc)
            return response.json(await messages_after(sender_id_for(CHANNEL, session)))

        @web.route("/webhooks/webchat/events", methods=["GET"])
        async def events(request: Request) -> Optional[HTTPResponse]:
            try:
                session = parse_session(request.args.get("session"))
                after = parse_after(request)
            except BadRequest as exc:
                return error(exc)
            await self.stream(request, sender_id_for(CHANNEL, session), after)
            return None

        return web


def _by_language(language: str) -> Dict[str, str]:
    """Headers of a response made for the browser's language: revalidated, and never cached across languages."""
    return {"Cache-Control": "no-cache", "Vary": "Accept-Language", "Content-Language": language}


async def apology(sender_id: str, page_language: Optional[str]) -> str:
    """The answer when the assistant failed: in the resident's stored language, else the page's.

    The database may be what failed, so the page's language is also the fallback.
    """
    try:
        language = await stored_language(sender_id) or page_language
    except Exception as error:  # the apology must still go out
        logger.warning("a web chat resident's language could not be read: %s", failure_summary(error))
        language = page_language
    code = resident_language(language)
    return messages(code).text("web.chat.apology", phone=branding(code).phone)


async def _static(name: str, mime_type: str) -> HTTPResponse:
    """A file of the page, revalidated by the browser so a deployment shows at once."""
    return await response.file(
        STATIC_DIR / name, mime_type=mime_type, headers={"Cache-Control": "no-cache", **_NOSNIFF}
    )
