"""The city file's own texts in a resident's language: contacts and hours, service names, questions, choices.

A city file writes its facts once, in its default language, and their
translations under `translations: <lang>:` with the same shape:

    translations:
      es:
        jurisdiction: {name: Ciudad de Riverton, city_hall: {hours: "de lunes a viernes, ..."}}
        services:
          POTHOLE:
            name: Bache
            attributes:
              size:
                description: "¿Qué tan grande es?"
                values: {"small (smaller than a dinner plate)": "pequeño (más chico que un plato)"}

Services are keyed by service code, attributes by attribute code and choices by
the back office's value key, so a request is always filed with the back office's
own codes and values; only what the resident reads is translated. A text with
no translation is shown as the back office (or the city file) writes it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, Mapping, Optional

from bot.catalog import Branding, load_city


def _translations(language: str) -> Mapping[str, Any]:
    return load_city().translations.get(language) or {}


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> Dict[str, Any]:
    """`base` with `over`'s values written over it, nested maps merged key by key."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merged(merged[key], value)
        elif value not in (None, ""):
            merged[key] = value
    return merged


def city_info(language: str) -> Dict[str, Any]:
    """The jurisdiction's contacts and hours (the city file's `jurisdiction:`) in `language`."""
    return _merged(load_city().info, _translations(language).get("jurisdiction") or {})


def city_name(language: str) -> str:
    """The jurisdiction's name in `language` ("City of Riverton" / "Ciudad de Riverton")."""
    return str(city_info(language).get("name") or load_city().name)


def branding(language: str) -> Branding:
    """The pages' names in `language` (the colours are the same in every language)."""
    base = load_city().branding
    texts = _translations(language).get("branding") or {}
    info = city_info(language)
    return replace(
        base,
        assistant=str(texts.get("assistant") or base.assistant),
        city=str(info.get("name") or base.city),
        phone_311=str(info.get("phone_311") or base.phone_311),
    )


def _service(language: str, code: str) -> Mapping[str, Any]:
    return (_translations(language).get("services") or {}).get(code) or {}


def _attribute(language: str, service_code: str, attribute_code: str) -> Mapping[str, Any]:
    return (_service(language, service_code).get("attributes") or {}).get(attribute_code) or {}


def service_text(language: str, code: str, field: str, default: Optional[str]) -> Optional[str]:
    """A service's `name`, `description`... in `language`, else `default` (the back office's text)."""
    translated = _service(language, code).get(field)
    return str(translated) if translated else default


def attribute_text(language: str, service_code: str, attribute_code: str, default: Optional[str]) -> Optional[str]:
    """An attribute's question (its `description`) in `language`, else `default`."""
    translated = _attribute(language, service_code, attribute_code).get("description")
    return str(translated) if translated else default


def attribute_name(language: str, service_code: str, attribute_code: str) -> Optional[str]:
    """A short name for an attribute in `language` ("tamaño" for `size`), if the city file gives one."""
    translated = _attribute(language, service_code, attribute_code).get("name")
    return str(translated) if translated else None


def value_name(language: str, service_code: str, attribute_code: str, key: str, default: str) -> str:
    """A list attribute's choice, by the back office's value key, in `language`, else `default`."""
    values = _attribute(language, service_code, attribute_code).get("values") or {}
    translated = values.get(key)
    if translated is None and key in ("yes", "no"):  # a bare yes/no key reads as a YAML boolean
        translated = values.get(key == "yes")
    return str(translated) if translated else default
