"""What a Twilio Messaging webhook says: who wrote, on which channel, and what.

Twilio posts one form per incoming SMS, MMS or WhatsApp message. The form is
parsed here by hand rather than with Sanic's `request.form`, which drops empty
values ("ToZip="): Twilio signs those too, so dropping them breaks the signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qsl, urlsplit

from bot.channels.media import url_on_hosts
from bot.i18n.messages import Messages

DEFAULT_API_BASE_URL = "https://api.twilio.com"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
WHATSAPP_PREFIX = "whatsapp:"
# What a message with only a location or a photo says to the assistant, in the resident's language.
LOCATION_TEXT = "channels.my_location"
PHOTO_TEXT = "channels.sms_photo"
MAX_MEDIA = 10  # Twilio attaches at most ten media items to a message
# Where Twilio keeps a message's media: MediaUrl is on the REST API host and redirects to its CDN.
TWILIO_MEDIA_HOSTS = frozenset({"api.twilio.com", "media.twiliocdn.com"})
TWILIO_MEDIA_DOMAINS = (".twiliocdn.com",)
# Some carriers turn "@" into "¡" (GSM 03.38 mix-ups); inside a word it can only be an email's "@".
_MANGLED_AT = re.compile(r"(?<=\w)¡(?=\w)")


class MalformedWebhook(ValueError):
    """The request is not a Twilio Messaging form (answered with 400)."""


class FormParams(Dict[str, List[str]]):
    """POST parameters with repeated keys kept, as RequestValidator's `getall` expects."""

    @classmethod
    def from_pairs(cls, pairs: List[Tuple[str, str]]) -> "FormParams":
        params = cls()
        for key, value in pairs:
            params.setdefault(key, []).append(value)
        return params

    def getall(self, key: str) -> List[str]:
        return list(self[key])

    def first(self, key: str, default: str = "") -> str:
        values = self.get(key)
        return values[0] if values else default


def parse_form(body: bytes, content_type: Optional[str]) -> FormParams:
    """The form Twilio posted; MalformedWebhook when it is not a well-formed UTF-8 form."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind != FORM_CONTENT_TYPE:
        raise MalformedWebhook(f"expected {FORM_CONTENT_TYPE}, got {kind or 'no content type'}")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, errors="strict") if text else []
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedWebhook(f"unreadable form body: {error}") from error
    return FormParams.from_pairs(pairs)


def channel_of(address: str) -> Optional[str]:
    """ "whatsapp" or "sms" for a Twilio address, so replies go back the same way;
    None for other Twilio channels ("messenger:...", "rcs:..."), not served here."""
    if address.startswith(WHATSAPP_PREFIX):
        return "whatsapp"
    return None if ":" in address else "sms"


def _coordinate(params: FormParams, key: str, bound: float) -> Optional[float]:
    try:
        value = float(params.first(key))
    except ValueError:
        return None
    return value if -bound <= value <= bound else None


def twilio_media_url_ok(url: str, api_base_url: str) -> bool:
    """Whether a MediaUrl is Twilio's own (or the configured API host's, e.g. a test double)."""
    base = urlsplit(api_base_url)
    configured = {base.netloc.lower()} if base.netloc else set()
    https_hosts = TWILIO_MEDIA_HOSTS | (configured if base.scheme == "https" else set())
    http_hosts = configured if base.scheme == "http" else set()
    return url_on_hosts(url, https_hosts, TWILIO_MEDIA_DOMAINS, http_hosts)


def _image_url(params: FormParams, api_base_url: str) -> Optional[str]:
    """The first image on Twilio's media hosts attached to an MMS or WhatsApp message.

    The back office takes one photo; a MediaUrl elsewhere (only a forged or
    misrouted form has one) is dropped, so the city is never handed it.
    """
    try:
        count = min(int(params.first("NumMedia", "0") or 0), MAX_MEDIA)
    except ValueError:
        return None
    for index in range(count):
        url = params.first(f"MediaUrl{index}")
        kind = params.first(f"MediaContentType{index}").lower()
        if kind.startswith("image/") and twilio_media_url_ok(url, api_base_url):
            return url
    return None


@dataclass(frozen=True)
class InboundMessage:
    """One resident's message as the assistant needs it."""

    message_sid: str
    address: str  # "+15551234567" or "whatsapp:+15551234567": where replies go
    text: str  # what the resident wrote (or a shared place's address)
    metadata: Dict[str, Any] = field(default_factory=dict)
    opt_out_type: Optional[str] = None  # Twilio's Advanced Opt-Out verdict: STOP, START or HELP
    stand_in: Optional[str] = None  # the key of what a bare location or photo says (LOCATION_TEXT, PHOTO_TEXT)

    @property
    def channel(self) -> Optional[str]:
        return channel_of(self.address)

    def text_in(self, texts: Messages) -> str:
        """What the message says to the assistant: the text, else its stand-in in the resident's language."""
        return self.text or (texts.text(self.stand_in) if self.stand_in else "")

    @classmethod
    def from_form(cls, params: FormParams, api_base_url: str = DEFAULT_API_BASE_URL) -> "InboundMessage":
        """Read Twilio's form; MalformedWebhook when the sender or message id is missing."""
        message_sid = params.first("MessageSid") or params.first("SmsMessageSid")
        address = params.first("From").strip()
        if not message_sid or not address:
            raise MalformedWebhook("a Twilio message needs MessageSid and From")
        text = _MANGLED_AT.sub("@", params.first("Body")).strip()
        metadata: Dict[str, Any] = {}
        stand_in = None
        latitude = _coordinate(params, "Latitude", 90)
        longitude = _coordinate(params, "Longitude", 180)
        if latitude is not None and longitude is not None:
            metadata["location"] = {"latitude": latitude, "longitude": longitude}
            # A shared place may come with its address; that reads better than "my location".
            text = text or params.first("Address").strip()
            stand_in = LOCATION_TEXT
        image = _image_url(params, api_base_url)
        if image:
            metadata["media_url"] = image
            stand_in = stand_in or PHOTO_TEXT
        return cls(message_sid, address, text, metadata, params.first("OptOutType").upper() or None, stand_in)
