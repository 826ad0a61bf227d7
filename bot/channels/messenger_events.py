"""Reading Meta's webhook bodies: what each Messenger or Instagram event asks of the assistant.

One POST carries a batch: `entry[]` (one per Page or Instagram account and
moment), each with `messaging[]` items. Every item is read on its own; what the
assistant answers becomes an `Incoming`, everything else (echoes of the Page's
own messages, deliveries, reads, reactions, handover and policy notices,
`standby` items another app owns) is acknowledged and left alone. Bodies come
in many shapes (ids as numbers, no `mid`, a `message` that is a string in
Meta's own test cURL): a field of the wrong type is read as absent, never as an
error.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from bot.channels.limits import text_too_long
from bot.channels.messenger_api import INSTAGRAM, MESSENGER, address_for

# Texts by key of the `channels` catalog, in the resident's language when the event is answered.
LOCATION_TEXT = "channels.my_location"
PHOTO_TEXT = "channels.telegram_photo"  # "photo": what a picture without a caption says to the assistant
UNSUPPORTED_REPLY = "channels.messenger_unsupported"
TOO_LONG_REPLY = "channels.too_long"
EDITED_REPLY = "channels.edited"

OBJECTS = {"page": MESSENGER, "instagram": INSTAGRAM}
GREETING = "/greet"
# What a Get Started button's payload may be, as Pages set it up; each opens with the greeting.
GET_STARTED_PAYLOADS = frozenset({"GET_STARTED", "GET_STARTED_PAYLOAD", "<GET_STARTED_PAYLOAD>", "START"})
# The topics an m.me/ig.me link's `ref` may open (`m.me/RivertonCity?ref=report_pothole`).
REFERRAL_INTENTS = frozenset(
    {
        "greet",
        "help",
        "check_status",
        "request_human",
        "subscribe_alerts",
        "report_problem",
        "report_pothole",
        "report_sidewalk",
        "report_missed_trash",
        "report_streetlight",
        "report_graffiti",
        "report_noise",
        "report_illegal_dumping",
        "report_abandoned_vehicle",
        "report_fallen_tree",
        "report_water_leak",
    }
)
# Attachment types that are the Page's or another product's, or a resident's media the assistant cannot read.
IMAGE = "image"
LOCATION = "location"


@dataclass
class Incoming:
    """What the assistant takes from one messaging item."""

    channel: str  # messenger | instagram
    user_id: str  # the resident's Page-scoped id (PSID or IGSID)
    delivery_id: Optional[str] = None  # what makes a retried item recognisable (its mid, mostly)
    text: Optional[str] = None  # the resident's message, for Rasa
    stand_in: Optional[str] = None  # the key of what a location or photo without text says
    reply: Optional[str] = None  # the key of a fixed answer instead of a conversation turn
    image_url: Optional[str] = None  # a photo on Meta's CDN, linked in the report through the assistant
    metadata: Dict[str, Any] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return address_for(self.channel, self.user_id)


def _dict(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> List[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> Optional[str]:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _id(value: Any) -> Optional[str]:
    """An id Meta sends as a string, or a number in some libraries' fixtures."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return _text(value)


def _key(*parts: Any) -> str:
    """A delivery id that fits the processed-deliveries table (mids can be long)."""
    joined = ":".join(str(p) for p in parts)
    return joined if len(joined) <= 100 else "h:" + hashlib.sha256(joined.encode("utf-8")).hexdigest()


def _delivery_id(kind: str, item: Dict[str, Any], user_id: str, mid: Optional[str], extra: str = "") -> Optional[str]:
    if mid:
        return _key(kind, mid)
    timestamp = _id(item.get("timestamp"))
    return _key(kind, user_id, timestamp, extra) if timestamp else None


def typed_text(text: str) -> str:
    """A resident's own words; leading slashes dropped, so typing cannot inject an intent."""
    return text.lstrip("/").strip()


def referral_text(referral: Any) -> Optional[str]:
    """The topic an m.me/ig.me link opens (`ref=report_pothole`), or None for another ref."""
    ref = _text(_dict(referral).get("ref"))
    if ref is None:
        return None
    intent = ref.lower().replace("-", "_")
    return f"/{intent}" if intent in REFERRAL_INTENTS else None


def _coordinates(attachment: Dict[str, Any]) -> Optional[Dict[str, float]]:
    point = _dict(_dict(attachment.get("payload")).get("coordinates"))
    latitude, longitude = _number(point.get("lat")), _number(point.get("long"))
    if latitude is None or longitude is None or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return {"latitude": latitude, "longitude": longitude}


def _number(value: Any) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _read_message(incoming: Incoming, message: Dict[str, Any]) -> Optional[Incoming]:
    if message.get("is_echo") is True or message.get("is_deleted") is True or message.get("is_self") is True:
        return None
    quick_reply = _text(_dict(message.get("quick_reply")).get("payload"))
    text = _text(message.get("text"))
    if text and text_too_long(text):
        incoming.reply = TOO_LONG_REPLY
        return incoming
    if quick_reply and not text_too_long(quick_reply):
        incoming.text = quick_reply  # the payload of a quick reply the assistant sent
        return incoming
    attachments = [_dict(a) for a in _list(message.get("attachments"))]
    kinds = {a.get("type") for a in attachments}
    location = next((c for c in map(_coordinates, attachments) if c), None)
    if location:
        incoming.stand_in, incoming.metadata = LOCATION_TEXT, {"location": location}
        incoming.text = typed_text(text) if text else None
        return incoming
    image = next((_text(_dict(a.get("payload")).get("url")) for a in attachments if a.get("type") == IMAGE), None)
    sticker = _dict(next((a.get("payload") for a in attachments if a.get("type") == IMAGE), None)).get("sticker_id")
    if image and sticker is None:
        incoming.image_url, incoming.stand_in = image, PHOTO_TEXT
        incoming.text = typed_text(text) if text else None
        return incoming
    if text and (not attachments or kinds <= {"fallback"}) and message.get("is_unsupported") is not True:
        incoming.text = typed_text(text) or None
        if incoming.text:
            return incoming
    incoming.reply = UNSUPPORTED_REPLY  # a sticker, a voice note, a video, a file, a shared post
    return incoming


def _read_postback(incoming: Incoming, postback: Dict[str, Any]) -> Incoming:
    opened = referral_text(postback.get("referral"))
    payload = _text(postback.get("payload")) or ""
    if opened:
        incoming.text = opened
    elif payload.startswith("/") and not text_too_long(payload):
        incoming.text = payload  # a button the city's set-up gave this payload ("/greet", "/report_problem")
    elif payload.upper() in GET_STARTED_PAYLOADS or not (payload or _text(postback.get("title"))):
        incoming.text = GREETING
    else:
        incoming.text = typed_text(_text(postback.get("title")) or payload) or GREETING
    return incoming


def read_item(channel: str, page_id: Optional[str], item: Any) -> Optional[Incoming]:
    """The answerable content of one `messaging[]` item, or None for anything acknowledged and ignored."""
    item = _dict(item)
    user_id = _id(_dict(item.get("sender")).get("id"))
    if user_id is None or user_id == page_id:
        return None  # no resident (a policy notice, app_roles) or the Page's own message
    incoming = Incoming(channel, user_id)
    message, postback, referral = item.get("message"), item.get("postback"), item.get("referral")
    if isinstance(message, dict):
        mid = _id(message.get("mid"))
        incoming.delivery_id = _delivery_id("m", item, user_id, mid, _text(message.get("text")) or "")
        return _read_message(incoming, message)
    if isinstance(postback, dict):
        mid = _id(postback.get("mid"))
        incoming.delivery_id = _delivery_id("p", item, user_id, mid, _text(postback.get("payload")) or "")
        return _read_postback(incoming, postback)
    if isinstance(referral, dict):
        incoming.delivery_id = _delivery_id("r", item, user_id, None, _text(referral.get("ref")) or "")
        incoming.text = referral_text(referral) or GREETING
        return incoming
    edit = item.get("message_edit")
    if isinstance(edit, dict):
        mid = _id(edit.get("mid"))
        incoming.delivery_id = _delivery_id("e", item, user_id, mid and f"{mid}:{edit.get('num_edit')}")
        incoming.reply = EDITED_REPLY
        return incoming
    return None  # delivery, read, reaction, optin, handover, account linking, payments...


def read_body(data: Dict[str, Any], page_id: Optional[str]) -> List[Incoming]:
    """Every answerable item of a webhook body, in order; [] for another object or no messaging."""
    channel = OBJECTS.get(str(data.get("object")))
    if channel is None:
        return []
    found: List[Incoming] = []
    for entry in map(_dict, _list(data.get("entry"))):
        own_id = _id(entry.get("id")) or page_id  # the Page, or the Instagram account, the entry is for
        for item in _list(entry.get("messaging")):  # `standby`: another app is in charge of the thread
            incoming = read_item(channel, own_id, item)
            if incoming is not None:
                found.append(incoming)
    return found
