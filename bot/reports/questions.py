"""The questions a service asks, taken from its Open311 service definition.

Whatever city the assistant points at, its own definition decides what is
asked, in which order, and which answers are valid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, List, Optional, Pattern, Sequence, Tuple

from bot.i18n.city import attribute_name, attribute_text, value_name
from bot.i18n.messages import Messages
from bot.open311.models import ServiceAttribute, ServiceDefinition
from bot.reports.answers import is_skip, match_choice, parse_days, parse_number
from bot.reports.vocabulary import contains_phrase, normalise, vocabulary

# The Skip button's payload: one word every city language's skip list knows, so
# it reads the same whatever the resident's language (and never switches it).
SKIP_PAYLOAD = "skip"
LIST_TYPES = ("singlevaluelist", "multivaluelist")
YES_NO = ("yes", "no")


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


@dataclass(frozen=True)
class Wording:
    """One service's questions and choices as one resident reads them.

    The back office keeps its own language: its questions and choices are shown
    through the city file's translations (bot/i18n/city.py), and its own words
    where there are none; what is filed is always its value keys.
    """

    texts: Messages
    service_code: str

    @property
    def language(self) -> str:
        return self.texts.language

    def question(self, attribute: ServiceAttribute) -> str:
        """The attribute's question in the resident's language, else as the back office asks it."""
        asked = attribute_text(self.language, self.service_code, attribute.code, attribute.description)
        return (asked or attribute.code.replace("_", " ")).strip()

    def label(self, attribute: ServiceAttribute) -> str:
        """A short name for the attribute (a change button): its name in the city file, its translated
        question, else its code in words."""
        named = attribute_name(self.language, self.service_code, attribute.code)
        if named:
            return named[:1].upper() + named[1:]
        translated = attribute_text(self.language, self.service_code, attribute.code, None)
        return translated.strip() if translated else attribute.code.replace("_", " ").capitalize()

    def choice(self, attribute: ServiceAttribute, key: str) -> str:
        """A list value, by key, as the resident reads it."""
        back_office = dict(attribute.values).get(key, key)
        return value_name(self.language, self.service_code, attribute.code, key, back_office)

    def choices(self, attribute: ServiceAttribute) -> List[str]:
        """A list attribute's choices as the resident reads them, in the back office's order."""
        return [self.choice(attribute, key) for key in attribute.keys]


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
    """The back office's names of a list attribute's values."""
    return [name for _key, name in attribute.values]


def question_for(attribute: ServiceAttribute, wording: Wording) -> Question:
    """The question text and buttons for an attribute, in the resident's language.

    A choice button sends the choice's name as the resident reads it, which
    `pick` understands like a typed answer.
    """
    texts = wording.texts
    text = wording.question(attribute)
    if not text.endswith("?"):
        text = f"{text}?"
    buttons = [{"title": name, "payload": name} for name in wording.choices(attribute)]
    if attribute.datatype == "multivaluelist":
        text = texts.text("reports.question.several", question=text)
    if not attribute.required:
        text = texts.text("reports.question.optional", question=text)
        buttons.append({"title": texts.text("reports.question.skip"), "payload": SKIP_PAYLOAD})
    return Question(text=text, buttons=buttons)


def pick(attribute: ServiceAttribute, text: str, wording: Wording) -> Optional[str]:
    """The key of the choice the text names: as the resident reads it, else as the back office writes it.

    "grande" and "large" both pick "large (bigger than a car tire)" for a
    Spanish reader; an English reader saying "grande" is understood through
    the synonyms of every language.
    """
    keys = attribute.keys
    for names in (wording.choices(attribute), value_names(attribute)):
        chosen = match_choice(text, names)
        if chosen is not None:
            return keys[names.index(chosen)]
    return None


def _choices_hint(attribute: ServiceAttribute, wording: Wording, again: bool) -> str:
    numbered = "; ".join(f"{i}. {name}" for i, name in enumerate(wording.choices(attribute), start=1))
    return wording.texts.text("reports.question.choose_again" if again else "reports.question.choose", choices=numbered)


@lru_cache(maxsize=4)
def _list_separators(joiners: Tuple[str, ...]) -> Pattern[str]:
    words = [rf"\b{re.escape(word)}\b" if word.isalnum() else re.escape(word) for word in joiners]
    return re.compile("|".join([",", ";", *words]), re.IGNORECASE)


def _check_list(attribute: ServiceAttribute, text: str, wording: Wording) -> Answer:
    if attribute.datatype == "multivaluelist":
        parts = [p for p in _list_separators(vocabulary().choice_joiners).split(text) if p.strip()]
        picked = [pick(attribute, part, wording) for part in parts]
        if parts and all(picked):
            return Answer(value=sorted({key for key in picked if key}))
        return Answer(error=_choices_hint(attribute, wording, again=False))
    chosen = pick(attribute, text, wording)
    if chosen is None:
        return Answer(error=_choices_hint(attribute, wording, again=True))
    return Answer(value=chosen)


def _asks_for_days(attribute: ServiceAttribute, wording: Wording) -> bool:
    """Whether a number question is about time ("how many days..."), so "two weeks" means 14."""
    asked = normalise(f"{attribute.description or ''} {wording.question(attribute)}")
    return any(contains_phrase(asked, unit) for unit in vocabulary().day_units)


def check_answer(attribute: ServiceAttribute, text: str, wording: Wording) -> Answer:
    """Check a free-text reply against an attribute's datatype and allowed values."""
    text = (text or "").strip()
    texts = wording.texts
    if not attribute.required and is_skip(text):
        return Answer(skipped=True)
    if attribute.datatype in LIST_TYPES and attribute.values:
        return _check_list(attribute, text, wording)
    if attribute.datatype == "number":
        number = parse_days(text) if _asks_for_days(attribute, wording) else parse_number(text)
        if number is None or number < 0:
            return Answer(error=texts.text("reports.question.number"))
        return Answer(value=str(int(number)) if number == int(number) else str(number))
    if not normalise(text):
        return Answer(error=texts.text("reports.question.empty"))
    return Answer(value=text[:500])


def describe_value(attribute: ServiceAttribute, value: Any, wording: Wording) -> str:
    """A stored value as the resident reads it (names in their language, not keys)."""
    keys = value if isinstance(value, list) else [value]
    known = set(attribute.keys)
    return ", ".join(wording.choice(attribute, k) if k in known else str(k) for k in keys)


def find_choice_in_sentence(
    attributes: Sequence[ServiceAttribute], text: str, wording: Wording
) -> Optional[Tuple[ServiceAttribute, str]]:
    """An (attribute, key) pair when a sentence names exactly one list value.

    Lets "no, it's a large one" (or "no, es grande") correct the size without a
    question first. A yes or a no is left out: the "no" of "no, it's..." answers the summary.
    """
    found = []
    for attribute in attributes:
        if attribute.datatype != "singlevaluelist" or not attribute.values:
            continue
        key = pick(attribute, text, wording)
        if key is not None and normalise(dict(attribute.values)[key].split("(")[0]) not in YES_NO:
            found.append((attribute, key))
    return found[0] if len(found) == 1 else None
