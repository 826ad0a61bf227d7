"""Whether the survey may be asked now: once per conversation, never in a form, only inside the channel's window.

- Once: the `survey_asked` slot holds what it was asked about; set, it is never asked again
  in that conversation (the slot carries over to new sessions).
- Never during a form: a resident in the middle of a report or a status lookup is
  answering the form's questions; a survey there would take their answer for a score.
- The channel's window: WhatsApp lets a business send a free-form message only within
  24 hours of the resident's last message (Meta's customer service window); outside it
  only approved templates may be sent, and the survey is not one. Messenger and
  Instagram have the same 24 hours (Meta's standard messaging window); their
  HUMAN_AGENT tag, up to 7 days, is for a person's replies, which the survey is not.
  The other channels have no such window. After a report, the resident has just
  written, so it is always inside; after a handoff, the resident's last message may be older.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Mapping, Optional

# How long after the resident's last message a channel lets the city write first.
# (The channel modules, bot.channels.*_api, hold the same rules; actions import no channel module.)
META_WINDOW = timedelta(hours=24)
CHANNEL_WINDOWS: Mapping[str, timedelta] = {"whatsapp": META_WINDOW, "messenger": META_WINDOW, "instagram": META_WINDOW}


def inside_window(channel: str, last_resident_message: Optional[datetime], now: datetime) -> bool:
    """Whether the channel lets the city send a free-form message now."""
    window = CHANNEL_WINDOWS.get(channel)
    if window is None:
        return True
    return last_resident_message is not None and now - last_resident_message < window


def may_ask(
    asked: Optional[str],
    active_loop: Optional[str],
    channel: str,
    last_resident_message: Optional[datetime],
    now: datetime,
) -> bool:
    """Whether the survey question may be sent now (see the module's docstring)."""
    return not asked and not active_loop and inside_window(channel, last_resident_message, now)
