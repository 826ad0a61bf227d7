"""Pseudonymous conversation ids, so phone numbers and chat ids stay out of logs.

Rasa logs and stores conversations by sender id. Each channel turns its
resident's address (a phone number, a Telegram chat id) into a keyed hash; the
address itself is kept only in the contacts table, for replies sent later.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets

from bot.settings import settings

logger = logging.getLogger(__name__)

_DEV_SECRET = "riverton-dev-secret-change-me"
_warned = False


def require_production_secret() -> None:
    """Refuse to run behind an https PUBLIC_URL (production) on the development key or none.

    Called when a process sets up a channel, so every process that keys ids or
    signs links fails at startup, whoever starts it (make run, systemd).
    """
    public_url = (settings().public_url or "").strip().lower()
    secret = settings().secret_key or ""
    if public_url.startswith("https://") and secret in ("", _DEV_SECRET):
        raise SystemExit(
            "CITYBOT_SECRET_KEY is unset or the development key while PUBLIC_URL is https: "
            "refusing to start (set CITYBOT_SECRET_KEY to a long random secret)."
        )


def secret_key() -> bytes:
    """CITYBOT_SECRET_KEY as bytes (the development key, with one warning, when unset)."""
    global _warned
    require_production_secret()
    secret = settings().secret_key
    if not secret:
        if not _warned:
            logger.warning("CITYBOT_SECRET_KEY is not set: using the development key (set it in production)")
            _warned = True
        secret = _DEV_SECRET
    return secret.encode("utf-8")


def sender_id_for(channel: str, address: str) -> str:
    """A stable, non-reversible conversation id for a resident on a channel."""
    digest = hmac.new(secret_key(), f"{channel}:{address}".encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{channel}-{digest[:24]}"


# What `sender_id_for` makes: a channel name, a dash and 24 hex digits.
_CHANNEL_SENDER_ID = re.compile(r"^[a-z][a-z0-9_]*-[0-9a-f]{24}$")


def is_channel_sender_id(sender_id: str) -> bool:
    """Whether an id is a resident's conversation on a messaging channel (made by `sender_id_for`)."""
    return bool(_CHANNEL_SENDER_ID.match(sender_id))


# Conversations the retention job anonymised (bot/retention): "anon:<channel>:<random hex>".
# No channel makes such an id and the REST channel refuses one, so none is a resident's.
ANONYMOUS_PREFIX = "anon:"
REST_CHANNEL = "rest"


def anonymous_sender_id(channel: str) -> str:
    """A new id, tied to nobody, for a conversation whose resident is forgotten; it keeps the channel."""
    return f"{ANONYMOUS_PREFIX}{channel}:{secrets.token_hex(12)}"


def is_anonymous_sender_id(sender_id: str) -> bool:
    return sender_id.startswith(ANONYMOUS_PREFIX)


def channel_of(sender_id: str) -> str:
    """The channel a conversation id belongs to, anonymised or not (any other id: the REST channel's)."""
    if is_anonymous_sender_id(sender_id):
        return sender_id[len(ANONYMOUS_PREFIX) :].split(":", 1)[0] or REST_CHANNEL
    if is_channel_sender_id(sender_id):
        return sender_id.rsplit("-", 1)[0]
    return REST_CHANNEL


def mask(address: str) -> str:
    """An address shortened for a log line: "+1555***2233"."""
    text = str(address)
    if len(text) <= 6:
        return "***"
    return f"{text[:4]}***{text[-4:]}" if len(text) > 10 else f"{text[:2]}***{text[-2:]}"
