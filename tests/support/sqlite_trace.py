"""The statements SQLite runs for an engine, as SQLite sees them (BEGIN and COMMIT included)."""

from __future__ import annotations

import sqlite3
from typing import List

import sqlalchemy as sa


def traced(engine: sa.engine.Engine) -> List[str]:
    """The statements the engine's connections run from now on, other than PRAGMAs, filled in as they run."""
    statements: List[str] = []
    engine.dispose()  # new connections, each traced from its start

    def record(statement: str) -> None:
        if not statement.startswith("PRAGMA"):
            statements.append(statement)

    @sa.event.listens_for(engine, "connect")
    def trace(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.set_trace_callback(record)

    return statements
