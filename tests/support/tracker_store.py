"""The settings Rasa's SQL tracker store takes (endpoints.yml's `tracker_store:`) for a database URL."""

from __future__ import annotations

from typing import Any, Dict

from sqlalchemy.engine import make_url


def tracker_store_settings(url: str) -> Dict[str, Any]:
    """`dialect`, `db` and, for a server, `host`, `port`, `username`, `password` (SQLite: the file is `db`)."""
    parts = make_url(url)
    if parts.get_backend_name() == "sqlite":
        return {"dialect": "sqlite", "db": parts.database}
    return {
        "dialect": parts.get_backend_name(),
        "host": parts.host,
        "port": parts.port,
        "username": parts.username,
        "password": parts.password,
        "db": parts.database,
    }
