"""The conversations of a date range, told by Rasa's stored events (docs/dashboard.md defines each term).

A conversation is one Rasa session (domain.yml's session_config) of one
conversation id in which a resident wrote: from its `session_started` event
(or the id's first stored event) to the next. It belongs to the city day of its
first resident message. Anonymised conversations (`anon:<channel>:<hex>`,
bot/retention) count the same way: their events keep their type, time, intent,
FAQ answer, action names and the `language` slot; only their texts are gone.

Each resident message is answered by the actions that run after it, until the
next resident message:

- **not understood**: the assistant ran `action_handle_misunderstanding` (its
  answer to `nlu_fallback`, `out_of_scope` and the dialogue policy's fallback);
- **a city question**: it was matched to an FAQ answer and `utter_faq` ran;
- **written to staff**: the conversation was paused for staff then (a `pause`
  event and no `resume` since), or `action_handoff_waiting` answered it. The
  assistant did not try to understand it, so it is not one of the messages
  the fallback rate divides.

- **a jobs answer**: `action_answer_jobs` (is the city hiring, a department's,
  a kind's or a keyword's jobs, one posting) or `action_more_jobs` (the "More
  jobs" button) answered it; **job alerts asked for** or **stopped**:
  `action_subscribe_jobs` or `action_unsubscribe_jobs` did.

A conversation **went to staff** when it has a `pause` event (a handoff, a
staff take-over) or ran `action_request_human` or `action_handoff_waiting`.
It was **abandoned after a misunderstanding** when it did not go to staff and
its last resident message was not understood (the resident left after the
assistant said it did not understand). It was **contained** when neither.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional

from bot.channels.hooks import NOT_TYPED
from bot.dashboard.period import Period
from bot.handoff.tracker_events import (
    SESSION_STARTED,
    SLOT,
    USER,
    StoredEvent,
    TrackerEvents,
    conversation_channel,
    moment,
    typed,
)

ACTION, PAUSE, RESUME = "action", "pause", "resume"
EVENT_TYPES = (USER, ACTION, SESSION_STARTED, SLOT, PAUSE, RESUME)
LANGUAGE_SLOT = "language"
MISUNDERSTANDING = "action_handle_misunderstanding"
FAQ_ANSWER = "utter_faq"
REQUEST_HUMAN = "action_request_human"
HANDOFF_WAITING = "action_handoff_waiting"
# City jobs (actions/jobs.py): the action that answered a message, by what it did.
JOBS_ANSWER, JOBS_SUBSCRIBE, JOBS_UNSUBSCRIBE = "answer", "subscribe", "unsubscribe"
JOBS_ACTIONS = {
    "action_answer_jobs": JOBS_ANSWER,
    "action_more_jobs": JOBS_ANSWER,
    "action_subscribe_jobs": JOBS_SUBSCRIBE,
    "action_unsubscribe_jobs": JOBS_UNSUBSCRIBE,
}


@dataclass
class Message:
    """A resident's message and how it was answered."""

    text: Optional[str]  # as typed; None for a button's payload or an anonymised message
    topic: Optional[str]  # the FAQ answer it was matched to ("trash_day"), if any
    for_staff: bool = False  # written while staff were in charge
    misunderstood: bool = False
    answered: bool = False  # the FAQ answer was given
    jobs: Optional[str] = None  # what a jobs action did for it (JOBS_ACTIONS' values), if one answered it

    @property
    def question(self) -> Optional[str]:
        """The city question it asked, if the assistant answered it."""
        return self.topic if self.answered and not self.for_staff else None


@dataclass
class Conversation:
    """One session of one conversation id in which a resident wrote."""

    sender_id: str
    channel: str
    language: Optional[str]  # the `language` slot at its end (None: never set, the city's default)
    started_at: datetime  # its first resident message
    messages: List[Message]
    to_staff: bool

    @property
    def answered_messages(self) -> List[Message]:
        """The messages the assistant answered (not those written to staff)."""
        return [m for m in self.messages if not m.for_staff]

    @property
    def misunderstood(self) -> List[Message]:
        return [m for m in self.answered_messages if m.misunderstood]

    @property
    def abandoned(self) -> bool:
        """The resident left after a misunderstanding: their last message was not understood, and no staff came."""
        return not self.to_staff and self.messages[-1].misunderstood

    @property
    def contained(self) -> bool:
        return not self.to_staff and not self.abandoned


def faq_topic(parse: Mapping[str, Any]) -> Optional[str]:
    """The FAQ answer a message was matched to ("faq/trash_day" -> "trash_day"), from its parse data."""
    selectors = parse.get("response_selector")
    if not isinstance(selectors, dict):
        return None
    for found in selectors.values():
        response = found.get("response") if isinstance(found, dict) else None
        key = response.get("intent_response_key") if isinstance(response, dict) else None
        if key:
            return str(key).split("/", 1)[-1]
    return None


def event_json(data: Optional[str]) -> Dict[str, Any]:
    try:
        value = json.loads(data or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass
class Session:
    """What is known so far of the session being read."""

    language: Optional[str]
    first_at: Optional[datetime] = None
    input_channel: Optional[str] = None
    messages: List[Message] = field(default_factory=list)
    paused: bool = False  # Rasa's state: a new session is never paused
    to_staff: bool = False


class ConversationReader:
    """Folds the events of one conversation id after another (TrackerEvents.visit_sessions's order) into the
    conversations that began in `period`; called in the reading thread, it keeps only what it counts."""

    def __init__(self, period: Period) -> None:
        self.period = period
        self.found: List[Conversation] = []
        self.sender_id: Optional[str] = None
        self.session = Session(language=None)

    def __call__(self, event: StoredEvent) -> None:
        if event.sender_id != self.sender_id:
            self.close()
            self.sender_id = event.sender_id
            self.session = Session(language=None)
        kind = event.type_name
        if kind == SESSION_STARTED:
            self.close()
            self.session = Session(language=self.session.language)  # until the carried-over slot says otherwise
        elif kind == USER:
            self.message(event)
        elif kind == ACTION:
            self.action(event.action_name or "")
        elif kind == PAUSE:
            self.session.paused = self.session.to_staff = True
        elif kind == RESUME:
            self.session.paused = False
        elif kind == SLOT:
            data = event_json(event.data)
            if data.get("name") == LANGUAGE_SLOT and isinstance(data.get("value"), str):
                self.session.language = data["value"]

    def message(self, event: StoredEvent) -> None:
        data = event_json(event.data)
        if (data.get("metadata") or {}).get(NOT_TYPED):
            return  # sent for the resident (a page's greeting): the resident has not written yet
        parse = data.get("parse_data")
        session = self.session
        if session.first_at is None:
            session.first_at = moment(event.timestamp)
            session.input_channel = str(data.get("input_channel") or "") or None
        topic = faq_topic(parse) if isinstance(parse, dict) else None
        session.messages.append(Message(typed(data.get("text")), topic, for_staff=session.paused))

    def action(self, name: str) -> None:
        session = self.session
        latest = session.messages[-1] if session.messages else None
        if name in (REQUEST_HUMAN, HANDOFF_WAITING):
            session.to_staff = True
        if latest is None:
            return
        if name == MISUNDERSTANDING:
            latest.misunderstood = True
        elif name == FAQ_ANSWER:
            latest.answered = True
        elif name == HANDOFF_WAITING:
            latest.for_staff = True
        elif name in JOBS_ACTIONS:
            latest.jobs = JOBS_ACTIONS[name]

    def close(self) -> None:
        """The session read so far is over: kept if a resident wrote in it and its first message is in the range."""
        session = self.session
        if self.sender_id is None or session.first_at is None or not self.period.covers(session.first_at):
            return
        self.found.append(
            Conversation(
                sender_id=self.sender_id,
                channel=conversation_channel(self.sender_id, session.input_channel),
                language=session.language,
                started_at=session.first_at,
                messages=session.messages,
                to_staff=session.to_staff,
            )
        )

    def finish(self) -> List[Conversation]:
        self.close()
        self.sender_id = None
        return self.found


async def conversations_in(period: Period, reader: TrackerEvents) -> List[Conversation]:
    """The conversations that began in `period` (read and folded in a worker thread)."""
    fold = ConversationReader(period)
    await reader.visit_sessions(period.start, period.end, EVENT_TYPES, fold, slot_names=(LANGUAGE_SLOT,))
    return fold.finish()
