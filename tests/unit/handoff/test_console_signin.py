"""Staff sign-in cannot stall the console: passwords hashed off the event loop,
attempts limited per client (429), and the per-account lockout said and audited.

The HTTP tests start the real staff console (`python -m bot.handoff.console`,
as `citybot run` does) on its own SQLite database, with a short lockout and
127.0.0.1 as a trusted proxy, so each test is its own client through
X-Forwarded-For. Nothing else of the assistant is needed for signing in.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from ipaddress import ip_network
from typing import Iterator, List, Tuple

import httpx
import pytest
import sqlalchemy as sa

from bot.db.schema import audit_log
from bot.handoff import pages, passwords, store, throttle
from tests.support.console import RunningConsole, console_alone
from tests.support.staff import PASSWORD, Staff, make_staff

ATTEMPTS = 10
LOCKOUT_SECONDS = 3.0
HEALTH_BUDGET_SECONDS = 0.2
_names = itertools.count(random.randint(100, 999))
_clients = itertools.count(10)


# --- the sliding window, the client address, the hashing pool (no server) ------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_allows_the_limit_then_says_how_long_to_wait():
    clock = FakeClock()
    window = throttle.SlidingWindow(3, 60, clock=clock)
    for _ in range(3):  # at 1000, 1010 and 1020
        assert window.take("a") == 0.0
        clock.now += 10
    assert window.take("a") == pytest.approx(30)  # the first attempt leaves the window in 30 s
    assert window.take("b") == 0.0  # another client is not held up
    clock.now = 1060
    assert window.take("a") == 0.0  # it slides: one slot free again
    assert window.take("a") == pytest.approx(10)  # the next leaves at 1070
    window.give_back("a")  # an attempt that signed in does not count
    assert window.take("a") == 0.0
    assert throttle.retry_after(49.2) == 50 and throttle.retry_after(0.0001) == 1


def test_the_window_remembers_a_bounded_number_of_clients():
    clock = FakeClock()
    window = throttle.SlidingWindow(1, 60, max_keys=2, clock=clock)
    window.take("a")
    window.take("b")
    window.take("c")  # "a", the least recently seen, is forgotten
    assert window.take("a") == 0.0 and window.take("c") > 0


def test_x_forwarded_for_counts_only_from_a_trusted_proxy():
    proxies = throttle.parse_networks("127.0.0.1, 10.0.0.0/8")
    assert throttle.client_address("198.51.100.7", "203.0.113.1", ()) == "198.51.100.7"  # no proxy trusted
    assert throttle.client_address("198.51.100.7", "203.0.113.1", proxies) == "198.51.100.7"  # not from a proxy
    assert throttle.client_address("127.0.0.1", "203.0.113.1", proxies) == "203.0.113.1"
    # a client's own (forged) hops come first; the nearest hop our proxies did not add is the client
    assert throttle.client_address("127.0.0.1", "6.6.6.6, 203.0.113.1, 10.1.2.3", proxies) == "203.0.113.1"
    assert throttle.client_address("127.0.0.1", "10.1.2.3", proxies) == "127.0.0.1"  # only proxies
    assert throttle.client_address("127.0.0.1", "not-an-address", proxies) == "127.0.0.1"
    assert throttle.client_address("127.0.0.1", None, proxies) == "127.0.0.1"
    assert throttle.parse_networks("") == () and throttle.parse_networks("::1") == (ip_network("::1"),)
    with pytest.raises(ValueError):
        throttle.parse_networks("127.0.0.1, localhost")  # a typo must not quietly trust nobody or everybody


def test_lockout_and_throttle_texts_come_from_the_page_catalog():
    assert pages.sign_in_problem("locked", 3) == "This account is locked for 1 minute after too many failed sign-ins."
    assert (
        pages.sign_in_problem("locked", 300) == "This account is locked for 5 minutes after too many failed sign-ins."
    )
    assert pages.minutes(61) == "2 minutes"


def test_the_hashing_pool_is_small_and_keeps_the_event_loop_free(monkeypatch):
    monkeypatch.setenv("CONSOLE_HASH_THREADS", "64")
    assert passwords.pool_size() == passwords.MAX_HASH_THREADS
    monkeypatch.setenv("CONSOLE_HASH_THREADS", "1")
    assert passwords.pool_size() == 1

    async def burst() -> Tuple[List[bool], float]:
        digest = await passwords.hash_password(PASSWORD)
        gaps: List[float] = []

        async def ticker() -> None:
            last = time.perf_counter()
            while True:
                await asyncio.sleep(0.005)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        ticking = asyncio.create_task(ticker())
        started = time.perf_counter()
        results = await asyncio.gather(*(passwords.verify(digest, p) for p in [PASSWORD] + ["wrong"] * 7))
        ticking.cancel()
        return list(results), max(gaps, default=time.perf_counter() - started)  # no tick at all: stalled throughout

    results, longest_gap = asyncio.run(burst())
    assert results == [True] + [False] * 7
    assert longest_gap < 0.05, f"the event loop stalled {longest_gap * 1000:.0f} ms during 8 verifies"


# --- the real console over HTTP -----------------------------------------------------------


class Console(RunningConsole):
    """The running console, as the sign-in tests use it."""

    def staff(self, username: str, client: str) -> Staff:
        """A staff member's session coming from `client` (through the trusted proxy)."""
        member = Staff(self.url, username)
        member.client.headers["X-Forwarded-For"] = client
        return member

    def audit(self, actor: str) -> List[Tuple[str, str]]:
        with self.db.engine.connect() as connection:
            rows = connection.execute(
                sa.select(audit_log.c.action, audit_log.c.detail)
                .where(audit_log.c.actor == actor)
                .order_by(audit_log.c.id)
            ).all()
        return [(r.action, r.detail) for r in rows]

    def log(self) -> str:
        return (self.config.var_dir / "logs" / "console.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    with console_alone(
        tmp_path_factory.mktemp("console-signin"),
        Console,
        CONSOLE_TRUSTED_PROXIES="127.0.0.1",
        CONSOLE_SIGNIN_ATTEMPTS=str(ATTEMPTS),
        CONSOLE_SIGNIN_WINDOW_SECONDS="300",
        CONSOLE_LOCKOUT_MINUTES=str(LOCKOUT_SECONDS / 60),
    ) as running:
        yield running


def next_client() -> str:
    return f"203.0.113.{next(_clients)}"


def test_a_burst_of_wrong_passwords_is_throttled_while_the_console_keeps_answering(console):
    on_duty = console.staff(f"omar{next(_names)}", next_client())
    make_staff(console, on_duty.username)
    assert on_duty.login().status_code == 303
    attacker = next_client()
    latencies: List[float] = []
    queue_latencies: List[float] = []
    statuses_seen: List[int] = []
    done = threading.Event()

    def timed(client: httpx.Client, path: str, into: List[float]) -> None:
        started = time.perf_counter()
        answer = client.get(path, headers={"Accept": "application/json"})
        into.append(time.perf_counter() - started)
        statuses_seen.append(answer.status_code)

    def poll() -> None:
        """The console's health and live queue, asked all through the burst."""
        with httpx.Client(base_url=console.url, timeout=10) as health:
            while not done.is_set():
                timed(health, "/console/health", latencies)
                timed(on_duty.client, "/console/api/queue", queue_latencies)
                time.sleep(0.01)

    def attempt(index: int) -> httpx.Response:
        return console.staff(f"nobody{index}x{next(_names)}", attacker).login("not the password at all")

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.1)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=ATTEMPTS + 5) as pool:
        answers = list(pool.map(attempt, range(ATTEMPTS + 5)))
    burst_seconds = time.perf_counter() - started
    time.sleep(0.1)
    done.set()
    poller.join()

    assert set(statuses_seen) == {200}
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [401] * ATTEMPTS + [429] * 5
    for refused in (a for a in answers if a.status_code == 429):
        assert 0 < int(refused.headers["retry-after"]) <= 300
        assert "Too many sign-in attempts from this address" in refused.text
        assert 'name="login_token"' in refused.text  # the normal sign-in page, ready for later
    # ten argon2 verifies happened (about 80 ms of CPU each), yet the loop never stalled
    assert len(latencies) >= 3, f"only {len(latencies)} health checks in a {burst_seconds:.2f} s burst"
    assert max(latencies) < HEALTH_BUDGET_SECONDS, f"health took {max(latencies) * 1000:.0f} ms during the burst"
    assert max(queue_latencies) < 2 * HEALTH_BUDGET_SECONDS, f"queue took {max(queue_latencies) * 1000:.0f} ms"

    # still throttled, even with a right password; other clients are not
    name = f"pia{next(_names)}"
    make_staff(console, name)
    assert console.staff(name, attacker).login().status_code == 429
    assert console.staff(name, next_client()).login().status_code == 303
    assert ("login", None) in console.audit(name)
    assert "nobody" not in console.log()  # names that are no account stay out of the log


def test_successful_sign_ins_do_not_use_up_a_shared_address(console):
    office = next_client()
    name = f"quinn{next(_names)}"
    make_staff(console, name)
    for _ in range(ATTEMPTS + 2):
        member = console.staff(name, office)
        assert member.login().status_code == 303
    assert console.staff(name, office).login("a wrong password").status_code == 401


def test_a_locked_account_is_told_so_audited_and_usable_after_the_lockout(console):
    name = f"lena{next(_names)}"
    make_staff(console, name)
    member = console.staff(name, next_client())
    wrong = "not-lenas-password"
    for _ in range(store.MAX_FAILED_LOGINS - 1):
        answer = member.login(wrong)
        assert answer.status_code == 401 and "Wrong username or password." in answer.text
        assert "locked" not in answer.text
    locking = member.login(wrong)
    locked_text = "This account is locked for 1 minute after too many failed sign-ins."
    assert locking.status_code == 401 and locked_text in locking.text
    refused = member.login()  # the right password, while locked
    assert refused.status_code == 401 and locked_text in refused.text
    assert member.get("/console").status_code == 303  # not signed in

    actions = console.audit(name)
    assert [a for a, _ in actions].count("login_failed") == store.MAX_FAILED_LOGINS
    assert ("account_locked", f"for 1 minute after {store.MAX_FAILED_LOGINS} failed sign-ins") in actions
    assert ("login_while_locked", None) in actions
    assert "login" not in [a for a, _ in actions]
    log = console.log()
    assert f"staff account {name} locked" in log
    assert wrong not in log and PASSWORD not in log
    assert not [d for _, d in actions if d and (wrong in d or PASSWORD in d)]

    time.sleep(LOCKOUT_SECONDS + 0.5)
    assert member.login().status_code == 303
    assert member.get("/console").status_code == 200
    assert console.audit(name)[-1] == ("login", None)


def test_a_password_typed_as_the_username_is_not_audited_or_logged(console):
    typed = f"my-secret-passphrase{next(_names)}"  # looks like a username, is no account
    answer = console.staff(typed, next_client()).login("something")
    assert answer.status_code == 401 and "Wrong username or password." in answer.text
    with console.db.engine.connect() as connection:
        details = connection.execute(sa.select(audit_log.c.actor, audit_log.c.detail)).all()
    assert not [row for row in details if typed in (row.actor or "") + (row.detail or "")]
    assert ("login_failed", None) in console.audit("(unknown)")
    assert typed not in console.log()
