"""Per-channel rate limits for alert delivery.

Each channel has a rate in messages per second, from the environment:
`ALERT_RATE_TELEGRAM` (default 30: Telegram's broadcast limit), `ALERT_RATE_SMS`
(default 1: one long code's throughput, in SMS segments; raise it for a
toll-free number, a short code or a Messaging Service pool),
`ALERT_RATE_WHATSAPP` (default 20) and `ALERT_RATE_WEBCHAT` (default 100).
Another channel reads `ALERT_RATE_<NAME>` (default 1). `0` means no limit.

A limiter spaces messages evenly: each one leaves at least 1/rate seconds after
the one before (a token bucket holding `burst` tokens, one by default). It
counts from when a message really left, so an event loop that was busy for a
moment does not send the messages it owes in a burst afterwards. Limiters are
per process and shared by every alert the process delivers.
"""
from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Awaitable, Callable, Dict, Mapping, Optional

from bot.settings import settings

DEFAULT_RATES: Dict[str, float] = {"telegram": 30.0, "sms": 1.0, "whatsapp": 20.0, "webchat": 100.0}
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


class RateLimiter:
    """An async token bucket: `await acquire()` before each message.

    Callers are served one at a time, in order. A caller's slot is computed
    from the moment the previous caller actually went (GCRA on real departure
    times), so late wake-ups never add up to a burst.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = float(rate)
        self.burst = max(1, int(burst))
        self.clock = clock
        self.sleep = sleep
        self._next_free = -math.inf  # theoretical departure time of the next message
        self._lock: Optional[asyncio.Lock] = None
        self._lock_loop: Optional[asyncio.AbstractEventLoop] = None

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0 or math.isinf(self.rate)

    @property
    def interval(self) -> float:
        return 0.0 if self.unlimited else 1.0 / self.rate

    def wait_needed(self) -> float:
        """How long the next caller must wait from now (0: it may go)."""
        if self.unlimited:
            return 0.0
        return max(0.0, self._next_free - (self.burst - 1) * self.interval - self.clock())

    def take(self) -> None:
        """Record a departure now."""
        if not self.unlimited:
            self._next_free = max(self._next_free, self.clock()) + self.interval

    def _serial(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:  # one lock per event loop
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    async def acquire(self) -> None:
        if self.unlimited:
            return
        async with self._serial():
            wait = self.wait_needed()
            while wait > 0:
                await self.sleep(wait)
                wait = self.wait_needed()
            self.take()


@dataclass
class ChannelLimit:
    """A channel's limit, applied twice with the same rate.

    `claim` paces how fast rows are taken for sending; `send` spaces the
    messages right before they leave, because claims are committed in shared
    transactions and may come back together.
    """

    rate: float
    claim: RateLimiter
    send: RateLimiter

    @property
    def unlimited(self) -> bool:
        return self.claim.unlimited


_limits: Dict[str, ChannelLimit] = {}


def limit_for(channel: str, rate: Optional[float] = None) -> ChannelLimit:
    """The process's limit for a channel (from the environment the first time)."""
    wanted = rate_for(channel) if rate is None else float(rate)
    limit = _limits.get(channel)
    if limit is None or limit.rate != wanted:
        limit = _limits[channel] = ChannelLimit(wanted, RateLimiter(wanted), RateLimiter(wanted))
    return limit


def limiter_for(channel: str, rate: Optional[float] = None) -> RateLimiter:
    """The limiter that paces a channel's claims (see ChannelLimit)."""
    return limit_for(channel, rate).claim


def reset_limiters() -> None:
    """Forget the process's limits (tests change the rates)."""
    _limits.clear()
