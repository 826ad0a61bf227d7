"""Every fixed reply has one variation per city language, written in that language, with the same buttons.

A reply is picked by the `language` slot (docs/language-access.md): the
unconditioned variation is the default language's, and each other language has
one variation conditioned on it. A reply missing a language would answer that
resident in the default language; two variations for one language would be
picked at random; a button that sends another intent would make the two
languages' conversations differ.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
import yaml

from bot.i18n.detection import detect
from bot.i18n.languages import city_languages, default_language

REPO_ROOT = Path(__file__).resolve().parents[3]
RESPONSE_FILES = [REPO_ROOT / "domain.yml", *sorted((REPO_ROOT / "data").rglob("*.yml"))]
# The greeting's language button names the language it switches to: the one entity allowed to differ.
SWITCHING_ENTITY = "language"


def every_response() -> Dict[str, List[Dict[str, Any]]]:
    responses: Dict[str, List[Dict[str, Any]]] = {}
    for path in RESPONSE_FILES:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variations in (content.get("responses") or {}).items():
            assert name not in responses, f"{name} is written twice"
            responses[name] = variations
    return responses


RESPONSES = every_response()


def language_of(variation: Dict[str, Any]) -> Optional[str]:
    """The language a variation is for: the default when unconditioned, None for any other condition."""
    condition = variation.get("condition")
    if not condition:
        return default_language()
    if len(condition) == 1 and set(condition[0]) == {"type", "name", "value"}:
        only = condition[0]
        if only["type"] == "slot" and only["name"] == "language" and only["value"] in city_languages():
            return str(only["value"])
    return None


def by_language(name: str) -> Dict[str, Dict[str, Any]]:
    pairs = [(language_of(variation), variation) for variation in RESPONSES[name]]
    assert all(language for language, _ in pairs), f"{name}: a condition other than one language: {RESPONSES[name]}"
    languages = [str(language) for language, _ in pairs]
    assert sorted(languages) == sorted(city_languages()), f"{name}: variations for {languages}"
    return {str(language): variation for language, variation in pairs}


def sent(payload: str) -> str:
    """A button's payload as Rasa sends it: `{slot}` placeholders filled, `{{ }}` turned into braces.

    A literal brace must be doubled, or Rasa logs an error each time it fills the response.
    """
    placeholders = re.findall(r"{([^\n{}]+?)}", payload.replace("{{", "").replace("}}", ""))
    assert all(name.isidentifier() for name in placeholders), f"a brace Rasa would take for a slot in {payload!r}"
    return payload.replace("{{", "{").replace("}}", "}")


def payload_kind(payload: str) -> Tuple[str, ...]:
    """What a button sends: an intent with its entities (bar the language switch), or text the resident types."""
    payload = sent(payload)
    if not payload.startswith("/"):
        return ("text",)
    intent, _, entities = payload[1:].partition("{")
    values = json.loads("{" + entities) if entities else {}
    values.pop(SWITCHING_ENTITY, None)
    return ("intent", intent, json.dumps(values, sort_keys=True))


def test_there_are_replies_in_each_file() -> None:
    names = set(RESPONSES)
    assert {"utter_greet", "utter_ask_contact"} <= names
    assert len([n for n in names if n.startswith("utter_faq/")]) >= 20


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_one_variation_per_city_language(name: str) -> None:
    for language, variation in by_language(name).items():
        text = variation.get("text")
        assert isinstance(text, str) and text.strip(), f"{name} [{language}]: no text"
        detected = detect(text)
        assert detected is not None and detected.language == language, f"{name} [{language}] reads as {detected}"


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_the_same_buttons_in_every_language(name: str) -> None:
    variations = by_language(name)
    default = variations[default_language()].get("buttons") or []
    for language, variation in variations.items():
        buttons = variation.get("buttons") or []
        assert len(buttons) == len(default), f"{name} [{language}]: {len(buttons)} buttons, not {len(default)}"
        for button, original in zip(buttons, default, strict=True):
            assert str(button.get("title") or "").strip(), f"{name} [{language}]: a button without a title"
            kind, expected = payload_kind(str(button["payload"])), payload_kind(str(original["payload"]))
            assert kind == expected, f"{name} [{language}]: button {button} sends {kind}, not {expected}"
