"""One lane per channel: its sender, its rate limit, how many senders share it and what a message costs.

A message's cost depends on its language (a Spanish SMS with "á" is UCS-2:
shorter segments), so a lane knows the cost of each language's message.

A channel nobody can send on in this process stays pending (another process,
or a later start, delivers it). Web chat messages are rows of this database:
the web chat's sender writes them in the claim's own transaction.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Set, Tuple

from bot.alerts import store
from bot.alerts.delivery.claims import Due, Rows
from bot.alerts.delivery.settings import DeliverySettings
from bot.alerts.limiter import ChannelLimit, limit_for, rate_for
from bot.alerts.segments import sends_per_message
from bot.channels.outbound import OutboundSender, TransactionalSender, sender_for
from bot.i18n.languages import city_languages

logger = logging.getLogger(__name__)

WEBCHAT = "webchat"

_warned_unavailable: Set[Tuple[int, Tuple[str, ...]]] = set()


@dataclass
class Lane:
    """One channel of the job: its queue of rows, its limiter, its senders."""

    channel: str
    limit: ChannelLimit
    concurrency: int
    sender: Optional[OutboundSender]  # None: written in the claim's transaction (Rows.written_here)
    queue: "asyncio.Queue[Optional[Due]]"
    # Limiter tokens per message, per language: SMS segments, or messages a long text is split into.
    costs: Dict[str, int] = field(default_factory=dict)

    def cost(self, language: str) -> int:
        return self.costs.get(language, 1)


def _written_here(channel: str, sender: Optional[OutboundSender]) -> Optional[TransactionalSender]:
    """The sender that writes a web chat's messages in a transaction (even if none is registered here)."""
    if channel != WEBCHAT:
        return None
    if isinstance(sender, TransactionalSender):
        return sender
    try:
        from bot.channels.webchat import WebChatSender
    except ImportError:  # pragma: no cover - the web chat is part of the project
        return None
    return WebChatSender()


async def open_lanes(
    rows: Rows,
    senders: Optional[Mapping[str, OutboundSender]],
    rates: Mapping[str, float],
    settings: DeliverySettings,
) -> Tuple[List[Lane], List[str]]:
    """The lanes for every channel with pending rows, and the channels this process cannot send on."""
    channels = await store.run(rows.pending_channels)
    lanes: List[Lane] = []
    unavailable: List[str] = []
    written_here: Dict[str, TransactionalSender] = {}
    for channel in sorted(channels):
        sender = senders.get(channel) if senders is not None else sender_for(channel)
        transactional = _written_here(channel, sender)
        if transactional is not None:
            written_here[channel] = transactional
            sender = None  # written with the "sent" mark, in one transaction
        elif sender is None:
            unavailable.append(channel)
            continue
        rate = rates[channel] if channel in rates else rate_for(channel)
        concurrency = settings.senders_for(rate)
        queue: "asyncio.Queue[Optional[Due]]" = asyncio.Queue(maxsize=concurrency * 4)
        costs = {language: sends_per_message(channel, rows.message(language)) for language in city_languages()}
        lanes.append(Lane(channel, limit_for(channel, rate), concurrency, sender, queue, costs))
    rows.written_here = written_here
    if unavailable and (rows.alert_id, tuple(unavailable)) not in _warned_unavailable:
        _warned_unavailable.add((rows.alert_id, tuple(unavailable)))
        logger.warning(
            "alert %s: no sender configured here for %s; those deliveries stay pending",
            rows.alert_id,
            ", ".join(unavailable),
        )
    return lanes, unavailable
