"""Custom actions run in the Rasa process (patch in_process_actions): what Rasa gets back, and what it keeps."""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Iterator, List

import pytest
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_ext import server
from bot.rasa_ext.patches import in_process_actions, patched
from tests.support.in_process_actions import PRIVATE_DETAIL, ActionTestSlow

MODULE = "tests.support.in_process_actions"
NOWHERE = "http://127.0.0.1:9/webhook"  # nothing listens: a call over HTTP would fail
DOMAIN = Domain.from_dict(
    {
        "slots": {
            "draft": {"type": "any", "mappings": [{"type": "custom"}]},
            "answered": {"type": "any", "mappings": [{"type": "custom"}]},
        },
        "actions": [
            "action_test_answer",
            "action_test_rejected",
            "action_test_failing",
            "action_test_not_json",
            "action_test_where",
            "action_test_slow",
        ],
    }
)


@pytest.fixture(autouse=True)
def in_force() -> Iterator[None]:
    with patched(in_process_actions.PATCH):
        yield


def resident() -> DialogueStateTracker:
    return DialogueStateTracker.from_events("resident", [SlotSet("draft", {"address": "12 Elm St"})], DOMAIN.slots)


async def run(name: str, tracker: DialogueStateTracker, **endpoint: str) -> List[Event]:
    action = RemoteAction(name, EndpointConfig(NOWHERE, **endpoint))
    return await action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker, DOMAIN)


@pytest.mark.parametrize("value,module", [(None, None), ("", None), ("  ", None), ("actions", "actions"), (3, None)])
def test_only_a_named_package_runs_in_process(value, module):
    endpoint = EndpointConfig(NOWHERE, **({} if value is None else {"actions_module": value}))
    assert in_process_actions.actions_module(endpoint) == module
    assert in_process_actions.actions_module(None) is None


async def test_an_action_runs_here_and_its_answer_becomes_rasas_events():
    events = await run("action_test_answer", resident(), actions_module=MODULE)
    assert [type(event) for event in events] == [BotUttered, SlotSet]
    assert events[0].text == "seen 12 Elm St"
    assert events[1] == SlotSet("answered", True)


async def test_an_action_changes_nothing_rasa_holds():
    tracker = resident()
    domain_before = copy.deepcopy(DOMAIN.as_dict())
    await run("action_test_answer", tracker, actions_module=MODULE)
    assert tracker.get_slot("draft") == {"address": "12 Elm St"}
    assert DOMAIN.as_dict() == domain_before


async def test_without_the_package_the_action_server_is_called():
    with pytest.raises(RasaException, match="Couldn't connect"):
        await run("action_test_answer", resident())


async def test_a_rejection_stays_rasas_rejection():
    with pytest.raises(ActionExecutionRejection) as rejected:
        await run("action_test_rejected", resident(), actions_module=MODULE)
    assert rejected.value.action_name == "action_test_rejected"


async def test_a_failure_is_rasas_failure_and_its_message_stays_out_of_the_log(caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.DEBUG), pytest.raises(RasaException, match="action_test_failing") as failed:
        await run("action_test_failing", resident(), actions_module=MODULE)
    assert failed.value.__cause__ is None and failed.value.__suppress_context__
    assert "ValueError" in caplog.text
    assert PRIVATE_DETAIL not in caplog.text and PRIVATE_DETAIL not in str(failed.value)


async def test_an_answer_that_is_not_json_fails_as_over_http():
    with pytest.raises(RasaException, match="action_test_not_json"):
        await run("action_test_not_json", resident(), actions_module=MODULE)


async def test_an_unknown_action_is_refused():
    with pytest.raises(RasaException, match="No registered action found for name 'action_nobody_wrote'"):
        await run("action_nobody_wrote", resident(), actions_module=MODULE)


async def test_actions_run_on_a_loop_of_their_own():
    events = await run("action_test_where", resident(), actions_module=MODULE)
    assert events == [SlotSet("answered", "custom-actions")]
    assert in_process_actions.action_loop().thread.is_alive()


def test_the_package_an_endpoints_file_names_is_loaded_before_the_server_starts(tmp_path: Path):
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f"action_endpoint:\n  url: {NOWHERE}\n  actions_module: {MODULE}\n")
    in_process_actions.load_actions(str(endpoints))
    assert "action_test_where" in in_process_actions.executor_for(MODULE).actions
    assert server.endpoints_file(["run", "--endpoints", str(endpoints), "--port", "5005"]) == str(endpoints)
    assert server.endpoints_file(["run"]) == "endpoints.yml"


def test_the_domain_is_copied_once_per_domain_and_the_rest_on_every_call():
    domain, other = {"slots": {"draft": {}}}, {"slots": {}}
    call = {"next_action": "action_test_answer", "tracker": {"slots": {"draft": {"address": "1 Main St"}}}}
    first = in_process_actions.call_as_over_http({**call, "domain": domain})
    again = in_process_actions.call_as_over_http({**call, "domain": domain})
    assert first["domain"] == domain and first["domain"] is not domain
    assert again["domain"] is first["domain"]  # the same copy: no second encoding
    assert again["tracker"] == call["tracker"] and again["tracker"] is not first["tracker"]
    assert again["tracker"]["slots"]["draft"] is not call["tracker"]["slots"]["draft"]
    assert in_process_actions.call_as_over_http({**call, "domain": other})["domain"] == other
    assert "domain" not in in_process_actions.call_as_over_http(call)


async def test_an_action_over_rasas_time_limit_fails_and_is_stopped(monkeypatch: pytest.MonkeyPatch):
    import rasa.core.constants

    monkeypatch.setattr(rasa.core.constants, "DEFAULT_REQUEST_TIMEOUT", 0.2)
    with pytest.raises(RasaException, match="action_test_slow"):
        await run("action_test_slow", resident(), actions_module=MODULE)
    assert ActionTestSlow.cancelled.wait(5)
