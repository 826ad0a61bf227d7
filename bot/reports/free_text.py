"""Whether a reply to a free-text question of the report (a description, a pole number) is the answer.

A resident describing graffiti as "public property", or dumped goods as
"furniture or mattress", writes words that also name a city topic; the NLU then
says "faq" and the form used to answer the property-tax question and ask again,
for ever. Here the words are the answer unless they are clearly something else:
an emergency, "cancel", a person asked for, a language chosen, or a question (a
"?", or a question's first words) whose city topic the NLU is confident of. A
question the NLU is unsure of is asked about once ("Is that your answer, or a
question for me?"), and a topic just answered in the form is never answered
again: the same words a second time are the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

from bot.reports.vocabulary import contains_phrase, fold, normalise, vocabulary

ANSWER = "answer"
ELSEWHERE = "elsewhere"  # a rule of the dialogue takes it (emergency, cancel, a person, a city question...)
UNSURE = "unsure"  # ask once whether it is the answer

# Intents that end or pause the form whatever the question, with the confidence they need.
LEAVING_INTENTS: Dict[str, float] = {"emergency": 0.5, "cancel": 0.6, "request_human": 0.6, "set_language": 0.6}
# Intents that ask the assistant something; they interrupt only a reply that reads as a question.
QUESTION_INTENTS = ("faq", "ask_jobs", "ask_job_details", "help", "bot_challenge")
CONFIDENT_QUESTION = 0.75
QUESTION_MARKS = ("?", "¿")


@dataclass(frozen=True)
class Reply:
    """What the NLU made of the resident's latest message."""

    text: str
    intent: Optional[str]
    confidence: float
    topic: Optional[str] = None  # the city question's answer key ("faq/property_tax")
    topic_just_answered: bool = False  # the form answered this topic at the previous turn

    @classmethod
    def from_parse(cls, parse: Mapping[str, Any], topic_just_answered: bool = False) -> "Reply":
        intent = parse.get("intent") or {}
        return cls(
            text=str(parse.get("text") or "").strip(),
            intent=intent.get("name"),
            confidence=float(intent.get("confidence") or 0.0),
            topic=answer_key(parse),
            topic_just_answered=topic_just_answered,
        )


def answer_key(parse: Mapping[str, Any]) -> Optional[str]:
    """The city question's answer the NLU chose ("faq/property_tax"), if it chose one."""
    if (parse.get("intent") or {}).get("name") != "faq":
        return None
    response = (((parse.get("response_selector") or {}).get("faq") or {}).get("response")) or {}
    key = response.get("intent_response_key")
    return str(key) if key else None


def answer_action(parse: Mapping[str, Any]) -> Optional[str]:
    """The response that answers the city question of `parse` ("utter_faq/property_tax"), if any."""
    key = answer_key(parse)
    return f"utter_{key}" if key else None


def reads_as_question(text: str) -> bool:
    """A "?" or "¿", or a question's first words ("when is", "qué", "a qué hora") in any city language.

    A start written with an accent must be typed with it: "cómo" asks, "como dos semanas" answers.
    """
    if any(mark in text for mark in QUESTION_MARKS):
        return True
    said = " ".join(text.lower().split())
    folded = normalise(text)
    for start in vocabulary().question_starts:
        written = said if start != fold(start) else folded
        if written == start or written.startswith(f"{start} "):
            return True
    return False


def read_free_text(reply: Reply) -> str:
    """ANSWER, ELSEWHERE or UNSURE for a reply to a free-text question."""
    if not reply.text:
        return ELSEWHERE
    needed = LEAVING_INTENTS.get(reply.intent or "")
    if needed is not None and (reply.text.startswith("/") or reply.confidence >= needed):
        return ELSEWHERE
    if reply.intent not in QUESTION_INTENTS:
        return ANSWER
    if reply.text.startswith("/"):
        return ELSEWHERE  # a button: help, a city question
    if reply.topic_just_answered or not reads_as_question(reply.text):
        return ANSWER
    return ELSEWHERE if reply.confidence >= CONFIDENT_QUESTION else UNSURE


def says_it_is_the_answer(text: str, intent: Optional[str]) -> Optional[bool]:
    """The reply to "Is that your answer, or a question for me?": True, False, or None when it says neither."""
    said = normalise(text)
    words = vocabulary()
    if text.startswith("/deny") or any(contains_phrase(said, w) for w in words.a_question):
        return False  # first: "it's not the description, it's a question"
    if text.startswith("/affirm") or any(contains_phrase(said, w) for w in words.my_answer):
        return True
    return {"affirm": True, "deny": False}.get(intent or "")
