"""Answers at /console/answers, for supervisors: edit the greeting and the FAQ answers, per language.

A supervisor opens an answer in one language, writes a new text, previews it
(as residents would see it, with its buttons, and every reason it cannot be
published: bot/answers/checks.py, the city's facts included), publishes what
they previewed, and can restore any earlier version or the original from the
history. Residents get a published text within ANSWERS_REFRESH_SECONDS, with no
retraining (bot/rasa_ext/patches/published_answers.py). Every page and form
needs the supervisor role (403 below it) and every form its CSRF token; bad
input gets a 4xx with the page and why; each change is in the audit log
(bot/answers/store.py).
"""

from __future__ import annotations

from typing import Awaitable, Callable, Optional, Sequence

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.answers import store as answers_store
from bot.answers.checks import cleaned, problems
from bot.answers.editable import EditableAnswer, editable_answers, find_answer
from bot.answers.store import AnswerError, AnswerVersion
from bot.handoff import pages, roles
from bot.handoff.console.web import error_for, form_value, html, see_other, staff_only
from bot.handoff.pages import AnswerEdit
from bot.handoff.store import StaffSession
from bot.settings import settings

answers = Blueprint("console_answers")

PAGE = "/console/answers/<key>/<language>"
NO_ANSWER = "There is no such answer in that language."


def wait() -> str:
    return pages.refresh_wait(settings().answers_refresh_seconds)


def answer_of(key: str, language: str) -> Optional[EditableAnswer]:
    """The answer behind a URL, when it has a text in that language."""
    answer = find_answer(key)
    return answer if answer is not None and answer.original(language) is not None else None


def number_in(request: Request, name: str) -> int:
    """A form's whole number (a version), or AnswerError (400)."""
    value = (form_value(request, name) or "").strip()
    if not value.isdigit() or len(value) > 9:
        raise AnswerError([f"The form's {name} is not a version number. Reload the page and try again."])
    return int(value)


async def render_answer(
    request: Request,
    answer: EditableAnswer,
    language: str,
    draft: Optional[str] = None,
    preview: Optional[str] = None,
    reasons: Sequence[str] = (),
    status: int = 200,
) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    history = await answers_store.history(answer.response, language)
    edit = AnswerEdit(answer, language, history, draft, preview, tuple(reasons))
    notice = request.args.get("done") if status == 200 and preview is None else None
    page = pages.answer_page(edit, wait(), session.username, session.csrf_token, session.role, notice)
    return html(page, status=status)


def missing(request: Request) -> HTTPResponse:
    return error_for(request.ctx.staff, 404, NO_ANSWER)


@answers.get("/console/answers")
@staff_only(roles.SUPERVISOR)
async def answer_list(request: Request) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    rows = pages.answer_rows(editable_answers(), await answers_store.newest())
    return html(pages.answers_page(rows, wait(), session.username, session.csrf_token, session.role))


@answers.get(PAGE)
@staff_only(roles.SUPERVISOR)
async def answer_page(request: Request, key: str, language: str) -> HTTPResponse:
    answer = answer_of(key, language)
    return missing(request) if answer is None else await render_answer(request, answer, language)


@answers.post(PAGE + "/preview")
@staff_only(roles.SUPERVISOR, csrf=True)
async def preview(request: Request, key: str, language: str) -> HTTPResponse:
    """The text as residents would read it, and why it cannot be published (400), or the button to publish it."""
    answer = answer_of(key, language)
    if answer is None:
        return missing(request)
    text = cleaned(form_value(request, "text"))
    reasons = problems(answer.response, language, text)
    return await render_answer(request, answer, language, text, text, reasons, 400 if reasons else 200)


Change = Callable[[EditableAnswer, str], Awaitable[Optional[AnswerVersion]]]


async def change(request: Request, key: str, language: str, work: Change, done: str) -> HTTPResponse:
    """Make one change as the staff member (`work(answer, username)`), then back to the answer's page.

    A refusal shows the page again with why, and the text typed kept in the editor.
    """
    session: StaffSession = request.ctx.staff
    answer = answer_of(key, language)
    if answer is None:
        return missing(request)
    try:
        version = await work(answer, session.username)
    except AnswerError as error:
        typed = form_value(request, "text")
        draft = None if typed is None else cleaned(typed)
        return await render_answer(request, answer, language, draft, None, error.reasons, error.status)
    return see_other(f"/console/answers/{answer.key}/{language}?done={done if version else 'answer_unchanged'}")


@answers.post(PAGE + "/publish")
@staff_only(roles.SUPERVISOR, csrf=True)
async def publish(request: Request, key: str, language: str) -> HTTPResponse:
    async def work(answer: EditableAnswer, username: str) -> Optional[AnswerVersion]:
        text, seen = form_value(request, "text"), number_in(request, "seen")
        return await answers_store.publish(answer, language, text, username, seen)

    return await change(request, key, language, work, "answer_published")


@answers.post(PAGE + "/restore")
@staff_only(roles.SUPERVISOR, csrf=True)
async def restore(request: Request, key: str, language: str) -> HTTPResponse:
    async def work(answer: EditableAnswer, username: str) -> Optional[AnswerVersion]:
        number, seen = number_in(request, "version"), number_in(request, "seen")
        return await answers_store.restore(answer, language, number, username, seen)

    return await change(request, key, language, work, "answer_restored")
