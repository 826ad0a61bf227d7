"""The part every messaging webhook's blueprint shares: HSTS, a health route, and its sender closed at stop."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Optional, Protocol

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.web.hsts import hsts_for_whole_app


class Closeable(Protocol):
    def aclose(self) -> Awaitable[None]: ...


def webhook_blueprint(name: str, sender: Callable[[], Optional[Closeable]], enabled: Callable[[], bool]) -> Blueprint:
    """A blueprint whose `GET /` says whether the channel is on, and that closes the channel's
    connections (`sender()`, read at stop) when the server stops."""
    hook = Blueprint(name, __name__)
    hsts_for_whole_app(hook)

    @hook.listener("after_server_stop")
    async def close_connections(_app: Any, _loop: Any) -> None:
        current = sender()
        if current is not None:
            await current.aclose()

    @hook.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok" if enabled() else "off"})

    return hook
