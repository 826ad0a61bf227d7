"""The city's own facts: jurisdiction contacts and the Open311 service catalog.

The reference Open311 server is seeded from it and the assistant quotes the
jurisdiction's contacts from it, so a city changes one YAML file, not code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from bot.settings import settings

DEFAULT_CITY_FILE = Path(__file__).parent / "city" / "riverton.yml"


@dataclass(frozen=True)
class CatalogAttribute:
    """One question a service asks, as the city defines it."""

    code: str
    datatype: str
    required: bool
    description: str
    values: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class CatalogService:
    """One service a resident can request, with its target time to resolve."""

    code: str
    name: str
    group: str
    agency: str
    description: str
    keywords: List[str]
    target_days: int
    attributes: List[CatalogAttribute]


@dataclass(frozen=True)
class Landmark:
    """A place residents name instead of an address, and the words they use for it."""

    name: str
    address: str
    aliases: Tuple[str, ...]


COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# Used when a city file has no `branding:` section (they pass WCAG AA on white).
DEFAULT_COLOURS = {"brand": "#0b4f8a", "brand_dark": "#083a66", "brand_tint": "#e3edf7", "focus": "#b34700"}


@dataclass(frozen=True)
class Branding:
    """How the city's pages look and name themselves, so a city rebrands in its city file."""

    assistant: str  # what the assistant is called: "Riverton 311"
    city: str  # the jurisdiction's name: "City of Riverton"
    phone: str  # the short number residents dial: "311"
    phone_311: str  # the number in full, with the one from outside the city
    brand: str
    brand_dark: str
    brand_tint: str
    focus: str


@dataclass(frozen=True)
class City:
    """A jurisdiction: who it is, how to reach it, and what it can be asked to fix."""

    jurisdiction_id: str
    name: str
    timezone: str
    info: Dict[str, Any]
    services: List[CatalogService]
    lifecycle: List[str]
    branding: Branding
    landmarks: List[Landmark] = field(default_factory=list)
    # `translations:`: the file's own texts in the city's other languages (bot/i18n/city.py reads them).
    translations: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    # `faq:`: each FAQ topic's facts, which its answers must state (bot/answers/facts.py checks them).
    faq_facts: Dict[str, Tuple[str, ...]] = field(default_factory=dict)
    # `jobs:`: the careers page and other names of the departments job postings name (bot/jobs reads them).
    jobs: Dict[str, Any] = field(default_factory=dict)

    def service(self, code: str) -> Optional[CatalogService]:
        """The service with this exact code, or None."""
        for service in self.services:
            if service.code == code:
                return service
        return None


def _text(value: Any) -> str:
    """YAML reads a bare yes/no as a boolean; a catalog value is always the word."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _branding(raw: Dict[str, Any], jurisdiction: Dict[str, Any]) -> Branding:
    """The `branding:` section; colours are checked because they go into style sheets unescaped."""
    section = raw.get("branding") or {}
    colours = {**DEFAULT_COLOURS, **(section.get("colours") or {})}
    for name, value in colours.items():
        if name not in DEFAULT_COLOURS or not COLOUR.match(str(value)):
            raise ValueError(f"branding colour {name}: {value!r} is not a known colour name with a #rrggbb value")
    phone = str(section.get("phone", "311"))
    return Branding(
        assistant=str(section.get("assistant", f"{phone} assistant")),
        city=str(jurisdiction.get("name", "")),
        phone=phone,
        phone_311=str(jurisdiction.get("phone_311", phone)),
        **{name: str(value) for name, value in colours.items()},
    )


def _parse(raw: Dict[str, Any]) -> City:
    jurisdiction = raw.get("jurisdiction") or {}
    services = [
        CatalogService(
            code=str(s["code"]),
            name=str(s["name"]),
            group=str(s.get("group", "")),
            agency=str(s.get("agency", "")),
            description=str(s.get("description", "")),
            keywords=[str(k) for k in s.get("keywords", [])],
            target_days=int(s.get("target_days", 0)),
            attributes=[
                CatalogAttribute(
                    code=str(a["code"]),
                    datatype=str(a.get("datatype", "string")),
                    required=bool(a.get("required", False)),
                    description=str(a.get("description", "")),
                    values=[_text(v) for v in a.get("values", [])],
                )
                for a in s.get("attributes", [])
            ],
        )
        for s in raw.get("services", [])
    ]
    return City(
        jurisdiction_id=str(jurisdiction.get("id", "")),
        name=str(jurisdiction.get("name", "")),
        timezone=str(jurisdiction.get("timezone", "UTC")),
        info=dict(jurisdiction),
        services=services,
        lifecycle=[str(x) for x in raw.get("request_lifecycle", [])],
        branding=_branding(raw, jurisdiction),
        landmarks=[
            Landmark(
                name=str(item["name"]),
                address=str(item.get("address", "")),
                aliases=tuple(str(alias) for alias in item.get("aliases", [])),
            )
            for item in raw.get("landmarks", [])
        ],
        translations={str(lang): dict(texts or {}) for lang, texts in (raw.get("translations") or {}).items()},
        faq_facts={
            str(topic): tuple(str(fact) for fact in (entry or {}).get("facts") or [])
            for topic, entry in (raw.get("faq") or {}).items()
        },
        jobs=dict(raw.get("jobs") or {}),
    )


@lru_cache(maxsize=4)
def load_city(path: Optional[str] = None) -> City:
    """Load the city file named by `path`, else CITY_FILE, else the bundled Riverton."""
    chosen = Path(path or settings().city_file or DEFAULT_CITY_FILE)
    with chosen.open(encoding="utf-8") as handle:
        return _parse(yaml.safe_load(handle))
