"""Facebook Messenger and Instagram: residents write to the city's Page or Instagram account.

Meta posts the Page's and the linked Instagram account's events to
`POST /webhooks/messenger/webhook` (after verifying it with `GET`, see README).
Each POST is checked against `X-Hub-Signature-256`, the HMAC-SHA256 of the raw
body under the app secret, in constant time: anything else is answered 403 and
not read. Every entry and item of the batch is read (bot.channels.messenger_events);
each message is processed once however often Meta retries it, and becomes a
turn of the resident's conversation (a pseudonymous id, see identity.py) on the
"messenger" or "instagram" channel. Replies go back through the Send API
(bot.channels.messenger_api). Rasa's own `facebook` connector is not used: it
checks only the legacy SHA-1 header, answers 200 to a bad signature, reads
one event a batch and sends with blocking requests.

Without MESSENGER_APP_SECRET, MESSENGER_VERIFY_TOKEN, MESSENGER_PAGE_ACCESS_TOKEN
and MESSENGER_PAGE_ID the channel stays off (one log line) and the server runs without it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text
from urllib.parse import urlsplit

import sqlalchemy as sa
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.identity import mask, require_production_secret, sender_id_for
from bot.channels.language import resident_texts
from bot.channels.limits import MAX_MESSAGE_CHARS, BodyTooLarge, read_capped_body
from bot.channels.media import media_error, media_signature_ok, signed_media_url, stream_remote, url_on_hosts
from bot.channels.messenger_api import (
    CHANNELS,
    MESSENGER,
    GraphSendError,
    MessengerSender,
    MessengerSettings,
    shared_sender,
)
from bot.channels.messenger_events import Incoming, read_body
from bot.channels.outbound import NotDeliverable, register_sender
from bot.channels.reply_budget import TurnsInFlight
from bot.channels.sms_choices import resolve_reply
from bot.channels.text_output import TextOutputChannel
from bot.channels.webhook_blueprint import webhook_blueprint
from bot.db.contacts import contact_for, first_delivery, note_resident_message, remember_contact
from bot.db.engine import database, utcnow
from bot.db.schema import messenger_media
from bot.failures import failure_summary

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PREFIX = "sha256="
REPLY_BUDGET = 10.0  # seconds a batch is waited for before the webhook answers (Meta waits 20)
# Where Meta serves attachments: its CDNs (https only).
MEDIA_DOMAINS = (".fbcdn.net", ".fbsbx.com", ".cdninstagram.com")

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def signature_ok(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    """Whether `header` is "sha256=" and the HMAC-SHA256 of the exact body under the app secret."""
    if not app_secret or not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    given = header[len(SIGNATURE_PREFIX) :].strip().lower()
    return hmac.compare_digest(given.encode("ascii", "replace"), expected.encode("ascii"))


def media_url_allowed(url: str, settings: MessengerSettings) -> bool:
    """Whether a photo's URL is on Meta's CDN (or, plain http, on the configured test double's host)."""
    base = urlsplit(settings.api_base_url)
    http_hosts = {base.netloc.lower()} if base.scheme == "http" and base.netloc else set()
    return url_on_hosts(url, (), MEDIA_DOMAINS, http_hosts)


async def link_photo(sender_id: str, url: str) -> Optional[str]:
    """A signed link to a resident's photo for the back office; the CDN URL stays with the assistant."""
    ref = hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]

    def keep(connection: sa.engine.Connection) -> None:
        exists = connection.execute(sa.select(messenger_media.c.ref).where(messenger_media.c.ref == ref)).first()
        if exists is None:
            connection.execute(
                messenger_media.insert().values(ref=ref, sender_id=sender_id, url=url, created_at=utcnow())
            )

    await database().run(keep)
    return signed_media_url(MESSENGER, ref)


async def photo_url(ref: str) -> Optional[str]:
    return await database().run(
        lambda c: c.execute(sa.select(messenger_media.c.url).where(messenger_media.c.ref == ref)).scalar()
    )


class MessengerOutput(TextOutputChannel):
    """The assistant's replies to one Messenger or Instagram resident.

    With an address (a turn answering the resident) replies go out at once;
    without one (Rasa's API) the contact is looked up and Meta's window
    applies. A delivery failure is logged and does not break the turn.
    """

    @classmethod
    def name(cls) -> Text:
        return MESSENGER

    def __init__(self, sender: MessengerSender, address: Optional[str] = None) -> None:
        self.sender = sender
        self.address = address

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        if self.address is None:
            return  # pictures go only with an answer
        try:
            await self.sender.reply_image(self.address, image)
        except GraphSendError as error:
            logger.warning("messenger: image to %s not delivered: %s", recipient_id, error)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        """Custom payloads are for other channels; only a text in one is worth sending here."""
        text = json_message.get("text") if isinstance(json_message, dict) else None
        if isinstance(text, str) and text.strip():
            await self.send_text_message(recipient_id, text.strip())

    async def deliver_text(self, recipient_id: str, text: str, buttons: Optional[List[Dict[str, Any]]] = None) -> None:
        try:
            if self.address is not None:
                await self.sender.reply(self.address, text, buttons)
                return
            contact = await contact_for(recipient_id)
            if contact is None or contact.channel not in CHANNELS:
                raise NotDeliverable("not a Messenger or Instagram conversation")
            await self.sender.send(contact.address, text, buttons)
        except (NotDeliverable, GraphSendError) as error:
            logger.warning("messenger: reply to conversation %s not sent: %s", recipient_id, error)


class MessengerInput(InputChannel):
    """Meta's webhook for the Page's Messenger and Instagram messages; off (503) until configured."""

    @classmethod
    def name(cls) -> Text:
        return MESSENGER

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "MessengerInput":
        """From the channel's credentials.yml section, whose values are ${VAR}s (they are secrets)."""
        return cls(MessengerSettings.from_credentials(credentials or {}))

    def __init__(self, settings: Optional[MessengerSettings] = None) -> None:
        require_production_secret()
        self.settings = settings or MessengerSettings.from_env()
        self.off_reason = self.settings.problem
        self.sender: Optional[MessengerSender] = None
        self._batches = TurnsInFlight(REPLY_BUDGET, "a Messenger batch")
        if self.off_reason is None:
            self.sender = shared_sender(self.settings)
            register_sender(self.sender)  # for "messenger" and "instagram"
            logger.info("Messenger/Instagram channel on: POST /webhooks/messenger/webhook")
        else:
            logger.info("Messenger/Instagram channel off: %s", self.off_reason)

    def get_output_channel(self) -> Optional[OutputChannel]:
        return MessengerOutput(self.sender) if self.sender else None

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = webhook_blueprint("citybot_messenger", lambda: self.sender, lambda: self.sender is not None)

        @hook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            return self._verify(request)

        @hook.route("/webhook", methods=["POST"], stream=True)  # the body is read under its cap
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        @hook.route("/media/<ref>", methods=["GET"])
        async def media(request: Request, ref: str) -> Optional[HTTPResponse]:
            return await self._media(request, ref)

        return hook

    def _off(self) -> HTTPResponse:
        return response.json({"ok": False, "error": f"the Messenger channel is off: {self.off_reason}"}, status=503)

    def _verify(self, request: Request) -> HTTPResponse:
        """Meta's subscription check: echo `hub.challenge` when the verify token is ours."""
        if self.sender is None:
            return self._off()
        token = request.args.get("hub.verify_token") or ""
        challenge = request.args.get("hub.challenge") or ""
        matches = hmac.compare_digest(token.encode("utf-8"), self.settings.verify_token.encode("utf-8"))
        if request.args.get("hub.mode") != "subscribe" or not matches or not challenge:
            return response.text("verification failed", status=403)
        logger.info("messenger: Meta verified the webhook")
        return response.text(challenge)

    async def _receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        sender = self.sender
        if sender is None:
            return self._off()
        try:
            body = await read_capped_body(request)
        except BodyTooLarge as error:
            return response.json({"ok": False, "error": str(error)}, status=413)
        if not signature_ok(self.settings.app_secret, body, request.headers.get(SIGNATURE_HEADER)):
            logger.warning("messenger: refused a webhook call with a missing or wrong %s", SIGNATURE_HEADER)
            return response.json({"ok": False, "error": f"wrong or missing {SIGNATURE_HEADER}"}, status=403)
        try:
            data = json.loads(body or b"")
        except (ValueError, RecursionError):
            return response.json({"ok": False, "error": "the body is not JSON"}, status=400)
        if not isinstance(data, dict):
            return response.json({"ok": False, "error": "the body is not a JSON object"}, status=400)
        items = read_body(data, self.settings.page_id)
        if items:
            await self._batches.run(self._handle_batch(sender, items, on_new_message))
        return response.text("EVENT_RECEIVED")

    async def _handle_batch(self, sender: MessengerSender, items: List[Incoming], on_new_message: OnNewMessage) -> None:
        for incoming in items:  # in order: one resident's messages are answered as sent
            sender_id = sender_id_for(incoming.channel, incoming.address)
            try:
                if incoming.delivery_id and not await first_delivery(incoming.channel, incoming.delivery_id):
                    logger.info("messenger: an event of %s was already processed (a retry)", sender_id)
                    continue
                await self._answer(sender, sender_id, incoming, on_new_message)
            except Exception as error:
                logger.error("messenger: an event of %s could not be processed: %s", sender_id, failure_summary(error))

    async def _answer(
        self, sender: MessengerSender, sender_id: str, incoming: Incoming, on_new_message: OnNewMessage
    ) -> None:
        address = incoming.address
        await remember_contact(sender_id, incoming.channel, address)
        await note_resident_message(sender_id)
        logger.info("%s: message from %s (%s)", incoming.channel, mask(incoming.user_id), sender_id)
        output = MessengerOutput(sender, address)
        if incoming.reply:
            texts = await resident_texts(sender_id)
            await output.send_text_message(sender_id, texts.text(incoming.reply, max_chars=MAX_MESSAGE_CHARS))
            return
        metadata = dict(incoming.metadata)
        if incoming.image_url:
            if media_url_allowed(incoming.image_url, self.settings):
                link = await link_photo(sender_id, incoming.image_url)
                if link:
                    metadata["media_url"] = link
            else:
                logger.warning("messenger: a photo not on Meta's CDN was not linked")
        text = incoming.text
        if text:
            text = await resolve_reply(sender_id, text)  # "2" after a numbered list
        elif incoming.stand_in:
            text = (await resident_texts(sender_id)).text(incoming.stand_in)
        await on_new_message(
            UserMessage(text, output, sender_id, input_channel=incoming.channel, metadata=metadata or None)
        )

    async def _media(self, request: Request, ref: str) -> Optional[HTTPResponse]:
        """A resident's photo, for the city's back office, through a link the assistant signed."""
        if self.sender is None:
            return self._off()
        if not media_signature_ok(MESSENGER, ref, request.args.get("sig")):
            return media_error(403, "this link is not valid")
        url = await photo_url(ref)
        if url is None or not media_url_allowed(url, self.settings):
            return media_error(404, "this file is no longer available")
        return await stream_remote(request, url)
