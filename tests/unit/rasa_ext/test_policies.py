"""RecentRulePolicy sees exactly the dialogue states RulePolicy would match its rules against."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import List

import pytest
from rasa.core.policies.rule_policy import RULES, RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SlotSet,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_ext.policies import RecentRulePolicy
from tests.support.conversation_events import form_end, user

ROOT = Path(__file__).resolve().parents[3]
LONGEST_RULE = 3


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def policy(tmp_path: Path) -> RecentRulePolicy:
    policy = RecentRulePolicy.create(
        RecentRulePolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("rules"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    rule = json.dumps([{"prev_action": {"action_name": "action_listen"}}] * LONGEST_RULE)
    policy.lookup = {RULES: {rule: "utter_greet"}}
    return policy


def turn(rng: random.Random) -> List[Event]:
    """One resident turn of a city conversation: a question, a report step, a greeting..."""
    kind = rng.choice(["faq", "form", "form_end", "greet", "rewind"])
    if kind == "faq":
        return [user("faq"), ActionExecuted("utter_faq"), BotUttered("answer"), ActionExecuted("action_listen")]
    if kind == "form":
        return [
            user("report_pothole"),
            ActionExecuted("service_request_form"),
            ActiveLoop("service_request_form"),
            SlotSet("service_code", "POTHOLE"),
            SlotSet("requested_slot", "location"),
            ActionExecuted("action_listen"),
        ]
    if kind == "form_end":
        return form_end()
    if kind == "rewind":  # a misunderstood message taken back
        return [user("out_of_scope"), UserUtteranceReverted(), ActionExecuted("action_listen")]
    return [user("greet"), ActionExecuted("utter_greet"), BotUttered("hi"), ActionExecuted("action_listen")]


def test_the_states_a_rule_can_see_are_rasas_own_at_every_turn(policy: RecentRulePolicy, domain: Domain):
    """A 150-turn conversation, one growing tracker (the incremental path) and a rebuilt one (from scratch)."""
    rng = random.Random(311)
    keep = policy.states_needed()
    assert keep == LONGEST_RULE + 1
    tracker = DialogueStateTracker.from_events("resident", [ActionExecuted("action_listen")], domain.slots)
    for _ in range(150):
        for event in turn(rng):
            tracker.update(event)
            expected = tracker.past_states(domain)[-keep:]
            assert policy.recent_states(tracker, domain) == expected
        rebuilt = DialogueStateTracker.from_dict("resident", [e.as_dict() for e in tracker.events], domain.slots)
        assert policy.recent_states(rebuilt, domain) == tracker.past_states(domain)[-keep:]


def test_the_caller_may_edit_the_states_it_gets(policy: RecentRulePolicy, domain: Domain):
    """RulePolicy drops the intent or the text from the last state; the remembered states stay whole."""
    tracker = DialogueStateTracker.from_events(
        "resident", [ActionExecuted("action_listen"), user("greet")], domain.slots
    )
    first = policy._prediction_states(tracker, domain, use_text_for_last_user_input=True)
    second = policy.recent_states(tracker, domain)
    assert first != second and second == tracker.past_states(domain)[-policy.states_needed() :]


def test_rules_match_as_in_rulepolicy(policy: RecentRulePolicy, domain: Domain, tmp_path: Path):
    """Rules read once from their keys match the same states as RulePolicy's, and stay unchanged."""
    rng = random.Random(3110)
    tracker = DialogueStateTracker.from_events("resident", [ActionExecuted("action_listen")], domain.slots)
    for _ in range(40):
        for event in turn(rng):
            tracker.update(event)
    states = tracker.past_states(domain)
    # Rules cut from the conversation itself, so that some match and some do not.
    keys = {
        json.dumps(states[start : start + length]) for start in range(0, len(states) - 3, 7) for length in (1, 2, 3)
    }
    lookup = {key: "utter_greet" for key in keys}
    plain = RulePolicy.create(
        RulePolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("plain"),
        ExecutionContext(GraphSchema({}), "plain"),
    )
    matched = 0
    for _ in range(2):  # the second time from what the policy remembered
        for end in range(1, len(states) + 1):
            window = states[max(0, end - 4) : end]
            expected = plain._get_possible_keys(lookup, window)
            assert policy._get_possible_keys(lookup, window) == expected
            matched += bool(expected)
    assert matched > 20
    assert 0 < len(policy._matches) < len(states)  # the same runs of states come back
    unhashable = [{"user": {"intent": "greet", "entities": ["street"]}}]
    assert policy._get_possible_keys(lookup, unhashable) == plain._get_possible_keys(lookup, unhashable)
    assert all(policy._rule_key_to_state(key) == json.loads(key) for key in keys)
