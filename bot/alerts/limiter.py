"""Per-channel rate limits for alert delivery.

Each channel has a rate in messages per second, from the environment:
`ALERT_RATE_TELEGRAM` (default 30: Telegram's broadcast limit), `ALERT_RATE_SMS`
(default 1: one long code's throughput; raise it for a toll-free number, a
short code or a Messaging Service pool), `ALERT_RATE_WHATSAPP` (default 20) and
`ALERT_RATE_WEBCHAT` (default 100). Another channel reads `ALERT_RATE_<NAME>`
(default 1). `0` means no limit.

A limiter spaces the messages evenly (a token bucket holding `burst` tokens,
one by default): the n-th message of a run leaves no earlier than n/rate
seconds after the first. Limiters are per process and shared by every alert
it delivers.
"""
from __future__ import annotations

import asyncio
import math
import os
import time
from typing import Callable, Dict, Mapping, Optional

DEFAULT_RATES: Dict[str, float] = {"telegram": 30.0, "sms": 1.0, "whatsapp": 20.0, "webchat": 100.0}
FALLBACK_RATE = 1.0


def rate_for(channel: str, env: Mapping[str, str] = os.environ) -> float:
    """Messages per second allowed on a channel (0: unlimited)."""
    raw = (env.get(f"ALERT_RATE_{channel.upper()}") or "").strip()
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

    Each call reserves the next free slot at once (GCRA: no await between
    reading and moving the schedule, so no lock is needed on one event loop)
    and sleeps until it, so many waiting senders leave one interval apart, in order.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], "asyncio.Future[None]"] = asyncio.sleep,  # type: ignore[assignment]
    ) -> None:
        self.rate = float(rate)
        self.burst = max(1, int(burst))
        self.clock = clock
        self.sleep = sleep
        self._next_free = 0.0  # theoretical arrival time of the next message

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0 or math.isinf(self.rate)

    @property
    def interval(self) -> float:
        return 0.0 if self.unlimited else 1.0 / self.rate

    def reserve(self) -> float:
        """Take the next slot; how long to wait before using it."""
        if self.unlimited:
            return 0.0
        now = self.clock()
        start = max(self._next_free, now)
        self._next_free = start + self.interval
        return max(0.0, start - now - (self.burst - 1) * self.interval)

    async def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            await self.sleep(wait)


_limiters: Dict[str, RateLimiter] = {}


def limiter_for(channel: str, rate: Optional[float] = None) -> RateLimiter:
    """The process's limiter for a channel (created from the environment the first time)."""
    wanted = rate_for(channel) if rate is None else rate
    limiter = _limiters.get(channel)
    if limiter is None or limiter.rate != wanted:
        limiter = _limiters[channel] = RateLimiter(wanted)
    return limiter


def reset_limiters() -> None:
    """Forget the process's limiters (tests change the rates)."""
    _limiters.clear()
