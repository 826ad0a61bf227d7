"""Rasa's REST channel for the city's own trusted callers, never a way into a resident's conversation.

Stock `rest` takes any sender from anyone: whoever knows or guesses an id
(`sms-…`, `telegram-…`) drives that resident's conversation, and a failed
message writes its whole text to the log. Here a caller needs the Rasa API
token (RASA_API_TOKEN: `?token=` or `Authorization: Bearer`), cannot name a
conversation of a messaging channel, and a body that is not
`{"sender": "...", "message": "...", "metadata"?: {...}}` is refused before
the NLU sees it. The web chat and the messaging channels stay the public ways in.
"""

from __future__ import annotations

import json
import logging
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.identity import is_anonymous_sender_id, is_channel_sender_id
from bot.channels.limits import MAX_MESSAGE_CHARS, is_text, text_too_long
from bot.channels.limits import WEBHOOK_MAX_BODY_BYTES as MAX_BODY_BYTES
from bot.failures import failure_summary
from bot.rasa_ext.api_tokens import presented_token, token_matches

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128  # the tracker store's sender_id column


class RestRequestError(Exception):
    """A REST call refused, with the status and the reason the caller is told."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


def parse_rest_message(raw: bytes) -> Dict[str, Any]:
    """The sender, message and metadata of a REST body; RestRequestError when it is not one."""
    if len(raw) > MAX_BODY_BYTES:
        raise RestRequestError(f"the body is larger than {MAX_BODY_BYTES} bytes", 413)
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise RestRequestError("the body is not JSON") from None
    if not isinstance(body, dict):
        raise RestRequestError('the body must be an object: {"sender": "...", "message": "..."}')
    sender, message, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        raise RestRequestError(f"sender must be a string of 1 to {MAX_SENDER_CHARS} characters")
    if not is_text(sender):
        raise RestRequestError("sender must be valid Unicode text")
    if not isinstance(message, str):
        raise RestRequestError("message must be a string")
    if text_too_long(message):
        raise RestRequestError(f"message is longer than {MAX_MESSAGE_CHARS} characters", 413)
    if not is_text(message):
        raise RestRequestError("message must be valid Unicode text")
    if metadata is not None and not isinstance(metadata, dict):
        raise RestRequestError("metadata must be an object")
    if is_channel_sender_id(sender):
        raise RestRequestError("this conversation belongs to another channel", 403)
    if is_anonymous_sender_id(sender):
        raise RestRequestError("this conversation id is reserved for anonymised conversations", 403)
    return {"sender": sender, "message": message, "metadata": metadata}


class TrustedRestInput(RestInput):
    """The `rest` channel (`/webhooks/rest/webhook`), for callers holding the Rasa API token."""

    def __init__(self, token: Optional[str] = None) -> None:
        self.token = token

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(token=(credentials or {}).get("token") or None)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        rest = Blueprint("trusted_rest_webhook", __name__)

        @rest.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @rest.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not token_matches(presented_token(request), self.token):
                return response.json({"error": "the REST channel needs the Rasa API token"}, status=401)
            try:
                call = parse_rest_message(request.body)
            except RestRequestError as error:
                return response.json({"error": str(error)}, status=error.status)
            collector = CollectingOutputChannel()
            message = UserMessage(
                call["message"], collector, call["sender"], input_channel=self.name(), metadata=call["metadata"]
            )
            try:
                await on_new_message(message)
            except CancelledError:
                logger.error("REST message timed out")
                return response.json({"error": "the assistant took too long to answer"}, status=503)
            except Exception as error:  # the caller learns it failed; the log gets no text or locals
                logger.error("REST message failed: %s", failure_summary(error))
                return response.json({"error": "the message could not be handled"}, status=500)
            return response.json(collector.messages)

        return rest
