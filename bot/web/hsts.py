"""Strict-Transport-Security on every response once the assistant is served over HTTPS.

A resident who once reached the assistant over https must never be talked into
plain http again (a café Wi-Fi stripping TLS). Whether it is served over https
is what PUBLIC_URL says: TLS ends at the city's proxy, so the request itself
arrives as plain http.
"""

from __future__ import annotations

from typing import Any, Optional

from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic.response import BaseHTTPResponse

from bot.settings import settings

HSTS_HEADER = "Strict-Transport-Security"
HSTS_VALUE = "max-age=31536000; includeSubDomains"


def served_over_https() -> bool:
    """Whether PUBLIC_URL, the address residents use, is https."""
    return (settings().public_url or "").strip().lower().startswith("https://")


async def add_hsts(_request: Request, response: Optional[BaseHTTPResponse]) -> None:
    """A Sanic response middleware: the header on every response."""
    if response is not None:
        response.headers.setdefault(HSTS_HEADER, HSTS_VALUE)


def hsts_for_whole_app(blueprint: Blueprint) -> None:
    """Have the app serving `blueprint` send HSTS on all its responses, not only the blueprint's.

    Sanic 21.12 applies a blueprint's own middleware to that blueprint's routes
    only; this registers `add_hsts` on the app instead (once, however many
    blueprints ask), so the API, 404s and every channel get it too.
    """

    @blueprint.listener("before_server_start")
    async def register(app: Sanic, _loop: Any) -> None:
        if served_over_https():
            app.register_middleware(add_hsts, "response")
