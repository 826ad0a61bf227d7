"""`make bench`: speed and scale of the running assistant, against stock Rasa.

Starts the real stack (reference Open311 server, action server, Rasa server,
worker) twice: once as `make run` does, with our model, and once as stock Rasa
would run the same project: a model trained on the same data with the
configuration `rasa init` writes (`bench/config_stock.yml`), served by plain
`rasa run` with Rasa's own stores (`bench/endpoints_stock.yml`). Both get the
same load in the same run, level by level in turn, so the ratio holds on a
noisy machine:

- realistic mixed conversations over the REST channel (city questions, complete
  service requests through the form and the action server, status lookups,
  out-of-scope lines) at 1, 10 and 50 conversations in flight; each simulated
  resident waits for the answer before sending the next message;
- one long conversation: the cost of a turn at turn 10 and at turn 200;
- the Rasa server's peak RSS, cold start (launch to first answer) and the
  `rasa train` time of each configuration.

Models are cached under var/bench/ by a fingerprint of the configuration,
domain and data (and the Rasa version), with their measured training time; a
change to any of them trains again. Writes reports/bench.json and
reports/bench.png (latency and throughput against concurrency).

With DATABASE_URL (PostgreSQL) and REDIS_URL set, `--scale-out` runs both sides
on the scale-out setup instead: Rasa's SQL tracker store on a fresh PostgreSQL
database per side, the Redis lock store, several Rasa and action-server worker
processes; it writes reports/bench-scale-out.{json,png}.

`errors` counts failed requests (HTTP errors, timeouts, refused connections);
`unexpected_replies` counts answers that did not follow the script (a
misunderstood address, an empty answer), after which that conversation stops.

Every request goes to 127.0.0.1; every loop is bounded in time and count.
This is a measurement, not a test: nothing in `make test` asserts a timing.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import itertools
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from bot.rasa_ext.api_tokens import RASA_API_TOKEN
from bot.procs import PROJECT_ROOT, ManagedProcess, free_port, stop_all, venv_bin
from bot.stack import StackConfig, default_workers, stack_processes

CONFIG_OURS = PROJECT_ROOT / "config.yml"
CONFIG_STOCK = PROJECT_ROOT / "bench" / "config_stock.yml"
DOMAIN = PROJECT_ROOT / "domain.yml"
DATA = PROJECT_ROOT / "data"
CACHE = PROJECT_ROOT / "var" / "bench"
REPORTS = PROJECT_ROOT / "reports"

LEVELS = (1, 10, 50)
REQUEST_TIMEOUT_S = 60.0
READY_TIMEOUT_S = 900.0

# How a resident opens each report, and their answer to each of the service's
# questions (keyed by attribute code); the same scripts the end-to-end tests use.
REPORTS_SCRIPTS: Dict[str, Tuple[str, Dict[str, str]]] = {
    "POTHOLE": ("I need to report a pothole", {"size": "it's a big one", "lane": "bike lane"}),
    "SIDEWALK": ("the sidewalk in front of my house is broken", {"hazard": "raised or lifted"}),
    "MISSED_TRASH": ("my garbage wasn't picked up today", {"bin_type": "recycling", "set_out_on_time": "yes"}),
    "STREETLIGHT": ("the street light on my block is out", {"problem": "flickering", "pole_number": "skip"}),
    "GRAFFITI": ("I want to report graffiti", {"surface": "bridge or overpass", "offensive": "no"}),
    "NOISE": ("I want to make a noise complaint", {"source": "construction", "happening_now": "yes"}),
    "ILLEGAL_DUMPING": ("someone dumped an old mattress in the alley", {"material": "furniture or mattress"}),
    "ABANDONED_VEHICLE": ("there's an abandoned car on my street", {"plate": "ABC 1234", "days_parked": "about two weeks"}),
    "FALLEN_TREE": ("a big tree branch fell down", {"blocking": "sidewalk"}),
    "WATER_LEAK": ("water is leaking from the street", {"source": "fire hydrant"}),
}

FAQ_LINES = (
    "when is city hall open?",
    "what day is my garbage picked up?",
    "can I recycle pizza boxes?",
    "how do I pay a parking ticket?",
    "how do I get rid of an old couch?",
    "when is yard waste collected?",
    "how do I contest a parking ticket?",
    "when does the street sweeper come?",
    "where is city hall?",
    "do plastic bags go in the recycling?",
)
# City questions asked in the middle of a report: none of them could also be an
# answer to a report's question ("when is yard waste collected?" could: a bin).
MID_REPORT_QUESTIONS = ("when is city hall open?", "how do I pay a parking ticket?", "where is city hall?")
# What residents say when asked to describe the problem.
DESCRIPTIONS = (
    "It has been like this for about a week, right next to the bus stop.",
    "Been like that since Monday, near the corner by the bakery",
    "it's right in front of the school and kids walk past it every day",
    "started a few days ago, you can't miss it",
)
OUT_OF_SCOPE_LINES = (
    "can you recommend a good pasta recipe",
    "what's the weather like in Miami",
    "tell me a funny story",
    "what's the best phone to buy this year",
    "book a hotel in Boston",
)
STREETS = ("Elm Street", "Oak Avenue", "Maple Drive", "Cedar Lane", "Birch Road", "Walnut Street")
UNKNOWN_REQUEST_ID = "987654"

# The long conversation repeats these ten turns; turns 10-19 and 200-209 say the
# same things, so the two windows differ only by the conversation's length.
LONG_CYCLE = (
    "hello",
    FAQ_LINES[0],
    FAQ_LINES[1],
    "are you a robot?",
    FAQ_LINES[2],
    "what's the status of request {request_id}",
    FAQ_LINES[3],
    "thanks",
    FAQ_LINES[4],
    "what can you do?",
)


def say(message: str) -> None:
    print(f"==> [bench] {message}", flush=True)


# --- models ---------------------------------------------------------------------


def training_fingerprint(config: Path) -> str:
    """What a model depends on: the Rasa version, the configuration, the domain and the data."""
    import rasa

    digest = hashlib.sha256()
    digest.update(f"rasa {rasa.__version__}\n".encode())
    for path in [config, DOMAIN] + sorted(DATA.rglob("*.yml")):
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\n")
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class TrainedModel:
    side: str
    path: Path
    train_s: Optional[float]
    fingerprint: str
    reused: bool


def training_env() -> Dict[str, str]:
    return {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }


def ensure_model(side: str, config: Path, given: Optional[Path] = None, may_train: bool = True) -> TrainedModel:
    """The side's model for the current data: cached by fingerprint, else trained (and timed) now."""
    fingerprint = training_fingerprint(config)
    CACHE.mkdir(parents=True, exist_ok=True)
    model = CACHE / f"{side}-{fingerprint[:16]}.tar.gz"
    record = CACHE / f"{side}-{fingerprint[:16]}.json"
    recorded = json.loads(record.read_text()) if record.exists() else {}
    if given is not None:
        # A model this bench trained earlier keeps its record (training time, fingerprint) beside it.
        beside = given.with_name(given.name[: -len(".tar.gz")] + ".json") if given.name.endswith(".tar.gz") else None
        if beside is not None and beside.exists():
            recorded = json.loads(beside.read_text())
        matches = recorded.get("fingerprint") == fingerprint
        say(f"{side}: using the given model {given}" + ("" if matches else " (trained on other data than the current)"))
        return TrainedModel(side, given, recorded.get("train_s"), recorded.get("fingerprint") or "unknown", True)
    if model.exists() and recorded:
        say(f"{side}: reusing {model.name} (trained in {recorded['train_s']:.0f}s on the same config and data)")
        return TrainedModel(side, model, float(recorded["train_s"]), fingerprint, True)
    if not may_train:
        raise SystemExit(f"no {side} model for the current data in {CACHE} and --no-train was given")
    out = Path(tempfile.mkdtemp(prefix=f"train-{side}-", dir=CACHE))
    log_path = CACHE / f"train-{side}.log"
    say(f"{side}: training with {config.relative_to(PROJECT_ROOT)} (log: {log_path}); this takes minutes")
    # A training cache of its own: Rasa would otherwise reuse components cached by
    # earlier trainings, and the time would not be that of a whole training.
    env = {**training_env(), "RASA_CACHE_DIRECTORY": str(out / "cache")}
    started = time.monotonic()
    with open(log_path, "wb") as log:
        subprocess.run(
            [
                venv_bin("rasa"), "train",
                "--config", str(config),
                "--domain", str(DOMAIN),
                "--data", str(DATA),
                "--out", str(out),
                "--fixed-model-name", side,
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
        )
    train_s = time.monotonic() - started
    for old in CACHE.glob(f"{side}-*.tar.gz"):
        old.unlink()
    for old in CACHE.glob(f"{side}-*.json"):
        old.unlink()
    shutil.move(str(out / f"{side}.tar.gz"), model)
    shutil.rmtree(out, ignore_errors=True)
    record.write_text(json.dumps({"train_s": round(train_s, 1), "fingerprint": fingerprint, "config": str(config)}))
    say(f"{side}: trained in {train_s:.0f}s")
    return TrainedModel(side, model, train_s, fingerprint, False)


# --- PostgreSQL databases for the scale-out setup -----------------------------


def _with_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def create_database(base_url: str, prefix: str) -> str:
    """A fresh PostgreSQL database next to `base_url`'s; returns its URL."""
    import sqlalchemy as sa

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return _with_database(base_url, name)


def drop_database(base_url: str, url: str) -> None:
    """Drop a database made by `create_database` (disconnecting whoever is left)."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


# --- the running stack of one side ------------------------------------------


def process_tree_rss_mb(root_pid: int) -> float:
    """Resident memory of a process and all its descendants (Sanic workers), in MB."""
    children: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total_kb = 0
    todo = [root_pid]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
                        break
        except OSError:
            continue
    return total_kb / 1024


class RssSampler:
    """Samples the Rasa server processes' RSS twice a second; keeps the peak."""

    def __init__(self, pids: Callable[[], List[int]]) -> None:
        self.pids = pids
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_mb = max(self.peak_mb, sum(process_tree_rss_mb(pid) for pid in self.pids()))
            except Exception:  # a process that just exited: next sample
                pass
            self._stop.wait(0.5)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@dataclass
class Side:
    """One configuration (ours or stock) and the stack running it."""

    name: str
    model: TrainedModel
    processes: List[ManagedProcess] = field(default_factory=list)
    rest_urls: List[str] = field(default_factory=list)
    var_dir: Optional[Path] = None
    database_url: Optional[str] = None
    cold_start_s: Optional[float] = None
    sampler: Optional[RssSampler] = None
    filed: List[str] = field(default_factory=list)  # request numbers filed so far (for status lookups)
    street_numbers: Iterator[int] = field(default_factory=lambda: itertools.count(100))
    results: Dict[str, Any] = field(default_factory=dict)

    def rasa_pids(self) -> List[int]:
        return [p.popen.pid for p in self.processes if p.name.startswith("rasa") and p.popen is not None]


def first_answer(url: str, process: ManagedProcess, timeout: float) -> None:
    """Poll the REST channel until the bot answers (or the process dies)."""
    import httpx

    deadline = time.monotonic() + timeout
    sender = f"bench-coldstart-{uuid.uuid4().hex[:8]}"
    while time.monotonic() < deadline:
        if not process.is_running():
            raise RuntimeError(f"{process.name} exited early:\n{process.log_tail()}")
        try:
            response = httpx.post(url, json={"sender": sender, "message": "hello"}, timeout=30)
            if response.status_code == 200 and response.json():
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{process.name} did not answer within {timeout:.0f}s:\n{process.log_tail()}")


def start_side(side: Side, scale_out: bool, rasa_processes: int) -> None:
    """Start the side's stack; time the Rasa server from launch to its first answer."""
    side.var_dir = Path(tempfile.mkdtemp(prefix=f"run-{side.name}-", dir=CACHE))
    # Worker processes as `make run` starts them (stock Rasa's in-memory lock store
    # keeps it to one process unless it scales out).
    kwargs: Dict[str, Any] = {
        "rasa_workers": default_workers("RASA_WORKERS"),
        "action_workers": default_workers("ACTION_WORKERS"),
    }
    if scale_out:
        base = os.environ["DATABASE_URL"]
        side.database_url = create_database(base, f"citybot_bench_{side.name}")
        kwargs.update(
            database_url=side.database_url,
            extra_rasa_ports=[free_port() for _ in range(rasa_processes - 1)],
        )
    config = StackConfig(
        rasa_port=free_port(),
        action_port=free_port(),
        open311_port=free_port(),
        var_dir=side.var_dir,
        model_path=side.model.path,
        extra_env={"CITYBOT_SECRET_KEY": f"bench-{uuid.uuid4().hex}", "CONSOLE_PORT": str(free_port())},
        # Stock is stock: `rasa run` and Rasa's own SQL tracker store; ours runs as `make run` does.
        tuned=side.name == "ours",
        **kwargs,
    )
    side.processes = stack_processes(config)
    token = config.secret(RASA_API_TOKEN)  # the REST channel is for holders of the API token
    side.rest_urls = [f"http://127.0.0.1:{port}/webhooks/rest/webhook?token={token}" for port in config.rasa_ports()]
    side.sampler = RssSampler(side.rasa_pids)
    rasa_started: Optional[float] = None
    for process in side.processes:
        process.start()
        if process.name == "rasa":
            rasa_started = time.monotonic()
            side.sampler.start()
            first_answer(side.rest_urls[0], process, READY_TIMEOUT_S)
            side.cold_start_s = time.monotonic() - rasa_started
            say(f"{side.name}: Rasa answered {side.cold_start_s:.1f}s after launch")
        else:
            process.wait_ready(READY_TIMEOUT_S)


def stop_side(side: Side) -> None:
    if side.sampler is not None:
        side.sampler.stop()
    stop_all(side.processes)
    if side.database_url:
        with contextlib.suppress(Exception):
            drop_database(os.environ["DATABASE_URL"], side.database_url)
    if side.var_dir is not None:
        # Keep the processes' logs of the latest run (var/bench/logs/<side>/) for a look afterwards.
        logs = CACHE / "logs" / side.name
        shutil.rmtree(logs, ignore_errors=True)
        with contextlib.suppress(OSError):
            shutil.copytree(side.var_dir / "logs", logs)
        shutil.rmtree(side.var_dir, ignore_errors=True)


# --- the load --------------------------------------------------------------------


class Aborted(Exception):
    """A conversation that cannot go on: a failed request or an unexpected answer."""


@dataclass
class Stats:
    latencies_ms: List[float] = field(default_factory=list)
    errors: int = 0
    unexpected: int = 0
    conversations: int = 0
    completed_conversations: int = 0
    error_samples: List[str] = field(default_factory=list)

    def note(self, kind: str, text: str) -> None:
        if kind == "error":
            self.errors += 1
        else:
            self.unexpected += 1
        if len(self.error_samples) < 8:
            self.error_samples.append(f"{kind}: {text[:300]}")


def http_client(connections: int) -> Any:
    """The simulated residents' HTTP client (an aiohttp session).

    The load generator shares the machine's two cores with the servers it
    measures: aiohttp takes about a third of httpx's CPU time per request.
    """
    import aiohttp

    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        connector=aiohttp.TCPConnector(limit=connections),
    )


class Talk:
    """One resident's conversation; each message waits for the answer."""

    def __init__(self, client: Any, urls: Sequence[str], stats: Stats, deadline: float, budget: List[int]) -> None:
        self.client = client
        self.urls = list(urls)
        self.stats = stats
        self.deadline = deadline
        self.budget = budget  # messages left in this level, shared by every resident
        self.sender = f"bench-{uuid.uuid4().hex[:12]}"
        self.turn = 0
        self.last = ""

    async def say(self, text: str) -> str:
        if time.monotonic() >= self.deadline or self.budget[0] <= 0:
            raise TimeoutError("level over")
        self.budget[0] -= 1
        # Several Rasa processes: messages of one conversation go to each in turn,
        # as a load balancer without sticky sessions would send them.
        url = self.urls[self.turn % len(self.urls)]
        self.turn += 1
        self.last = text
        started = time.perf_counter()
        try:
            async with self.client.post(url, json={"sender": self.sender, "message": text}) as response:
                status, body = response.status, await response.text()
        except Exception as error:  # timeouts and connection errors
            self.stats.note("error", f"{type(error).__name__}: {error} for {text!r}")
            raise Aborted() from error
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            self.stats.note("error", f"HTTP {status} for {text!r}: {body}")
            raise Aborted()
        try:
            messages = json.loads(body)
        except ValueError:
            messages = None
        if not messages:  # answered, but with nothing: the dialogue went wrong, not the server
            self.stats.note("unexpected", f"no answer to {text!r}")
            raise Aborted()
        self.stats.latencies_ms.append(elapsed)
        return "\n".join(m.get("text") or "" for m in messages)

    def expect(self, condition: bool, what: str, reply: str) -> None:
        if not condition:
            self.stats.note("unexpected", f"after {self.last!r} expected {what}, got {reply!r}")
            raise Aborted()


class Workload:
    """The conversations residents have, drawn at random with realistic weights."""

    def __init__(self, side: Side, seed: int) -> None:
        from bot.catalog import load_city

        self.city = load_city()
        self.side = side

    def address(self) -> str:
        """A new address for every report, so none looks like a duplicate of another."""
        number = next(self.side.street_numbers)
        return f"{number} {STREETS[number % len(STREETS)]}"

    def attribute_asked(self, reply: str, code: str) -> Optional[Any]:
        service = self.city.service(code)
        for attribute in service.attributes if service else []:
            if attribute.description.rstrip("?") in reply:
                return attribute
        return None

    async def report(self, talk: Talk, rng: random.Random) -> None:
        """A complete service request: opening, the service's questions, where, what, confirm."""
        code = rng.choice(sorted(REPORTS_SCRIPTS))
        opening, answers = REPORTS_SCRIPTS[code]
        if rng.random() < 0.5:
            await talk.say("hi")
        reply = await talk.say(opening)
        if rng.random() < 0.3:  # a city question in the middle of the report
            question = reply
            reply = await talk.say(rng.choice(MID_REPORT_QUESTIONS))
            talk.expect(question.splitlines()[-1][:20] in reply, "the report's question again", reply)
        for _ in range(6):
            attribute = self.attribute_asked(reply, code)
            if attribute is None:
                break
            reply = await talk.say(answers.get(attribute.code, "skip"))
        talk.expect("Where is it?" in reply, "the location question", reply)
        address = self.address()
        reply = await talk.say(address)
        talk.expect("describe the problem" in reply, "the description question", reply)
        reply = await talk.say(rng.choice(DESCRIPTIONS))
        talk.expect("updates" in reply, "the contact question", reply)
        reply = await talk.say("skip")
        talk.expect("Here's your report" in reply and address in reply, "the summary", reply)
        reply = await talk.say("yes")
        match = re.search(r"request number is (\w[\w-]*)", reply) or re.search(r"reference (R-[A-Z0-9]+)", reply)
        talk.expect(match is not None, "a request number", reply)
        self.side.filed.append(match.group(1))
        await talk.say("thanks")

    async def questions(self, talk: Talk, rng: random.Random) -> None:
        """City questions, a greeting, a bot question, thanks and goodbye."""
        await talk.say("hello")
        for line in rng.sample(FAQ_LINES, 3):
            await talk.say(line)
        await talk.say("are you a robot?")
        for line in rng.sample(FAQ_LINES, 2):
            await talk.say(line)
        await talk.say("thanks!")
        await talk.say("bye")

    async def status(self, talk: Talk, rng: random.Random) -> None:
        """Status lookups: a number in the question, then one asked for."""
        request_id = rng.choice(self.side.filed) if self.side.filed else UNKNOWN_REQUEST_ID
        await talk.say("hello")
        reply = await talk.say(f"what's happening with my request {request_id}?")
        talk.expect(f"Request {request_id}" in reply or request_id in reply, "the request's status", reply)
        await talk.say(rng.choice(FAQ_LINES))
        reply = await talk.say("can you check on my report?")
        talk.expect("request number" in reply, "a question for the number", reply)
        reply = await talk.say(request_id)
        talk.expect(request_id in reply, "the request's status", reply)
        await talk.say("thanks")
        await talk.say("bye")

    async def out_of_scope(self, talk: Talk, rng: random.Random) -> None:
        """Things the assistant cannot do, then a person asked for."""
        await talk.say("hi")
        first, second = rng.sample(OUT_OF_SCOPE_LINES, 2)
        await talk.say(first)
        await talk.say(rng.choice(FAQ_LINES))
        await talk.say(first)
        await talk.say(second)
        # The last turn: after this the conversation may be handed to city staff.
        reply = await talk.say("I want to talk to a real person")
        talk.expect("311" in reply or "555" in reply, "the city's contacts", reply)

    def pick(self, rng: random.Random) -> Callable:
        return rng.choices(
            [self.report, self.questions, self.status, self.out_of_scope], weights=[40, 25, 20, 15]
        )[0]


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(stats: Stats, elapsed_s: float) -> Dict[str, Any]:
    def rounded(value: Optional[float]) -> Optional[float]:
        return None if value is None else round(value, 1)

    return {
        "p50_ms": rounded(percentile(stats.latencies_ms, 50)),
        "p95_ms": rounded(percentile(stats.latencies_ms, 95)),
        "p99_ms": rounded(percentile(stats.latencies_ms, 99)),
        "msgs_per_s": round(len(stats.latencies_ms) / elapsed_s, 2) if elapsed_s > 0 else None,
        "errors": stats.errors,
        "unexpected_replies": stats.unexpected,
        "messages": len(stats.latencies_ms),
        "conversations": stats.conversations,
        "completed_conversations": stats.completed_conversations,
        "seconds": round(elapsed_s, 1),
        "error_samples": stats.error_samples,
    }


def merge(into: Stats, more: Stats) -> None:
    into.latencies_ms.extend(more.latencies_ms)
    into.errors += more.errors
    into.unexpected += more.unexpected
    into.conversations += more.conversations
    into.completed_conversations += more.completed_conversations
    into.error_samples.extend(more.error_samples[: max(0, 8 - len(into.error_samples))])


async def run_load(
    side: Side, concurrency: int, seconds: float, max_messages: int, seed: int
) -> Tuple[Stats, float]:
    """`concurrency` residents talking at once for `seconds` (at most `max_messages` messages)."""
    stats = Stats()
    workload = Workload(side, seed)
    deadline = time.monotonic() + seconds
    budget = [max_messages]
    async with http_client(concurrency + 10) as client:

        async def resident(index: int) -> None:
            rng = random.Random(seed * 1000 + index)
            while time.monotonic() < deadline and budget[0] > 0:
                talk = Talk(client, side.rest_urls, stats, deadline, budget)
                stats.conversations += 1
                try:
                    await workload.pick(rng)(talk, rng)
                    stats.completed_conversations += 1
                except (Aborted, TimeoutError):
                    await asyncio.sleep(0.05)

        started = time.monotonic()
        await asyncio.gather(*(resident(i) for i in range(concurrency)))
        elapsed = time.monotonic() - started
    return stats, elapsed


async def run_long(sides: Sequence[Side], turns: int, seconds: float) -> Dict[str, Dict[str, Any]]:
    """One conversation of `turns` turns per side: a turn at turn 10 against one at turn 200.

    The sides take their turns in lockstep (ours, stock, ours, ...), so a busy
    moment of the machine falls on both alike.
    """
    deadline = time.monotonic() + seconds
    stats = {side.name: Stats() for side in sides}
    per_turn: Dict[str, List[float]] = {side.name: [] for side in sides}
    async with http_client(len(sides)) as client:
        talks = {side.name: Talk(client, side.rest_urls, stats[side.name], deadline, [turns]) for side in sides}
        request_ids = {side.name: side.filed[0] if side.filed else UNKNOWN_REQUEST_ID for side in sides}
        going = {side.name for side in sides}
        for turn in range(turns):
            for side in sides:
                if side.name not in going:
                    continue
                line = LONG_CYCLE[turn % len(LONG_CYCLE)].format(request_id=request_ids[side.name])
                try:
                    await talks[side.name].say(line)
                except (Aborted, TimeoutError):
                    going.discard(side.name)
                    continue
                per_turn[side.name].append(stats[side.name].latencies_ms[-1])

    def window(values: List[float], start: int) -> Optional[float]:
        chosen = values[start:start + len(LONG_CYCLE)]
        return round(statistics.median(chosen), 1) if len(chosen) == len(LONG_CYCLE) else None

    results: Dict[str, Dict[str, Any]] = {}
    for side in sides:
        values = per_turn[side.name]
        turn10, turn200 = window(values, 10), window(values, 200)
        results[side.name] = {
            "turn10_ms": turn10,
            "turn200_ms": turn200,
            "ratio": round(turn200 / turn10, 2) if turn10 and turn200 else None,
            "turns": len(values),
            "errors": stats[side.name].errors,
            "unexpected_replies": stats[side.name].unexpected,
            "every_10th_turn_ms": [round(v, 1) for v in values[::10]],
        }
    return results


# --- report ------------------------------------------------------------------------


def quality(model: Path) -> Dict[str, Any]:
    """`make eval`'s figures for a side's model, so speed is never bought with understanding."""
    from bot.eval import evaluate

    say(f"measuring {model.name} on the held-out and external sets (make eval)")
    full = asyncio.run(evaluate(model))
    holdout, oos = full["holdout"], full.get("clinc_oos_test", {})
    return {
        "holdout_accuracy": holdout["accuracy"],
        "holdout_macro_f1": holdout["macro_f1"],
        "clinc_oos_taken_in_scope": oos.get("taken_as_request_or_faq"),
        "bloomington_service_accuracy": (full.get("bloomington") or {}).get("service_accuracy"),
        "civic_accuracy": (full.get("civic_nlu") or {}).get("accuracy"),
    }



def chart(results: Dict[str, Any], sides: Sequence[str], levels: Sequence[int], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (latency, throughput) = plt.subplots(1, 2, figsize=(11, 4.5))
    colours = {"ours": "tab:blue", "stock": "tab:red"}
    for name in sides:
        side = results[name]
        xs = [level for level in levels if side.get(str(level), {}).get("p50_ms") is not None]
        colour = colours.get(name)
        for key, style in (("p50_ms", "-"), ("p95_ms", "--"), ("p99_ms", ":")):
            latency.plot(xs, [side[str(x)][key] for x in xs], style, marker="o", color=colour,
                         label=f"{name} {key[:-3]}")
        throughput.plot(xs, [side[str(x)]["msgs_per_s"] for x in xs], "-", marker="o", color=colour, label=name)
    latency.set_xscale("log")
    latency.set_yscale("log")
    latency.set_xticks(list(levels), [str(level) for level in levels])
    latency.set_xlabel("concurrent conversations")
    latency.set_ylabel("latency per message (ms)")
    latency.set_title("Latency")
    latency.grid(True, which="both", alpha=0.3)
    latency.legend(fontsize=8)
    throughput.set_ylim(bottom=0)
    throughput.set_xscale("log")
    throughput.set_xticks(list(levels), [str(level) for level in levels])
    throughput.set_xlabel("concurrent conversations")
    throughput.set_ylabel("messages per second")
    throughput.set_title("Throughput")
    throughput.grid(True, which="both", alpha=0.3)
    throughput.legend(fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def ratios(results: Dict[str, Any], levels: Sequence[int]) -> Dict[str, Any]:
    ours, stock = results.get("ours") or {}, results.get("stock") or {}
    out: Dict[str, Any] = {}
    for level in levels:
        a, b = ours.get(str(level)) or {}, stock.get(str(level)) or {}
        if a.get("msgs_per_s") and b.get("msgs_per_s"):
            out[f"throughput_x_at_{level}"] = round(a["msgs_per_s"] / b["msgs_per_s"], 2)
        if a.get("p95_ms") and b.get("p95_ms"):
            out[f"p95_stock_over_ours_at_{level}"] = round(b["p95_ms"] / a["p95_ms"], 2)
    return out


def print_summary(results: Dict[str, Any], sides: Sequence[str], levels: Sequence[int]) -> None:
    print()
    print(f"{'side':<6} {'conc':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'msg/s':>7} {'err':>4} {'unexp':>5}")
    for name in sides:
        for level in levels:
            row = results[name].get(str(level))
            if not row:
                continue
            print(
                f"{name:<6} {level:>4} {row['p50_ms'] or 0:>8.0f} {row['p95_ms'] or 0:>8.0f} "
                f"{row['p99_ms'] or 0:>8.0f} {row['msgs_per_s'] or 0:>7.1f} {row['errors']:>4} {row['unexpected_replies']:>5}"
            )
    for name in sides:
        side = results[name]
        long = results.get("long", {}).get(name) or {}
        print(
            f"{name}: rss {side.get('rss_mb')} MB, cold start {side.get('cold_start_s')} s, "
            f"train {side.get('train_s')} s, turn 10 {long.get('turn10_ms')} ms, turn 200 {long.get('turn200_ms')} ms"
        )
    for key, value in (results.get("ratios") or {}).items():
        print(f"{key}: {value}")
    for name, figures in (results.get("eval") or {}).items():
        print(f"{name} eval: " + ", ".join(f"{key} {value}" for key, value in figures.items()))


# --- main -----------------------------------------------------------------------------


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)), help="concurrent conversations, e.g. 1,10,50")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each load level and side")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per level, the sides taking turns")
    parser.add_argument("--max-messages", type=int, default=20000, help="messages at most per level")
    parser.add_argument("--long-turns", type=int, default=210, help="turns of the long conversation (0: skip)")
    parser.add_argument("--long-seconds", type=float, default=600.0, help="time limit of the long conversation")
    parser.add_argument("--sides", default="ours,stock", help="ours, stock or both")
    parser.add_argument("--ours-model", type=Path, help="use this model for ours instead of the cached one")
    parser.add_argument("--stock-model", type=Path, help="use this model for stock instead of the cached one")
    parser.add_argument("--no-train", action="store_true", help="fail instead of training a missing model")
    parser.add_argument("--no-eval", action="store_true", help="skip `make eval`'s measurements of each side's model")
    parser.add_argument("--scale-out", action="store_true",
                        help="PostgreSQL (DATABASE_URL) + Redis (REDIS_URL), several worker processes")
    parser.add_argument("--rasa-processes", type=int, default=1,
                        help="scale-out: separate Rasa server processes; a conversation's messages rotate over them")
    parser.add_argument("--out", type=Path, help="JSON report (default reports/bench.json)")
    parser.add_argument("--chart", type=Path, help="PNG chart (default reports/bench.png)")
    parser.add_argument("--seed", type=int, default=311)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    sides_wanted = [s.strip() for s in args.sides.split(",") if s.strip()]
    if args.scale_out and not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        print("--scale-out needs DATABASE_URL (PostgreSQL) and REDIS_URL", file=sys.stderr)
        return 2
    suffix = "-scale-out" if args.scale_out else ""
    out = args.out or REPORTS / f"bench{suffix}.json"
    chart_path = args.chart or out.with_suffix(".png")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

    configs = {"ours": (CONFIG_OURS, args.ours_model), "stock": (CONFIG_STOCK, args.stock_model)}
    sides = [Side(name, ensure_model(name, configs[name][0], configs[name][1], not args.no_train)) for name in sides_wanted]
    results: Dict[str, Any] = {name: {} for name in sides_wanted}
    results["long"] = {}
    started = time.monotonic()
    try:
        for side in sides:
            say(f"{side.name}: starting the stack{' (scale-out)' if args.scale_out else ''}")
            start_side(side, args.scale_out, args.rasa_processes)
        for side in sides:  # warm up: every kind of conversation once, not measured
            asyncio.run(run_load(side, 4, 45.0, 60, seed=args.seed + 7))
        # Each level in rounds, the sides taking turns, so that the machine's busy
        # and quiet moments fall on both sides alike.
        rounds = max(1, args.rounds)
        for level in levels:
            totals = {side.name: (Stats(), [0.0]) for side in sides}
            for round_index in range(rounds):
                order = sides if round_index % 2 == 0 else list(reversed(sides))
                for side in order:
                    say(f"{side.name}: {level} concurrent conversation(s), round {round_index + 1}/{rounds}")
                    stats, elapsed = asyncio.run(
                        run_load(side, level, args.seconds / rounds, args.max_messages // rounds,
                                 seed=args.seed + level * 10 + round_index)
                    )
                    merge(totals[side.name][0], stats)
                    totals[side.name][1][0] += elapsed
                    time.sleep(1)
            for side in sides:
                stats, elapsed = totals[side.name]
                row = results[side.name][str(level)] = summarize(stats, elapsed[0])
                say(
                    f"{side.name} @{level}: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, "
                    f"{row['msgs_per_s']} msg/s, {row['errors']} errors, {row['unexpected_replies']} unexpected"
                )
        if args.long_turns:
            say(f"one conversation of {args.long_turns} turns per side, in lockstep")
            results["long"] = asyncio.run(run_long(sides, args.long_turns, args.long_seconds))
            for name, row in results["long"].items():
                say(f"{name} long: turn 10 {row['turn10_ms']} ms, turn 200 {row['turn200_ms']} ms")
    finally:
        for side in sides:
            if side.sampler is not None:
                side.sampler.stop()
                results[side.name]["rss_mb"] = round(side.sampler.peak_mb, 1)
            results[side.name]["cold_start_s"] = None if side.cold_start_s is None else round(side.cold_start_s, 1)
            results[side.name]["train_s"] = None if side.model.train_s is None else round(side.model.train_s, 1)
            results[side.name]["model_reused"] = side.model.reused
            stop_side(side)

    if not args.no_eval:
        results["eval"] = {side.name: quality(side.model.path) for side in sides}
    results["ratios"] = ratios(results, levels)
    results["meta"] = {
        "setup": "scale-out" if args.scale_out else "default",
        "rasa_workers": {
            "ours": default_workers("RASA_WORKERS"),
            "stock": default_workers("RASA_WORKERS") if args.scale_out else 1,
        },
        "action_workers": {
            "ours": default_workers("ACTION_WORKERS"),
            "stock": default_workers("ACTION_WORKERS") if args.scale_out else 1,
        },
        "rasa_processes": args.rasa_processes if args.scale_out else 1,
        "seconds_per_level": args.seconds,
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "bench_seconds": round(time.monotonic() - started, 1),
        "fingerprints": {side.name: side.model.fingerprint[:16] for side in sides},
        "current_data_fingerprints": {
            name: training_fingerprint(configs[name][0])[:16] for name in sides_wanted
        },
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    present = [name for name in sides_wanted if any(str(level) in results[name] for level in levels)]
    chart(results, present, levels, chart_path,
          f"Riverton 311: ours vs stock Rasa 3.6 config ({results['meta']['setup']} setup, {os.cpu_count()} cores)")
    print_summary(results, present, levels)
    say(f"wrote {out.relative_to(PROJECT_ROOT) if out.is_relative_to(PROJECT_ROOT) else out} and {chart_path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
