"""The assistant's database: SQLite by default, PostgreSQL with DATABASE_URL.

SQLAlchemy Core keeps one schema for both databases (`bot.db.schema`); calls
run in a worker thread so the event loop never blocks. Opening a `Database`
brings its schema to the newest migration first (`bot.db.migrate`).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.settings import settings

T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def var_dir() -> Path:
    """Where the assistant keeps its files (CITYBOT_VAR_DIR, else var/), created if need be."""
    path = settings().var_dir
    path.mkdir(parents=True, exist_ok=True)
    return path


def sqlite_url(folder: Path) -> str:
    """The assistant's SQLite file in `folder`."""
    return f"sqlite:///{folder / 'citybot.db'}"


def default_database_url() -> str:
    """DATABASE_URL, else a SQLite file in the var folder."""
    return settings().database_url or sqlite_url(var_dir())


def tracker_url(database_url: Optional[str], folder: Path) -> str:
    """Where Rasa's SQL tracker store keeps the conversations: DATABASE_URL, else `rasa.db` in `folder`."""
    return database_url or f"sqlite:///{folder / 'rasa.db'}"


def default_tracker_url() -> str:
    """The tracker store of this process's settings (what `citybot run` gives the Rasa server)."""
    return tracker_url(settings().database_url, settings().var_dir)


def create_engine(url: str) -> Engine:
    """An engine for the assistant's databases; SQLite files in WAL mode, shared by several processes."""
    if url.startswith("sqlite"):
        # Pooled connections (SQLAlchemy 1.4 would open one per query on a file).
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=sa.pool.QueuePool,
            pool_size=5,
            max_overflow=10,
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets the Rasa server, the action server and workers share the file.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout=30000")
            use_wal(cursor)
            # In WAL mode, NORMAL loses nothing when a process crashes (only a power
            # cut can lose the last commits) and spares an fsync on every commit.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def use_wal(cursor: Any, wait: float = 30.0) -> None:
    """Put the SQLite file in WAL mode (kept in the file). Switching needs the file to itself and SQLite
    answers "locked" at once, without its busy wait, while another connection (a process opening the
    same new file at the same moment) holds it: try again for up to `wait` seconds."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # at connect time, in the thread opening the connection


def raw_transaction(engine: Engine, work: Callable[[Any], T]) -> T:
    """Run `work(cursor)` in one transaction on a pooled DB-API connection, in plain SQL.

    For statements run several times a message, where SQLAlchemy's statement
    machinery costs more than the database work itself.
    """
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        result = work(cursor)
        connection.commit()
        return result
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()  # back to the pool


def sqlite_insert(engine: Engine, statement: str, parameters: Sequence[Any]) -> int:
    """Run one INSERT on a SQLite file as its own transaction and return the last row's id.

    The file has one write lock. Inside a driver transaction the lock is held
    from the first write to the commit, across the calls between them, each of
    which waits for the GIL while the event loop runs; another process wanting
    the lock meanwhile sleeps in SQLite's busy handler, whose waits grow to
    100 ms. Run alone (autocommit), the statement takes and releases the lock
    within one call into SQLite.
    """
    connection = engine.raw_connection()
    driver = connection.connection  # the sqlite3.Connection
    try:
        driver.isolation_level = None  # autocommit: the statement is its own transaction
        try:
            return int(driver.execute(statement, parameters).lastrowid or 0)
        finally:
            driver.isolation_level = ""  # back to the driver's default for the pool's next user
    finally:
        connection.close()  # back to the pool


def upsert_row(
    connection: Connection,
    table: sa.Table,
    key: Mapping[str, Any],
    values: Mapping[str, Any],
    inserted: Optional[Mapping[str, Any]] = None,
) -> None:
    """Update the row of `key` with `values`, or insert it (with `inserted` too, the columns a new row starts with).

    A row another process inserted a moment before ours is updated instead.
    """
    where = sa.and_(*(table.c[name] == value for name, value in key.items()))
    if connection.execute(table.update().where(where).values(**values)).rowcount:
        return
    try:
        with connection.begin_nested():
            connection.execute(table.insert().values(**key, **values, **(inserted or {})))
    except sa.exc.IntegrityError:
        connection.execute(table.update().where(where).values(**values))


def placeholder(engine: Engine) -> str:
    """The DB-API parameter mark of the engine's driver ("?" for SQLite, "%s" for psycopg2)."""
    return "?" if engine.dialect.paramstyle == "qmark" else "%s"


class Database:
    """One database, migrated to the newest schema when opened."""

    def __init__(self, url: Optional[str] = None) -> None:
        self.url = url or default_database_url()
        self.engine = create_engine(self.url)
        from bot.db.migrate import ensure_head  # here: the migrations open databases with this module

        ensure_head(self.engine)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    async def run(self, work: Callable[[Connection], T]) -> T:
        """Run `work(connection)` in one transaction, off the event loop."""

        def in_transaction() -> T:
            with self.engine.begin() as connection:
                return work(connection)

        return await asyncio.to_thread(in_transaction)

    def dispose(self) -> None:
        self.engine.dispose()


_database: Optional[Database] = None


def database() -> Database:
    """The process-wide database for the configured URL."""
    global _database
    if _database is None:
        _database = Database()
    return _database


def reset_database() -> None:
    """Forget the process-wide database (tests point it elsewhere)."""
    global _database
    if _database is not None:
        _database.dispose()
    _database = None
