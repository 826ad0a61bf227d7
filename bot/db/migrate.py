"""Alembic migrations, applied programmatically: `upgrade(url)` brings a database to the newest schema.

`citybot run` upgrades once before starting its processes; every process also
checks the revision when it opens a `Database` and upgrades if it is behind,
under a lock (a PostgreSQL advisory lock, a lock file beside a SQLite file), so
processes starting together migrate once. The reference Open311 server's own
database uses the same machinery with its own scripts (`OPEN311`).

`python -m bot.db.migrate revision -m "what changed"` writes a new revision from
the difference between `bot.db.schema` and the newest migration.
"""

from __future__ import annotations

import argparse
import fcntl
import tempfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from bot.db.engine import create_engine, default_database_url

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Migrations:
    """One database's migration scripts and the table that records its revision."""

    script_location: Path
    version_table: str = "alembic_version"

    def config(self, connection: Optional[Connection] = None) -> Config:
        config = Config()
        config.set_main_option("script_location", str(self.script_location))
        config.set_main_option("version_table", self.version_table)
        config.attributes["connection"] = connection
        return config


ASSISTANT = Migrations(PACKAGE_ROOT / "db" / "migrations")
# Its own version table, so the back office may share a PostgreSQL database with the assistant.
OPEN311 = Migrations(PACKAGE_ROOT / "open311" / "migrations", version_table="open311_alembic_version")


@lru_cache(maxsize=None)
def head(migrations: Migrations = ASSISTANT) -> str:
    """The newest revision of `migrations`."""
    revision = ScriptDirectory.from_config(migrations.config()).get_current_head()
    assert revision is not None, f"no migrations in {migrations.script_location}"
    return revision


def current(connection: Connection, migrations: Migrations = ASSISTANT) -> Optional[str]:
    """The revision the database is at (None: never migrated)."""
    context = MigrationContext.configure(connection, opts={"version_table": migrations.version_table})
    return context.get_current_revision()


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """Hold a lock file beside a SQLite database file until the migration has committed."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def upgrade_engine(engine: Engine, migrations: Migrations = ASSISTANT) -> None:
    """Apply the missing revisions, one migrating process at a time, in one transaction.

    (SQLite commits its DDL as it goes; PostgreSQL applies all of it or nothing.)
    """
    with _sqlite_file_lock(engine), engine.connect() as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            key = zlib.crc32(migrations.version_table.encode())
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})  # until commit
        command.upgrade(migrations.config(connection), "head")


def only_tables_of(metadata: sa.MetaData) -> Callable[[Optional[str], str, Any], bool]:
    """Autogenerate's `include_name`: Rasa's tracker store, or the other migrations, may share the database."""

    def include(name: Optional[str], type_: str, _parents: Any) -> bool:
        return type_ != "table" or name in metadata.tables

    return include


def ensure_head(engine: Engine, migrations: Migrations = ASSISTANT) -> None:
    """Upgrade the database unless it is at the newest revision already (the usual, quick case)."""
    with engine.connect() as connection:
        at = current(connection, migrations)
    if at != head(migrations):
        upgrade_engine(engine, migrations)


def upgrade(url: str, migrations: Migrations = ASSISTANT) -> None:
    """`alembic upgrade head` on the database at `url`."""
    engine = create_engine(url)
    try:
        upgrade_engine(engine, migrations)
    finally:
        engine.dispose()


def run_env(context: Any, metadata: sa.MetaData) -> None:
    """The body of a migrations folder's env.py: run on the connection `upgrade_engine` passes."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("migrations run through bot.db.migrate, which passes the connection")

    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=context.config.get_main_option("version_table"),
        include_name=only_tables_of(metadata),
        render_as_batch=True,  # SQLite alters tables by copying them
    )
    with context.begin_transaction():
        context.run_migrations()


def write_revision(message: str, migrations: Migrations = ASSISTANT) -> None:
    """Write a revision from the difference between the schema and a scratch database at head."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{Path(scratch) / 'head.db'}")
        try:
            upgrade_engine(engine, migrations)
            with engine.connect() as connection, connection.begin():
                command.revision(migrations.config(connection), message=message, autogenerate=True)
        finally:
            engine.dispose()


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.db.migrate", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("upgrade", help="bring a database to the newest revision")
    up.add_argument("--url", help="database URL (default: DATABASE_URL, else the var folder's SQLite file)")
    new = commands.add_parser("revision", help="write a new revision from the schema's changes")
    new.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    if args.command == "upgrade":
        upgrade(args.url or default_database_url())
    else:
        write_revision(args.message)


if __name__ == "__main__":
    main()
