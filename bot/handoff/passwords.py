"""Staff passwords: argon2id hashing and checking, off the event loop.

One argon2 verify costs tens of milliseconds of CPU and its memory cost in
RAM (argon2's point). Run on the event loop, a burst of sign-ins would stall every console page and the live
queue, so every hash and verify runs in a small thread pool of its own
(argon2 releases the GIL while it works). The pool is bounded
(CONSOLE_HASH_THREADS, default half the cores, at least 1, at most 4): a flood
of sign-ins queues up there instead of starting a thread (and its memory) each.
"""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional, TypeVar

from bot.settings import settings

T = TypeVar("T")

MAX_HASH_THREADS = 4


def pool_size() -> int:
    """Threads that may hash at once (CONSOLE_HASH_THREADS; default half the cores, 1-4)."""
    try:
        wanted = int(settings().console_hash_threads or 0)
    except ValueError:
        wanted = 0
    if wanted <= 0:
        wanted = (os.cpu_count() or 2) // 2
    return max(1, min(MAX_HASH_THREADS, wanted))


@functools.lru_cache(maxsize=None)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=pool_size(), thread_name_prefix="argon2")


@functools.lru_cache(maxsize=None)
def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters


async def _off_loop(work: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(_pool(), work, *args)


async def hash_password(password: str) -> str:
    """A new argon2id hash of the password (computed in the hashing pool)."""
    return await _off_loop(_hasher().hash, password)


def _matches(digest: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(digest, password))
    except (VerificationError, InvalidHashError):  # VerifyMismatchError is a VerificationError
        return False


async def verify(digest: str, password: str) -> bool:
    """Whether the password matches the stored hash (checked in the hashing pool); never raises on a mismatch."""
    return await _off_loop(_matches, digest, password or "")


def needs_rehash(digest: str) -> bool:
    """Whether a hash was made with other parameters than today's (a string parse, no hashing)."""
    return bool(_hasher().check_needs_rehash(digest))


# A real hash to verify against when the username is unknown, so a sign-in takes
# as long for a name that exists as for one that does not.
_DUMMY_HASH: Optional[str] = None


async def dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = await hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH
