"""Signed links to residents' photos, served by the assistant itself.

A channel's own file URL cannot be handed to the city: Telegram's embeds the bot
token, Twilio's needs the account's credentials. Instead a report carries
`{PUBLIC_URL}/webhooks/<channel>/media/<ref>?sig=<hmac>`; the channel's route
checks the signature (so only links the assistant issued work) and relays the
file from the channel's cloud with `stream_remote`. Any channel can use this.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Collection, Dict, Optional, Tuple
from urllib.parse import urlsplit

import httpx
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.identity import secret_key as citybot_secret
from bot.settings import settings

logger = logging.getLogger(__name__)

# Cloud file ids are URL-safe tokens; anything else is refused rather than escaped.
MEDIA_REF = re.compile(r"[A-Za-z0-9_-]{1,256}")
FETCH_TIMEOUT_SECONDS = 30.0
# Headers of a resident's photo as the assistant serves it: cached by its fetcher only, never sniffed.
MEDIA_HEADERS = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
_warned_no_public_url = False


def media_signature(channel: str, ref: str) -> str:
    """HMAC of one channel's file reference under CITYBOT_SECRET_KEY (128 bits, hex)."""
    message = f"media:{channel}:{ref}".encode("utf-8")
    return hmac.new(citybot_secret(), message, hashlib.sha256).hexdigest()[:32]


def media_signature_ok(channel: str, ref: str, signature: Optional[str]) -> bool:
    """Whether `signature` is the one this assistant issued for the reference."""
    if not signature or not MEDIA_REF.fullmatch(ref):
        return False
    return hmac.compare_digest(signature.encode("utf-8"), media_signature(channel, ref).encode("utf-8"))


def signed_media_url(channel: str, ref: str) -> Optional[str]:
    """The public link for a file, or None when PUBLIC_URL is unset or the ref is unusable."""
    global _warned_no_public_url
    public_url = (settings().public_url or "").rstrip("/")
    if not public_url.startswith(("http://", "https://")):
        if not _warned_no_public_url:
            logger.warning("PUBLIC_URL is not set: residents' photos cannot be linked in reports")
            _warned_no_public_url = True
        return None
    if not MEDIA_REF.fullmatch(ref):
        logger.warning("a %s file reference has unexpected characters: photo not linked", channel)
        return None
    return f"{public_url}/webhooks/{channel}/media/{ref}?sig={media_signature(channel, ref)}"


def url_on_hosts(
    url: str, hosts: Collection[str], domains: Collection[str] = (), http_hosts: Collection[str] = ()
) -> bool:
    """Whether a media URL a channel sent points at that channel's own cloud.

    https to one of `hosts` or a subdomain of `domains` (".twiliocdn.com");
    plain http only to `http_hosts` (a configured test double). Anything else,
    or a URL with credentials in it, is not the channel's and must not be
    fetched or handed to the city.
    """
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return False
    if not host or parts.username is not None or parts.password is not None:
        return False
    netloc = f"{host}:{port}" if port else host
    if parts.scheme == "http":
        return netloc in http_hosts
    if parts.scheme != "https":
        return False
    return netloc in hosts or (port is None and any(host.endswith(domain) for domain in domains))


def media_error(status: int, error: str) -> HTTPResponse:
    return response.json({"ok": False, "error": error}, status=status)


async def stream_remote(
    request: Request,
    url: str,
    *,
    content_type: Optional[str] = None,
    auth: Optional[Tuple[str, str]] = None,
) -> Optional[HTTPResponse]:
    """Relay a remote file to the caller chunk by chunk, never revealing its URL.

    Returns an error response when the remote answers badly, None once the file
    was streamed (the response is then already sent).
    """
    headers: Dict[str, str] = dict(MEDIA_HEADERS)
    started = False
    try:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS, auth=auth) as client:
            async with client.stream("GET", url) as upstream:
                if upstream.status_code == 404:
                    return media_error(404, "this file is no longer available")
                if upstream.status_code != 200:
                    logger.warning("media fetch answered HTTP %s", upstream.status_code)
                    return media_error(502, "the file could not be fetched")
                kind = content_type or upstream.headers.get("content-type") or "application/octet-stream"
                sent = await request.respond(content_type=kind, headers=headers)
                started = True
                async for chunk in upstream.aiter_bytes():
                    await sent.send(chunk)
                await sent.eof()
                return None
    except httpx.HTTPError as error:
        # The URL may hold a credential: log the kind of failure only.
        logger.warning("media fetch failed%s: %s", " mid-stream" if started else "", type(error).__name__)
        return None if started else media_error(502, "the file could not be fetched")
