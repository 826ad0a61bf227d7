"""The responses as the training files write them (domain.yml and data/**/*.yml), by name and language.

A variation is for one language when it is unconditioned (the city's default
language) or conditioned on the `language` slot alone
(`condition: [{type: slot, name: language, value: es}]`); a variation for one
channel, or with any other condition, is for no language in particular.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from bot.settings import PROJECT_ROOT

LANGUAGE_SLOT = "language"
UNCONDITIONED = ""  # the key of the variation without a condition: the default language's


def response_files(root: Path) -> List[Path]:
    """The files responses are written in: data/ first, then domain.yml (the first text found is used)."""
    return sorted((root / "data").rglob("*.yml")) + [root / "domain.yml"]


def variation_language(variation: Dict[str, Any]) -> Optional[str]:
    """UNCONDITIONED, the language a variation is conditioned on, or None for any other variation."""
    if variation.get("channel"):
        return None
    condition = variation.get("condition")
    if not condition:
        return UNCONDITIONED
    if isinstance(condition, list) and len(condition) == 1 and isinstance(condition[0], dict):
        only = condition[0]
        if only.get("type") == "slot" and only.get("name") == LANGUAGE_SLOT and isinstance(only.get("value"), str):
            return str(only["value"])
    return None


def _content(path: Path) -> Dict[str, Any]:
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    except yaml.YAMLError:
        return {}
    return content if isinstance(content, dict) else {}


@lru_cache(maxsize=2)
def training_responses(root: Path = PROJECT_ROOT) -> Dict[str, List[Dict[str, Any]]]:
    """Response name -> its variations, in the order the files write them."""
    responses: Dict[str, List[Dict[str, Any]]] = {}
    for path in response_files(root):
        for name, variations in (_content(path).get("responses") or {}).items():
            if isinstance(variations, list):
                responses.setdefault(str(name), []).extend(v for v in variations if isinstance(v, dict))
    return responses


def texts_by_language(variations: List[Dict[str, Any]]) -> Dict[str, str]:
    """Language (UNCONDITIONED for the default's) -> the first text written for it."""
    texts: Dict[str, str] = {}
    for variation in variations:
        language = variation_language(variation)
        if language is not None and isinstance(variation.get("text"), str):
            texts.setdefault(language, variation["text"])
    return texts


@lru_cache(maxsize=2)
def slot_names(root: Path = PROJECT_ROOT) -> frozenset:
    """The domain's slots: what a `{name}` placeholder in a response may fill in."""
    return frozenset(str(name) for name in (_content(root / "domain.yml").get("slots") or {}))
