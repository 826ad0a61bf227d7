"""Patch: Rasa's HTTP API refuses every caller without the token, compared in constant time.

Rasa 3.6 serves its API to anyone when it is started without `--auth-token`
or a JWT secret, and compares the token with `==`. Here a missing token
closes the API instead of opening it, and the comparison takes the same time
whatever the caller guessed. JWT callers (`--jwt-secret`) are checked by
Rasa as before. Beyond the API's own routes, every path outside the public
ones (the channels' webhooks, the web chat, the FAQ pages) needs the token
too: `/` and `/version` tell a stranger nothing.
"""
from __future__ import annotations

import functools
from http import HTTPStatus
from inspect import isawaitable
from typing import Any, Callable, Optional

from bot.api_tokens import token_matches

# What a city's proxy forwards; each route there checks its own caller (README "Security").
PUBLIC_PATH_PREFIXES = ("/webhooks/", "/chat/", "/faq/")
PUBLIC_PATHS = {"/chat"}


def is_public_path(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PATH_PREFIXES)


def require_api_token() -> None:
    """rasa.server.requires_auth, closed without a token and comparing in constant time."""
    import rasa.server
    from rasa.server import ErrorResponse

    rasa_requires_auth = rasa.server.requires_auth

    def requires_auth(app: Any, token: Optional[str] = None) -> Callable[[Any], Any]:
        def decorator(handler: Any) -> Any:
            checked_by_jwt = rasa_requires_auth(app, None)(handler)

            @functools.wraps(handler)
            async def decorated(request: Any, *args: Any, **kwargs: Any) -> Any:
                if token_matches(request.args.get("token"), token):
                    result = handler(request, *args, **kwargs)
                    return await result if isawaitable(result) else result
                if app.config.get("USE_JWT"):
                    return await checked_by_jwt(request, *args, **kwargs)
                raise ErrorResponse(HTTPStatus.UNAUTHORIZED, "NotAuthenticated", "User is not authenticated.")

            return decorated

        return decorator

    rasa.server.requires_auth = requires_auth  # type: ignore[assignment]
    create_app = rasa.server.create_app

    @functools.wraps(create_app)
    def create_app_closed_outside_public_paths(*args: Any, **kwargs: Any) -> Any:
        app = create_app(*args, **kwargs)
        token = kwargs.get("auth_token")

        @app.middleware("request")
        async def only_public_paths_without_token(request: Any) -> Any:
            if is_public_path(request.path) or token_matches(request.args.get("token"), token):
                return None
            if app.config.get("USE_JWT") and request.headers.get("authorization"):
                return None  # Rasa checks the JWT on its routes
            from sanic import response

            return response.json({"status": "failure", "reason": "NotAuthenticated"}, status=401)

        return app

    rasa.server.create_app = create_app_closed_outside_public_paths  # type: ignore[assignment]
