"""Patch: a call to the action server carries the events of the latest user turns only.

Every call to the action server carried every event of the conversation,
serialized, sent and parsed again on the other side. The actions read only the
latest turns (the slots, the latest message and the active form travel
separately, as always), so a call carries the events of the last
`ACTION_TRACKER_USER_TURNS` user turns (default 5; 0 sends them all, leaving
Rasa's method in place).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Text

from bot.rasa_ext.patches.registry import Patch
from bot.settings import settings

if TYPE_CHECKING:
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker

TARGET = "rasa.core.actions.action.RemoteAction._action_call_format"
TARGETS = (TARGET,)


DEFAULT_ACTION_TRACKER_USER_TURNS = 5


def action_tracker_user_turns() -> int:
    """How many of the latest user turns' events an action server call carries (0: all)."""
    value = settings().action_tracker_user_turns
    return value if value is not None else DEFAULT_ACTION_TRACKER_USER_TURNS


def recent_events(tracker: "DialogueStateTracker", user_turns: int) -> List["Event"]:
    """The events from the `user_turns`-th latest user message on (all of them if fewer)."""
    from rasa.shared.core.events import UserUttered

    if user_turns <= 0:
        return list(tracker.events)
    seen = 0
    for index, event in enumerate(reversed(tracker.events), start=1):
        if isinstance(event, UserUttered):
            seen += 1
            if seen == user_turns:
                events = list(tracker.events)
                return events[len(events) - index :]
    return list(tracker.events)


def replacements() -> Dict[str, Any]:
    """RemoteAction._action_call_format carrying the latest user turns' events only."""
    import rasa
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.trackers import EventVerbosity

    user_turns = action_tracker_user_turns()
    if user_turns <= 0:
        return {}

    def _action_call_format(self: RemoteAction, tracker: "DialogueStateTracker", domain: Any) -> Dict[Text, Any]:
        # Rasa 3.6's own method, but for the events.
        tracker_state = tracker.current_state(EventVerbosity.NONE)
        tracker_state["events"] = [event.as_dict() for event in recent_events(tracker, user_turns)]
        result = {
            "next_action": self._name,
            "sender_id": tracker.sender_id,
            "tracker": tracker_state,
            "version": rasa.__version__,
        }
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
            result["domain"] = domain.as_dict()
        return result

    return {TARGET: _action_call_format}


PATCH = Patch(
    name="recent_events",
    targets=TARGETS,
    why=(
        "Rasa sends the action server every event of the conversation on every call.\n"
        "The actions read only the latest turns, so a call carries the last ACTION_TRACKER_USER_TURNS turns' events."
    ),
    replacements=replacements,
)
