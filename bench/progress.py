"""Progress lines the benchmark prints while it runs."""
from __future__ import annotations


def say(message: str) -> None:
    print(f"==> [bench] {message}", flush=True)
