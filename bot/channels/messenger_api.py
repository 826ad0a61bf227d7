"""Sending on Facebook Messenger and Instagram through Meta's Graph Send API.

Every message to a Messenger or Instagram resident goes through here: replies in
a conversation and messages the city sends first (status updates, alerts, staff
replies). One async httpx client per event loop posts to `/{page-id}/messages`
(the Page's token in the Authorization header, never in a URL a log could
show); a 429, a 5xx, Meta's "temporary" or rate-limit errors and network
failures are retried with backoff. Texts longer than the platform takes are
split; buttons become quick replies (at most 13, titles of at most 20
characters), or a numbered list a resident answers by number when they do not
fit.

Meta lets a Page message a person only within 24 hours of that person's last
message; a person's own staff member may answer for 7 days with the
`HUMAN_AGENT` tag. Outside those windows nothing is sent: the sender raises
OutsideWindow (a NotDeliverable), which the alerts and handoff record as such;
a report's status update goes by text message instead when the resident gave
a phone number (bot.channels.outbound.deliver_update).
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Mapping, Optional, Tuple

import httpx

from bot.channels.identity import mask, require_production_secret, sender_id_for
from bot.channels.language import resident_texts
from bot.channels.outbound import Buttons, NotDeliverable, OutsideWindow
from bot.channels.sms_choices import remember_choices
from bot.channels.sms_format import body_length, payloads_of, split_body, with_choices
from bot.db.contacts import contact_for
from bot.db.engine import utcnow
from bot.settings import settings

logger = logging.getLogger(__name__)

MESSENGER = "messenger"
INSTAGRAM = "instagram"
CHANNELS = (MESSENGER, INSTAGRAM)
# An Instagram resident's address, as the contacts table keeps it: "instagram:<IGSID>"; a PSID is bare.
INSTAGRAM_PREFIX = "instagram:"
DEFAULT_GRAPH_API_BASE_URL = "https://graph.facebook.com/v21.0"

MESSENGER_TEXT_LIMIT = 2000  # characters (UTF-16 units counted, which is never fewer)
INSTAGRAM_TEXT_LIMIT = 1000  # UTF-8 bytes
MAX_QUICK_REPLIES = 13
QUICK_REPLY_TITLE_CHARS = 20
QUICK_REPLY_PAYLOAD_CHARS = 1000

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
STAFF_ROLE = "staff"
STAFF_REPLY = "handoff.staff_reply"  # the catalog's "City staff: {text}"

# Graph error codes that say "try again later": throttling (4, 17, 32, 613) and temporary failures (1, 2, 1200).
TEMPORARY_CODES = frozenset({1, 2, 4, 17, 32, 613, 1200})
# ...and those that say this person cannot be messaged now: outside the window (10 with these
# subcodes), unavailable or blocked the Page (551), no such person for this Page (100/2018001).
UNREACHABLE = frozenset({(10, 2018065), (10, 2018278), (10, 2018108), (100, 2018001)})
OUTSIDE_THE_WINDOW = frozenset({(10, 2018065), (10, 2018278)})
UNAVAILABLE = 551


@dataclass(frozen=True)
class MessengerSettings:
    """The Meta app and Page the channel works for, from the environment only (see README)."""

    app_secret: str = field(default="", repr=False)
    verify_token: str = field(default="", repr=False)
    page_access_token: str = field(default="", repr=False)
    page_id: str = ""
    api_base_url: str = DEFAULT_GRAPH_API_BASE_URL

    @classmethod
    def from_env(cls) -> "MessengerSettings":
        config = settings()
        return cls.from_credentials(
            {
                "app_secret": config.messenger_app_secret,
                "verify_token": config.messenger_verify_token,
                "page_access_token": config.messenger_page_access_token,
                "page_id": config.messenger_page_id,
                "api_base_url": config.meta_graph_api_base_url,
            }
        )

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any]) -> "MessengerSettings":
        """From the channel's credentials.yml section (app_secret, verify_token, page_access_token...)."""
        value = {key: str(credentials.get(key) or "").strip() for key in cls.__dataclass_fields__}
        return cls(
            app_secret=value["app_secret"],
            verify_token=value["verify_token"],
            page_access_token=value["page_access_token"],
            page_id=value["page_id"],
            api_base_url=(value["api_base_url"] or DEFAULT_GRAPH_API_BASE_URL).rstrip("/"),
        )

    @property
    def missing(self) -> List[str]:
        """The variables still needed before the channel can run."""
        return [
            name
            for name, value in (
                ("MESSENGER_APP_SECRET", self.app_secret),
                ("MESSENGER_VERIFY_TOKEN", self.verify_token),
                ("MESSENGER_PAGE_ACCESS_TOKEN", self.page_access_token),
                ("MESSENGER_PAGE_ID", self.page_id),
            )
            if not value
        ]

    @property
    def problem(self) -> Optional[str]:
        """Why the channel must stay off, or None."""
        if self.missing:
            return f"{', '.join(self.missing)} not set"
        if not self.api_base_url.startswith(("https://", "http://")):
            return "META_GRAPH_API_BASE_URL must be an http(s) URL"
        return None

    @property
    def can_send(self) -> bool:
        """Whether messages can go out (the worker needs neither the app secret nor the verify token)."""
        return bool(self.page_access_token and self.page_id and self.api_base_url.startswith(("https://", "http://")))


# --- addresses and windows ------------------------------------------------------------


def address_for(channel: str, user_id: str) -> str:
    """How the contacts table keeps a resident's Page-scoped id on a channel."""
    return f"{INSTAGRAM_PREFIX}{user_id}" if channel == INSTAGRAM else user_id


def parse_address(address: str) -> Tuple[str, str]:
    """(channel, Page-scoped id) of an address made by `address_for`."""
    if address.startswith(INSTAGRAM_PREFIX):
        return INSTAGRAM, address[len(INSTAGRAM_PREFIX) :]
    return MESSENGER, address


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def messaging_type(last_message_at: Optional[datetime], role: Optional[str], now: datetime) -> Dict[str, str]:
    """The Send API fields Meta's policy allows for a message now; OutsideWindow when none does
    (NotDeliverable when the resident never wrote).

    Within 24 hours of the resident's last message anything may be sent; after
    that only a staff member's reply, tagged HUMAN_AGENT, for up to 7 days.
    (Replies within a turn are RESPONSEs and need no check: the resident just wrote.)
    """
    if last_message_at is None:
        raise NotDeliverable("the resident has not written on this channel yet")
    since = _aware(now) - _aware(last_message_at)
    if since <= STANDARD_WINDOW:
        return {"messaging_type": "UPDATE"}
    if role == STAFF_ROLE and since <= HUMAN_AGENT_WINDOW:
        return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    window = "7 days" if role == STAFF_ROLE else "24 hours"
    raise OutsideWindow(f"outside Meta's messaging window: the resident last wrote over {window} ago")


# --- message bodies ---------------------------------------------------------------------


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def split_text(text: str, channel: str = MESSENGER) -> List[str]:
    """The texts to send for one reply, each within the platform's limit."""
    if channel == INSTAGRAM:
        return split_body(text, INSTAGRAM_TEXT_LIMIT, utf8_length)
    return split_body(text, MESSENGER_TEXT_LIMIT, body_length)


def _usable(buttons: Buttons) -> List[Dict[str, str]]:
    found = []
    for button in buttons or []:
        if isinstance(button, dict):
            title = str(button.get("title") or button.get("payload") or "").strip()
            payload = str(button.get("payload") or title)
            if title:
                found.append({"title": title, "payload": payload})
    return found


def fits_quick_replies(buttons: List[Dict[str, str]]) -> bool:
    return len(buttons) <= MAX_QUICK_REPLIES and all(
        len(b["title"]) <= QUICK_REPLY_TITLE_CHARS and len(b["payload"]) <= QUICK_REPLY_PAYLOAD_CHARS for b in buttons
    )


def quick_replies(buttons: List[Dict[str, str]]) -> List[Dict[str, str]]:
    return [{"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in buttons]


def numbered_quick_replies(buttons: List[Dict[str, str]]) -> List[Dict[str, str]]:
    """ "1", "2"... under a numbered list whose titles are too long for quick replies."""
    if len(buttons) > MAX_QUICK_REPLIES or any(len(b["payload"]) > QUICK_REPLY_PAYLOAD_CHARS for b in buttons):
        return []
    return [{"content_type": "text", "title": str(n), "payload": b["payload"]} for n, b in enumerate(buttons, 1)]


# --- the Graph API -------------------------------------------------------------------------


class GraphSendError(Exception):
    """Meta did not accept a message (after retries when the failure was temporary)."""

    def __init__(
        self,
        status: Optional[int],
        code: Optional[int],
        message: str,
        subcode: Optional[int] = None,
        transient: bool = False,
        unanswered: bool = False,
    ) -> None:
        super().__init__(f"Graph API error {code or '-'}/{subcode or '-'} (HTTP {status or '-'}): {message}")
        self.status = status  # read by bot/alerts/delivery/failures.py: a 4xx other than 429 is permanent
        self.code = code
        self.subcode = subcode
        self.transient = transient
        # The request may have reached Meta but no answer came back (a timeout after sending, a dropped
        # connection): it may have been done. A Page post in this state is not posted again on its own.
        self.unanswered = unanswered

    @classmethod
    def from_response(cls, answer: httpx.Response) -> "GraphSendError":
        try:
            payload = answer.json()
        except ValueError:
            payload = {}
        error = payload.get("error") if isinstance(payload, dict) else None
        error = error if isinstance(error, dict) else {}
        code, subcode = error.get("code"), error.get("error_subcode")
        return cls(
            answer.status_code,
            code if isinstance(code, int) else None,
            str(error.get("message") or answer.reason_phrase)[:300],
            subcode if isinstance(subcode, int) else None,
            error.get("is_transient") is True,
        )

    @property
    def unreachable(self) -> bool:
        """Meta will not deliver to this person now: the window closed, or they blocked the Page."""
        return (self.code, self.subcode) in UNREACHABLE or self.code == UNAVAILABLE

    @property
    def outside_the_window(self) -> bool:
        """Meta says the resident last wrote too long ago (our clock and Meta's may differ a little)."""
        return (self.code, self.subcode) in OUTSIDE_THE_WINDOW

    @property
    def temporary(self) -> bool:
        """Whether another attempt may succeed (Meta throttling us, or down)."""
        if self.status is None or self.status == 429 or self.status >= 500:
            return True
        return self.transient or self.code in TEMPORARY_CODES


class GraphClient:
    """Posts Send API requests with retries; one httpx client per event loop, closed by `aclose()`."""

    def __init__(
        self, settings: MessengerSettings, attempts: int = 4, backoff: float = 0.5, timeout: float = 10.0
    ) -> None:
        self.settings = settings
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self._client: Optional[httpx.AsyncClient] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(
                base_url=self.settings.api_base_url,
                timeout=self.timeout,
                headers={"Authorization": f"Bearer {self.settings.page_access_token}"},
            )
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        client, self._client, self._loop = self._client, None, None
        if client is not None:
            await client.aclose()

    def _delay(self, attempt: int, answer: Optional[httpx.Response]) -> float:
        """Exponential backoff with jitter, or the server's Retry-After (capped)."""
        retry_after = answer.headers.get("Retry-After", "") if answer is not None else ""
        if retry_after.isdigit():
            return min(float(retry_after), 30.0)
        return self.backoff * (2 ** (attempt - 1)) * (1 + random.random() / 2)

    async def post(self, path: str, body: Dict[str, Any]) -> Dict[str, Any]:
        """POST a JSON body to the Graph API; its JSON answer, or GraphSendError."""
        failure = GraphSendError(None, None, "not attempted")
        for attempt in range(1, self.attempts + 1):
            answer: Optional[httpx.Response] = None
            try:
                answer = await self.client().post(path, json=body)
            except httpx.HTTPError as error:
                never_sent = isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
                failure = GraphSendError(None, None, type(error).__name__, unanswered=not never_sent)
            else:
                if answer.status_code < 300:
                    payload = answer.json() if answer.content else {}
                    return payload if isinstance(payload, dict) else {}
                failure = GraphSendError.from_response(answer)
                if not failure.temporary:
                    raise failure
            if attempt < self.attempts:
                delay = self._delay(attempt, answer)
                logger.warning("Graph API attempt %d failed (%s); retrying in %.1fs", attempt, failure, delay)
                await asyncio.sleep(delay)
        raise failure


class MessengerSender:
    """Sends to Messenger and Instagram residents (bot.channels.outbound.OutboundSender for both).

    `send` is for messages the city sends first and checks Meta's windows;
    `reply` answers a message the resident just sent.
    """

    channel = MESSENGER
    channels = CHANNELS

    def __init__(self, settings: MessengerSettings, client: Optional[GraphClient] = None) -> None:
        self.settings = settings
        self.graph = client or GraphClient(settings)

    async def send(self, address: str, text: str, buttons: Buttons = None, *, role: Optional[str] = None) -> None:
        """A status update, an alert or (role "staff") a staff reply, if Meta's window allows it."""
        channel, _ = parse_address(address)
        sender_id = sender_id_for(channel, address)
        contact = await contact_for(sender_id)
        if contact is not None and contact.opted_out:
            raise NotDeliverable(f"conversation {sender_id} opted out")
        fields = messaging_type(contact.last_message_at if contact is not None else None, role, utcnow())
        if role == STAFF_ROLE:
            text = (await resident_texts(sender_id)).text(STAFF_REPLY, text=text)
        await self._post(address, sender_id, text, buttons, fields)

    async def reply(self, address: str, text: str, buttons: Buttons = None) -> None:
        """An answer within the conversation's turn (the resident has just written)."""
        channel, _ = parse_address(address)
        await self._post(address, sender_id_for(channel, address), text, buttons, {"messaging_type": "RESPONSE"})

    async def reply_image(self, address: str, url: str) -> None:
        _, user_id = parse_address(address)
        image = {"attachment": {"type": "image", "payload": {"url": url, "is_reusable": False}}}
        await self.graph.post(
            self._path, {"recipient": {"id": user_id}, "messaging_type": "RESPONSE", "message": image}
        )

    @property
    def _path(self) -> str:
        return f"/{self.settings.page_id}/messages"

    async def _post(self, address: str, sender_id: str, text: str, buttons: Buttons, fields: Mapping[str, str]) -> None:
        channel, user_id = parse_address(address)
        usable = _usable(buttons)
        replies: List[Dict[str, str]] = []
        if usable and fits_quick_replies(usable):
            replies = quick_replies(usable)
        elif usable:
            texts = await resident_texts(sender_id)
            await remember_choices(sender_id, payloads_of(usable))  # a typed "2" picks the second
            text = with_choices(text, usable, texts)
            replies = numbered_quick_replies(usable)
        chunks = split_text(text, channel)
        if not chunks and replies:  # quick replies need a text
            chunks = [(await resident_texts(sender_id)).text("channels.choose")]
        for index, chunk in enumerate(chunks):
            message: Dict[str, Any] = {"text": chunk}
            if replies and index == len(chunks) - 1:
                message["quick_replies"] = replies
            try:
                await self.graph.post(self._path, {"recipient": {"id": user_id}, **fields, "message": message})
            except GraphSendError as error:
                if error.outside_the_window:
                    raise OutsideWindow(f"Meta refused the message: {error}") from error
                if error.unreachable:
                    raise NotDeliverable(f"Meta refused the message: {error}") from error
                raise
        logger.info("sent %d %s message(s) to %s", len(chunks), channel, mask(user_id))

    async def aclose(self) -> None:
        """Close the HTTP connections (at shutdown)."""
        await self.graph.aclose()


_shared_sender: Optional[MessengerSender] = None


def shared_sender(settings: MessengerSettings) -> MessengerSender:
    """The process-wide sender (one connection pool) for these settings."""
    global _shared_sender
    if _shared_sender is None or _shared_sender.settings != settings:
        _shared_sender = MessengerSender(settings)
    return _shared_sender


def sender_from_env() -> Optional[MessengerSender]:
    """The Messenger/Instagram sender when the Page's token and id are set (the worker's)."""
    require_production_secret()
    settings = MessengerSettings.from_env()
    return shared_sender(settings) if settings.can_send else None
