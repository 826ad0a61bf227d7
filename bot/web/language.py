"""Which city language a page is shown in: `?lang=`, else the browser's `Accept-Language`, else the default.

A page asks for its language only with values a browser sends (a `?lang=` link,
an `Accept-Language` header), so both are read as language tags and matched
against the city's languages; anything else counts as not asking. The web chat
also tells the assistant the language its page was asked in (the channel's
hint), but not a language it fell back to: that says nothing about the resident.
"""

from __future__ import annotations

import re
from typing import List, Optional

from babel.core import negotiate_locale
from sanic.request import Request

from bot.i18n.languages import city_languages, default_language, supported

# "es", "es-MX", "zh-Hant-TW": letters, then subtags of letters and digits (BCP 47's shape, loosely).
_TAG = re.compile(r"^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8}){0,4}$")
# An Accept-Language header names a handful of languages; more is not a browser.
MAX_ACCEPTED = 16


def language_tag(value: object) -> Optional[str]:
    """`value` when it is a short language tag ("es", "es-MX"), else None: what a page may send as one."""
    if isinstance(value, str) and _TAG.match(value):
        return value
    return None


def asked_language(value: object) -> Optional[str]:
    """The city language a `?lang=` value names ("es", "es-MX"), or None."""
    tag = language_tag(value)
    return supported(tag) if tag else None


def accepted_languages(header: Optional[str]) -> List[str]:
    """The language tags of an `Accept-Language` header, most wanted first (`*` and `q=0` left out)."""
    weighted = []
    for position, entry in enumerate((header or "").split(",")[:MAX_ACCEPTED]):
        name, _, parameters = entry.partition(";")
        tag = language_tag(name.strip())
        if tag is None:
            continue
        quality = 1.0
        for parameter in parameters.split(";"):
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:  # also drops a "nan" weight
            weighted.append((-quality, position, tag.replace("_", "-")))
    return [tag for _, _, tag in sorted(weighted)]


def browser_language(header: Optional[str]) -> Optional[str]:
    """The city language a browser prefers by its `Accept-Language` ("es-MX,es;q=0.9" -> "es"), or None."""
    chosen = negotiate_locale(accepted_languages(header), list(city_languages()), sep="-")
    return supported(chosen) if chosen else None


def requested_language(lang: object, accept_language: Optional[str]) -> Optional[str]:
    """The city language a request asks for: `?lang=`, else the browser's; None when neither names one."""
    return asked_language(lang) or browser_language(accept_language)


def request_language(request: Request) -> Optional[str]:
    """`requested_language` of a Sanic request."""
    return requested_language(request.args.get("lang"), request.headers.get("accept-language"))


def page_language(request: Request) -> str:
    """The language to show a page in: the one the request asks for, else the city's default."""
    return request_language(request) or default_language()
