"""The satisfaction survey end to end: asked after a report, answered over REST, SMS and Messenger, stored, counted.

A resident files a report with the running assistant; the survey follows the
reference; a score and a comment land in `survey_answers` and in the dashboard's
satisfaction figures. On SMS a bare "4" is the score (the numbered choices); on
Messenger the scores are quick replies; a Spanish resident reads it in Spanish. A
score typed instead of pressed ("4", "le doy un cinco") is the score too.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from typing import Iterator, List
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from bot.channels.identity import sender_id_for
from bot.dashboard.figures import build_table
from bot.dashboard.period import Period
from bot.dashboard.tables import Cell
from bot.db.engine import reset_database
from bot.survey.store import SurveyAnswer, answers_between
from tests.e2e.test_conversations import file_report, unique_address
from tests.e2e.test_handoff import texts_to, twilio_says, wait_until
from tests.e2e.test_webchat import bot_said, choose, open_chat, start_a_pothole_report, type_message
from tests.support.browser import describe, run_async, screenshot, serious_violations
from tests.support.conversation import Conversation
from tests.support.handoff import handoff_of
from tests.support.messenger import MetaResident, last_with, quick_replies
from tests.support.reports import request_number
from tests.support.staff import Staff, make_staff
from tests.support.twilio import Phone

pytestmark = pytest.mark.e2e

UTC = ZoneInfo("UTC")


@pytest.fixture(scope="module")
def staff(stack, console_url) -> Staff:
    member = Staff(console_url, f"surveyagent{random.randint(100, 999)}")
    make_staff(stack, member.username)
    assert member.login().status_code == 303
    return member


@pytest.fixture
def stack_database(stack, monkeypatch) -> Iterator[None]:
    """This test process reads the running assistant's own database."""
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(stack.var_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    yield
    reset_database()


def reference_in(reply: str) -> str:
    match = re.search(r"\b(R-[A-Z0-9]{5,8})\b", reply)
    assert match, reply
    return match.group(1)


def today() -> Period:
    now = date.today()
    return Period(now - timedelta(days=1), now + timedelta(days=1), UTC)


async def answers_about(reference: str, kind: str = "request") -> List[SurveyAnswer]:
    period = today()
    return [a for a in await answers_between(period.start_utc, period.end_utc) if a.subject == f"{kind}:{reference}"]


async def answer_count() -> int:
    table = await build_table(today(), "satisfaction_summary")  # as its CSV: the survey's answers alone
    figures = {label: value.value if isinstance(value, Cell) else value for label, value in table.rows}
    return int(figures["Answers"])


async def test_a_filed_report_asks_and_a_score_and_comment_are_stored_and_counted(
    stack, conversation: Conversation, stack_database
):
    counted_before = await answer_count()
    talk = conversation
    _, reply = file_report(talk, "POTHOLE")
    reference = reference_in(reply)
    assert "How did we do?" in reply, talk.transcript
    messages = talk.say('/rate_service{"score": 5}')
    assert messages[-1]["text"].startswith("Thank you! Anything to add?"), talk.transcript
    assert messages[-1]["buttons"] == [{"title": "Skip", "payload": "/deny"}]
    reply = talk.text("Very easy to use, thank you")
    assert "the city's team will read it" in reply, talk.transcript

    (answer,) = await answers_about(reference)
    assert (answer.score, answer.comment, answer.channel, answer.language) == (
        5,
        "Very easy to use, thank you",
        "rest",
        "en",
    )
    assert await answer_count() == counted_before + 1

    # asked once: a second report in the same conversation gets no survey
    _, reply = file_report(talk, "GRAFFITI")
    assert "How did we do?" not in reply, talk.transcript


async def test_a_city_question_instead_of_a_comment_gets_its_answer(stack, conversation: Conversation, stack_database):
    talk = conversation
    _, reply = file_report(talk, "NOISE")
    reference = reference_in(reply)
    talk.text('/rate_service{"score": 2}')
    reply = talk.text("When is City Hall open?")
    assert "the city's team will read it" not in reply and "City Hall" in reply, talk.transcript
    (answer,) = await answers_about(reference)
    assert (answer.score, answer.comment) == (2, None)


async def test_a_typed_4_instead_of_a_button_is_the_score(stack, conversation: Conversation, stack_database):
    talk = conversation
    _, reply = file_report(talk, "STREETLIGHT")
    reference = reference_in(reply)
    assert "How did we do?" in reply, talk.transcript
    reply = talk.text("4")  # the NLU alone takes it for a message it did not understand
    assert reply.startswith("Thank you! Anything to add?"), talk.transcript
    reply = talk.text("Quick and easy to use")
    assert "the city's team will read it" in reply, talk.transcript
    (answer,) = await answers_about(reference)
    assert (answer.score, answer.comment, answer.channel) == (4, "Quick and easy to use", "rest")


async def test_a_bare_4_on_sms_is_the_score(stack, fake_cloud, stack_database):
    phone = Phone(stack, fake_cloud)
    reply = phone.send("I need to report a pothole")
    phone.send("3")  # large
    phone.send("2")  # bike lane
    phone.send(unique_address())
    phone.send("a deep hole in the bike lane")
    phone.send("1")  # anonymous
    reply = phone.send("1")  # send it
    if "How did we do?" not in reply:  # the question is a message of its own, maybe not read yet
        reply += "\n" + phone.read()
    request_number(reply)
    reference = reference_in(reply)
    assert "How did we do?" in reply and "Reply 1 for 1 - Poor; 2 for 2 - Fair" in reply, phone.transcript
    reply = phone.send("4")
    assert "Anything to add?" in reply and "Reply 1 for Skip" in reply, phone.transcript
    reply = phone.send("1")  # skip
    assert "thanks for your score" in reply, phone.transcript
    (answer,) = await answers_about(reference)
    assert (answer.score, answer.comment, answer.channel, answer.language) == (4, None, "sms", "en")


def file_spanish_report(talk: Conversation) -> List[dict]:
    """A pothole reported in Spanish; the bot's messages after the resident confirms it."""
    talk.text('/set_language{"language": "es"}')
    talk.text("/report_pothole")
    talk.text("grande")
    talk.text("omitir")
    talk.text(unique_address())
    talk.text("Hay un hoyo muy hondo frente a la panadería")
    talk.text("omitir")
    return talk.say("sí")


async def test_a_spanish_resident_is_asked_in_spanish(stack, conversation: Conversation, stack_database):
    talk = conversation
    messages = file_spanish_report(talk)
    reference = reference_in(messages[0]["text"])
    question = messages[-1]
    assert question["text"].startswith("¿Cómo lo hicimos?"), talk.transcript
    assert [b["title"] for b in question["buttons"]][-1] == "5 - Excelente"
    reply = talk.text(question["buttons"][2]["payload"])
    assert reply.startswith("¡Gracias! ¿Algo más que quiera agregar?"), talk.transcript
    assert "gracias por su calificación" in talk.text("omitir")
    (answer,) = await answers_about(reference)
    assert (answer.score, answer.language) == (3, "es")


async def test_a_spanish_resident_types_the_score_in_words(stack, conversation: Conversation, stack_database):
    talk = conversation
    reference = reference_in(file_spanish_report(talk)[0]["text"])
    reply = talk.text("le doy un cinco")
    assert reply.startswith("¡Gracias! ¿Algo más que quiera agregar?"), talk.transcript
    assert "gracias por su calificación" in talk.text("no")
    (answer,) = await answers_about(reference)
    assert (answer.score, answer.comment, answer.language) == (5, None, "es")


@pytest.mark.usefixtures("assistant_secret_key")
async def test_after_staff_resolve_a_handoff_the_survey_follows_on_sms(stack, fake_cloud, staff, db, stack_database):
    number = f"+1555{random.randint(200, 999)}{random.randint(1000, 9999)}"
    twilio_says(stack, number, "can i speak to a human")
    wait_until(lambda: texts_to(fake_cloud, number), what="the bot's answer")
    handoff = handoff_of(db, sender_id_for("sms", number))
    assert staff.post(f"/console/handoffs/{handoff.id}/claim").status_code == 303
    assert staff.post(f"/console/handoffs/{handoff.id}/resolve", hand_back="1").status_code == 303

    def said(words: str) -> list:
        return [r for r in texts_to(fake_cloud, number) if words in r.body["Body"]]

    (question,) = wait_until(lambda: said("How did we do?"), what="the survey")
    assert "Reply 1 for 1 - Poor" in question.body["Body"]
    twilio_says(stack, number, "5")
    wait_until(lambda: said("Anything to add?"), what="the comment question")
    (answer,) = await answers_about(str(handoff.id), "handoff")
    assert (answer.score, answer.channel, answer.language) == (5, "sms", "en")


def test_a_survey_answered_on_the_web_chat(stack, page: Page, stack_database):
    base = f"http://127.0.0.1:{stack.rasa_port}"
    open_chat(page, base)
    start_a_pothole_report(page)
    type_message(page, unique_address())
    bot_said(page, "describe the problem")
    type_message(page, "A deep pothole, reported from the web chat")
    bot_said(page, "updates")
    choose(page, "Skip (stay anonymous)")
    bot_said(page, "Here's your report")
    choose(page, "Yes, send it")
    bot_said(page, "How did we do?")
    filed = page.locator("#log .message--bot", has_text="request number is").inner_text()
    reference = reference_in(filed)
    violations = serious_violations(page)
    assert not violations, describe(violations)
    choose(page, "4 - Good")
    expect(page.locator("#log .message--user").last).to_have_text("You said: 4 - Good")
    bot_said(page, "Anything to add?")
    type_message(page, "Easy to use, thanks")
    bot_said(page, "the city's team will read it")
    screenshot(page, "webchat-survey.png")

    (answer,) = run_async(answers_about(reference))
    assert (answer.score, answer.comment, answer.channel) == (4, "Easy to use, thanks", "webchat")


async def test_a_survey_on_messenger_after_a_report_a_quick_reply_and_a_comment(stack, fake_cloud, stack_database):
    resident = MetaResident(stack, fake_cloud)
    _, filed = file_report(resident, "POTHOLE")
    reference = reference_in(filed)
    question = last_with(resident.sent(), "How did we do?")
    assert quick_replies(question)[3] == ("4 - Good", '/rate_service{"score": 4}'), question
    comment = last_with(resident.tap(question, "4 - Good"), "Anything to add?")
    assert quick_replies(comment) == [("Skip", "/deny")]
    assert "the city's team will read it" in resident.say("Easy to do from Messenger"), resident.transcript
    (answer,) = await answers_about(reference)
    assert (answer.score, answer.comment, answer.channel, answer.language) == (
        4,
        "Easy to do from Messenger",
        "messenger",
        "en",
    )


@pytest.mark.usefixtures("assistant_secret_key")
async def test_after_staff_resolve_a_messenger_handoff_the_survey_follows_in_spanish(
    stack, fake_cloud, staff, db, stack_database
):
    resident = MetaResident(stack, fake_cloud)
    resident.say("quiero hablar con una persona de la ciudad")
    handoff = handoff_of(db, sender_id_for("messenger", resident.address))
    assert handoff is not None and handoff.channel == "messenger", resident.transcript
    assert staff.post(f"/console/handoffs/{handoff.id}/claim").status_code == 303
    assert staff.post(f"/console/handoffs/{handoff.id}/resolve", hand_back="1").status_code == 303

    (question,) = [m for m in resident.sent() if m["message"]["text"].startswith("¿Cómo lo hicimos?")]
    assert quick_replies(question)[-1] == ("5 - Excelente", '/rate_service{"score": 5}'), question
    assert question["messaging_type"] == "UPDATE"  # the city writes first, inside Meta's 24 hours
    comment = last_with(resident.tap(question, "5 - Excelente"), "¿Algo más que quiera agregar?")
    assert "gracias por su calificación" in last_with(resident.tap(comment, "Omitir"), "gracias")["message"]["text"]
    (answer,) = await answers_about(str(handoff.id), "handoff")
    assert (answer.score, answer.comment, answer.channel, answer.language) == (5, None, "messenger", "es")
