"""How long conversations are kept: RETENTION_DAYS, else the city's own promise to residents.

The privacy answer residents read states the period ("chat transcripts are kept
for 90 days unless part of an open request"); its fact in the city file's
`faq: privacy:` is where the default comes from, so the promise and the job
cannot drift apart. RETENTION_DAYS overrides it (a city bound by a shorter
legal limit); the answer must then be changed to say so.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Optional

import yaml

from bot.catalog import DEFAULT_CITY_FILE
from bot.settings import settings

# When neither RETENTION_DAYS nor the city file says.
DEFAULT_DAYS = 90
PROMISE = re.compile(r"\bkept for (\d+) days\b", re.IGNORECASE)


@lru_cache(maxsize=4)
def promised_days(path: Optional[str] = None) -> Optional[int]:
    """The days the city file's privacy facts promise ("kept for N days"); None when they say nothing."""
    chosen = Path(path or settings().city_file or DEFAULT_CITY_FILE)
    raw = yaml.safe_load(chosen.read_text(encoding="utf-8")) or {}
    facts = ((raw.get("faq") or {}).get("privacy") or {}).get("facts") or []
    for fact in facts:
        found = PROMISE.search(str(fact))
        if found:
            return int(found.group(1))
    return None


def retention_days() -> int:
    """Days a conversation is kept after its last activity (reads the city file once per process)."""
    configured = settings().retention_days
    if configured is not None:
        if configured < 1:
            raise ValueError(f"RETENTION_DAYS: must be 1 or more days, not {configured}")
        return configured
    return promised_days() or DEFAULT_DAYS


def cutoff(now: datetime, days: int) -> datetime:
    """The moment before which rows are older than the limit."""
    return now - timedelta(days=days)
