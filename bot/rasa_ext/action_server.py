"""The action server as citybot runs it: the Rasa SDK's, answering only the assistant's own Rasa server.

Run as `python -m bot.rasa_ext.action_server --port 5055 --actions actions`. The SDK
itself serves anyone (a hand-built tracker could file a forged report) and
answers a malformed call 500 with the request body and a traceback. Here every
call but `/health` needs the action server token (ACTION_SERVER_TOKEN, which
Rasa sends from endpoints.yml), a call that is not a well-formed action call
gets 400 before any action runs, and an action's failure answers 500 without
echoing anything; the log names only the error's type.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import zlib
from typing import Any, List, Optional

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.rasa_ext.api_tokens import ACTION_SERVER_TOKEN, presented_token, token_matches
from bot.settings import settings

logger = logging.getLogger(__name__)

PUBLIC_PATHS = {"/health"}
# Keys of an action call and the JSON type each must have when present.
ACTION_CALL_SHAPE = {"next_action": str, "sender_id": str, "tracker": dict, "domain": dict, "version": str}
TRACKER_SHAPE = {"sender_id": str, "slots": dict, "events": list, "latest_message": dict, "active_loop": dict}


def action_call_problem(call: Any) -> Optional[str]:
    """What makes a decoded body not an action call, or None when it is one."""
    if not isinstance(call, dict):
        return "the body is not a JSON object"
    if not isinstance(call.get("next_action"), str) or not isinstance(call.get("tracker"), dict):
        return "next_action (a string) and tracker (an object) are required"
    for shape, value in ((ACTION_CALL_SHAPE, call), (TRACKER_SHAPE, call["tracker"])):
        for key, kind in shape.items():
            if value.get(key) is not None and not isinstance(value[key], kind):
                return f"{key} must be a {'string' if kind is str else kind.__name__}"
    if not isinstance(call["tracker"].get("sender_id"), str):
        return "tracker.sender_id (a string) is required"
    return None


def decoded_body(request: Request) -> Any:
    """The body as JSON (deflated, as Rasa may send it, or not); ValueError when it is not."""
    body = request.body
    if request.headers.get("content-encoding") == "deflate":
        try:
            body = zlib.decompress(body)
        except zlib.error as error:
            raise ValueError("the body is not deflate data") from error
    return json.loads(body)


def refusal(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def guard(app: Sanic, token: str) -> None:
    """Add the token check, the action call check and an error handler that echoes nothing."""

    @app.middleware("request")
    async def check_call(request: Request) -> Optional[HTTPResponse]:
        if request.path in PUBLIC_PATHS:
            return None
        if not token_matches(presented_token(request), token):
            return refusal(401, "a valid action server token is required")
        if request.path == "/webhook" and request.method == "POST":
            try:
                call = decoded_body(request)
                problem = action_call_problem(call)
            except (ValueError, UnicodeDecodeError):
                problem = "the body is not JSON"
            if problem:
                return refusal(400, f"not an action call: {problem}")
            if request.headers.get("content-encoding") != "deflate":
                request.parsed_json = call  # the SDK reads `request.json`: the body is decoded once
        return None

    @app.exception(Exception)
    async def failed(request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, SanicException):
            return refusal(exception.status_code, str(exception.args[0]) if exception.args else "refused")
        logger.error("action call failed (%s)", type(exception).__name__)
        return refusal(500, "the action failed")


def create_app(actions_package: str, token: str) -> Sanic:
    """The SDK's app for `actions_package`, guarded."""
    from rasa_sdk.endpoint import create_app as create_sdk_app

    app = create_sdk_app(actions_package, cors_origins=None)
    guard(app, token)
    return app


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.rasa_ext.action_server", description=__doc__)
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--actions", default="actions", help="package holding the actions")
    args = parser.parse_args(argv)
    token = settings().action_server_token or ""
    if not token:
        raise SystemExit(f"{ACTION_SERVER_TOKEN} is not set: refusing to run actions for anyone who asks.")
    from rasa_sdk import utils

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    app = create_app(args.actions, token)
    host = settings().sanic_host
    logger.info("Action server on %s:%s", host, args.port)
    app.run(host, args.port, workers=utils.number_of_sanic_workers(), access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
