"""Per-channel rate limits for alert delivery.

Each channel has a rate in messages per second, from the environment:
`ALERT_RATE_TELEGRAM` (default 30: Telegram's broadcast limit), `ALERT_RATE_SMS`
(default 1: one long code's throughput, in SMS segments; raise it for a
toll-free number, a short code or a Messaging Service pool),
`ALERT_RATE_WHATSAPP` (default 20) and `ALERT_RATE_WEBCHAT` (default 100).
Another channel reads `ALERT_RATE_<NAME>` (default 1). `0` means no limit.

The limiters are aiolimiter's leaky buckets holding one message, so messages
leave evenly spaced, at least 1/rate seconds apart, and an event loop that was
busy for a moment does not send the messages it owes in a burst afterwards.
Limiters are per process (and event loop) and shared by every alert the
process delivers.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Protocol

from aiolimiter import AsyncLimiter

from bot.settings import settings

DEFAULT_RATES: Dict[str, float] = {
    "telegram": 30.0,
    "sms": 1.0,
    "whatsapp": 20.0,
    "webchat": 100.0,
    "messenger": 20.0,
    "instagram": 20.0,
}
FALLBACK_RATE = 1.0


def rate_for(channel: str, env: Optional[Mapping[str, str]] = None) -> float:
    """Messages per second allowed on a channel (0: unlimited); `env`: variables instead of the settings."""
    variable = f"ALERT_RATE_{channel.upper()}"
    raw = ((env.get(variable) if env is not None else settings().get(variable)) or "").strip()
    if not raw:
        return DEFAULT_RATES.get(channel, FALLBACK_RATE)
    try:
        rate = float(raw)
    except ValueError:
        raise ValueError(f"ALERT_RATE_{channel.upper()} must be a number of messages per second, not {raw!r}") from None
    if rate < 0 or math.isnan(rate):
        raise ValueError(f"ALERT_RATE_{channel.upper()} must not be negative")
    return rate


class Limiter(Protocol):
    """What a sender awaits before each message (aiolimiter's AsyncLimiter, or no limit)."""

    async def acquire(self, amount: float = 1) -> None: ...


class NoLimit:
    """A channel whose rate is 0: nothing to wait for."""

    async def acquire(self, amount: float = 1) -> None:
        return None


def new_limiter(rate: float) -> Limiter:
    """A limiter letting one message through every 1/rate seconds (no limit for 0)."""
    if rate <= 0 or math.isinf(rate):
        return NoLimit()
    return AsyncLimiter(1, 1.0 / rate)


@dataclass
class ChannelLimit:
    """A channel's limit, applied twice with the same rate.

    `claim` paces how fast rows are taken for sending; `send` spaces the
    messages right before they leave, because claims are committed in shared
    transactions and may come back together.
    """

    rate: float
    claim: Limiter
    send: Limiter
    loop: Optional[asyncio.AbstractEventLoop] = None  # an AsyncLimiter serves one event loop

    @property
    def unlimited(self) -> bool:
        return isinstance(self.claim, NoLimit)


_limits: Dict[str, ChannelLimit] = {}


def limit_for(channel: str, rate: Optional[float] = None) -> ChannelLimit:
    """The process's limit for a channel (from the environment the first time); call it on the event loop."""
    wanted = rate_for(channel) if rate is None else float(rate)
    loop = asyncio.get_running_loop()
    limit = _limits.get(channel)
    if limit is None or limit.rate != wanted or limit.loop is not loop:
        limit = _limits[channel] = ChannelLimit(wanted, new_limiter(wanted), new_limiter(wanted), loop)
    return limit


def reset_limiters() -> None:
    """Forget the process's limits (tests change the rates)."""
    _limits.clear()
