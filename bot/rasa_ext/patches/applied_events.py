"""Patch: each tracker remembers the events that still apply and adds only the new ones.

Rasa works out the events that still apply (without those a rewind or a form
took back) from the first event of the conversation, several times a turn.
Here each tracker's result is remembered (outside the tracker) and only the
events added since are applied (the same list: tests/unit/rasa_ext/test_rasa_server.py).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Dict, List

from bot.rasa_ext.patches.object_state import PerObject
from bot.rasa_ext.patches.registry import Patch

if TYPE_CHECKING:
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker

TARGET = "rasa.shared.core.trackers.DialogueStateTracker.applied_events"
TARGETS = (TARGET,)


@dataclasses.dataclass
class AppliedEvents:
    """What `applied_events` found for the first `count` events of a tracker."""

    events: Any  # the tracker's deque the result belongs to
    count: int
    first: Any  # events[0] and events[count - 1] when it was computed
    last: Any
    loop_names: frozenset
    applied: List["Event"]

    def still_fits(self, events: Any) -> bool:
        """The tracker's events are the ones seen, with at most some appended."""
        if events is not self.events or len(events) < self.count:
            return False
        return self.count == 0 or (events[0] is self.first and events[self.count - 1] is self.last)


# What `applied_events` found for each tracker.
APPLIED: PerObject[AppliedEvents] = PerObject()


def _loop_names(events: Any) -> frozenset:
    from rasa.shared.core.events import ActiveLoop

    return frozenset(event.name for event in events if isinstance(event, ActiveLoop) and event.name)


def _apply(
    tracker: "DialogueStateTracker", event: "Event", loop_names: frozenset, applied: List["Event"]
) -> List["Event"]:
    """One step of Rasa 3.6's DialogueStateTracker.applied_events, with Rasa's own helpers."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
        UserUttered,
    )

    if isinstance(event, (Restarted, SessionStarted)):
        return []
    if isinstance(event, ActionReverted):
        tracker._undo_till_previous(ActionExecuted, applied)
    elif isinstance(event, UserUtteranceReverted):
        tracker._undo_till_previous(UserUttered, applied)
        tracker._undo_till_previous(ActionExecuted, applied)
    elif (
        isinstance(event, ActionExecuted)
        and event.action_name in loop_names
        and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
    ):
        tracker._undo_till_previous_loop_execution(event.action_name, applied)
    else:
        applied.append(event)
    return applied


def applied_events(tracker: "DialogueStateTracker") -> List["Event"]:
    """DialogueStateTracker.applied_events, computed for the events added since the last call."""
    events = tracker.events
    cached = APPLIED.get(tracker)
    if cached is not None and cached.still_fits(events):
        added = [events[index] for index in range(cached.count, len(events))]
        if not _loop_names(added) <= cached.loop_names:
            cached = None  # a form seen for the first time changes how earlier events count
    else:
        cached = None
    if cached is None:
        cached = AppliedEvents(events, 0, None, None, _loop_names(events), [])
        added = list(events)
    for event in added:
        cached.applied = _apply(tracker, event, cached.loop_names, cached.applied)
    if added:
        cached.count, cached.first, cached.last = len(events), events[0], events[-1]
    APPLIED.set(tracker, cached)
    return list(cached.applied)


def replacements() -> Dict[str, Any]:
    return {TARGET: applied_events}


PATCH = Patch(
    name="applied_events",
    targets=TARGETS,
    why=(
        "Rasa works out the events that still apply from the conversation's first event, several times a turn.\n"
        "Each tracker's result is remembered and only the events added since are applied."
    ),
    replacements=replacements,
)
