"""Sending SMS and WhatsApp messages through Twilio's REST API.

Every message the assistant sends over Twilio goes through here: replies in a
conversation and messages the city sends first (status updates, staff replies,
alerts). Messages are created with the twilio library's async client
(`messages.create_async` over AsyncTwilioHttpClient), one per sender and
event loop so its connections are reused, and a 429, a 5xx or a network error
is retried with backoff, since a lost status update is worse than a late one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Dict, List, Mapping, Optional, Tuple

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from bot.channels.identity import mask, require_production_secret, sender_id_for
from bot.channels.outbound import Buttons, NotDeliverable
from bot.channels.sms_choices import remember_choices
from bot.channels.sms_format import payloads_of, split_body, with_choices
from bot.channels.twilio_inbound import DEFAULT_API_BASE_URL, channel_of
from bot.db.contacts import contact_for, set_opted_out
from bot.i18n.messages import messages
from bot.i18n.store import language_for
from bot.settings import settings

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
        return cls.from_credentials(
            {
                "account_sid": config.twilio_account_sid,
                "auth_token": config.twilio_auth_token,
                "from_number": config.twilio_from_number,
                "whatsapp_from": config.twilio_whatsapp_from,
                "messaging_service_sid": config.twilio_messaging_service_sid,
                "public_url": config.public_url,
                "api_base_url": config.twilio_api_base_url,
            }
        )

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any]) -> "TwilioSettings":
        """From the channel's credentials.yml section (account_sid, auth_token, from_number...)."""
        env = {
            key: str(credentials.get(key) or "").strip()
            for key in (
                "account_sid",
                "auth_token",
                "from_number",
                "whatsapp_from",
                "messaging_service_sid",
                "public_url",
                "api_base_url",
            )
        }
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
        needed = [
            name
            for name, value in (("TWILIO_ACCOUNT_SID", self.account_sid), ("TWILIO_AUTH_TOKEN", self.auth_token))
            if not value
        ]
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


_PHONE = re.compile(r"\+?\d[\d ()-]{6,}\d")


def redact(text: str) -> str:
    """Twilio's error texts quote the number ("The 'To' number +1555..."); mask it for the log."""
    return _PHONE.sub(lambda match: mask(match.group()), text)


class TwilioSendError(Exception):
    """Twilio did not accept a message (after retries when the failure was temporary)."""

    def __init__(
        self, status: Optional[int], code: Optional[int], message: str, retry_after: Optional[str] = None
    ) -> None:
        super().__init__(f"Twilio error {code or '-'} (HTTP {status or '-'}): {redact(message)}")
        self.status = status
        self.code = code
        self.retry_after_header = retry_after  # Twilio's Retry-After, as sent

    @classmethod
    def from_response(cls, response: Response) -> "TwilioSendError":
        try:
            payload = json.loads(response.text)
        except ValueError:
            payload = {}
        payload = payload if isinstance(payload, dict) else {}
        code = payload.get("code")
        retry_after = (response.headers or {}).get("Retry-After")
        return cls(
            response.status_code,
            code if isinstance(code, int) else None,
            str(payload.get("message") or _reason(response.status_code)),
            retry_after if isinstance(retry_after, str) else None,
        )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _is_temporary(status: int) -> bool:
    return status == 429 or status >= 500


class TwilioHttpClient(AsyncTwilioHttpClient):
    """The twilio library's aiohttp client, made to fail like the API and to honour our timeout.

    A non-2xx answer raises TwilioSendError with Twilio's code and Retry-After
    (the library's own exception keeps neither). When TWILIO_API_BASE_URL names
    another origin than api.twilio.com (a proxy, the tests' fake), requests go
    there instead.
    """

    def __init__(self, api_base_url: str = DEFAULT_API_BASE_URL, timeout: float = 10.0) -> None:
        super().__init__(timeout=timeout)
        self.api_base_url = api_base_url.rstrip("/")

    async def request(
        self,
        method: str,
        url: str,
        params: Optional[Dict[str, object]] = None,
        data: Optional[Dict[str, object]] = None,
        headers: Optional[Dict[str, str]] = None,
        auth: Optional[Tuple[str, str]] = None,
        timeout: Optional[float] = None,
        allow_redirects: bool = False,
    ) -> Response:
        if self.api_base_url != DEFAULT_API_BASE_URL and url.startswith(DEFAULT_API_BASE_URL):
            url = self.api_base_url + url[len(DEFAULT_API_BASE_URL) :]
        answer = await super().request(
            method, url, params, data, headers, auth, self.timeout if timeout is None else timeout, allow_redirects
        )
        if answer.status_code >= 300:
            raise TwilioSendError.from_response(answer)
        return answer


_FIELDS: Mapping[str, str] = {
    "To": "to",
    "Body": "body",
    "From": "from_",
    "MessagingServiceSid": "messaging_service_sid",
}


class TwilioMessages:
    """Creates messages (POST .../Messages.json) with retries on temporary failures.

    One twilio Client per event loop, kept for every message after it (its
    aiohttp session pools the connections); `aclose()` closes it at shutdown.
    """

    def __init__(
        self, settings: TwilioSettings, attempts: int = 4, backoff: float = 0.5, timeout: float = 10.0
    ) -> None:
        self.settings = settings
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self._client: Optional[Client] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def client(self) -> Client:
        """The twilio Client for the running event loop (made on first use)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            http_client = TwilioHttpClient(self.settings.api_base_url, self.timeout)
            self._client = Client(self.settings.account_sid, self.settings.auth_token, http_client=http_client)
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        client, self._client, self._loop = self._client, None, None
        if client is not None:
            await client.http_client.close()

    def _delay(self, attempt: int, failure: TwilioSendError) -> float:
        """Exponential backoff with jitter, or the server's Retry-After (capped)."""
        retry_after = failure.retry_after_header
        if retry_after and retry_after.isdigit():
            return min(float(retry_after), 30.0)
        return self.backoff * (2 ** (attempt - 1)) * (1 + random.random() / 2)

    async def create(self, form: Dict[str, str]) -> Any:
        """Create one message (form fields named as Twilio's API names them); its MessageInstance."""
        fields = {_FIELDS[name]: value for name, value in form.items()}
        failure = TwilioSendError(None, None, "not attempted")
        for attempt in range(1, self.attempts + 1):
            try:
                return await self.client().messages.create_async(**fields)
            except TwilioSendError as error:
                failure = error
                if error.status is not None and not _is_temporary(error.status):
                    raise
            except TwilioRestException as error:  # the library's own checks of an answer
                failure = TwilioSendError(error.status, None, str(error.msg))
                if not _is_temporary(error.status):
                    raise failure from error
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                failure = TwilioSendError(None, None, f"{type(error).__name__}: {error}")
            if attempt < self.attempts:
                delay = self._delay(attempt, failure)
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
            text = with_choices(text, buttons, messages(await language_for(sender_id)))
        bodies = split_body(text)
        for body in bodies:
            try:
                await self.messages.create({"To": address, "Body": body, **origin})
            except TwilioSendError as error:
                if error.code == UNSUBSCRIBED_RECIPIENT:
                    await set_opted_out(sender_id, True)
                    raise NotDeliverable(f"conversation {sender_id} opted out at the carrier") from error
                raise
        logger.info("sent %d %s message(s) to %s", len(bodies), channel, mask(address))

    async def aclose(self) -> None:
        """Close the HTTP connections (at shutdown)."""
        await self.messages.aclose()


def sender_from_env() -> Optional[TwilioSender]:
    """The SMS/WhatsApp sender from the environment, or None when Twilio is not configured."""
    require_production_secret()
    settings = TwilioSettings.from_env()
    return TwilioSender(settings) if settings.enabled else None
