"""SMS, MMS and WhatsApp over Twilio, as a Rasa input channel.

Enabled in deploy/credentials.yml as `bot.channels.twilio.TwilioInput`; Twilio posts
each incoming message to `POST /webhooks/twilio/webhook`. The webhook checks
Twilio's signature, drops retried deliveries, handles the carrier keywords
(STOP, START, HELP) itself and hands everything else to Rasa under a
pseudonymous conversation id.

Replies go out through Twilio's REST API (bot.channels.twilio_rest), not as
TwiML in the webhook's answer: the same code then serves replies and the
messages the city sends first, sends are retried, a long reply becomes several
messages, and Twilio's 15-second webhook timeout never cuts a slow turn short.
The webhook waits for the turn up to REPLY_BUDGET seconds (so replies usually
leave before it answers) and then answers with empty TwiML either way.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.hooks import handle_keyword
from bot.channels.identity import mask, require_production_secret, sender_id_for
from bot.channels.language import resident_texts
from bot.channels.limits import MAX_MESSAGE_CHARS, BodyTooLarge, read_capped_body, text_too_long
from bot.channels.outbound import NotDeliverable, deliver, register_sender
from bot.channels.reply_budget import TurnsInFlight
from bot.channels.sms_choices import resolve_reply
from bot.channels.sms_keywords import Keyword, carrier_keyword, confirmed_by_carrier, help_text, keyword_language
from bot.channels.text_output import TextOutputChannel
from bot.channels.twilio_inbound import InboundMessage, MalformedWebhook, parse_form
from bot.channels.twilio_rest import TwilioSender, TwilioSendError, TwilioSettings, sender_from_env
from bot.channels.twilio_signature import SIGNATURE_HEADER, is_valid_signature, signed_url
from bot.channels.webhook_blueprint import webhook_blueprint
from bot.db.contacts import contact_for, first_delivery, remember_contact, set_opted_out
from bot.failures import failure_summary
from bot.i18n.messages import messages

logger = logging.getLogger(__name__)

__all__ = ["TwilioInput", "TwilioOutput", "sender_from_env"]

REPLY_BUDGET = 10.0  # seconds; Twilio gives up on a webhook after 15
OFF_MESSAGE = (
    "The Twilio channel is off: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER (see README)."
)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def _twiml_ack() -> HTTPResponse:
    """An empty TwiML answer: received, nothing to send in reply (replies go by REST)."""
    return response.text(str(MessagingResponse()), content_type="text/xml")


async def stand_in(message: InboundMessage, sender_id: str) -> str:
    """What a bare location or photo says to the assistant, in the resident's language ("" for neither)."""
    return message.text_in(await resident_texts(sender_id)) if message.stand_in else ""


class TwilioOutput(TextOutputChannel):
    """Sends the bot's messages to the conversation's phone number by SMS or WhatsApp.

    The recipient is the pseudonymous conversation id; the contacts table says
    which number and channel it is and whether the resident opted out.
    """

    @classmethod
    def name(cls) -> Text:
        return "twilio"

    async def deliver_text(self, recipient_id: str, text: str, buttons: Optional[List[Dict[str, Any]]] = None) -> None:
        """Send, or log why not: a failed send must not break the conversation's turn."""
        try:
            await deliver(recipient_id, text, buttons)
        except (NotDeliverable, TwilioSendError) as error:
            logger.warning("reply to conversation %s not sent: %s", recipient_id, error)


class TwilioInput(InputChannel):
    """The Twilio Messaging webhook (SMS, MMS, WhatsApp) on the Rasa server."""

    @classmethod
    def name(cls) -> Text:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """From the channel's credentials.yml section, whose values are ${VAR}s (they are secrets)."""
        return cls(TwilioSettings.from_credentials(credentials or {}))

    def __init__(self, settings: TwilioSettings) -> None:
        require_production_secret()
        self.settings = settings
        self.output = TwilioOutput()
        self._turns = TurnsInFlight(REPLY_BUDGET, "a Twilio turn")
        self.sender = TwilioSender(settings) if settings.enabled else None
        if self.sender is not None:
            register_sender(self.sender)  # for "sms" and "whatsapp"
            logger.info("Twilio SMS/WhatsApp channel on: POST /webhooks/twilio/webhook")
        else:
            logger.info("Twilio SMS/WhatsApp channel off: %s not set", ", ".join(settings.missing))

    def get_output_channel(self) -> Optional[OutputChannel]:
        return self.output if self.settings.enabled else None

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = webhook_blueprint("citybot_twilio", lambda: self.sender, lambda: self.settings.enabled)

        @webhook.route("/webhook", methods=["POST"], stream=True)  # the body is read under its cap
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        return webhook

    # --- the webhook -----------------------------------------------------------

    async def _receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        if not self.settings.enabled:
            return response.text(OFF_MESSAGE, status=503)
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            return response.text(f"missing {SIGNATURE_HEADER}", status=403)
        try:
            params = parse_form(await read_capped_body(request), request.headers.get("content-type"))
        except BodyTooLarge as error:
            return response.text(str(error), status=413)
        except MalformedWebhook as error:
            return response.text(str(error), status=400)
        url = signed_url(
            self.settings.public_url,
            request.scheme,
            request.host,
            request.path,
            request.query_string,
            request.headers.get("x-forwarded-proto"),
            request.headers.get("x-forwarded-host"),
        )
        if not is_valid_signature(self.settings.auth_token, url, params, signature):
            logger.warning("rejected a Twilio webhook with a bad signature for %s (is PUBLIC_URL right?)", url)
            return response.text(f"invalid {SIGNATURE_HEADER}", status=403)
        try:
            message = InboundMessage.from_form(params, self.settings.api_base_url)
        except MalformedWebhook as error:
            return response.text(str(error), status=400)
        if text_too_long(message.text):
            # Twilio does not retry a webhook that answered an error status; nothing reaches the NLU.
            logger.info("refused a Twilio message over %s characters", MAX_MESSAGE_CHARS)
            return response.text(f"the message is longer than {MAX_MESSAGE_CHARS} characters", status=413)
        if not await first_delivery("twilio", message.message_sid):
            logger.info("Twilio message %s was already handled (a retry)", message.message_sid)
            return _twiml_ack()
        await self._turns.run(self._handle(message, on_new_message))
        return _twiml_ack()

    async def _handle(self, message: InboundMessage, on_new_message: OnNewMessage) -> None:
        """One incoming message: carrier keyword, or a turn of the conversation."""
        channel = message.channel
        if channel is None:
            logger.info("ignored a Twilio message from an unsupported channel (%s)", mask(message.address))
            return
        sender_id = sender_id_for(channel, message.address)
        try:
            await remember_contact(sender_id, channel, message.address)
            contact = await contact_for(sender_id)
            opted_out = bool(contact is not None and contact.opted_out)
            keyword = carrier_keyword(channel, message.text, opted_out, message.opt_out_type)
            logger.info("%s message from %s (conversation %s)", channel, mask(message.address), sender_id)
            if keyword is not None:
                await self._keyword(keyword, message, channel, sender_id)
            elif opted_out:
                logger.info("conversation %s opted out: message not answered (START opts back in)", sender_id)
            elif message.text and (hook_reply := await handle_keyword(sender_id, message.text)) is not None:
                await self.output.send_text_message(sender_id, hook_reply)  # e.g. ALERTS ON / ALERTS OFF
            elif said := message.text or await stand_in(message, sender_id):
                await on_new_message(
                    UserMessage(
                        await resolve_reply(sender_id, said),
                        self.output,
                        sender_id,
                        input_channel=self.name(),
                        message_id=message.message_sid,
                        metadata=message.metadata or None,
                    )
                )
        except Exception as error:
            logger.error("failed to handle a Twilio message for conversation %s: %s", sender_id, failure_summary(error))

    async def _keyword(self, keyword: Keyword, message: InboundMessage, channel: str, sender_id: str) -> None:
        """STOP, START and HELP (and a city language's own, like ALTO and AYUDA), never passed to the dialogue.

        Twilio itself confirms its standard STOP and START on SMS; for the rest
        (WhatsApp, where nobody else does, and words only the assistant knows)
        the assistant confirms, before opting out while it still may. The answer
        is in the keyword's own language (AYUDA: Spanish), else the resident's.
        """
        logger.info("carrier keyword %s from conversation %s", keyword.value, sender_id)
        language = keyword_language(message.text)
        texts = messages(language) if language else await resident_texts(sender_id)
        confirm = not confirmed_by_carrier(channel, message.text, message.opt_out_type)
        if keyword is Keyword.OPT_OUT:
            if confirm:
                await self.output.send_text_message(sender_id, texts.text("channels.sms_opted_out"))
            await set_opted_out(sender_id, True)
        elif keyword is Keyword.OPT_IN:
            await set_opted_out(sender_id, False)
            if confirm:
                await self.output.send_text_message(sender_id, texts.text("channels.sms_opted_in"))
        else:
            await self.output.send_text_message(sender_id, help_text(texts))
