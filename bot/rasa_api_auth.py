"""Patch: Rasa's HTTP API refuses every caller without the token, compared in constant time.

Rasa 3.6 serves its API to anyone when it is started without `--auth-token`
or a JWT secret, and compares the token with `==`. Here a missing token
closes the API instead of opening it, and the comparison takes the same time
whatever the caller guessed. JWT callers (`--jwt-secret`) are checked by
Rasa as before.
"""
from __future__ import annotations

import functools
from http import HTTPStatus
from inspect import isawaitable
from typing import Any, Callable, Optional

from bot.api_tokens import token_matches


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
