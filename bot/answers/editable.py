"""The answers staff may edit: the greeting and every FAQ answer, in each city language.

Each is a response of the training files (bot/answers/responses.py); staff
change only its text, never its buttons or conditions, so what a resident can
press and which language they read stay as trained. In a URL an answer is its
key ("greet", "faq.trash_day"), never the response name with its slash.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from bot.answers.checks import FAQ_PREFIX, faq_topic
from bot.answers.responses import UNCONDITIONED, training_responses, variation_language
from bot.i18n.languages import city_languages, default_language
from bot.i18n.messages import messages
from bot.settings import PROJECT_ROOT

GREETING = "utter_greet"
CONSOLE_LANGUAGE = "en"  # the console is written in English


@dataclass(frozen=True)
class EditableAnswer:
    """One response staff may edit, and its texts and buttons per language as the training files write them."""

    key: str  # "greet", "faq.trash_day"
    response: str  # "utter_greet", "utter_faq/trash_day"
    title: str  # "Greeting", "FAQ: Trash pickup day"
    variations: Tuple[Dict[str, Any], ...]

    def variation(self, language: str) -> Optional[Dict[str, Any]]:
        """The variation a resident reading `language` gets: conditioned on it, else (the default's) unconditioned."""
        by_language = {variation_language(v): v for v in reversed(self.variations)}  # the first written wins
        if language in by_language:
            return by_language[language]
        return by_language.get(UNCONDITIONED) if language == default_language() else None

    def original(self, language: str) -> Optional[str]:
        """The training files' text in `language`; None when they have none for it."""
        variation = self.variation(language)
        text = variation.get("text") if variation else None
        return text if isinstance(text, str) else None

    def buttons(self, language: str) -> List[str]:
        """The titles of the buttons shown with the answer (they stay as trained)."""
        variation = self.variation(language) or {}
        return [str(b.get("title", "")) for b in variation.get("buttons") or [] if isinstance(b, dict)]

    def languages(self) -> Tuple[str, ...]:
        """The city languages this answer has a text in."""
        return tuple(code for code in city_languages() if self.original(code) is not None)


def key_of(response: str) -> str:
    return response[len("utter_") :].replace("/", ".")


def title_of(response: str) -> str:
    topic = faq_topic(response)
    if topic is None:
        return "Greeting"
    texts = messages(CONSOLE_LANGUAGE)
    key = f"web.faq.topic.{topic}"
    return "FAQ: " + (texts.text(key) if texts.has(key) else topic.replace("_", " ").capitalize())


@lru_cache(maxsize=2)
def editable_answers(root: Path = PROJECT_ROOT) -> Tuple[EditableAnswer, ...]:
    """The greeting, then the FAQ answers in the order the training files write them."""
    responses = training_responses(root)
    names = [GREETING] if GREETING in responses else []
    names += [name for name in responses if name.startswith(FAQ_PREFIX)]
    return tuple(EditableAnswer(key_of(n), n, title_of(n), tuple(responses[n])) for n in names)


def find_answer(key: str, root: Path = PROJECT_ROOT) -> Optional[EditableAnswer]:
    """The editable answer with this URL key, or None."""
    return next((answer for answer in editable_answers(root) if answer.key == key), None)


def find_response(response: str, root: Path = PROJECT_ROOT) -> Optional[EditableAnswer]:
    """The editable answer of this response name, or None."""
    return next((answer for answer in editable_answers(root) if answer.response == response), None)
