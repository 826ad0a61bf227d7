"""bot.db.engine: SQLite files shared by several processes."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import List

import pytest

from bot.db import engine as db_engine
from tests.support.sqlite_trace import traced


@pytest.fixture
def engine(tmp_path: Path):
    engine = db_engine.create_engine(f"sqlite:///{tmp_path / 'shared.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    yield engine
    engine.dispose()


def test_an_insert_is_one_statement_with_no_transaction_around_it(engine):
    statements = traced(engine)
    last_id = db_engine.sqlite_insert(engine, "INSERT INTO notes (text) VALUES (?), (?)", ["one", "two"])

    assert statements == ["INSERT INTO notes (text) VALUES ('one'), ('two')"]  # no BEGIN, no COMMIT
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT max(id), count(*) FROM notes").one() == (last_id, 2)


def test_the_pooled_connection_goes_back_to_the_drivers_transactions(engine):
    db_engine.sqlite_insert(engine, "INSERT INTO notes (text) VALUES (?)", ["one"])
    connection = engine.raw_connection()
    try:
        assert connection.connection.isolation_level == ""
    finally:
        connection.close()


def test_an_insert_waits_for_another_writer_and_then_goes_in(engine, tmp_path: Path):
    """Another process's transaction holds the write lock: the insert waits for it, then is stored."""
    other = sqlite3.connect(str(tmp_path / "shared.db"))
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO notes (text) VALUES ('other')")
    done = threading.Event()
    result: List[int] = []

    def insert() -> None:
        result.append(db_engine.sqlite_insert(engine, "INSERT INTO notes (text) VALUES (?)", ["ours"]))
        done.set()

    thread = threading.Thread(target=insert)
    thread.start()
    assert not done.wait(0.2)  # held back by the other transaction
    other.commit()
    thread.join(5)
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT id, text FROM notes ORDER BY id").all()
    assert [tuple(row) for row in rows] == [(1, "other"), (result[0], "ours")]
    other.close()
