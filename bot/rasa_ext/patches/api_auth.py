"""Patch: the Rasa server answers nobody without the token outside its public paths, compared in constant time.

Rasa 3.6 serves its API to anyone when it is started without `--auth-token`
or a JWT secret, and compares the token with `==`. Here one request
middleware on the API app closes every path but the public ones (the
channels' webhooks, the web chat, the FAQ pages) to a caller without the
token: a missing token closes the API instead of opening it, the comparison
takes the same time whatever the caller guessed, and `/` and `/version` tell a
stranger nothing. JWT callers (`--jwt-secret`) go on to Rasa's own check.
"""

from __future__ import annotations

import functools
from typing import Any, Dict

from bot.rasa_ext.api_tokens import token_matches
from bot.rasa_ext.patches.registry import Patch

# What a city's proxy forwards; each route there checks its own caller (README "Security").
PUBLIC_PATH_PREFIXES = ("/webhooks/", "/chat/", "/faq/")
PUBLIC_PATHS = {"/chat"}


def is_public_path(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PATH_PREFIXES)


def replacements() -> Dict[str, Any]:
    """rasa.server.create_app adding the middleware that refuses callers without the token."""
    import rasa.server

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

    return {"rasa.server.create_app": create_app_closed_outside_public_paths}


PATCH = Patch(
    name="api_auth",
    targets=("rasa.server.create_app",),
    why=(
        "Rasa 3.6 opens its HTTP API to anyone when started without a token and compares tokens with `==`.\n"
        "Every path but the channels' public ones now needs the token, compared in constant time."
    ),
    replacements=replacements,
)
