"""City jobs end to end: residents ask over REST, the web chat and SMS in English and Spanish, and get job alerts.

The assistant runs with JOBS_FEED_URL pointing at a careers feed this test serves
over HTTP (the city's own postings, kept open until 2099 but the GIS Analyst,
closed), read by the worker every second. A new posting added to the feed reaches
each matching subscriber once; after "stop job alerts", no more.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import threading
import time
import uuid
from typing import Any, Dict, Iterator, List

import httpx
import pytest

from bot.process.procs import free_port
from bot.process.stack import StackConfig
from tests.support.conversation import Conversation
from tests.support.jobs import FeedSite, job_posting, shipped_document
from tests.support.stack import RunningStack, running
from tests.support.twilio import Phone

pytestmark = pytest.mark.e2e

CLOSED = "2026-0360"  # GIS Analyst, closed
WEBCHAT = "/webhooks/webchat/webhook"
CAREERS = "https://www.riverton.gov/jobs"


def open_feed() -> Dict[str, Any]:
    """The city's postings with their closing days moved to 2099 (same month and day), the GIS Analyst closed."""
    document = shipped_document()
    for posting in document["itemListElement"]:
        if posting["identifier"]["value"] != CLOSED:
            posting["validThrough"] = re.sub(r"^20\d\d", "2099", posting["validThrough"])
    return document


class ServedFeed:
    """tests.support.jobs.FeedSite on an event loop of its own thread (the tests here are synchronous)."""

    def __init__(self) -> None:
        self.site = FeedSite()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self.site.start(), self.loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.site.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture(scope="module")
def feed() -> Iterator[ServedFeed]:
    served = ServedFeed()
    served.site.serve(open_feed())
    yield served
    served.stop()


@pytest.fixture(scope="module")
def jobs_stack(stack_config: StackConfig, feed: ServedFeed, tmp_path_factory) -> Iterator[RunningStack]:
    """The whole assistant reading the test's feed every second."""
    rasa_port = free_port()
    config = dataclasses.replace(
        stack_config,
        rasa_port=rasa_port,
        action_port=free_port(),
        open311_port=free_port(),
        var_dir=tmp_path_factory.mktemp("citybot-jobs"),
        extra_env={
            **stack_config.extra_env,
            "PUBLIC_URL": f"http://127.0.0.1:{rasa_port}",
            "CONSOLE_PORT": str(free_port()),
            "JOBS_FEED_URL": feed.site.url,
            "JOBS_REFRESH_SECONDS": "1",
        },
    )
    with running(config) as started:
        talk = Conversation(started.rasa_port)
        deadline = time.monotonic() + 60
        while "8 open jobs" not in talk.text("is the city hiring?"):  # the worker's first read is stored
            assert time.monotonic() < deadline, talk.transcript
            time.sleep(1)
        yield started


def never_closed(transcript: List[str]) -> None:
    assert not [line for line in transcript if "GIS Analyst" in line], transcript


def test_questions_in_english_over_rest(jobs_stack):
    talk = Conversation(jobs_stack.rasa_port)
    hiring = talk.text("is the city hiring?")
    assert hiring.startswith("The City of Riverton has 8 open jobs: Parks and Recreation (2), 311 Contact Center (1)")
    assert CAREERS in hiring and "Information Technology" not in hiring
    parks = talk.text("any jobs in the parks department?")
    assert parks.startswith("Parks and Recreation has 2 open jobs:")
    assert "Seasonal Park Maintenance Worker" in parks and "Recreation Program Leader (part time)" in parks
    part_time = talk.text("are there any part-time jobs?")
    assert part_time.startswith("1 open part-time job:") and "Recreation Program Leader" in part_time
    pay = talk.text("how much does the water plant operator job pay?")
    assert pay.startswith("Water Treatment Plant Operator") and "Pay: $55,000 to $72,400 a year" in pay
    assert "Apply by: Thursday, January 8" in pay and "https://www.riverton.gov/jobs/2026-0377" in pay
    closes = talk.text("when does the equipment operator posting close?")
    assert closes.startswith("Equipment Operator II") and "Apply by: Friday, December 11" in closes
    talk.text("what does the gis analyst job pay?")
    full_time = talk.say("any full-time jobs?")
    assert "And 3 more." in full_time[0]["text"]
    assert full_time[0]["buttons"] == [{"title": "More jobs", "payload": "/more_jobs"}]
    more = talk.text("/more_jobs")
    assert more.startswith("More open jobs:") and more.count("\n- ") == 3
    never_closed(talk.transcript)


class WebChat:
    """A resident in the city's web chat (its own webhook, a browser session id)."""

    def __init__(self, stack: RunningStack) -> None:
        self.url = f"http://127.0.0.1:{stack.rasa_port}{WEBCHAT}"
        self.session = str(uuid.uuid4())
        self.transcript: List[str] = []

    def say(self, text: str, **extra: str) -> List[Dict[str, Any]]:
        response = httpx.post(self.url, json={"session": self.session, "message": text, **extra}, timeout=60)
        assert response.status_code == 200, response.text
        replies = response.json()
        self.transcript.extend([f"> {text}", *(f"< {r.get('text', '')}" for r in replies)])
        return replies

    def text(self, text: str) -> str:
        return "\n".join(reply.get("text", "") for reply in self.say(text))


def test_questions_in_english_over_the_web_chat_with_the_more_button(jobs_stack):
    chat = WebChat(jobs_stack)
    parks = chat.text("any parks jobs?")  # 2, or more after the alerts test added some
    assert re.match(r"Parks and Recreation has \d+ open jobs:\n- ", parks), chat.transcript
    full_time = chat.say("any full time jobs at the city?")
    assert {"title": "More jobs", "payload": "/more_jobs"} in full_time[0].get("buttons", []), (
        full_time,
        chat.transcript,
    )
    more = chat.say("/more_jobs", title="More jobs")
    assert more[0]["text"].startswith("More open jobs:"), chat.transcript
    never_closed(chat.transcript)


def test_questions_in_spanish_over_rest(jobs_stack):
    talk = Conversation(jobs_stack.rasa_port)
    full_time = talk.text("¿hay empleos de tiempo completo?")  # 6, or more after the alerts test added some
    assert re.match(r"\d+ empleos de tiempo completo abiertos:", full_time), talk.transcript
    assert re.search(r"\nY otros \d+ empleos\.\n", full_time), talk.transcript
    police = talk.text("¿la policía está contratando?")
    assert "Police Officer (entry level)" in police and "$58,000" in police, talk.transcript
    never_closed(talk.transcript)


def test_questions_in_spanish_over_the_web_chat(jobs_stack):
    chat = WebChat(jobs_stack)
    say, transcript = chat.text, chat.transcript

    hiring = say("¿la ciudad está contratando?")
    assert hiring.startswith("La Ciudad de Riverton tiene 8 empleos abiertos: Parques y Recreación (2)"), transcript
    parks = say("¿hay trabajos en parques?")
    assert "Seasonal Park Maintenance Worker" in parks and "Recreation Program Leader" in parks, transcript
    internships = say("¿hay pasantías?")
    assert "Summer Intern, City Planning (paid)" in internships, transcript
    pay = say("¿cuánto paga el puesto de operador de la planta de agua?")
    assert "Water Treatment Plant Operator" in pay and "55,000" in pay and "8 de enero" in pay, transcript
    say("¿cuánto paga el analista gis?")
    never_closed(transcript)


def wait_for_alerts(phone: Phone, seconds: float = 30) -> List[str]:
    """The job alerts the phone received so far (waiting for the first)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alerts = [r.body["Body"] for r in phone.sent_to_me() if "New City of Riverton job" in r.body["Body"]]
        if alerts:
            return alerts
        time.sleep(0.5)
    return []


def test_sms_compact_answers_and_job_alerts_once_then_stopped(jobs_stack, fake_cloud, feed):
    parks_fan, reader = Phone(jobs_stack, fake_cloud), Phone(jobs_stack, fake_cloud)
    answer = parks_fan.send("any parks jobs?")
    assert answer.startswith(
        "Parks and Recreation has 2 open jobs:\n- Seasonal Park Maintenance Worker: $17.50-$19.00/hr"
    )
    assert len(answer) <= 306, answer  # two SMS segments
    closes = parks_fan.send("when does the equipment operator posting close?")
    assert closes.startswith("Equipment Operator II: $48,500-$61,200/yr, closes Dec 11. Apply: "), closes
    subscribed = parks_fan.send("tell me when there are new parks jobs")
    assert "Parks and Recreation" in subscribed, parks_fan.transcript
    assert "library" in reader.send("let me know when the library posts a job").lower(), reader.transcript

    document = open_feed()
    document["itemListElement"].append(job_posting("2099-0100", "Lifeguard (summer)", "Parks and Recreation"))
    feed.site.serve(document)
    alerts = wait_for_alerts(parks_fan)
    assert len(alerts) == 1 and "Lifeguard (summer)" in alerts[0], parks_fan.transcript
    time.sleep(4)  # several more reads of the same feed: no second alert
    assert len(wait_for_alerts(parks_fan)) == 1
    assert wait_for_alerts(reader, seconds=1) == []  # a library subscriber hears nothing of a parks job

    parks_fan.read_so_far = len(parks_fan.sent_to_me())
    assert parks_fan.send("stop job alerts") == "Done: you will get no more job alerts."
    document["itemListElement"].append(job_posting("2099-0101", "Park Ranger", "Parks and Recreation"))
    feed.site.serve(document)
    time.sleep(5)
    assert not [body for body in (r.body["Body"] for r in parks_fan.sent_to_me()) if "Park Ranger" in body]


def test_spanish_job_alerts_on_and_off_by_sms(jobs_stack, fake_cloud):
    phone = Phone(jobs_stack, fake_cloud)
    assert "chofer" in phone.send("avísame cuando haya trabajos de chofer"), phone.transcript
    assert phone.send("cancelar avisos de empleo") == "Listo: ya no recibirá avisos de empleo.", phone.transcript


def test_a_jobs_question_in_the_middle_of_a_report_then_the_report_goes_on(jobs_stack):
    talk = Conversation(jobs_stack.rasa_port)
    assert "How big is it?" in talk.text("there is a pothole on my street"), talk.transcript
    reply = talk.text("is the city hiring?")  # 8 open jobs, or more after the alerts test added some
    assert re.match(r"The City of Riverton has \d+ open jobs: Parks and Recreation", reply), talk.transcript
    assert reply.endswith("How big is it?"), talk.transcript
