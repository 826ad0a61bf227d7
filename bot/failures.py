"""Failures described for a log line without what the resident wrote.

An exception's message, and a traceback's source lines, can carry a
resident's text (a parse error quoting the input, an f-string in a raise).
The log gets the exception's type and where it happened, which is what
finding the bug needs; nothing else.
"""

from __future__ import annotations

import os
import traceback

MAX_FRAMES = 6


def failure_summary(error: BaseException) -> str:
    """'KeyError at bot/x.py:12 in parse <- bot/y.py:40 in handle' (innermost frame first)."""
    frames = traceback.extract_tb(error.__traceback__)[-MAX_FRAMES:]
    where = " <- ".join(f"{_short(frame.filename)}:{frame.lineno} in {frame.name}" for frame in reversed(frames))
    return f"{type(error).__name__} at {where}" if where else type(error).__name__


def _short(path: str) -> str:
    """A path from the package or site-packages down, not the machine's layout."""
    for marker in ("site-packages" + os.sep, os.sep + "bot" + os.sep, os.sep + "actions" + os.sep):
        index = path.rfind(marker)
        if index >= 0:
            return path[index + (len(marker) if marker.startswith("site") else 1) :]
    return os.path.basename(path)
