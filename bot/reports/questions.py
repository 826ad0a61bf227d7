"""The questions a service asks, taken from its Open311 service definition.

Whatever city the assistant points at, its own definition decides what is
asked, in which order, and which answers are valid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from bot.open311.models import ServiceAttribute, ServiceDefinition
from bot.reports.answers import is_skip, match_choice, normalise, parse_days, parse_number

SKIP_PAYLOAD = "skip"
LIST_TYPES = ("singlevaluelist", "multivaluelist")


@dataclass(frozen=True)
class Question:
    """What to send the resident for one attribute: text and optional buttons."""

    text: str
    buttons: List[Dict[str, str]]


@dataclass(frozen=True)
class Answer:
    """The outcome of checking a reply: a value to file, a skip, or a retry message."""

    value: Any = None
    skipped: bool = False
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.error is None


def askable_attributes(definition: ServiceDefinition) -> List[ServiceAttribute]:
    """Attributes a resident answers (variable ones), required first, each in spec order."""
    variable = [a for a in definition.attributes if a.variable]
    return sorted(variable, key=lambda a: (not a.required, a.order if a.order is not None else 0))


def next_attribute(definition: ServiceDefinition, answered: Dict[str, Any]) -> Optional[ServiceAttribute]:
    """The first attribute not yet answered (or skipped), else None."""
    for attribute in askable_attributes(definition):
        if attribute.code not in answered:
            return attribute
    return None


def value_names(attribute: ServiceAttribute) -> List[str]:
    """The readable names of a list attribute's values."""
    return [name for _key, name in attribute.values]


def question_for(attribute: ServiceAttribute) -> Question:
    """The question text and buttons for an attribute."""
    text = (attribute.description or attribute.code.replace("_", " ")).strip()
    if not text.endswith("?"):
        text = f"{text}?"
    buttons = [{"title": name, "payload": name} for name in value_names(attribute)]
    if attribute.datatype == "multivaluelist":
        text += " You can pick more than one (separate them with commas)."
    if not attribute.required:
        text += ' (Optional: say "skip" if you don\'t know.)'
        buttons.append({"title": "Skip", "payload": SKIP_PAYLOAD})
    return Question(text=text, buttons=buttons)


def _key_for(attribute: ServiceAttribute, name: str) -> str:
    for key, value_name in attribute.values:
        if value_name == name:
            return key
    return name


def _choices_hint(attribute: ServiceAttribute) -> str:
    names = value_names(attribute)
    numbered = "; ".join(f"{i}. {n}" for i, n in enumerate(names, start=1))
    return f"Please choose one of: {numbered}."


def _check_list(attribute: ServiceAttribute, text: str) -> Answer:
    names = value_names(attribute)
    if attribute.datatype == "multivaluelist":
        parts = [p for p in re.split(r",|;|\band\b|&", text) if p.strip()]
        picked = [match_choice(part, names) for part in parts]
        if parts and all(picked):
            return Answer(value=sorted({_key_for(attribute, n) for n in picked if n}))
        return Answer(error=_choices_hint(attribute))
    chosen = match_choice(text, names)
    if chosen is None:
        return Answer(error=f"Sorry, I didn't get that. {_choices_hint(attribute)}")
    return Answer(value=_key_for(attribute, chosen))


def check_answer(attribute: ServiceAttribute, text: str) -> Answer:
    """Check a free-text reply against an attribute's datatype and allowed values."""
    text = (text or "").strip()
    if not attribute.required and is_skip(text):
        return Answer(skipped=True)
    if attribute.datatype in LIST_TYPES and attribute.values:
        return _check_list(attribute, text)
    if attribute.datatype == "number":
        mentions_time = any(w in normalise(attribute.description or "") for w in ("day", "days", "week"))
        number = parse_days(text) if mentions_time else parse_number(text)
        if number is None or number < 0:
            return Answer(error="Please answer with a number (for example 3).")
        return Answer(value=str(int(number)) if number == int(number) else str(number))
    if not normalise(text):
        return Answer(error='Please type an answer, or say "skip".')
    return Answer(value=text[:500])


def describe_value(attribute: ServiceAttribute, value: Any) -> str:
    """A stored value as the resident would read it (names, not keys)."""
    keys = value if isinstance(value, list) else [value]
    names = {key: name for key, name in attribute.values}
    return ", ".join(names.get(k, str(k)) for k in keys)


def find_choice_in_sentence(attributes: Sequence[ServiceAttribute], text: str) -> Optional[tuple]:
    """An (attribute, key) pair when a sentence names exactly one list value.

    Lets "no, it's a large one" correct the size without a question first.
    """
    found = []
    for attribute in attributes:
        if attribute.datatype != "singlevaluelist" or not attribute.values:
            continue
        name = match_choice(text, value_names(attribute))
        if name and normalise(name.split("(")[0]) not in ("yes", "no"):
            found.append((attribute, _key_for(attribute, name)))
    return found[0] if len(found) == 1 else None
