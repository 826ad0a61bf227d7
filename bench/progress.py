"""Progress lines the benchmark prints while it runs."""

from __future__ import annotations


def say(message: str) -> None:
    """A progress line for the person running the benchmark."""
    print(f"==> [bench] {message}", flush=True)
