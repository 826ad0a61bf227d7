"""Sending SMS and WhatsApp messages through Twilio's REST API.

Every message the assistant sends over Twilio goes through here: replies in a
conversation and messages the city sends first (status updates, staff replies,
alerts). The Messages API is called with httpx on the event loop, never the
twilio library's blocking client, and a 429, a 5xx or a network error is
retried with backoff, since a lost status update is worse than a late one.
"""
from __future__ import annotations

import asyncio
import logging
import random
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

import httpx

from bot.channels.identity import mask, require_production_secret, sender_id_for
from bot.channels.outbound import Buttons, NotDeliverable
from bot.channels.sms_choices import remember_choices
from bot.channels.sms_format import payloads_of, split_body, with_choices
from bot.channels.twilio_inbound import DEFAULT_API_BASE_URL, channel_of
from bot.settings import settings
from bot.storage import contact_for, set_opted_out

logger = logging.getLogger(__name__)

CHANNELS = ("sms", "whatsapp")
UNSUBSCRIBED_RECIPIENT = 21610  # the resident texted STOP to this sender


@dataclass(frozen=True)
class TwilioSettings:
    """The Twilio account and senders, from the environment (see README)."""

    account_sid: str = ""
    auth_token: str = ""
    from_number: str = ""
    whatsapp_from: str = ""
    messaging_service_sid: str = ""
    public_url: str = ""
    api_base_url: str = DEFAULT_API_BASE_URL

    @classmethod
    def from_env(cls) -> "TwilioSettings":
        config = settings()
        return cls.from_credentials({
            "account_sid": config.twilio_account_sid, "auth_token": config.twilio_auth_token,
            "from_number": config.twilio_from_number, "whatsapp_from": config.twilio_whatsapp_from,
            "messaging_service_sid": config.twilio_messaging_service_sid, "public_url": config.public_url,
            "api_base_url": config.twilio_api_base_url,
        })

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any]) -> "TwilioSettings":
        """From the channel's credentials.yml section (account_sid, auth_token, from_number...)."""
        env = {key: str(credentials.get(key) or "").strip() for key in (
            "account_sid", "auth_token", "from_number", "whatsapp_from", "messaging_service_sid", "public_url",
            "api_base_url",
        )}
        return cls(
            account_sid=env["account_sid"],
            auth_token=env["auth_token"],
            from_number=env["from_number"],
            whatsapp_from=env["whatsapp_from"],
            messaging_service_sid=env["messaging_service_sid"],
            public_url=env["public_url"],
            api_base_url=(env["api_base_url"] or DEFAULT_API_BASE_URL).rstrip("/"),
        )

    @property
    def missing(self) -> List[str]:
        """The variables still needed before the channel can run."""
        needed = [name for name, value in (("TWILIO_ACCOUNT_SID", self.account_sid), ("TWILIO_AUTH_TOKEN", self.auth_token)) if not value]
        if not (self.from_number or self.whatsapp_from or self.messaging_service_sid):
            needed.append("TWILIO_FROM_NUMBER (or TWILIO_WHATSAPP_FROM / TWILIO_MESSAGING_SERVICE_SID)")
        return needed

    @property
    def enabled(self) -> bool:
        return not self.missing

    def origin(self, channel: str) -> Dict[str, str]:
        """Who a message on `channel` comes from: a Messaging Service or a From address.

        SMS prefers the Messaging Service (it carries Advanced Opt-Out and
        sender pools); WhatsApp prefers its own sender, else the service, else
        the SMS number enabled for WhatsApp.
        """
        if channel == "whatsapp" and self.whatsapp_from:
            return {"From": self.whatsapp_from}
        if self.messaging_service_sid:
            return {"MessagingServiceSid": self.messaging_service_sid}
        if self.from_number:
            return {"From": f"whatsapp:{self.from_number}" if channel == "whatsapp" else self.from_number}
        raise NotDeliverable(f"no Twilio sender configured for {channel}")

    @property
    def messages_url(self) -> str:
        return f"{self.api_base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"


_PHONE = re.compile(r"\+?\d[\d ()-]{6,}\d")


def redact(text: str) -> str:
    """Twilio's error texts quote the number ("The 'To' number +1555..."); mask it for the log."""
    return _PHONE.sub(lambda match: mask(match.group()), text)


class TwilioSendError(Exception):
    """Twilio did not accept a message (after retries when the failure was temporary)."""

    def __init__(self, status: Optional[int], code: Optional[int], message: str) -> None:
        super().__init__(f"Twilio error {code or '-'} (HTTP {status or '-'}): {redact(message)}")
        self.status = status
        self.code = code

    @classmethod
    def from_response(cls, response: httpx.Response) -> "TwilioSendError":
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        payload = payload if isinstance(payload, dict) else {}
        code = payload.get("code")
        return cls(response.status_code, code if isinstance(code, int) else None, str(payload.get("message") or response.reason_phrase))


def _is_temporary(status: int) -> bool:
    return status == 429 or status >= 500


class TwilioMessages:
    """POST /2010-04-01/Accounts/{sid}/Messages.json with retries on temporary failures."""

    def __init__(self, settings: TwilioSettings, attempts: int = 4, backoff: float = 0.5, timeout: float = 10.0) -> None:
        self.settings = settings
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout

    def client(self) -> httpx.AsyncClient:
        """A client for one batch of messages (basic auth SID:token)."""
        return httpx.AsyncClient(auth=(self.settings.account_sid, self.settings.auth_token), timeout=self.timeout)

    def _delay(self, attempt: int, response: Optional[httpx.Response]) -> float:
        """Exponential backoff with jitter, or the server's Retry-After (capped)."""
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after and retry_after.isdigit():
            return min(float(retry_after), 30.0)
        return self.backoff * (2 ** (attempt - 1)) * (1 + random.random() / 2)

    async def create(self, client: httpx.AsyncClient, form: Dict[str, str]) -> Dict[str, object]:
        """Create one message; its Twilio resource as JSON."""
        failure = TwilioSendError(None, None, "not attempted")
        for attempt in range(1, self.attempts + 1):
            response: Optional[httpx.Response] = None
            try:
                response = await client.post(self.settings.messages_url, data=form)
            except httpx.TransportError as error:
                failure = TwilioSendError(None, None, f"{type(error).__name__}: {error}")
            else:
                if response.status_code < 300:
                    return response.json()
                failure = TwilioSendError.from_response(response)
                if not _is_temporary(response.status_code):
                    raise failure
            if attempt < self.attempts:
                delay = self._delay(attempt, response)
                logger.warning("Twilio send attempt %d failed (%s); retrying in %.1fs", attempt, failure, delay)
                await asyncio.sleep(delay)
        raise failure


class TwilioSender:
    """Sends a message to a phone number by SMS, or by WhatsApp for "whatsapp:" numbers.

    Implements bot.channels.outbound.OutboundSender for both channels (the
    address says which). Buttons become numbered choices (remembered for the
    resident's answer) and long texts are split at Twilio's limit. A resident
    who opted out is never sent anything.
    """

    channel = "sms"
    channels = CHANNELS

    def __init__(self, settings: TwilioSettings, messages: Optional[TwilioMessages] = None) -> None:
        self.settings = settings
        self.messages = messages or TwilioMessages(settings)

    async def send(self, address: str, text: str, buttons: Buttons = None) -> None:
        channel = channel_of(address)
        if channel is None:
            raise NotDeliverable(f"{mask(address)} is not an SMS or WhatsApp address")
        sender_id = sender_id_for(channel, address)
        contact = await contact_for(sender_id)
        if contact is not None and contact.opted_out:
            raise NotDeliverable(f"conversation {sender_id} opted out")
        origin = self.settings.origin(channel)
        if buttons:
            await remember_choices(sender_id, payloads_of(buttons))
        bodies = split_body(with_choices(text, buttons))
        async with self.messages.client() as client:
            for body in bodies:
                try:
                    await self.messages.create(client, {"To": address, "Body": body, **origin})
                except TwilioSendError as error:
                    if error.code == UNSUBSCRIBED_RECIPIENT:
                        await set_opted_out(sender_id, True)
                        raise NotDeliverable(f"conversation {sender_id} opted out at the carrier") from error
                    raise
        logger.info("sent %d %s message(s) to %s", len(bodies), channel, mask(address))


def sender_from_env() -> Optional[TwilioSender]:
    """The SMS/WhatsApp sender from the environment, or None when Twilio is not configured."""
    require_production_secret()
    settings = TwilioSettings.from_env()
    return TwilioSender(settings) if settings.enabled else None
