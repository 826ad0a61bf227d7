"""A per-client limit on console sign-in attempts, and who the client is.

The per-account lockout stops guessing one account's password; this stops one
client from guessing across many accounts (and from keeping the hashing pool
busy). It is a sliding window per client address: at most CONSOLE_SIGNIN_ATTEMPTS
attempts (10) in CONSOLE_SIGNIN_WINDOW_SECONDS (300). An attempt that signs in
is given back, so an office signing in behind one address is not held up.

The window lives in the console's memory: one console process (it always runs
one Sanic worker) sees every attempt; a restart forgets them. The client is the
TCP peer; X-Forwarded-For is believed only from the proxies listed in
CONSOLE_TRUSTED_PROXIES (addresses or networks, comma-separated; default none).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict, deque
from typing import Callable, Deque, Optional, Sequence, Tuple, Union

from bot.settings import settings

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

DEFAULT_ATTEMPTS = 10
DEFAULT_WINDOW_SECONDS = 300.0
MAX_CLIENTS = 10_000  # clients remembered at once (memory stays bounded under a spread-out flood)


class SlidingWindow:
    """At most `limit` events per key in any `window` seconds."""

    def __init__(
        self, limit: int, window: float, max_keys: int = MAX_CLIENTS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = max(1, limit)
        self.window = max(0.001, window)
        self.max_keys = max(1, max_keys)
        self.clock = clock
        self._events: "OrderedDict[str, Deque[float]]" = OrderedDict()

    def _recent(self, key: str, now: float) -> Deque[float]:
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        self._events.move_to_end(key)
        return events

    def take(self, key: str) -> float:
        """Count one event: 0.0 when allowed; else the seconds until one is allowed again (nothing counted)."""
        now = self.clock()
        events = self._recent(key, now)
        if len(events) >= self.limit:
            return max(events[0] + self.window - now, 0.001)
        events.append(now)
        while len(self._events) > self.max_keys:  # the least recently seen client goes first
            self._events.popitem(last=False)
        return 0.0

    def give_back(self, key: str) -> None:
        """Uncount the key's latest event (an attempt that turned out fine)."""
        events = self._events.get(key)
        if events:
            events.pop()


def retry_after(seconds: float) -> int:
    """A Retry-After value: whole seconds, rounded up."""
    return max(1, math.ceil(seconds))


def parse_networks(text: Optional[str]) -> Tuple[Network, ...]:
    """'10.0.0.1, 192.168.0.0/16' -> networks; a bad entry is an error (a typo must not trust everyone)."""
    items = [part.strip() for part in (text or "").split(",") if part.strip()]
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def _address(text: str) -> Optional[Union[ipaddress.IPv4Address, ipaddress.IPv6Address]]:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(text: str, proxies: Sequence[Network]) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in proxies)


def client_address(peer: str, forwarded_for: Optional[str], proxies: Sequence[Network]) -> str:
    """The address a request came from: the TCP peer, or, when the peer is a trusted proxy,
    the nearest X-Forwarded-For hop that is not one of the trusted proxies."""
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in (forwarded_for or "").split(",") if hop.strip()]
    for hop in reversed(hops):  # the right-most hops were added by our own proxies
        if not _trusted(hop, proxies):
            address = _address(hop)
            return str(address) if address is not None else peer
    return peer


def from_env() -> Tuple[SlidingWindow, Tuple[Network, ...]]:
    """The sign-in window and the trusted proxies, from the environment (see the module's docstring)."""
    try:
        attempts = int(settings().console_signin_attempts or DEFAULT_ATTEMPTS)
    except ValueError:
        attempts = DEFAULT_ATTEMPTS
    try:
        window = float(settings().console_signin_window_seconds or DEFAULT_WINDOW_SECONDS)
    except ValueError:
        window = DEFAULT_WINDOW_SECONDS
    return SlidingWindow(attempts, window), parse_networks(settings().console_trusted_proxies)
