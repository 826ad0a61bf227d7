"""Rasa's stored conversation events, anonymised once they are older than the limit.

Rasa's SQL tracker store (endpoints.yml; `events` in var/rasa.db, or in the
DATABASE_URL database) keeps one row per event: its type, time, intent or
action name, and the event as JSON. An anonymised event keeps its row, moved to
a new conversation id tied to nobody (`anon:<channel>:<random>`, see
bot.channels.identity), with its JSON cut down to what counts and nothing a
resident wrote or was told:

- every event: its type and time;
- a resident's message: the channel it came on, the intent (name, confidence)
  and the FAQ answer it was matched to; never its text, entities or metadata;
- an answer: the response it came from (`utter_action`) and the staff member
  who wrote it, if one did; never its text, buttons or data;
- an action: its name, policy and confidence;
- a slot: its name; its value only for a few slots that are categories, never
  what a resident typed (`KEPT_SLOT_VALUES`);
- a form: its name.

So conversations still count by day (the time), channel (the id's channel) and
language (the `language` slot), and intents, answers, fallbacks and handoffs
still count, after the conversation is forgotten; Rasa still reads the rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.channels.identity import ANONYMOUS_PREFIX
from bot.db.engine import create_engine

# Rasa's table (rasa.core.tracker_store.SQLTrackerStore.SQLEvent), described, never created here.
tracker_metadata = sa.MetaData()
events = sa.Table(
    "events",
    tracker_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)

SESSION_STARTED = "session_started"
# Slots whose values are the assistant's own categories, kept for counting (never free text).
KEPT_SLOT_VALUES = frozenset({"language", "service_code", "requested_slot"})
# Per event type, the fields kept beside `event` and `timestamp`.
KEPT_FIELDS: Mapping[str, Tuple[str, ...]] = {
    "user": ("input_channel",),
    "action": ("name", "policy", "confidence", "hide_rule_turn"),
    "action_execution_rejected": ("name", "policy", "confidence"),
    "slot": ("name",),
    "active_loop": ("name",),
    "form": ("name",),
    "followup": ("name",),
    "loop_interrupted": ("is_interrupted",),
    "form_validation": ("validate",),
    "reminder": ("intent", "date_time", "name", "kill_on_user_msg"),  # not its entities
    "cancel_reminder": ("intent", "name"),
    "user_featurization": ("use_text_for_featurization",),
}
CHUNK = 500  # events updated per statement batch


def anonymised_event(data: Mapping[str, Any]) -> Dict[str, Any]:
    """An event's JSON with only what counts: nothing a resident wrote or was told (see the module's list)."""
    kind = str(data.get("event") or "")
    kept: Dict[str, Any] = {"event": kind, "timestamp": data.get("timestamp")}
    for name in KEPT_FIELDS.get(kind, ()):
        if name in data:
            kept[name] = data[name]
    if kind == "user":
        kept["text"] = None
        kept["parse_data"] = counted_parse(data.get("parse_data") or {})
    elif kind == "bot":
        kept["text"] = None
        metadata = data.get("metadata") or {}
        kept["metadata"] = {key: metadata[key] for key in ("utter_action", "staff") if metadata.get(key)}
    elif kind == "action":
        kept["action_text"] = None
    elif kind == "slot":
        kept["value"] = data.get("value") if data.get("name") in KEPT_SLOT_VALUES else None
    return kept


def counted_parse(parse: Mapping[str, Any]) -> Dict[str, Any]:
    """The intent and the FAQ answer a message was matched to, without the message."""
    intent = parse.get("intent") or {}
    kept: Dict[str, Any] = {"intent": {"name": intent.get("name"), "confidence": intent.get("confidence")}}
    selected = {}
    for selector, found in (parse.get("response_selector") or {}).items():
        if not isinstance(found, dict):  # Rasa's "all_retrieval_intents": ["faq"] beside the selectors
            continue
        key = (found.get("response") or {}).get("intent_response_key")
        if key:
            selected[selector] = {"response": {"intent_response_key": key}}
    if selected:
        kept["response_selector"] = selected
    return kept


def open_tracker(url: str) -> Optional[sa.engine.Engine]:
    """The tracker store's database, or None when Rasa has stored nothing there yet (no file, no table)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and not (parsed.database and Path(parsed.database).exists()):
        return None  # not created by opening it here
    engine = create_engine(url)
    if sa.inspect(engine).has_table(events.name):
        return engine
    engine.dispose()
    return None


def senders_with_events_before(connection: Connection, moment: float) -> List[str]:
    """Conversations (not yet anonymised ones) with an event older than `moment` (a Unix time)."""
    rows = connection.execute(
        sa.select(events.c.sender_id)
        .where(events.c.timestamp < moment, ~events.c.sender_id.startswith(ANONYMOUS_PREFIX, autoescape=True))
        .distinct()
    ).all()
    return [row.sender_id for row in rows]


def conversation_times(connection: Connection, sender_ids: Iterable[str]) -> Dict[str, Tuple[float, Optional[float]]]:
    """Per conversation: its last event's time and its latest session's start (None: a single session)."""
    started = sa.case((events.c.type_name == SESSION_STARTED, events.c.timestamp), else_=None)
    rows = connection.execute(
        sa.select(events.c.sender_id, sa.func.max(events.c.timestamp), sa.func.max(started))
        .where(events.c.sender_id.in_(list(sender_ids)))
        .group_by(events.c.sender_id)
    ).all()
    return {row[0]: (float(row[1] or 0.0), None if row[2] is None else float(row[2])) for row in rows}


def anonymise_before(connection: Connection, sender_id: str, anonymous_id: str, before: float) -> int:
    """Move a conversation's events older than `before` to `anonymous_id`, anonymised; returns how many."""
    rows = connection.execute(
        sa.select(events.c.id, events.c.data)
        .where(events.c.sender_id == sender_id, events.c.timestamp < before)
        .order_by(events.c.id)
    ).all()
    update = (
        events.update()
        .where(events.c.id == sa.bindparam("row_id"))
        .values(sender_id=sa.bindparam("new_sender"), data=sa.bindparam("new_data"))
    )
    for start in range(0, len(rows), CHUNK):
        connection.execute(
            update,
            [
                {"row_id": row.id, "new_sender": anonymous_id, "new_data": json.dumps(anonymised(row.data))}
                for row in rows[start : start + CHUNK]
            ],
        )
    return len(rows)


def anonymised(raw: Optional[str]) -> Dict[str, Any]:
    """A stored event's JSON, anonymised (an unreadable one keeps nothing but the fact it was there)."""
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        data = {}
    return anonymised_event(data if isinstance(data, dict) else {})
