"""Patch: a tracker copied from its current state, not by replaying its conversation.

Before every action, Rasa copies the conversation's tracker by replaying every
event of the conversation into a new one: a turn cost more the longer the
conversation. Here the copy takes the tracker's current state directly (the
same state the replay reaches: tests/unit/rasa_ext/test_rasa_server.py checks it).
"""

from __future__ import annotations

import copy
import dataclasses
from collections import deque
from typing import TYPE_CHECKING, Any, Dict

from bot.rasa_ext.patches.registry import Patch

if TYPE_CHECKING:
    from rasa.shared.core.trackers import DialogueStateTracker

TARGET = "rasa.shared.core.trackers.DialogueStateTracker.copy"
TARGETS = (TARGET,)


def tracker_copy(tracker: "DialogueStateTracker") -> "DialogueStateTracker":
    """The tracker that `tracker.travel_back_in_time(inf)` would rebuild, without the replay.

    Like Rasa's copy, the new tracker has its own events, slots, active loop and
    latest action, shares the (immutable) events themselves, and does not carry
    the model and assistant ids or the sender source.
    """
    from rasa.shared.constants import DEFAULT_SENDER_ID

    duplicate = copy.copy(tracker)
    duplicate.events = deque(tracker.events, tracker.events.maxlen)
    duplicate.slots = type(tracker.slots)()
    duplicate.slots.update({name: copy.copy(slot) for name, slot in tracker.slots.items()})
    if tracker.active_loop is not None:
        duplicate.active_loop = dataclasses.replace(tracker.active_loop)
    if tracker.latest_action is not None:
        duplicate.latest_action = dict(tracker.latest_action)
    duplicate.sender_id = tracker.sender_id or DEFAULT_SENDER_ID
    duplicate.sender_source = None
    duplicate.model_id = None
    duplicate.assistant_id = None
    return duplicate


def replacements() -> Dict[str, Any]:
    return {TARGET: tracker_copy}


PATCH = Patch(
    name="tracker_copy",
    targets=TARGETS,
    why=(
        "Rasa copies a tracker before every action by replaying the whole conversation into a new one.\n"
        "The copy takes the tracker's current state directly: the state the replay reaches."
    ),
    replacements=replacements,
)
