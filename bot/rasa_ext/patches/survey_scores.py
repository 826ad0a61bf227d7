"""Patch: a score typed while the survey waits for one runs `action_rate_service`, whatever the NLU made of it.

Residents type "4" or "I'd give it a 5" to "How did we do?" as often as they
press a button. The NLU reads such a message as not understood, as a yes or a
no, or as a guess at something else, and Rasa's rules then answer that:
"Sorry, I can't help with that", or "OK" for a yes, and the score was lost.
Here the first prediction after such a message (bot/survey/replies.py decides
which are scores: while the survey waits, the whole message a score, the NLU not
sure of anything else, the resident's first message since the question) is
`action_rate_service`, as if the resident had pressed the button: it stores
the score and asks for a comment, and the rules take over again from there.
This changes Rasa's behaviour on purpose; a model whose domain lacks the action
keeps Rasa's predictions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional

from bot.rasa_ext.patches.registry import Patch
from bot.survey.replies import ANSWER_SLOT, ASKED_SLOT, typed_reply_score

if TYPE_CHECKING:
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.trackers import DialogueStateTracker

ACTION_RATE_SERVICE = "action_rate_service"
POLICY_NAME = "SurveyScoreReply"
TARGET = "rasa.core.processor.MessageProcessor._predict_next_with_tracker"


def typed_score_waiting(processor: "MessageProcessor", tracker: "DialogueStateTracker") -> Optional[int]:
    """The score the resident's new message gives the waiting survey, before anything answered it; else None."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME

    if tracker.latest_action_name != ACTION_LISTEN_NAME or tracker.followup_action:
        return None  # something already answered the message, or an action asked for its follow-up
    if ACTION_RATE_SERVICE not in processor.domain.action_names_or_texts:
        return None
    latest = tracker.latest_message
    if latest is None or not latest.text:
        return None
    intent = latest.intent or {}
    return typed_reply_score(
        {name: tracker.get_slot(name) for name in (ASKED_SLOT, ANSWER_SLOT)},  # not every slot, at every prediction
        tracker.active_loop_name,
        intent.get("name"),
        float(intent.get("confidence") or 0.0),
        latest.text,
        (event.as_dict() for event in tracker.events),
    )


def replacements() -> Dict[str, Any]:
    """MessageProcessor._predict_next_with_tracker predicting `action_rate_service` for a typed score."""
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.core.processor import MessageProcessor

    predict_next_with_tracker = MessageProcessor._predict_next_with_tracker

    def _predict_next_with_tracker(self: MessageProcessor, tracker: "DialogueStateTracker") -> "PolicyPrediction":
        if typed_score_waiting(self, tracker) is not None:
            return PolicyPrediction.for_action_name(self.domain, ACTION_RATE_SERVICE, POLICY_NAME)
        return predict_next_with_tracker(self, tracker)

    return {TARGET: _predict_next_with_tracker}


PATCH = Patch(
    name="survey_scores",
    targets=(TARGET,),
    why=(
        "Rasa 3.6 answers a typed survey score as whatever the NLU took it for (not understood, a yes, a no).\n"
        "While the survey waits, a message that is only a score runs `action_rate_service`,\n"
        "on purpose a change of Rasa's behaviour."
    ),
    replacements=replacements,
)
