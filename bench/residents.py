"""Simulated residents: their conversations over the REST channel, each message waiting for its answer."""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from typing import Any, Callable, List, Optional, Sequence

from bench.scripts import (
    DESCRIPTIONS,
    FAQ_LINES,
    MID_REPORT_QUESTIONS,
    OUT_OF_SCOPE_LINES,
    REPORTS_SCRIPTS,
    STREETS,
    UNKNOWN_REQUEST_ID,
)
from bench.sides import Side
from bench.stats import Stats

REQUEST_TIMEOUT_S = 60.0


class Aborted(Exception):
    """A conversation that cannot go on: a failed request or an unexpected answer."""


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
        return rng.choices([self.report, self.questions, self.status, self.out_of_scope], weights=[40, 25, 20, 15])[0]
