"""Simulated residents: their conversations over the REST channel, each message waiting for its answer."""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from typing import Any, Callable, List, Optional, Sequence

from bench.scripts import MARKERS, SCRIPTS, STREETS, UNKNOWN_REQUEST_ID, Markers, Scripts
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

    def __init__(
        self,
        client: Any,
        urls: Sequence[str],
        stats: Stats,
        deadline: float,
        budget: List[int],
        language: str = "en",
        answered_in: str = "en",
    ) -> None:
        self.client = client
        self.language = language
        self.scripts: Scripts = SCRIPTS[language]  # what this resident says
        self.answered_in = answered_in
        self.markers: Markers = MARKERS[answered_in]  # what the assistant's answers to them say
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
        self.stats.answered(elapsed, self.language)
        return "\n".join(m.get("text") or "" for m in messages)

    def expect(self, condition: bool, what: str, reply: str) -> None:
        if not condition:
            self.stats.note("unexpected", f"after {self.last!r} expected {what}, got {reply!r}")
            raise Aborted()


class Workload:
    """The conversations residents have, drawn at random with realistic weights, some of them in Spanish."""

    def __init__(self, side: Side, seed: int, spanish_share: float = 0.0) -> None:
        from bot.catalog import load_city

        self.city = load_city()
        self.side = side
        self.spanish_share = spanish_share

    def language(self, rng: random.Random) -> str:
        """The language the next resident writes in."""
        return "es" if rng.random() < self.spanish_share else "en"

    def answered_in(self, language: str) -> str:
        """The language the side answers a resident of `language` in: stock Rasa has no language access."""
        return language if self.side.name == "ours" else "en"

    def address(self) -> str:
        """A new address for every report, so none looks like a duplicate of another."""
        number = next(self.side.street_numbers)
        return f"{number} {STREETS[number % len(STREETS)]}"

    def attribute_asked(self, reply: str, code: str, language: str) -> Optional[Any]:
        from bot.i18n.city import attribute_text

        service = self.city.service(code)
        for attribute in service.attributes if service else []:
            question = attribute_text(language, code, attribute.code, attribute.description) or ""
            if question.strip("¿?") in reply:
                return attribute
        return None

    async def report(self, talk: Talk, rng: random.Random) -> None:
        """A complete service request: opening, the service's questions, where, what, confirm."""
        said, marks = talk.scripts, talk.markers
        code = rng.choice(sorted(said.reports))
        opening, answers = said.reports[code]
        if rng.random() < 0.5:
            await talk.say(said.short_greeting)
        reply = await talk.say(opening)
        if rng.random() < 0.3:  # a city question in the middle of the report
            question = reply
            reply = await talk.say(rng.choice(said.mid_report_questions))
            talk.expect(question.splitlines()[-1][:20] in reply, "the report's question again", reply)
        for _ in range(6):
            attribute = self.attribute_asked(reply, code, talk.answered_in)
            if attribute is None:
                break
            reply = await talk.say(answers.get(attribute.code, said.skip))
        talk.expect(marks.location_question in reply, "the location question", reply)
        address = self.address()
        reply = await talk.say(address)
        talk.expect(marks.description_question in reply, "the description question", reply)
        reply = await talk.say(rng.choice(said.descriptions))
        talk.expect(marks.contact_question in reply, "the contact question", reply)
        reply = await talk.say(said.skip)
        talk.expect(marks.summary in reply and address in reply, "the summary", reply)
        reply = await talk.say(said.yes)
        match = re.search(marks.request_number, reply) or re.search(marks.reference, reply)
        talk.expect(match is not None, "a request number", reply)
        self.side.filed.append(match.group(1))
        await talk.say(said.thanks)

    async def questions(self, talk: Talk, rng: random.Random) -> None:
        """City questions, a greeting, a bot question, thanks and goodbye."""
        said = talk.scripts
        await talk.say(said.greeting)
        for line in rng.sample(said.faq_lines, 3):
            await talk.say(line)
        await talk.say(said.bot_question)
        for line in rng.sample(said.faq_lines, 2):
            await talk.say(line)
        await talk.say(said.thanks)
        await talk.say(said.bye)

    async def status(self, talk: Talk, rng: random.Random) -> None:
        """Status lookups: a number in the question, then one asked for."""
        said, marks = talk.scripts, talk.markers
        request_id = rng.choice(self.side.filed) if self.side.filed else UNKNOWN_REQUEST_ID
        await talk.say(said.greeting)
        reply = await talk.say(said.status_question.format(request_id=request_id))
        shown = marks.request_status.format(request_id=request_id)
        talk.expect(shown in reply or request_id in reply, "the request's status", reply)
        await talk.say(rng.choice(said.faq_lines))
        reply = await talk.say(said.check_on_report)
        talk.expect(marks.request_id_question in reply, "a question for the number", reply)
        reply = await talk.say(request_id)
        talk.expect(request_id in reply, "the request's status", reply)
        await talk.say(said.thanks)
        await talk.say(said.bye)

    async def out_of_scope(self, talk: Talk, rng: random.Random) -> None:
        """Things the assistant cannot do, then a person asked for."""
        said = talk.scripts
        await talk.say(said.short_greeting)
        first, second = rng.sample(said.out_of_scope_lines, 2)
        await talk.say(first)
        await talk.say(rng.choice(said.faq_lines))
        await talk.say(first)
        await talk.say(second)
        # The last turn: after this the conversation may be handed to city staff.
        reply = await talk.say(said.ask_person)
        talk.expect("311" in reply or "555" in reply, "the city's contacts", reply)

    def pick(self, rng: random.Random) -> Callable:
        return rng.choices([self.report, self.questions, self.status, self.out_of_scope], weights=[40, 25, 20, 15])[0]
