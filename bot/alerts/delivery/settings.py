"""How a delivery job retries, leases and batches: one place for its knobs (see README)."""

from __future__ import annotations

import math
import os
import random
import socket
import uuid
from dataclasses import dataclass
from typing import Optional

from bot.settings import settings


def _env_float(name: str, default: float) -> float:
    raw = (settings().get(name) or "").strip()
    return float(raw) if raw else default


@dataclass(frozen=True)
class DeliverySettings:
    """How a delivery job retries, leases and batches; from the environment (see README)."""

    max_attempts: int = 5
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 300.0
    lease_seconds: float = 30.0
    concurrency: Optional[int] = None  # senders per channel; None: from the channel's rate
    page_size: int = 500
    batch_size: int = 500  # operations per shared transaction
    idle_poll_seconds: float = 1.0

    @classmethod
    def from_env(cls) -> "DeliverySettings":
        concurrency = (settings().alert_concurrency or "").strip()
        return cls(
            max_attempts=max(1, int(_env_float("ALERT_MAX_ATTEMPTS", 5))),
            retry_base_seconds=_env_float("ALERT_RETRY_BASE_SECONDS", 5.0),
            retry_max_seconds=_env_float("ALERT_RETRY_MAX_SECONDS", 300.0),
            lease_seconds=max(1.0, _env_float("ALERT_LEASE_SECONDS", 30.0)),
            concurrency=max(1, int(concurrency)) if concurrency else None,
        )

    def senders_for(self, rate: float) -> int:
        """Concurrent senders a channel needs to use its rate when a send takes up to ~1/4 s."""
        if self.concurrency:
            return self.concurrency
        if rate <= 0:
            return 16
        return max(1, min(16, math.ceil(rate / 4) + 1))

    def backoff(self, attempts: int) -> float:
        delay = min(self.retry_max_seconds, self.retry_base_seconds * (2 ** max(attempts - 1, 0)))
        return delay * random.uniform(0.8, 1.2)


def new_job_id() -> str:
    """Names the job in lease and claim columns, so staff can tell which host and process held them."""
    return f"{socket.gethostname()[:24]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
