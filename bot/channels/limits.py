"""Size caps on what a webhook accepts, checked before anything reads the body.

The Rasa server's own cap (SANIC_REQUEST_MAX_SIZE, 1 MB) is for the whole app;
a chat webhook needs far less. Routes that use `read_capped_body` are declared
with `stream=True`, so Sanic has not read the body yet: a declared length over
the cap is refused at once, a chunked body as soon as it passes the cap.
"""

from __future__ import annotations

from sanic.exceptions import PayloadTooLarge
from sanic.request import Request

WEBHOOK_MAX_BODY_BYTES = 64 * 1024  # a Telegram update or Twilio form is a few KB
MAX_MESSAGE_CHARS = 2000  # what one resident's message may say (the web chat's limit too)


class BodyTooLarge(Exception):
    """The request body is over its route's cap (answered 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is larger than {limit} bytes")
        self.limit = limit


async def read_capped_body(request: Request, limit: int = WEBHOOK_MAX_BODY_BYTES) -> bytes:
    """The body of a `stream=True` route, or BodyTooLarge once it is over `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    if request.stream is None:
        return request.body or b""
    # Sanic's reader enforces the cap chunk by chunk (and drops the rest of an oversized body).
    request.stream.request_max_size = limit
    try:
        await request.receive_body()
    except PayloadTooLarge:
        raise BodyTooLarge(limit) from None
    return request.body or b""


def is_text(value: str) -> bool:
    """Whether a string is text that can be written out.

    JSON allows a lone surrogate like "\\ud800"; UTF-8 does not.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def text_too_long(text: str, limit: int = MAX_MESSAGE_CHARS) -> bool:
    """Whether a message is over what the assistant reads (its NLU never sees such text)."""
    return len(text) > limit
