"""Links from an alert to the FAQ answer for the crisis (cooling centers, boil-water advice...).

The answers are the assistant's own FAQ responses (`utter_faq/<topic>` in
data/nlu/faq.yml or domain.yml), so the page says what the chat says. The link is
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

import yaml

from bot.process.procs import PROJECT_ROOT
from bot.settings import settings

PREFIX = "utter_faq/"
TOPIC = re.compile(r"^[a-z0-9_]{1,64}$")


def _response_files(root: Path) -> list:
    return sorted((root / "data").rglob("*.yml")) + [root / "domain.yml"]


@lru_cache(maxsize=2)
def faq_answers(root: Path = PROJECT_ROOT) -> Dict[str, str]:
    """FAQ topic -> answer text, from every training file's `responses`."""
    answers: Dict[str, str] = {}
    for path in _response_files(root):
        if not path.is_file():
            continue
        try:
            content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            continue
        responses = content.get("responses") if isinstance(content, dict) else None
        for name, variants in (responses or {}).items():
            if not str(name).startswith(PREFIX) or not isinstance(variants, list) or not variants:
                continue
            first = variants[0]
            if isinstance(first, dict) and isinstance(first.get("text"), str):
                answers.setdefault(str(name)[len(PREFIX) :], first["text"])
    return answers


def faq_answer(topic: str) -> Optional[str]:
    return faq_answers().get(topic) if TOPIC.match(topic or "") else None


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
