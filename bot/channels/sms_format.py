"""Plain-text messaging: buttons as numbered choices, long replies in pieces.

SMS and WhatsApp over Twilio have no buttons, so a reply's buttons become
"Reply 1 for ...; 2 for ..." (in the resident's language) and a resident's "2" becomes button 2's payload.
Twilio refuses a body over 1,600 characters (error 21617), on SMS and WhatsApp
alike, so a longer reply is cut where a reader expects a break: between
paragraphs, then lines, then sentences, then words.
"""

from __future__ import annotations

import re
from typing import Callable, Dict, List, Optional, Sequence

from bot.i18n.messages import Messages

MAX_BODY = 1600

Buttons = Optional[Sequence[Dict[str, str]]]

# Paragraphs, lines, sentences, words: each level is tried only for a piece
# that is still too long at the level above.
_LEVELS = (
    (re.compile(r"\n\s*\n"), "\n\n"),
    (re.compile(r"\n"), "\n"),
    (re.compile(r"(?<=[.!?])\s+"), " "),
    (re.compile(r"\s+"), " "),
)

_CHOICE = re.compile(r"^\s*#?(\d{1,2})[.)]?\s*$")
_CHOICES = re.compile(r"^\s*\d{1,2}(\s*(,|&|\band\b)\s*\d{1,2})+\s*$", re.IGNORECASE)


def body_length(text: str) -> int:
    """Length as Twilio counts it: emoji and other astral characters count twice (UTF-16)."""
    return len(text.encode("utf-16-le")) // 2


def payloads_of(buttons: Buttons) -> List[str]:
    """What each button sends when pressed, in order."""
    return [str(b.get("payload") or b.get("title") or "") for b in buttons or []]


def with_choices(text: str, buttons: Buttons, texts: Messages) -> str:
    """The text followed by its buttons as numbered choices, in the resident's language."""
    titles = [str(b.get("title") or b.get("payload") or "").strip().rstrip(".") for b in buttons or []]
    if not titles:
        return text
    choices = "; ".join(
        texts.text("channels.sms_choice", number=number, title=title) for number, title in enumerate(titles, 1)
    )
    return f"{text}\n\n{texts.text('channels.sms_choices', choices=choices)}"


def pick_choice(text: str, payloads: Sequence[str]) -> Optional[str]:
    """The payload a numeric reply stands for ("2" -> button 2), or None.

    "1, 3" picks several (for questions that take more than one answer) unless
    a button is an intent payload ("/cancel"), which cannot be combined.
    """
    single = _CHOICE.match(text)
    if single:
        number = int(single.group(1))
        return payloads[number - 1] if 1 <= number <= len(payloads) else None
    if not _CHOICES.match(text) or any(p.startswith("/") for p in payloads):
        return None
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    if not all(1 <= n <= len(payloads) for n in numbers):
        return None
    return ", ".join(dict.fromkeys(payloads[n - 1] for n in numbers))


Measure = Callable[[str], int]


def split_body(text: str, limit: int = MAX_BODY, measure: Measure = body_length) -> List[str]:
    """The message bodies to send for `text`, each at most `limit` long (as `measure` counts), in order.

    Other channels use it with their own count (Messenger's characters, Instagram's UTF-8 bytes).
    """
    return _split(text.strip(), limit, 0, measure)


def _split(text: str, limit: int, level: int, measure: Measure) -> List[str]:
    if measure(text) <= limit:
        return [text] if text else []
    if level == len(_LEVELS):
        return _hard_cut(text, limit, measure)
    pattern, joiner = _LEVELS[level]
    chunks: List[str] = []
    current = ""
    for part in (p.strip() for p in pattern.split(text)):
        if not part:
            continue
        candidate = f"{current}{joiner}{part}" if current else part
        if measure(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        pieces = _split(part, limit, level + 1, measure)
        chunks.extend(pieces[:-1])
        current = pieces[-1]
    if current:
        chunks.append(current)
    return chunks


def _hard_cut(text: str, limit: int, measure: Measure) -> List[str]:
    """A single word longer than a message (a long URL): cut it, never inside a character."""
    chunks: List[str] = []
    current, length = "", 0
    for char in text:
        width = measure(char)
        if length + width > limit:
            chunks.append(current)
            current, length = "", 0
        current, length = current + char, length + width
    return chunks + [current] if current else chunks
