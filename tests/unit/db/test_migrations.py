"""Alembic migrations of the assistant's database, and of the reference Open311 server's, on SQLite and PostgreSQL.

`tests/data/previous_release.*.sql` are dumps of a database made by the
previous release (its `create_tables`, on each database, with a few rows in
every table: `sqlite3 .dump`, `pg_dump --inserts --no-owner --no-privileges`).
"""

from __future__ import annotations

import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bench.databases import create_database, drop_database
from bot.db import migrate
from bot.db.engine import Database, create_engine
from bot.db.schema import metadata, report_outbox, staff_users
from bot.open311 import schema as open311_schema
from bot.open311.store import NewRequest, RequestStore

POSTGRES_URL = os.environ.get("SCALE_OUT_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
FIXTURES = Path(__file__).resolve().parents[2] / "data"
RENAMED = {"request_subscriptions": "report_subscriptions"}  # previous release's name -> today's
# Added since the previous release: new tables start empty, new columns with these values in the old rows.
NEW_TABLES = {"resident_languages", "alert_translations", "retention_holds", "answer_versions", "survey_answers"}
NEW_TABLES |= {"job_feeds", "job_postings_seen", "job_subscriptions", "job_notifications"}
NEW_TABLES |= {"messenger_media", "webchat_photos", "alert_page_posts", "update_fallbacks"}
NEW_COLUMNS = {
    "report_outbox": {"language": None, "closed_at": None},  # the fixture's request 1001 is still open
    "alerts": {
        "faq_url": None,
        "revision": 1,
        "updated_at": None,
        "approved_by": None,
        "approved_at": None,
        "sent_by": None,
        "sent_at": None,
        "publish_to_page": False,  # alerts from before were never published on the Page
    },
    "alert_deliveries": {"language": None},
    # existing accounts become agents, the least role; ann of the fixture never signed in
    "staff_users": {"role": "agent", "last_sign_in_at": None},
    # nobody has written on Messenger or Instagram before the channel existed
    "contacts": {"last_message_at": None},
}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh database on the local PostgreSQL (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'citybot.db'}"
        return
    url = create_database(POSTGRES_URL, "citybot_test_migrations")
    try:
        yield url
    finally:
        drop_database(POSTGRES_URL, url)


def load_previous_release(url: str) -> None:
    dialect = sa.engine.make_url(url).get_backend_name()
    dump = (FIXTURES / f"previous_release.{dialect}.sql").read_text()
    if dialect == "sqlite":
        with sqlite3.connect(sa.engine.make_url(url).database) as connection:
            connection.executescript(dump)
        connection.close()
        return
    engine = sa.create_engine(url)
    try:
        raw = engine.raw_connection()
        try:
            raw.cursor().execute(dump)
            raw.commit()
        finally:
            raw.close()
    finally:
        engine.dispose()


def all_rows(url: str) -> Dict[str, List[Dict[str, object]]]:
    """Every row (column -> value) of every table but the version tables, in a stable order, by table name."""
    engine = sa.create_engine(url)
    try:
        reflected = sa.MetaData()
        reflected.reflect(engine)
        with engine.connect() as connection:
            return {
                name: sorted((dict(row._mapping) for row in connection.execute(sa.select(table))), key=repr)
                for name, table in reflected.tables.items()
                if not name.endswith("alembic_version")
            }
    finally:
        engine.dispose()


def differences(url: str, target: sa.MetaData, migrations: migrate.Migrations) -> list:
    """What Alembic's autogenerate finds between the database and `target` (empty: they match)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "version_table": migrations.version_table,
                    "include_name": migrate.only_tables_of(target),
                },
            )
            assert migrate.current(connection, migrations) == migrate.head(migrations)
            return compare_metadata(context, target)
    finally:
        engine.dispose()


def test_the_previous_release_database_is_upgraded_with_every_row(empty_url: str) -> None:
    load_previous_release(empty_url)
    before = all_rows(empty_url)
    previous_names = {new: old for old, new in RENAMED.items()}
    assert set(before) == {previous_names.get(name, name) for name in metadata.tables} - NEW_TABLES
    assert all(before.values()), "the fixture has rows in every table"
    migrate.upgrade(empty_url)
    after = all_rows(empty_url)
    assert {name: after[name] for name in NEW_TABLES} == {name: [] for name in NEW_TABLES}
    for name, columns in NEW_COLUMNS.items():
        assert [{c: row[c] for c in columns} for row in after[name]] == [columns] * len(after[name]), name
    kept = {
        name: [{k: v for k, v in row.items() if k not in NEW_COLUMNS.get(name, ())} for row in rows]
        for name, rows in after.items()
        if name not in NEW_TABLES
    }
    assert kept == {RENAMED.get(name, name): rows for name, rows in before.items()}
    assert differences(empty_url, metadata, migrate.ASSISTANT) == []
    migrate.upgrade(empty_url)  # again: nothing to do, nothing lost
    assert all_rows(empty_url) == after


async def test_an_upgraded_database_keeps_working(empty_url: str) -> None:
    """New rows go on after the old ones: PostgreSQL's sequences came through the dump and the upgrade."""
    load_previous_release(empty_url)
    database = Database(empty_url)
    try:
        from bot.db.engine import utcnow
        from bot.db.schema import handoffs, report_subscriptions

        def add(connection: sa.engine.Connection) -> int:
            now = utcnow()
            connection.execute(
                report_subscriptions.insert().values(sender_id="s9", service_request_id="9", created_at=now)
            )
            return connection.execute(
                handoffs.insert().values(
                    sender_id="s9", channel="telegram", reason="asked", state="waiting", created_at=now, updated_at=now
                )
            ).inserted_primary_key[0]

        assert await database.run(add) == 3  # the fixture has handoffs 1 and 2
    finally:
        database.dispose()


def test_an_account_s_last_sign_in_comes_from_the_audit_log(empty_url: str) -> None:
    load_previous_release(empty_url)
    engine = sa.create_engine(empty_url)
    try:
        with engine.begin() as connection:
            for at in ("2026-12-01 08:00:00", "2026-12-02 09:30:00"):
                connection.execute(
                    sa.text("INSERT INTO audit_log (at, actor, action) VALUES (:at, 'ann', 'login')"), {"at": at}
                )
            connection.execute(  # a later action that is no sign-in
                sa.text("INSERT INTO audit_log (at, actor, action) VALUES ('2026-12-03 10:00:00', 'ann', 'logout')")
            )
        migrate.upgrade(empty_url)
        with engine.connect() as connection:
            (row,) = connection.execute(sa.select(staff_users.c.role, staff_users.c.last_sign_in_at)).all()
    finally:
        engine.dispose()
    assert row.role == "agent"
    assert row.last_sign_in_at.replace(tzinfo=None) == datetime(2026, 12, 2, 9, 30)


def test_a_report_already_heard_closed_gets_its_first_close_time(empty_url: str) -> None:
    load_previous_release(empty_url)
    engine = sa.create_engine(empty_url)
    try:
        with engine.begin() as connection:  # the fixture's request 1001 closed, reopened and closed again
            for number, (at, key) in enumerate(
                [("2026-12-03 10:00:00", "closed|fixed"), ("2026-12-02 09:30:00", "closed|"), ("2026-12-01", "open|")],
                start=2,
            ):
                connection.execute(
                    sa.text(
                        "INSERT INTO status_notifications (id, sender_id, service_request_id, change_key, text, state,"
                        " attempts, created_at) VALUES (:id, 's1', '1001', :key, 'update', 'sent', 1, :at)"
                    ),
                    {"id": number, "key": key, "at": at},
                )
        migrate.upgrade(empty_url)
        with engine.connect() as connection:
            (closed,) = connection.execute(sa.select(report_outbox.c.closed_at)).scalars().all()
    finally:
        engine.dispose()
    assert closed.replace(tzinfo=None) == datetime(2026, 12, 2, 9, 30)


def test_a_fresh_database_is_the_schema(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    migrate.upgrade(empty_url)
    assert differences(empty_url, metadata, migrate.ASSISTANT) == []
    assert all(not rows for rows in all_rows(empty_url).values())


def test_processes_opening_a_fresh_database_at_once_migrate_it_once(empty_url: str) -> None:
    with ThreadPoolExecutor(4) as pool:
        databases = list(pool.map(lambda _: Database(empty_url), range(4)))
    for database in databases:
        database.dispose()
    assert differences(empty_url, metadata, migrate.ASSISTANT) == []


def test_a_database_at_head_is_not_migrated_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'citybot.db'}"
    Database(url).dispose()
    monkeypatch.setattr(migrate, "upgrade_engine", lambda *_: pytest.fail("migrated again"))
    Database(url).dispose()


async def test_a_fresh_open311_database_is_its_schema(empty_url: str) -> None:
    async with RequestStore(empty_url) as store:
        assert (await store.create(NewRequest("POTHOLE", "Pothole"))).service_request_id == "1001"
    assert differences(empty_url, open311_schema.metadata, migrate.OPEN311) == []
    engine = create_engine(empty_url)  # the assistant's migrations leave the back office's tables alone
    try:
        migrate.upgrade_engine(engine)
    finally:
        engine.dispose()
    assert differences(empty_url, open311_schema.metadata, migrate.OPEN311) == []
