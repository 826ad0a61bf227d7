"""What staff do with a handoff, and what the resident is told.

The conversation itself lives in Rasa's tracker store: the console reads it
(and appends to it) over Rasa's HTTP API, so the transcript is the bot's own,
with every user message, bot turn and staff reply in order. Pausing the tracker
(`pause` event) keeps the bot out of the way while staff are in charge: Rasa
still logs what the resident writes and predicts no action; only
`action_handoff_waiting` runs (bot/rasa_ext/patches/handoff_waiting.py, bot/handoff/waiting.py:
emergencies, leaving the queue). Resuming adds `resume` and an `action_listen`,
so the next message is handled as after any bot turn.

Staff replies reach the resident through the channel's outbound sender
(`bot.channels.outbound`), the same way status updates do.
"""

from __future__ import annotations

import inspect
import logging
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Protocol, TypeGuard

import httpx

from bot.catalog import load_city
from bot.channels.outbound import Buttons, NotDeliverable, OutboundSender, deliver, sender_for
from bot.db.contacts import contact_for
from bot.db.engine import utcnow
from bot.handoff import store
from bot.handoff.store import CLAIMED, STAFF, Handoff
from bot.i18n.city import branding
from bot.i18n.messages import messages
from bot.i18n.store import language_for
from bot.reports.draft import REPORT_SLOTS, ReportDraft
from bot.settings import settings
from bot.survey.after_handoff import handoff_survey

logger = logging.getLogger(__name__)

MAX_REPLY_CHARS = 1500

# What the resident is told, by key of the `handoff` catalog, in the resident's language.
JOINED = "handoff.staff_joined"
HANDED_BACK = "handoff.handed_back"
CLOSED = "handoff.closed"
STAFF_REPLY = "handoff.staff_reply"


def notice(key: str, language: str) -> str:
    """A notice to the resident in their language, with the city's names from its city file."""
    names = branding(language)
    return messages(language).text(key, assistant=names.assistant, city=names.city)


class HandoffError(Exception):
    """An action staff cannot take now; the message is shown to them."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


# --- Rasa's HTTP API ----------------------------------------------------------------


class RasaAPI:
    """The parts of Rasa's HTTP API the console uses (needs `rasa run --enable-api`)."""

    def __init__(self, base_url: Optional[str] = None, token: Optional[str] = None, timeout: float = 10.0) -> None:
        self.base_url = (base_url or settings().rasa_url or "http://127.0.0.1:5005").rstrip("/")
        self.token = token if token is not None else settings().rasa_api_token
        self._client = httpx.AsyncClient(timeout=timeout)

    def _params(self, **extra: str) -> Dict[str, str]:
        params = dict(extra)
        if self.token:
            params["token"] = self.token
        return params

    def _url(self, sender_id: str, tail: str) -> str:
        from urllib.parse import quote

        return f"{self.base_url}/conversations/{quote(sender_id, safe='')}/{tail}"

    async def tracker(self, sender_id: str) -> Dict[str, Any]:
        """The conversation's tracker with every event (GET /conversations/{id}/tracker)."""
        try:
            response = await self._client.get(
                self._url(sender_id, "tracker"), params=self._params(include_events="ALL")
            )
        except httpx.HTTPError as error:
            raise HandoffError(f"the assistant's server cannot be reached ({type(error).__name__})", 503) from None
        if response.status_code != 200:
            raise HandoffError(f"the assistant's server answered HTTP {response.status_code}", 502)
        return response.json()

    async def append(self, sender_id: str, events: List[Dict[str, Any]]) -> None:
        """Append events to the tracker (POST /conversations/{id}/tracker/events), no side effects."""
        stamped = [{"timestamp": time.time(), **event} for event in events]
        try:
            response = await self._client.post(
                self._url(sender_id, "tracker/events"),
                params=self._params(include_events="NONE"),
                json=stamped,
            )
        except httpx.HTTPError as error:
            raise HandoffError(f"the assistant's server cannot be reached ({type(error).__name__})", 503) from None
        if response.status_code != 200:
            raise HandoffError(f"the assistant's server answered HTTP {response.status_code}", 502)

    async def aclose(self) -> None:
        await self._client.aclose()


# --- the transcript -------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """One line of the transcript: `who` is resident, assistant, staff or event."""

    index: int  # position in the tracker's event list: stable, so a stream can resume after it
    who: str
    text: str
    at: float
    staff: Optional[str] = None
    buttons: Optional[List[str]] = None

    def as_json(self) -> Dict[str, Any]:
        return {
            "index": self.index,
            "who": self.who,
            "text": self.text,
            "at": self.at,
            "staff": self.staff,
            "buttons": self.buttons or [],
        }


def transcript(tracker: Mapping[str, Any], after: int = -1) -> List[Turn]:
    """The conversation as people read it: what the resident wrote, what the bot and staff said."""
    turns: List[Turn] = []
    for index, event in enumerate(tracker.get("events") or []):
        if index <= after:
            continue
        kind = event.get("event")
        at = float(event.get("timestamp") or 0)
        if kind == "user":
            text = event.get("text") or ""
            turns.append(Turn(index, "resident", text, at))
        elif kind == "bot":
            metadata = event.get("metadata") or {}
            data = event.get("data") or {}
            text = event.get("text") or ""
            if not text and isinstance(data.get("custom"), dict):
                text = str(data["custom"].get("text") or "")
            buttons = [
                str(b.get("title") or b.get("payload") or "") for b in data.get("buttons") or [] if isinstance(b, dict)
            ]
            if metadata.get("staff"):
                turns.append(Turn(index, "staff", text, at, staff=str(metadata["staff"])))
            elif text or buttons:
                turns.append(Turn(index, "assistant", text, at, buttons=buttons or None))
        elif kind == "pause":
            turns.append(Turn(index, "event", "The assistant paused: city staff are in charge.", at))
        elif kind == "resume":
            turns.append(Turn(index, "event", "The assistant resumed.", at))
        elif kind == "restart":
            turns.append(Turn(index, "event", "The conversation was restarted.", at))
    return turns


def last_index(tracker: Mapping[str, Any]) -> int:
    return len(tracker.get("events") or []) - 1


def report_details(tracker: Mapping[str, Any]) -> Dict[str, Any]:
    """The report slots the bot has collected so far (only those with a value)."""
    slots = tracker.get("slots") or {}
    return {name: slots.get(name) for name in REPORT_SLOTS if slots.get(name) not in (None, "", {}, [])}


# --- reaching the resident ------------------------------------------------------------


class RoleSender(Protocol):
    """A sender that styles a message by who wrote it (the web chat's `role`)."""

    channel: str

    async def send(self, address: str, text: str, buttons: Buttons = None, *, role: str) -> None: ...


def sends_roles(sender: OutboundSender) -> TypeGuard[RoleSender]:
    """Whether the sender's `send` takes a `role`."""
    return "role" in inspect.signature(sender.send).parameters


async def send_to_resident(sender_id: str, text: str, from_staff: bool) -> None:
    """A message on the resident's own channel; staff replies are marked as such.

    The web chat shows staff messages in their own style; on SMS and Telegram
    they start with "City staff:" in the resident's language (the reply itself
    is sent as staff wrote it). Raises NotDeliverable when the resident
    cannot be reached (REST conversations, an opted-out number, a channel off).
    """
    contact = await contact_for(sender_id)
    if contact is None:
        raise NotDeliverable("this conversation has no channel to reach the resident on")
    if from_staff:
        sender = sender_for(contact.channel)
        if sender is not None and not contact.opted_out and sends_roles(sender):
            await sender.send(contact.address, text, None, role="staff")
            return
        text = messages(await language_for(sender_id)).text(STAFF_REPLY, text=text)
    await deliver(sender_id, text)


# --- what staff do --------------------------------------------------------------------


class HandoffService:
    """Staff actions on handoffs; each one is written to the audit log."""

    def __init__(self, rasa: Optional[RasaAPI] = None) -> None:
        self.rasa = rasa or RasaAPI()

    async def _held(self, handoff_id: int, username: str) -> Handoff:
        handoff = await store.get_handoff(handoff_id)
        if handoff is None:
            raise HandoffError("there is no such handoff", 404)
        if handoff.state != CLAIMED or handoff.claimed_by != username:
            raise HandoffError("claim this conversation first: only the staff member who claimed it can do that")
        return handoff

    async def _say(self, handoff: Handoff, text: str, staff: Optional[str], announce: bool = True) -> Optional[str]:
        """Record a message in the tracker, then send it; the reason it was not delivered, if it was not."""
        metadata: Dict[str, Any] = {"handoff": handoff.id}
        if staff:
            metadata["staff"] = staff
        await self.rasa.append(handoff.sender_id, [{"event": "bot", "text": text, "metadata": metadata}])
        if not announce:
            return None
        try:
            await send_to_resident(handoff.sender_id, text, from_staff=bool(staff))
        except NotDeliverable as reason:
            logger.info("handoff %s: message not deliverable (%s)", handoff.id, reason)
            return str(reason)
        except Exception as error:  # a channel API failure: staff see it and can try again
            logger.warning("handoff %s: sending failed (%s)", handoff.id, type(error).__name__)
            return f"the channel failed ({type(error).__name__})"
        return None

    async def claim(self, handoff_id: int, username: str) -> Handoff:
        handoff = await store.get_handoff(handoff_id)
        if handoff is None:
            raise HandoffError("there is no such handoff", 404)
        if not await store.claim(handoff_id, username):
            current = await store.get_handoff(handoff_id)
            holder = f" by {current.claimed_by}" if current and current.claimed_by else ""
            raise HandoffError(
                f"this conversation was already claimed{holder}"
                if current and current.state == CLAIMED
                else "this conversation is no longer waiting"
            )
        await store.audit(username, "claim", handoff_id)
        handoff = await store.get_handoff(handoff_id)
        assert handoff is not None
        # A waiting conversation whose tracker is not paused any more (a new session
        # started overnight, or a restart) is paused again now that staff have it.
        try:
            await self._ensure_paused(handoff)
            await self._say(handoff, notice(JOINED, await language_for(handoff.sender_id)), staff=None)
        except HandoffError as error:  # the claim stands; replies will say whether Rasa is back
            logger.warning("handoff %s: claimed, but the assistant's server could not be told (%s)", handoff.id, error)
        return handoff

    async def _ensure_paused(self, handoff: Handoff) -> None:
        try:
            tracker = await self.rasa.tracker(handoff.sender_id)
        except HandoffError:
            return
        if not tracker.get("paused"):
            await self.rasa.append(handoff.sender_id, [{"event": "pause"}])

    async def take_over(self, sender_id: str, username: str) -> Handoff:
        """Staff pick up a conversation on their own: it is paused and claimed by them at once."""
        sender_id = (sender_id or "").strip()
        if not sender_id or len(sender_id) > 128:
            raise HandoffError("name a conversation to take over", 400)
        tracker = await self.rasa.tracker(sender_id)
        contact = await contact_for(sender_id)
        # Rasa answers any id with a fresh tracker: a conversation is one where a resident wrote.
        if contact is None and not any(e.get("event") == "user" for e in tracker.get("events") or []):
            raise HandoffError("there is no conversation with that id", 404)
        channel = contact.channel if contact is not None else (tracker.get("latest_input_channel") or "rest")
        handoff, created = await store.open_handoff(sender_id, channel, STAFF, claimed_by=username)
        if not created:
            raise HandoffError(f"this conversation already has an open handoff (#{handoff.id})")
        await store.audit(username, "take_over", handoff.id)
        try:
            await self.rasa.append(sender_id, [{"event": "pause"}])
        except HandoffError:
            await store.resolve(handoff.id, username, handed_back=True)
            await store.audit(username, "resolve", handoff.id, "the assistant could not be paused")
            raise
        await self._say(handoff, notice(JOINED, await language_for(handoff.sender_id)), staff=None)
        return handoff

    async def reply(self, handoff_id: int, username: str, text: str) -> Optional[str]:
        """Send a staff reply; returns why it could not be delivered, or None."""
        text = (text or "").strip()
        if not text:
            raise HandoffError("write a reply first", 400)
        if len(text) > MAX_REPLY_CHARS:
            raise HandoffError(f"a reply can be at most {MAX_REPLY_CHARS} characters", 400)
        handoff = await self._held(handoff_id, username)
        problem = await self._say(handoff, text, staff=username)
        await store.audit(username, "reply", handoff_id, f"not delivered: {problem}" if problem else None)
        await store.touch_handoff(handoff_id)
        return problem

    async def note(self, handoff_id: int, username: str, text: str) -> store.Note:
        text = (text or "").strip()
        if not text:
            raise HandoffError("write a note first", 400)
        if len(text) > store.NOTE_MAX_CHARS:
            raise HandoffError(f"a note can be at most {store.NOTE_MAX_CHARS} characters", 400)
        handoff = await store.get_handoff(handoff_id)
        if handoff is None:
            raise HandoffError("there is no such handoff", 404)
        note = await store.add_note(handoff_id, username, text)
        await store.audit(username, "note", handoff_id)
        return note

    async def release(self, handoff_id: int, username: str) -> None:
        """Put a claimed conversation back in the queue for someone else."""
        if not await store.unclaim(handoff_id, username):
            raise HandoffError("only the staff member holding this conversation can release it")
        await store.audit(username, "release", handoff_id)

    async def resolve(self, handoff_id: int, username: str, hand_back: bool) -> Optional[str]:
        """End the handoff; the bot answers again either way.

        Handing back tells the resident the assistant is back and keeps what it had
        collected; closing says goodbye and clears an unfinished report.
        """
        handoff = await store.get_handoff(handoff_id)
        if handoff is None:
            raise HandoffError("there is no such handoff", 404)
        if handoff.state == CLAIMED and handoff.claimed_by != username:
            raise HandoffError(f"only {handoff.claimed_by}, who claimed it, can resolve this conversation")
        if not handoff.is_open:
            raise HandoffError("this conversation is already resolved")
        language = await language_for(handoff.sender_id)
        text = notice(HANDED_BACK if hand_back else CLOSED, language)
        events: List[Dict[str, Any]] = [{"event": "bot", "text": text, "metadata": {"handoff": handoff.id}}]
        if not hand_back:
            events += [{"event": "slot", "name": name, "value": None} for name in REPORT_SLOTS]
        survey = handoff_survey(
            await self.rasa.tracker(handoff.sender_id), handoff.id, handoff.channel, language, utcnow()
        )
        events += survey.events if survey else []
        events += [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        # The tracker first: if Rasa is down, nothing changes and staff can try again.
        await self.rasa.append(handoff.sender_id, events)
        if not await store.resolve(handoff_id, username, handed_back=hand_back):
            raise HandoffError("this conversation changed hands meanwhile; reload it")
        await store.audit(username, "resolve", handoff_id, "handed back" if hand_back else "closed")
        try:
            await send_to_resident(handoff.sender_id, text, from_staff=False)
            if survey is not None:
                await deliver(handoff.sender_id, survey.text, survey.buttons)
        except NotDeliverable as reason:
            return str(reason)
        except Exception as error:
            logger.warning("handoff %s: closing message failed (%s)", handoff.id, type(error).__name__)
            return f"the channel failed ({type(error).__name__})"
        return None

    async def file_report(self, handoff_id: int, username: str, fields: Mapping[str, Any]) -> Dict[str, Any]:
        """File (or correct, then file) the resident's report from the console.

        `fields` are the report slots as staff edited them: service_code,
        attributes (dict), location, latitude, longitude, description, contact,
        media_url. The resident follows the request and is told its number.
        """
        from bot.open311.client import client_from_env
        from bot.reports.filing import submission_message, submit

        handoff = await self._held(handoff_id, username)
        code = str(fields.get("service_code") or "").strip()
        if not code:
            raise HandoffError("choose the service to file the request with", 400)
        city = load_city()
        name = await service_name(code)
        if name is None:
            raise HandoffError(f"the back office has no service {code!r}", 400)
        draft = ReportDraft.from_slots(fields, service_name=name)
        if not draft.location and not draft.has_coordinates():
            raise HandoffError("give a location: an address or coordinates", 400)
        submission = await submit(draft, handoff.sender_id, client_from_env())
        item = submission.item
        message = submission_message(submission, draft, city)
        # The bot's memory of the report is cleared: it was filed, by staff.
        await self.rasa.append(
            handoff.sender_id, [{"event": "slot", "name": slot, "value": None} for slot in REPORT_SLOTS]
        )
        problem = await self._say(handoff, message, staff=username)
        await store.audit(
            username,
            "file",
            handoff_id,
            f"{code} {item.reference} {item.state}"
            + (f" #{item.service_request_id}" if item.service_request_id else ""),
        )
        await store.touch_handoff(handoff_id)
        return {
            "reference": item.reference,
            "state": item.state,
            "service_request_id": item.service_request_id,
            "error": item.last_error,
            "message": message,
            "not_delivered": problem,
        }


async def service_name(code: str) -> Optional[str]:
    """The back office's name for a service code; the city catalog when it cannot be reached."""
    from bot.reports.directory import directory

    try:
        service = await directory().service(code)
        if service is not None:
            return service.service_name or code
        return None
    except Exception:  # the back office is down: the catalog still knows the city's services
        catalog = load_city().service(code)
        return catalog.name if catalog else None
