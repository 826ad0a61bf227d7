"""How many sends one alert costs a channel's rate limit.

Carriers and Twilio count an SMS number's throughput in segments: 160 GSM-7
characters (153 each when a message takes several), or 70 UCS-2 characters (67)
as soon as one character is outside the GSM alphabet (an emoji, curly quotes,
and Spanish's á, í, ó, ú: é, ñ, ü, ¿ and ¡ are in it). A Spanish alert
therefore often costs two or three times its English one; staff see it in the
preview, per language.
Telegram and WhatsApp count messages: one unless the text is longer than the
channel takes in one message.
"""

from __future__ import annotations

import math

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = "^{}\\[~]|€\f"  # two septets each


def outside_gsm(text: str) -> str:
    """The characters of `text` that make its SMS UCS-2, each once, in order ("" for a GSM-7 text)."""
    return "".join(dict.fromkeys(ch for ch in text if ch not in GSM_BASIC and ch not in GSM_EXTENDED))


def sms_segments(text: str) -> int:
    """Segments an SMS of this text takes (at least 1)."""
    if not outside_gsm(text):
        septets = sum(2 if ch in GSM_EXTENDED else 1 for ch in text)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def sends_per_message(channel: str, text: str) -> int:
    """What one alert costs on a channel's limiter: SMS segments, or messages elsewhere."""
    if channel == "sms":
        from bot.channels.sms_format import split_body

        return sum(sms_segments(body) for body in split_body(text)) or 1
    if channel == "whatsapp":
        from bot.channels.sms_format import split_body

        return len(split_body(text)) or 1
    if channel == "telegram":
        from bot.channels.telegram import split_text

        return len(split_text(text)) or 1
    if channel in ("messenger", "instagram"):
        from bot.channels.messenger_api import split_text as split_meta

        return len(split_meta(text, channel)) or 1
    return 1
