"""Reports made while the back office is down reach it once, through a whole assistant whose back office starts late."""

from __future__ import annotations

import dataclasses
import re
import time
from typing import Dict, Iterator, List

import httpx
import pytest

from bot.open311.models import DEV_API_KEY
from bot.process.procs import free_port
from bot.process.stack import DEFAULT_OPEN311_PATH, StackConfig
from bot.process.stack_processes import open311_process, stack_processes
from tests.support.conversation import Conversation
from tests.support.stack import RunningStack, running

# --- the whole assistant, its back office down since before it started ----------------------

REPORTS = 10


@pytest.fixture(scope="module")
def offline_stack(stack_config: StackConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """An assistant whose OPEN311_URL points at a reference server that is not started (yet)."""
    open311_port, rasa_port = free_port(), free_port()
    config = dataclasses.replace(
        stack_config,
        rasa_port=rasa_port,
        action_port=free_port(),
        open311_port=open311_port,
        var_dir=tmp_path_factory.mktemp("citybot-offline"),
        open311_url=f"http://127.0.0.1:{open311_port}{DEFAULT_OPEN311_PATH}",
        extra_env={
            **stack_config.extra_env,
            "PUBLIC_URL": f"http://127.0.0.1:{rasa_port}",
            "CONSOLE_PORT": str(free_port()),
            "OPEN311_API_KEY": DEV_API_KEY,
            "OPEN311_API_KEYS": DEV_API_KEY,
        },
    )
    assert all(p.name != "open311" for p in stack_processes(config))
    with running(config) as started:
        yield started


ANSWERS: Dict[str, str] = {
    "How big is it?": "small",
    "Where on the road?": "skip",
    "describe the problem": "deep enough to hurt a tire",
    "updates about this request": "skip",
}


def report_pothole(talk: Conversation, address: str) -> str:
    """The resident's whole report, answering what the form asks; returns the last reply."""
    answers = {**ANSWERS, "Where is it?": address}
    reply = talk.text(f"there is a pothole on {address}")
    asked: List[str] = []
    for _ in range(8):
        question = next((q for q in answers if q in reply), None)
        if question is None:
            break
        asked.append(question)
        reply = talk.text(answers[question])
    assert asked[:2] == ["How big is it?", "Where on the road?"], talk.transcript
    assert "Here's your report" in reply and f"Location: {address}" in reply, "\n".join(talk.transcript)
    return talk.text("yes")


def filed_copies(stack: RunningStack, references: List[str]) -> Dict[str, List[dict]]:
    found = httpx.get(f"{stack.effective_open311_url}/requests.json", params={"service_code": "POTHOLE"}, timeout=10)
    found.raise_for_status()
    return {ref: [r for r in found.json() if f"[ref {ref}]" in (r.get("description") or "")] for ref in references}


@pytest.mark.e2e
def test_ten_reports_made_while_the_back_office_was_down_all_arrive_exactly_once(offline_stack):
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{offline_stack.effective_open311_url}/services.json", timeout=5)
    addresses = {f"{101 + n} Maple Avenue" for n in range(REPORTS)}
    references: Dict[str, str] = {}
    for address in sorted(addresses):
        talk = Conversation(offline_stack.rasa_port)
        reply = report_pothole(talk, address)
        match = re.search(r"saved with reference (R-[A-Z0-9]+)", reply)
        assert match and "isn't answering" in reply, talk.transcript
        references[match.group(1)] = address
    assert len(references) == REPORTS

    back_office = open311_process(offline_stack.config)
    offline_stack.processes.append(back_office)
    back_office.start()
    back_office.wait_ready(60)

    deadline = time.monotonic() + 60
    copies = filed_copies(offline_stack, list(references))
    while time.monotonic() < deadline and not all(copies.values()):
        time.sleep(0.5)
        copies = filed_copies(offline_stack, list(references))
    time.sleep(3)  # a few more worker rounds: still exactly once
    copies = filed_copies(offline_stack, list(references))
    assert {ref: len(found) for ref, found in copies.items()} == {ref: 1 for ref in references}
    assert {ref: found[0]["address"] for ref, found in copies.items()} == references
