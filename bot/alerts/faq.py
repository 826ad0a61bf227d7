"""Links from an alert to the FAQ answer for the crisis (cooling centers, boil-water advice...).

The answers are the assistant's own FAQ responses (`utter_faq/<topic>` in
data/nlu/faq.yml or domain.yml), so the page says what the chat says, in the
reader's language: the variation conditioned on the `language` slot
(`condition: [{type: slot, name: language, value: es}]`), else the
unconditioned one, which is the city's default language. The link is
`{PUBLIC_URL}/faq/<topic>`, served by bot.alerts.faq_page when that channel is
listed in credentials.yml; each reader's alert links it with their language,
`?lang=<code>`, which the page is shown in.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.answers.responses import UNCONDITIONED, texts_by_language, training_responses
from bot.i18n.languages import resident_language
from bot.process.procs import PROJECT_ROOT
from bot.settings import settings

PREFIX = "utter_faq/"
TOPIC = re.compile(r"^[a-z0-9_]{1,64}$")


@lru_cache(maxsize=2)
def faq_answers(root: Path = PROJECT_ROOT) -> Dict[str, Dict[str, str]]:
    """FAQ topic -> {language (UNCONDITIONED for the default's): answer text}, from every training file."""
    answers: Dict[str, Dict[str, str]] = {}
    for name, variations in training_responses(root).items():
        texts = texts_by_language(variations) if name.startswith(PREFIX) else {}
        if texts:
            answers[name[len(PREFIX) :]] = texts
    return answers


def faq_answer(topic: str, language: Optional[str] = None, root: Path = PROJECT_ROOT) -> Optional[str]:
    """The answer to `topic` in `language` (None: the city's default), else in the default; None for no such topic."""
    if not TOPIC.match(topic or ""):
        return None
    texts = faq_answers(root).get(topic) or {}
    return texts.get(resident_language(language)) or texts.get(UNCONDITIONED) or next(iter(texts.values()), None)


def faq_url(topic: str, public_url: Optional[str] = None) -> str:
    """The public link to an FAQ answer; ValueError for an unknown topic or without PUBLIC_URL."""
    if faq_answer(topic) is None:
        known = ", ".join(sorted(faq_answers())) or "none"
        raise ValueError(f"no FAQ answer {topic!r} (known: {known})")
    base = (public_url if public_url is not None else settings().public_url or "").rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise ValueError("set PUBLIC_URL to the assistant's public address to link an FAQ answer")
    return f"{base}/faq/{topic}"


def with_language(url: str, language: str) -> str:
    """The FAQ link for a reader of `language`: `?lang=<code>` added (or replaced)."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "lang"] + [("lang", language)]
    return urlunsplit(parts._replace(query=urlencode(query)))
