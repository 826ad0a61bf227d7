"""Why a text cannot be published as an answer: each reason in a sentence staff can act on.

An answer is plain text short enough for an SMS (the training files' answers
are held to the same, tests/unit/training_data/test_faq_facts.py); a brace is
Rasa's `{slot}` placeholder, so only the domain's slots may be named and no
other brace is written (Rasa would show a text mixing both unfilled); an FAQ answer must still state every fact the
city file lists for its topic (bot/answers/facts.py).
"""

from __future__ import annotations

import re
from typing import List, Optional

from bot.answers import facts
from bot.answers.responses import slot_names

MAX_CHARS = 600  # an SMS of a few segments; the longest answer today is under 400
MARKDOWN = re.compile(r"\*\*|__|\]\(|^#+ |`", re.MULTILINE)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")  # what Rasa's interpolator fills in
FAQ_PREFIX = "utter_faq/"


def cleaned(text: Optional[str]) -> str:
    """A text as typed in a form: line ends made "\\n", surrounding blanks dropped."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def faq_topic(response: str) -> Optional[str]:
    return response[len(FAQ_PREFIX) :] if response.startswith(FAQ_PREFIX) else None


def brace_problems(text: str) -> List[str]:
    """A `{name}` that is no slot, or any other brace (Rasa would show it, or the whole text, unfilled)."""
    known = slot_names()
    unknown = sorted({name for name in PLACEHOLDER.findall(text) if name not in known})
    found = []
    if unknown:
        found.append(
            "{" + "}, {".join(unknown) + "} is not a slot of the assistant, so residents would read it as typed"
            f" (slots: {', '.join(sorted(known))})."
        )
    if re.search("[{}]", PLACEHOLDER.sub("", text)):
        found.append("Curly braces only mark a slot's value, such as {language}: write the text without other braces.")
    return found


def problems(response: str, language: str, text: str) -> List[str]:
    """Why `text` cannot be published as `response` in `language` ([] when it can)."""
    if not text:
        return ["The answer is empty."]
    found = []
    if len(text) > MAX_CHARS:
        found.append(f"The answer has {len(text)} characters; at most {MAX_CHARS} fit in a few SMS messages.")
    if CONTROL.search(text):
        found.append("The answer contains control characters; use plain text and line breaks.")
    if MARKDOWN.search(text):
        found.append("The answer uses markdown (**, __, [text](link), # or `), which residents would see as typed.")
    found += brace_problems(text)
    topic = faq_topic(response)
    missing = facts.missing_facts(topic, language, text) if topic else []
    if missing:
        found.append(
            "It no longer states what the city file says of this topic: "
            + ", ".join("“" + fact.replace("|", "” or “") + "”" for fact in missing)
            + ". Every FAQ answer must state its topic's facts."
        )
    return found
