"""Reports as the back office sees them: their request numbers, their stored rows, fresh addresses."""

from __future__ import annotations

import asyncio
import itertools
import re
from typing import Optional

from bot.open311.store import RequestStore, StoredRequest


def stored(stack, request_id: str) -> Optional[StoredRequest]:
    """The request as the reference back office stored it (attributes and contact included)."""

    async def read() -> Optional[StoredRequest]:
        async with RequestStore(stack.var_dir / "open311.db") as store:
            return await store.get(request_id)

    return asyncio.run(read())


def request_number(reply: str) -> str:
    """The request number the assistant gave the resident in `reply`."""
    match = re.search(r"request number is (\w[\w-]*)", reply)
    assert match, f"no request number in: {reply!r}"
    return match.group(1)


_street_numbers = itertools.count(100)


def unique_address() -> str:
    """A new address per report, so no report looks like a duplicate of another."""
    return f"{next(_street_numbers)} Elm Street"
