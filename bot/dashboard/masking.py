"""Personal data masked in what residents wrote, before staff read it in aggregate (the dashboard's unanswered list).

The patterns are the ones the assistant reads residents with: emails, phone
numbers, street addresses, intersections and introduced names
(bot.reports.answers, bot/i18n/locales/<lang>/words/reports.yml), and the
assistant's R-… references and city request numbers (bot.reports.status), which
also catch any other number of three digits or more. In order:

1. emails;
2. references with a dash ("R-KVJ88H", "4471-22"), before an address pattern
   takes their last digits for a house number;
3. street addresses and intersections, and a street named after a city
   language's prefix with a house number ("calle Elm 12");
4. phone numbers;
5. every other number of three digits or more;
6. a name after an introduction ("my name is Ana", "soy Ana") when written with
   a capital: "I'm looking for" stays as it is.

Masking errs on the side of hiding: a date may read as a phone number.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Pattern, Tuple

from bot.reports.answers import EMAIL, PHONE, address_patterns, name_pattern
from bot.reports.status import REQUEST_ID
from bot.reports.vocabulary import vocabulary

EMAIL_MASK, PHONE_MASK, ADDRESS_MASK, REFERENCE_MASK, NAME_MASK = (
    "[email]",
    "[phone]",
    "[address]",
    "[reference]",
    "[name]",
)
Masker = Callable[[str], str]


def _replacing(pattern: Pattern[str], mask: str, group: int = 0, when: Callable[[str], bool] = bool) -> Masker:
    """Replace `group` of each match for which `when(the group)` holds with `mask`, keeping the spaces at its ends."""

    def replace(match: "re.Match[str]") -> str:
        found = match.group(group)
        if not found.strip() or not when(found):
            return match.group(0)
        start = match.start(group) - match.start(0)
        lead, trail = found[: len(found) - len(found.lstrip())], found[len(found.rstrip()) :]
        whole = match.group(0)
        return whole[:start] + lead + mask + trail + whole[start + len(found) :]

    return lambda text: pattern.sub(replace, text)


@lru_cache(maxsize=4)
def numbered_street(prefixes: Tuple[str, ...]) -> Pattern[str]:
    """A street after a prefix, with a house number after its name ("calle Elm 12", "avenida del Sol 45")."""
    alternatives = "|".join(re.escape(prefix) for prefix in sorted(prefixes, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\.?\s+(?:[^\W\d_][\w'.-]*\s+){{1,3}}\d{{1,6}}[a-z]?\b", re.IGNORECASE)


def maskers() -> Tuple[Masker, ...]:
    """The steps of `mask_personal_data`, in order (see the module's list)."""
    return (
        _replacing(EMAIL, EMAIL_MASK),
        _replacing(REQUEST_ID, REFERENCE_MASK, 1, lambda found: "-" in found),
        *(_replacing(pattern, ADDRESS_MASK, 1) for pattern in address_patterns()),
        _replacing(numbered_street(vocabulary().street_prefixes), ADDRESS_MASK),
        _replacing(PHONE, PHONE_MASK),
        _replacing(REQUEST_ID, REFERENCE_MASK, 1),
        _replacing(name_pattern(), NAME_MASK, 1, lambda found: found[:1].isupper()),
    )


def mask_personal_data(text: str) -> str:
    """`text` on one line, with emails, references, addresses, phone numbers, numbers and names masked."""
    masked = " ".join(text.split())
    for mask in maskers():
        masked = mask(masked)
    return masked
