"""Patch: each endpoint keeps one HTTP session, its connections reused while fresh.

Every call to the action server opened a new HTTP session and a new TCP
connection. Here each endpoint keeps one session per event loop, whose
connections are reused while they are fresh, and the sessions are closed when
the Rasa server stops. Its JSON bodies (the tracker and, for a form's
validation, the domain) are encoded with ujson, a Rasa dependency, in about
half json's time; a body ujson refuses gets json's own encoding, as before.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any, Dict, List

import ujson

from bot.rasa_ext.patches.object_state import PerObject
from bot.rasa_ext.patches.registry import Patch

SESSION = "rasa.utils.endpoints.EndpointConfig.session"
CLOSE_RESOURCES = "rasa.core.run.close_resources"
TARGETS = (SESSION, CLOSE_RESOURCES)


# Idle connections to the action server are dropped before its Sanic server
# would drop them (KEEP_ALIVE_TIMEOUT, 5 s by default), so none is reused as it closes.
KEPT_ALIVE_S = 2.0


def encode_json(body: Any) -> str:
    """`json.dumps(body)`'s JSON text, by ujson when it can (the same values, read back)."""
    try:
        return ujson.dumps(body)
    except (OverflowError, TypeError, ValueError):
        return json.dumps(body)


# Each endpoint's sessions, by event loop.
SESSIONS: PerObject[Dict[Any, Any]] = PerObject()

# The sessions kept open, closed when the server stops.
OPEN_SESSIONS: List[Any] = []


def replacements() -> Dict[str, Any]:
    """EndpointConfig.session kept open per endpoint and event loop; closed when the server stops."""
    import asyncio

    import aiohttp
    import rasa.core.run
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    def session(self: EndpointConfig) -> contextlib.nullcontext:
        # Rasa uses the session in `async with`: a nullcontext leaves it open for the next request.
        loop = asyncio.get_running_loop()
        sessions: Dict[Any, aiohttp.ClientSession] = SESSIONS.setdefault(self, dict)
        kept = sessions.get(loop)
        if kept is None or kept.closed:
            auth = (
                aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"]) if self.basic_auth else None
            )
            kept = sessions[loop] = aiohttp.ClientSession(
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEPT_ALIVE_S),
                json_serialize=encode_json,
            )
            OPEN_SESSIONS.append(kept)
        return contextlib.nullcontext(kept)

    close_resources = rasa.core.run.close_resources

    async def close_resources_and_sessions(app: Any, loop: Any) -> None:
        try:
            await close_resources(app, loop)
        finally:
            while OPEN_SESSIONS:
                await OPEN_SESSIONS.pop().close()

    return {SESSION: session, CLOSE_RESOURCES: close_resources_and_sessions}


PATCH = Patch(
    name="endpoint_sessions",
    targets=TARGETS,
    why=(
        "Rasa opens a new HTTP session and TCP connection for every call to the action server.\n"
        "Each endpoint keeps one session per event loop, closed when the server stops."
    ),
    replacements=replacements,
)
