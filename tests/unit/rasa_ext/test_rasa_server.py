"""The Rasa server's patches (bot/rasa_ext/patches/) keep Rasa's behaviour."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    FollowupAction,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_ext.patches import (
    action_results,
    applied_events,
    endpoint_sessions,
    patched,
    recent_events,
    response_variations,
    tracker_copy,
)
from tests.support.conversation_events import form_end, user

ROOT = Path(__file__).resolve().parents[3]
RASA_APPLIED_EVENTS = DialogueStateTracker.applied_events
assert RASA_APPLIED_EVENTS.__module__.startswith("rasa.")


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def turn(rng: random.Random, index: int) -> List[Event]:
    """One turn of a city conversation, including the rarer events that change a tracker's state."""
    kind = rng.choice(["faq", "form", "interrupt", "reject", "form_end", "pause", "followup", "reset", "session"])
    if kind == "faq":
        return [
            user("faq"),
            ActionExecuted("utter_faq"),
            BotUttered(f"answer {index}"),
            ActionExecuted("action_listen"),
        ]
    if kind == "form":
        return [
            user("report_pothole", f"pothole at {index} Elm Street"),
            ActionExecuted("service_request_form"),
            ActiveLoop("service_request_form"),
            SlotSet("service_code", "POTHOLE"),
            SlotSet("location", {"address": f"{index} Elm Street"}),
            SlotSet("requested_slot", "description"),
            ActionExecuted("action_listen"),
        ]
    if kind == "interrupt":
        return [user("faq"), LoopInterrupted(True), ActionExecuted("utter_faq"), ActionExecuted("action_listen")]
    if kind == "reject":
        return [user("deny"), ActionExecutionRejected("service_request_form"), ActionExecuted("action_listen")]
    if kind == "form_end":
        return form_end()
    if kind == "pause":
        return [user("human_handoff"), ConversationPaused(), user("greet"), ConversationResumed()]
    if kind == "followup":
        return [user("greet"), FollowupAction("utter_greet"), ActionExecuted("utter_greet")]
    if kind == "reset":
        return [user("restart"), AllSlotsReset(), Restarted(), ActionExecuted("action_listen")]
    return [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]


def state(tracker: DialogueStateTracker) -> Dict[str, Any]:
    """Everything a tracker holds, comparable."""
    held = dict(vars(tracker))
    held["events"] = list(tracker.events)
    held["maxlen"] = tracker.events.maxlen
    held["slots"] = {name: (type(slot), slot.value, slot.has_been_set) for name, slot in tracker.slots.items()}
    held["active_loop"] = dataclasses.asdict(tracker.active_loop) if tracker.active_loop else None
    return held


def test_a_copy_is_the_tracker_rasas_replay_builds_at_every_event(domain: Domain):
    rng = random.Random(311)
    tracker = DialogueStateTracker.from_events("resident", [ActionExecuted("action_listen")], domain.slots)
    tracker.model_id, tracker.assistant_id = "model", "riverton-311"
    for index in range(120):
        for event in turn(rng, index):
            tracker.update(event)
            assert state(tracker_copy.tracker_copy(tracker)) == state(tracker.travel_back_in_time(float("inf")))


def test_a_copy_changes_without_changing_the_original(domain: Domain):
    events = [
        ActionExecuted("action_listen"),
        user("report_pothole"),
        ActiveLoop("service_request_form"),
        SlotSet("service_code", "POTHOLE"),
    ]
    tracker = DialogueStateTracker.from_events("resident", events, domain.slots, max_event_history=50)
    duplicate = tracker_copy.tracker_copy(tracker)
    duplicate.update(SlotSet("service_code", "GRAFFITI"))
    duplicate.interrupt_loop(True)
    duplicate.set_latest_action({"action_name": "utter_faq"})
    assert duplicate.events.maxlen == 50
    assert tracker.get_slot("service_code") == "POTHOLE" and duplicate.get_slot("service_code") == "GRAFFITI"
    assert not tracker.active_loop.is_interrupted
    assert tracker.latest_action != duplicate.latest_action
    assert len(tracker.events) == len(events) and len(duplicate.events) == len(events) + 1


def form_turn(rng: random.Random, form: str) -> List[Event]:
    """A step of a form: its happy path, a rejected step, or a question asked inside it."""
    kind = rng.choice(["start", "step", "step", "reject", "aside", "end", "rewind", "undo"])
    if kind == "start":
        return [
            user("report_pothole"),
            ActionExecuted(form),
            ActiveLoop(form),
            SlotSet("requested_slot", "x"),
            ActionExecuted("action_listen"),
        ]
    if kind == "step":
        return [user("inform"), ActionExecuted(form), SlotSet("requested_slot", "y"), ActionExecuted("action_listen")]
    if kind == "reject":
        return [
            user("faq"),
            ActionExecutionRejected(form),
            ActionExecuted("utter_faq"),
            ActionExecuted(form),
            ActionExecuted("action_listen"),
        ]
    if kind == "aside":
        return [user("greet"), ActionExecuted("utter_greet"), BotUttered("hi"), ActionExecuted("action_listen")]
    if kind == "end":
        return form_end(form)
    if kind == "rewind":
        return [user("out_of_scope"), UserUtteranceReverted()]
    return [ActionReverted()]


def test_applied_events_are_rasas_own_after_every_event(domain: Domain):
    """Forms, a second form seen late, rewinds, restarts: the remembered result matches Rasa's at every event."""
    rng = random.Random(311)
    for conversation_index in range(6):
        tracker = DialogueStateTracker.from_events("resident", [ActionExecuted("action_listen")], domain.slots)
        forms = ["service_request_form"]
        for index in range(90):
            if index == 45 + conversation_index:
                forms.append("alert_subscription_form")
            events = form_turn(rng, rng.choice(forms)) if rng.random() < 0.7 else turn(rng, index)
            for event in events:
                tracker.update(event)
                if rng.random() < 0.6:  # some events are added before anyone asks
                    assert applied_events.applied_events(tracker) == RASA_APPLIED_EVENTS(tracker)
        assert applied_events.applied_events(tracker) == RASA_APPLIED_EVENTS(tracker)


def test_applied_events_follow_events_taken_away(domain: Domain):
    tracker = DialogueStateTracker.from_events("resident", conversation(5), domain.slots)
    assert applied_events.applied_events(tracker) == RASA_APPLIED_EVENTS(tracker)
    tracker.events.pop()
    tracker.events.pop()
    assert applied_events.applied_events(tracker) == RASA_APPLIED_EVENTS(tracker)
    tracker.events.pop()
    tracker.update(BotUttered("another answer"))
    assert applied_events.applied_events(tracker) == RASA_APPLIED_EVENTS(tracker)
    copied = tracker_copy.tracker_copy(tracker)
    copied.update(user("greet"))
    assert applied_events.applied_events(copied) == RASA_APPLIED_EVENTS(copied)
    assert applied_events.applied_events(tracker) == RASA_APPLIED_EVENTS(tracker) != RASA_APPLIED_EVENTS(copied)
    bounded = DialogueStateTracker.from_events("resident", conversation(5), domain.slots, max_event_history=12)
    assert applied_events.applied_events(bounded) == RASA_APPLIED_EVENTS(bounded)
    bounded.update(user("greet"))  # the oldest event falls out
    assert applied_events.applied_events(bounded) == RASA_APPLIED_EVENTS(bounded)


def conversation(turns: int) -> List[Event]:
    events: List[Event] = [ActionExecuted("action_listen")]
    for index in range(turns):
        events += [
            user("faq", f"question {index}"),
            ActionExecuted("utter_faq"),
            BotUttered(f"answer {index}"),
            ActionExecuted("action_listen"),
        ]
    return events


def test_recent_events_start_at_the_nth_latest_user_message(domain: Domain):
    tracker = DialogueStateTracker.from_events("resident", conversation(40), domain.slots)
    recent = recent_events.recent_events(tracker, 5)
    assert recent == list(tracker.events)[-20:]
    assert recent[0] == user("faq", "question 35")
    assert recent_events.recent_events(tracker, 0) == list(tracker.events)
    short = DialogueStateTracker.from_events("resident", conversation(3), domain.slots)
    assert recent_events.recent_events(short, 5) == list(short.events)


@pytest.fixture
def trimmed_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ACTION_TRACKER_USER_TURNS", "2")
    with patched(recent_events.PATCH):
        yield


def test_an_action_call_carries_the_latest_turns_and_the_whole_state(domain: Domain, trimmed_calls: None):
    events = conversation(30) + [
        user("report_pothole"),
        ActionExecuted("service_request_form"),
        ActiveLoop("service_request_form"),
        SlotSet("service_code", "POTHOLE"),
    ]
    tracker = DialogueStateTracker.from_events("resident", events, domain.slots)
    action = RemoteAction("action_submit_report", EndpointConfig("http://localhost:5055/webhook"))
    call = action._action_call_format(tracker, domain)
    full = tracker.current_state(EventVerbosity.ALL)
    assert call["tracker"]["events"] == full["events"][-8:]
    assert call["tracker"]["events"][0]["text"] == "question 29"
    assert {key: value for key, value in call["tracker"].items() if key != "events"} == {
        key: value for key, value in full.items() if key != "events"
    }
    assert call["tracker"]["slots"]["service_code"] == "POTHOLE"
    assert call["next_action"] == "action_submit_report" and call["sender_id"] == "resident"


@pytest.mark.parametrize(
    "body",
    [
        {"tracker": {"events": [{"event": "user", "text": "¿dónde está? 12 Elm St / 3", "confidence": 0.123456789}]}},
        {"timestamp": 1765111111.1234567, "slots": {"count": 10**30, "empty": None, "flags": [True, False]}},
        {"confidence": float("nan")},  # not JSON, yet json writes it (NaN), and so does ujson
    ],
)
def test_bodies_read_back_as_jsons_own(body: Dict[str, Any]):
    encoded = endpoint_sessions.encode_json(body)
    assert json.loads(encoded) == json.loads(json.dumps(body)) or encoded == json.dumps(body)


@pytest.fixture
def kept_sessions() -> Iterator[None]:
    with patched(endpoint_sessions.PATCH):
        yield


async def test_calls_to_an_endpoint_reuse_one_connection_until_the_server_stops(kept_sessions: None):
    import rasa.core.run
    from aiohttp import web

    peers: List[Any] = []
    no_agent = SimpleNamespace(ctx=SimpleNamespace())

    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({"events": [], "responses": [], "seen": await request.json()})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
        answers = [await endpoint.request(json={"n": n}, method="post") for n in range(3)]
        assert [answer["seen"] for answer in answers] == [{"n": 0}, {"n": 1}, {"n": 2}]
        assert len(peers) == 3 and len(set(peers)) == 1  # one connection, kept alive

        await rasa.core.run.close_resources(no_agent, None)  # the Rasa server stops
        assert endpoint_sessions.OPEN_SESSIONS == []
        assert (await endpoint.request(json={"n": 3}, method="post"))["seen"] == {"n": 3}  # a new session
        await rasa.core.run.close_resources(no_agent, None)
    finally:
        await runner.cleanup()


def action_answers() -> List[Any]:
    """Action server answers, valid and not, with every kind of event an action may return."""
    rng = random.Random(7)
    events = [event.as_dict() for index in range(60) for event in turn(rng, index)]
    valid = [
        {"events": events[i : i + 7], "responses": [{"text": "Thanks!"}, {"template": "utter_greet"}]}
        for i in range(0, len(events), 7)
    ] + [{}, {"events": []}, {"responses": []}, {"events": [{"event": "slot", "name": "x", "value": None}]}]
    broken_events = [
        {"event": "slot", "value": 1},  # no name
        {"event": "slot", "name": 3, "value": 1},
        {"event": "no_such_event"},
        {"name": "utter_greet"},  # no event type
        {"event": 5},
        {"event": "action", "name": "x", "timestamp": "yesterday"},
        {"event": "user", "text": "hi", "parse_data": {"intent": {"name": 5}}},
        {"event": "user", "parse_data": {"entities": [{"entity": "street"}]}},  # an entity without value
        "slot",
        None,
    ]
    invalid = [{"events": [events[0], broken, events[1]]} for broken in broken_events] + [
        {"events": {"event": "slot"}},
        {"events": None},
        {"responses": "hello"},
        {"responses": ["hello"]},
        [],
        "events",
    ]
    return [(answer, True) for answer in valid] + [(answer, False) for answer in invalid]


@pytest.mark.parametrize("answer,valid", action_answers())
def test_action_answers_are_validated_as_rasa_validates_them(answer: Any, valid: bool):
    import jsonschema

    schema = RemoteAction.action_response_format_spec()
    validator = action_results.ActionResultValidator(schema)
    assert validator.is_valid_quickly(answer) is valid
    try:
        jsonschema.validate(answer, schema)
    except jsonschema.ValidationError as rasas:
        with pytest.raises(jsonschema.ValidationError) as ours:
            validator.validate(answer)
        assert (ours.value.message, list(ours.value.path)) == (rasas.message, list(rasas.path))
    else:
        validator.validate(answer)


def test_response_variations_are_picked_among_rasas_own():
    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

    responses = {
        "utter_greet": [
            {"text": "Hi!"},
            {"text": "Hello!"},
            {"text": "Hey there."},
            {"text": "Hi on Telegram!", "channel": "telegram"},
            {"text": "Hi, reporter!", "condition": [{"type": "slot", "name": "role", "value": "reporter"}]},
        ]
    }
    generator = TemplatedNaturalLanguageGenerator(responses)
    cases = [("rest", {}), ("telegram", {}), ("rest", {"role": "reporter"}), ("rest", {"role": "visitor"})]

    def picked() -> List[Any]:
        return [{generator._random_response_for("utter_greet", *case)["text"] for _ in range(200)} for case in cases]

    rasas = picked()
    with patched(response_variations.PATCH):
        assert picked() == rasas
        assert generator._random_response_for("utter_unknown", "rest", {}) is None
    assert rasas[0] == {"Hi!", "Hello!", "Hey there."}  # every variation gets its turn
