"""Secrets the assistant's own processes share: the Rasa HTTP API token and the action server's.

A city may set them (RASA_API_TOKEN, ACTION_SERVER_TOKEN, in the environment);
otherwise each is made once, random, and kept in the var folder readable by its
owner only, so every process of one install agrees and a restart keeps them.
Callers present a token as `?token=` (how Rasa's own API and its endpoint
configuration send one) or as `Authorization: Bearer`; either is compared in
constant time.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Any, Mapping, Optional

RASA_API_TOKEN = "RASA_API_TOKEN"
ACTION_SERVER_TOKEN = "ACTION_SERVER_TOKEN"
# File in the var folder holding each generated token.
TOKEN_FILES = {RASA_API_TOKEN: "rasa-api-token", ACTION_SERVER_TOKEN: "action-server-token"}


def local_secret(var_dir: Path, variable: str, env: Mapping[str, str]) -> str:
    """The token named `variable`: from `env` when set there, else from (or newly into) the var folder."""
    given = (env.get(variable) or "").strip()
    if given:
        return given
    path = var_dir / TOKEN_FILES[variable]
    try:
        kept = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        kept = ""
    if kept:
        return kept
    var_dir.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
    try:
        os.link(draft, path)  # fails when another process made the file first: theirs wins
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text(encoding="utf-8").strip()


def presented_token(request: Any) -> Optional[str]:
    """The token a Sanic request carries, as `?token=` or `Authorization: Bearer ...`."""
    token = request.args.get("token")
    if token:
        return str(token)
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def token_matches(presented: Optional[str], expected: Optional[str]) -> bool:
    """Whether a presented token is the expected one (never true when either is missing)."""
    if not presented or not expected:
        return False
    return hmac.compare_digest(presented.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))
