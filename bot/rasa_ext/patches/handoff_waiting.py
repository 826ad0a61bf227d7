"""Patch: a message to a conversation paused for staff runs `action_handoff_waiting` instead of nothing.

Rasa 3.6 predicts nothing for a paused tracker (`MessageProcessor._should_handle_message`):
it parses and logs the message, then stops. While a handoff waited in the queue
that silence left "I smell gas and feel dizzy" unanswered and gave the
resident no way out of the queue. Here the processor runs one action for such
a message, `action_handoff_waiting` (bot/handoff/waiting.py decides what it
says: the 911 answer, leaving the queue, one acknowledgement, or nothing),
then listens. The tracker stays paused unless the action resumes it, so no
policy predicts while staff are in charge, and `/restart` still works as in
Rasa. A model whose domain lacks the action keeps Rasa's silence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict

from bot.rasa_ext.patches.registry import Patch

if TYPE_CHECKING:
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.trackers import DialogueStateTracker

ACTION_HANDOFF_WAITING = "action_handoff_waiting"
POLICY_NAME = "HandoffWaiting"
TARGET = "rasa.core.processor.MessageProcessor._run_prediction_loop"


def unanswered_while_paused(processor: "MessageProcessor", tracker: "DialogueStateTracker") -> bool:
    """A paused conversation's newest event is a resident message Rasa would leave unanswered."""
    from rasa.shared.core.events import ActionExecuted, UserUttered

    if processor._should_handle_message(tracker):  # not paused, or a restart
        return False
    if ACTION_HANDOFF_WAITING not in processor.domain.action_names_or_texts:
        return False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return True
        if isinstance(event, ActionExecuted):
            return False
    return False


async def answer_while_paused(
    processor: "MessageProcessor", output_channel: Any, tracker: "DialogueStateTracker"
) -> None:
    """`action_handoff_waiting`, then `action_listen`, as if a policy had predicted them."""
    from rasa.core.actions.action import action_for_name_or_text
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.shared.core.constants import ACTION_LISTEN_NAME

    for name in (ACTION_HANDOFF_WAITING, ACTION_LISTEN_NAME):
        action = action_for_name_or_text(name, processor.domain, processor.action_endpoint)
        prediction = PolicyPrediction.for_action_name(processor.domain, name, POLICY_NAME)
        await processor._run_action(action, tracker, output_channel, processor.nlg, prediction)


def replacements() -> Dict[str, Any]:
    """MessageProcessor._run_prediction_loop answering a paused conversation's message with the action."""
    from rasa.core.processor import MessageProcessor

    run_prediction_loop = MessageProcessor._run_prediction_loop

    async def _run_prediction_loop(
        self: MessageProcessor, output_channel: Any, tracker: "DialogueStateTracker"
    ) -> None:
        if unanswered_while_paused(self, tracker):
            await answer_while_paused(self, output_channel, tracker)
            return
        await run_prediction_loop(self, output_channel, tracker)

    return {TARGET: _run_prediction_loop}


PATCH = Patch(
    name="handoff_waiting",
    targets=(TARGET,),
    why=(
        "Rasa 3.6 answers nothing to a message in a conversation paused for city staff.\n"
        "Such a message runs `action_handoff_waiting` (the 911 answer, leaving the queue, an acknowledgement),\n"
        "on purpose a change of Rasa's behaviour."
    ),
    replacements=replacements,
)
