"""Which send failures are worth another attempt, and how long a channel asked us to wait."""

from __future__ import annotations

import warnings
from typing import Any


def is_permanent(error: BaseException) -> bool:
    """A failure that another attempt would not fix (the channel refused this resident)."""
    try:
        from telegram.error import BadRequest, Forbidden, InvalidToken

        if isinstance(error, (Forbidden, BadRequest, InvalidToken)):
            return True  # blocked the bot, chat not found, bad token
    except ImportError:  # pragma: no cover - telegram is a dependency
        pass
    if getattr(error, "temporary", False) is True:
        return False  # GraphSendError: Meta throttling (a 400 with code 613) or a temporary failure
    status = getattr(error, "status", None)  # TwilioSendError, GraphSendError: HTTP status of the answer
    if isinstance(status, int) and 400 <= status < 500 and status != 429:
        return True
    return False


def retry_after(error: BaseException) -> float:
    """The wait a channel asked for (Telegram flood control), else 0."""
    with warnings.catch_warnings():  # PTB warns while retry_after moves to timedelta
        warnings.simplefilter("ignore")
        wait: Any = getattr(error, "retry_after", None)  # seconds, or a timedelta in newer PTB
    try:
        return float(wait.total_seconds() if hasattr(wait, "total_seconds") else wait or 0)
    except (TypeError, ValueError):
        return 0.0


def short(error: BaseException) -> str:
    """The error as stored on the delivery row and logged (bounded)."""
    return f"{type(error).__name__}: {error}"[:500]
