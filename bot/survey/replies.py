"""Whether a resident's message is the score of the survey waiting in their conversation.

Asked "How did we do?", many residents type the score instead of pressing a
button: "4", "I'd give it a 5", "le doy un 5". The NLU, which was not trained
on the survey's context, reads such a message as not understood, as a yes or a
no, as a guess at something else ("5 stars" as "are you a bot?"), or as a score
it found no number in; answered as such, the resident heard "Sorry, I can't
help with that" and the score was lost. While the survey waits for its score,
a message that is nothing but a score (`typed_score`: "the 4 potholes are still
there" is not one) is that score, unless the NLU is sure it asks for something
else (an emergency always keeps its answer), and only as the resident's first
message after the question: later, while the survey still waits, a "4" is more
likely the answer to something else (how many, which house number) than a score
for a question left behind. The Rasa server then runs `action_rate_service` for
it (bot/rasa_ext/patches/survey_scores.py), which asks the same of a typed score.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from bot.survey.question import typed_score

ASKED_SLOT = "survey_asked"  # what the survey was asked about ("request:R-KVJ88H"); set once per conversation
ANSWER_SLOT = "survey_answer"  # the stored answer's id, once the score is given

# What the NLU makes of a typed score when it asks for nothing else (`rate_service`: a score it found no number in).
SCORE_LIKE_INTENTS = frozenset({"nlu_fallback", "out_of_scope", "deny", "affirm", "rate_service"})
# Below this confidence another intent is a guess ("5 stars" is `bot_challenge` at 0.36).
SURE = 0.6
NEVER_A_SCORE = frozenset({"emergency"})


def waits_for_score(slots: Mapping[str, Any], active_loop: Optional[str]) -> bool:
    """The survey was asked and not answered, and no form is asking its own questions (their answers may be digits)."""
    return bool(slots.get(ASKED_SLOT)) and slots.get(ANSWER_SLOT) is None and not active_loop


def first_reply_to_question(events: Iterable[Mapping[str, Any]]) -> bool:
    """The latest user message is the first since the survey was asked, in a tracker's events as dicts, oldest first.

    The question is the SlotSet giving `survey_asked` a new value: a new session
    carries the slot over with the same value, which asks nothing again.
    """
    asked: Any = None
    messages = 0
    for event in events:
        kind = event.get("event")
        if kind == "slot" and event.get("name") == ASKED_SLOT and event.get("value") != asked:
            asked, messages = event.get("value"), 0
        elif kind in ("restart", "reset_slots"):
            asked, messages = None, 0
        elif kind == "user":
            messages += 1
    return bool(asked) and messages == 1


def typed_reply_score(
    slots: Mapping[str, Any],
    active_loop: Optional[str],
    intent: Optional[str],
    confidence: float,
    text: str,
    events: Iterable[Mapping[str, Any]],
) -> Optional[int]:
    """The score a typed message gives the waiting survey, or None when it is not one (or none waits).

    `events` (the tracker's, as dicts, oldest first) are read last, only for a message that would be a score.
    """
    if not waits_for_score(slots, active_loop) or intent in NEVER_A_SCORE:
        return None
    if intent not in SCORE_LIKE_INTENTS and confidence >= SURE:
        return None
    score = typed_score(text)
    return score if score is not None and first_reply_to_question(events) else None
