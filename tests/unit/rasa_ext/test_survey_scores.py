"""bot/rasa_ext/patches/survey_scores.py: a score typed while the survey waits runs `action_rate_service`.

The trained model reads each message and its rules predict the rest, as in the
Rasa server; only the action server is absent (predictions only).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_ext.patches import patched, survey_scores
from tests.support.conversation_events import form_end, user

WAITING = {"survey_asked": "request:R-ABC123"}


@pytest.fixture(scope="module")
def agent(trained_model: Path) -> Agent:
    return Agent.load(str(trained_model))


@pytest.fixture
def patch() -> Iterator[None]:
    with patched(survey_scores.PATCH):
        yield


def conversation(
    agent: Agent,
    text: str,
    slots: Dict[str, Any],
    after: Optional[List[Event]] = None,
    before: Optional[List[Event]] = None,
) -> DialogueStateTracker:
    """A report filed, the survey asked (or not, as `slots` say), `before`, then `text` as the model reads it."""
    parse = asyncio.run(agent.parse_message(text))
    events: List[Event] = [
        ActionExecuted("action_listen"),
        user("report_pothole"),
        ActionExecuted("service_request_form"),
        ActiveLoop("service_request_form"),
        *form_end(),
    ]
    events.insert(-1, BotUttered("How did we do?"))
    events[-1:-1] = [SlotSet(name, value) for name, value in slots.items()]
    events.extend(before or [])
    events.append(UserUttered(text, parse["intent"], parse["entities"], parse))
    events.extend(after or [])
    assert agent.processor is not None
    return DialogueStateTracker.from_events("resident", events, agent.processor.domain.slots)


def predicted(agent: Agent, tracker: DialogueStateTracker) -> Tuple[str, Optional[str]]:
    assert agent.processor is not None
    prediction = agent.processor._predict_next_with_tracker(tracker)
    return agent.processor.domain.action_names_or_texts[prediction.max_confidence_index], prediction.policy_name


@pytest.mark.parametrize("text", ["4", "I'd give it a 5", "5 stars", "un 4", "le doy un 5", "cuatro"])
def test_a_typed_score_runs_the_rating_then_listens(agent: Agent, patch: None, text: str):
    assert predicted(agent, conversation(agent, text, WAITING)) == ("action_rate_service", "SurveyScoreReply")
    rated = conversation(agent, text, WAITING, after=[ActionExecuted("action_rate_service")])
    assert predicted(agent, rated)[0] == "action_listen"


def test_rasas_own_rules_answered_a_typed_score_as_something_else(agent: Agent):
    assert predicted(agent, conversation(agent, "4", WAITING))[0] == "action_handle_misunderstanding"
    assert predicted(agent, conversation(agent, "I'd give it a 5", WAITING))[0] != "action_rate_service"


def test_other_messages_keep_their_answers(agent: Agent, patch: None):
    assert predicted(agent, conversation(agent, "the 4 potholes are still there", WAITING))[0] == "service_request_form"
    assert predicted(agent, conversation(agent, "no", WAITING))[0] == "utter_ok_no_problem"
    answered = {**WAITING, "survey_answer": 12}
    assert predicted(agent, conversation(agent, "4", answered))[0] == "action_handle_misunderstanding"
    assert predicted(agent, conversation(agent, "4", {}))[0] == "action_handle_misunderstanding"


@pytest.mark.parametrize("text", ["4", "I'd give it a 5"])
def test_a_score_typed_in_a_later_message_is_not_the_score(agent: Agent, patch: None, text: str):
    """Only the resident's first message after the question (bot/survey/replies.py)."""
    misunderstood = [
        user("nlu_fallback", "where do I pay a parking ticket?"),
        ActionExecuted("action_handle_misunderstanding"),
        ActionExecuted("action_listen"),
    ]
    assert predicted(agent, conversation(agent, text, WAITING, before=misunderstood))[1] != "SurveyScoreReply"
    assert predicted(agent, conversation(agent, "4", WAITING, before=misunderstood))[0] == (
        "action_handle_misunderstanding"
    )
