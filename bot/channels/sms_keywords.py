"""Carrier keywords (STOP, START, HELP) on SMS and WhatsApp.

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
"""

from __future__ import annotations

import enum
from typing import Optional

from bot.catalog import load_city

OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
WHATSAPP_PASSES_ON = frozenset({"CANCEL"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})


class Keyword(enum.Enum):
    OPT_OUT = "opt-out"
    OPT_IN = "opt-in"
    HELP = "help"


def _word(text: str) -> str:
    """The message as a keyword: trimmed, upper case, without a closing "." or "!"."""
    return text.strip().rstrip(".!").strip().upper()


def carrier_keyword(channel: str, text: str, opted_out: bool, opt_out_type: Optional[str] = None) -> Optional[Keyword]:
    """Which keyword the whole message is, if any.

    `opt_out_type` is Twilio's own verdict (Advanced Opt-Out's OptOutType), which
    also covers keywords a city added in the Twilio console. Opting in is only
    a keyword for a resident who opted out: otherwise "yes" answers the bot.
    """
    word = _word(text)
    verdict = (opt_out_type or "").upper()
    if verdict == "STOP" or (word in OPT_OUT_WORDS and not (channel == "whatsapp" and word in WHATSAPP_PASSES_ON)):
        return Keyword.OPT_OUT
    if opted_out and (verdict == "START" or word in OPT_IN_WORDS):
        return Keyword.OPT_IN
    if verdict == "HELP" or word in HELP_WORDS:
        return Keyword.HELP
    return None


def help_text() -> str:
    """The HELP answer carriers require: who this is, how to reach a person, how to stop."""
    city = load_city()
    return (
        f"{city.name} 311 assistant: report a problem, ask about city services or check a report. "
        f"To talk to a person call {city.info.get('phone_311', '311')}. "
        "For emergencies call 911. Reply STOP to stop messages."
    )


OPTED_OUT_TEXT = "You won't get any more messages from this number. Send START to get them again."
OPTED_IN_TEXT = "Welcome back: you'll get messages from this number again. Send HELP for help."
