"""Scale-out: two Rasa server processes share PostgreSQL and Redis, or (one machine) SQLite files.

The messages of each conversation go to the two processes in turn (as a load
balancer without sticky sessions sends them), with several conversations in
flight at once and each Rasa server running the actions itself. Every
conversation must complete correctly, and the conversation stored in
PostgreSQL must hold each message once, answered once, with exactly the answer
the resident received.

Needs PostgreSQL (SCALE_OUT_POSTGRES_URL, default the local `test` database with
trust auth) and Redis (SCALE_OUT_REDIS_URL, default 127.0.0.1:6379), as CI has.
Each run works in a database of its own, created here and dropped afterwards,
and in a Redis database of its own choosing. The same tests then run on one
machine's setup without either: SQLite files and the database lock store.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple
from urllib.parse import urlsplit

import httpx
import pytest

from bench.databases import create_database, drop_database
from bot.catalog import load_city
from bot.process.procs import free_port, stop_all
from bot.process.stack import FILE_LOCK_STORE, StackConfig
from bot.process.stack_processes import migrate_database, stack_processes
from tests.support.stack import RASA_API_TOKEN

pytestmark = pytest.mark.e2e

POSTGRES_URL = os.environ.get("SCALE_OUT_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SCALE_OUT_REDIS_URL", "redis://127.0.0.1:6379")

CITY = load_city()

# Reports filed in the conversations: opening and answers by attribute code.
REPORTS = {
    "POTHOLE": ("I need to report a pothole", {"size": "it's a big one", "lane": "bike lane"}),
    "GRAFFITI": ("I want to report graffiti", {"surface": "bridge or overpass", "offensive": "no"}),
    "MISSED_TRASH": ("my garbage wasn't picked up today", {"bin_type": "recycling", "set_out_on_time": "yes"}),
    "STREETLIGHT": ("the street light on my block is out", {"problem": "flickering", "pole_number": "skip"}),
    "FALLEN_TREE": ("a big tree branch fell down", {"blocking": "sidewalk"}),
    "WATER_LEAK": ("water is leaking from the street", {"source": "fire hydrant"}),
}


@pytest.fixture(scope="module", params=["postgresql-redis", "sqlite"])
def scaled(request: pytest.FixtureRequest, trained_model: Path) -> Iterator[StackConfig]:
    """The whole assistant with two Rasa servers, on PostgreSQL and Redis or on SQLite files."""
    if request.param == "sqlite":
        yield from two_servers(request, trained_model, database_url=None, extra_env={})
        return
    try:
        database_url = create_database(POSTGRES_URL, "citybot_scale")
    except Exception as error:
        pytest.fail(f"the scale-out test needs PostgreSQL at {POSTGRES_URL}: {error}")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=5).ping()
    except Exception as error:
        drop_database(POSTGRES_URL, database_url)
        pytest.fail(f"the scale-out test needs Redis at {REDIS_URL}: {error}")
    parts = urlsplit(REDIS_URL)
    redis_url = f"{parts.scheme}://{parts.netloc}/{random.randint(1, 15)}"  # a Redis database of this run's own
    try:
        yield from two_servers(request, trained_model, database_url=database_url, extra_env={"REDIS_URL": redis_url})
    finally:
        drop_database(POSTGRES_URL, database_url)


def two_servers(
    request: pytest.FixtureRequest, trained_model: Path, database_url: Optional[str], extra_env: Dict[str, str]
) -> Iterator[StackConfig]:
    """Start two Rasa servers and the rest of the stack on the given storage; stop them afterwards."""
    var_dir = Path(tempfile.mkdtemp(prefix="citybot-scale-"))  # kept, with its logs, when a test fails
    failed_before = request.session.testsfailed
    config = StackConfig(
        rasa_port=free_port(),
        extra_rasa_ports=[free_port()],
        action_port=free_port(),
        open311_port=free_port(),
        var_dir=var_dir,
        model_path=trained_model,
        database_url=database_url,
        rasa_workers=1,
        extra_env={
            **extra_env,
            "CITYBOT_SECRET_KEY": "test-secret-key",
            "RASA_API_TOKEN": RASA_API_TOKEN,
            "CONSOLE_PORT": str(free_port()),
        },
    )
    assert config.shares_locks and len(config.rasa_ports()) == 2
    assert config.scales_out == bool(database_url)
    migrate_database(config)  # as `citybot run` does
    processes = stack_processes(config)
    try:
        for process in processes:  # start everything at once: the two Rasa servers load in parallel
            process.start()
        for process in processes:
            process.wait_ready(300)
        yield config
    finally:
        stop_all(processes)
        if request.session.testsfailed == failed_before and sys.exc_info()[0] is None:
            shutil.rmtree(var_dir, ignore_errors=True)
        else:
            print(f"\nscale-out logs kept in {var_dir / 'logs'}")


class Resident:
    """A conversation whose messages go to the Rasa servers in turn."""

    def __init__(self, config: StackConfig, name: str, first: int) -> None:
        self.urls = [f"http://127.0.0.1:{port}" for port in config.rasa_ports()]
        self.sender = f"scale-{name}-{random.randrange(10**9)}"
        self.first = self.turn = first
        self.sent: List[str] = []
        self.received: List[List[str]] = []

    def text(self, message: str) -> str:
        base = self.urls[self.turn % len(self.urls)]
        self.turn += 1
        response = httpx.post(
            f"{base}/webhooks/rest/webhook",
            json={"sender": self.sender, "message": message},
            params={"token": RASA_API_TOKEN},
            timeout=120,
        )
        response.raise_for_status()
        replies = [m.get("text") or "" for m in response.json()]
        self.sent.append(message)
        self.received.append(replies)
        return "\n".join(replies)

    @property
    def transcript(self) -> str:
        lines = [f"{self.sender}:"]
        for index, (message, replies) in enumerate(zip(self.sent, self.received, strict=True)):
            lines.append(f"> {message}   [server {(self.first + index) % len(self.urls)}]")
            lines.extend(f"< {reply}" for reply in replies)
        return "\n".join(lines)

    def tracker(self, index: int = 0) -> Dict[str, Any]:
        response = httpx.get(
            f"{self.urls[index]}/conversations/{self.sender}/tracker", params={"token": RASA_API_TOKEN}, timeout=60
        )
        response.raise_for_status()
        return response.json()


def asked_attribute(reply: str, code: str):
    for attribute in CITY.service(code).attributes:
        if attribute.description.rstrip("?") in reply:
            return attribute
    return None


def report_conversation(config: StackConfig, code: str, number: int) -> Tuple[Resident, str, str]:
    """Greet, ask a city question, file a whole report, then ask for its status."""
    talk = Resident(config, code.lower(), first=number)
    opening, answers = REPORTS[code]
    assert talk.text("hello"), "no greeting"
    assert "8:30" in talk.text("when is city hall open?"), talk.transcript
    reply = talk.text(opening)
    for _ in range(4):
        attribute = asked_attribute(reply, code)
        if attribute is None:
            break
        reply = talk.text(answers[attribute.code])
    assert "Where is it?" in reply, talk.transcript
    address = f"{number + 400} Scale Street"
    assert "describe the problem" in talk.text(address), talk.transcript
    assert "updates" in talk.text(f"Filed by the scale-out test for {code.lower()}"), talk.transcript
    reply = talk.text("skip")
    assert "Here's your report" in reply and address in reply, talk.transcript
    reply = talk.text("yes")
    match = re.search(r"request number is (\w[\w-]*)", reply)
    if match:
        request_id = match.group(1)
    else:
        # The outbox's worker took the report first: it files it in the background.
        reference = re.search(r"saved with reference (R-[A-Z0-9]+)", reply)
        assert reference, talk.transcript
        request_id = filed_in_background(config, reference.group(1))
        assert request_id, f"{reference.group(1)} never reached the back office\n{talk.transcript}"
    reply = talk.text(f"what's happening with my request {request_id}?")
    assert f"Request {request_id}" in reply, talk.transcript
    return talk, request_id, address


def filed_in_background(config: StackConfig, reference: str) -> str:
    """The request number the worker got for a stored report (waits up to a minute)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = httpx.get(f"{config.effective_open311_url}/requests.json", timeout=30).json()
        ids = [r["service_request_id"] for r in found if f"[ref {reference}]" in (r.get("description") or "")]
        if ids:
            return ids[0]
        time.sleep(1)
    return ""


def turns_in_tracker(tracker: Dict[str, Any]) -> List[Tuple[str, List[str]]]:
    """(user message, bot answers) for every user turn stored in the tracker."""
    turns: List[Tuple[str, List[str]]] = []
    for event in tracker["events"]:
        if event.get("event") == "user":
            turns.append((event.get("text") or "", []))
        elif event.get("event") == "bot" and turns:
            turns[-1][1].append(event.get("text") or "")
    return turns


def test_conversations_spread_over_two_rasa_servers(scaled: StackConfig):
    codes = sorted(REPORTS)
    with ThreadPoolExecutor(max_workers=len(codes)) as pool:
        results = list(pool.map(lambda item: report_conversation(scaled, item[1], item[0]), enumerate(codes)))

    filed = httpx.get(f"{scaled.effective_open311_url}/requests.json", timeout=30).json()
    for (talk, request_id, address), code in zip(results, codes, strict=True):
        # Filed once, with the resident's own answers.
        mine = [r for r in filed if r.get("address") == address]
        assert [r["service_request_id"] for r in mine] == [request_id], mine
        assert mine[0]["service_code"] == code
        # Both servers read the same stored conversation: every message once, each
        # answered once, with exactly what the resident was sent.
        for index in range(2):
            stored = turns_in_tracker(talk.tracker(index))
            assert [text for text, _ in stored] == talk.sent, (code, stored)
            assert [answers for _, answers in stored] == talk.received, (code, stored)


@pytest.mark.parametrize("stagger", [pytest.param(0.05, id="overlapping"), pytest.param(0.0, id="same-instant")])
def test_one_conversation_messages_at_once_on_both_servers(scaled: StackConfig, stagger: float):
    """The Redis lock: two messages of one conversation in flight at once are handled one after the other."""
    talk = Resident(scaled, "together", first=0)
    talk.text("hello")
    messages = ["when is city hall open?", "are you a robot?"]
    barrier = threading.Barrier(2)
    answers: Dict[str, List[str]] = {}

    def send(index: int) -> None:
        barrier.wait()
        time.sleep(stagger * index)  # the second arrives while the first is being handled
        response = httpx.post(
            f"{talk.urls[index]}/webhooks/rest/webhook",
            json={"sender": talk.sender, "message": messages[index]},
            params={"token": RASA_API_TOKEN},
            timeout=120,
        )
        response.raise_for_status()
        answers[messages[index]] = [m.get("text") or "" for m in response.json()]

    for _ in range(3):
        threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
        assert "8:30" in "\n".join(answers[messages[0]])
        assert "not a person" in "\n".join(answers[messages[1]])

    stored = turns_in_tracker(talk.tracker(1))
    assert stored[0][0] == "hello"
    assert sorted(text for text, _ in stored[1:]) == sorted(messages * 3)
    # Each message's answers follow it directly: no turn interleaved with another.
    for text, bot in stored[1:]:
        assert bot == answers[text], stored
    deadline = time.monotonic() + 10
    while lock_left(scaled, talk.sender) and time.monotonic() < deadline:  # released once both are answered
        time.sleep(0.5)
    assert not lock_left(scaled, talk.sender)


def lock_left(config: StackConfig, sender: str) -> bool:
    """Whether the conversation's lock is still held (in Redis, or in the lock file on one machine)."""
    if config.scales_out:
        import redis

        return bool(redis.Redis.from_url(config.lock_env()["LOCK_STORE_URL"]).keys(f"*{sender}*"))
    from bot.rasa_ext.locks import FileLockStore

    assert config.lock_env()["LOCK_STORE_TYPE"] == FILE_LOCK_STORE
    return FileLockStore(path=config.lock_env()["LOCK_STORE_URL"]).get_lock(sender) is not None
