"""Carrier keywords (STOP, START, HELP) on SMS and WhatsApp, and their equivalents in the city's languages.

US carriers require every SMS number to honour the standard opt-out words sent
as the whole message, to stop messaging until the resident opts back in, and to
answer HELP. Twilio enforces this on SMS itself: on a long code it replies to
STOP and START with its own confirmation and blocks further messages (error
21610), so the assistant only records the state and stays silent there.

"cancel" is also how residents abandon a report. On SMS the carrier treats a
bare CANCEL as opt-out whatever the assistant does, so it is honoured as one
(residents can still say "cancel the report"). WhatsApp has no carrier
keywords, so there a bare "cancel" goes to the assistant and only the
unambiguous words opt out; nobody else confirms on WhatsApp, so the assistant does.

Twilio's own handling is English-only. The carriers' guidelines ask a program in
Spanish to answer ALTO and AYUDA too, so each city language can list its own
words (`bot/i18n/locales/<lang>/words/channels.yml`: `opt_out`, `help`). Nobody
else knows those, so the assistant confirms them itself on SMS too, and honours
them by never sending to an opted-out number. A city that configures such words
in Twilio's Advanced Opt-Out gets Twilio's verdict (OptOutType) instead, and
Twilio's confirmation. Opting back in is START (or UNSTOP, YES), which works at
every level.
"""

from __future__ import annotations

import enum
from typing import FrozenSet, Optional

from bot.i18n.city import city_info, city_name
from bot.i18n.languages import city_languages
from bot.i18n.messages import Messages
from bot.i18n.words import word_list, words_of

OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
WHATSAPP_PASSES_ON = frozenset({"CANCEL"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# Twilio's OptOutType verdicts: it has answered these itself on SMS.
CARRIER_VERDICTS = frozenset({"STOP", "START"})
WORDS_AREA = "channels"


class Keyword(enum.Enum):
    OPT_OUT = "opt-out"
    OPT_IN = "opt-in"
    HELP = "help"


def _word(text: str) -> str:
    """The message as a keyword: trimmed, upper case, without a closing "." or "!" (or an opening "¡")."""
    return text.strip().rstrip(".!").lstrip("¡").strip().upper()


def _language_words(name: str) -> FrozenSet[str]:
    """The city languages' own keywords of one kind (`opt_out`, `help`), upper case."""
    return frozenset(word.upper() for word in word_list(WORDS_AREA, name))


def carrier_keyword(channel: str, text: str, opted_out: bool, opt_out_type: Optional[str] = None) -> Optional[Keyword]:
    """Which keyword the whole message is, if any.

    `opt_out_type` is Twilio's own verdict (Advanced Opt-Out's OptOutType), which
    also covers keywords a city added in the Twilio console. Opting in is only
    a keyword for a resident who opted out: otherwise "yes" answers the bot.
    """
    word = _word(text)
    verdict = (opt_out_type or "").upper()
    standard_opt_out = word in OPT_OUT_WORDS and not (channel == "whatsapp" and word in WHATSAPP_PASSES_ON)
    if verdict == "STOP" or standard_opt_out or word in _language_words("opt_out"):
        return Keyword.OPT_OUT
    if opted_out and (verdict == "START" or word in OPT_IN_WORDS):
        return Keyword.OPT_IN
    if verdict == "HELP" or word in HELP_WORDS or word in _language_words("help"):
        return Keyword.HELP
    return None


def confirmed_by_carrier(channel: str, text: str, opt_out_type: Optional[str] = None) -> bool:
    """Whether Twilio has already answered this opt-out or opt-in itself (standard words on SMS)."""
    word = _word(text)
    return channel == "sms" and (
        (opt_out_type or "").upper() in CARRIER_VERDICTS or word in OPT_OUT_WORDS | OPT_IN_WORDS
    )


def keyword_language(text: str) -> Optional[str]:
    """The city language whose own keyword the message is (AYUDA: Spanish); None for the carriers' words."""
    word = _word(text)
    for language in city_languages():
        if any(word == own.upper() for name in ("opt_out", "help") for own in words_of(language, WORDS_AREA, name)):
            return language
    return None


def help_text(texts: Messages) -> str:
    """The HELP answer carriers require: who this is, how to reach a person, how to stop."""
    info = city_info(texts.language)
    return texts.text("channels.sms_help", city=city_name(texts.language), phone=info.get("phone_311", "311"))
