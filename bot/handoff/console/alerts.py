"""Crisis alerts in the console, for supervisors: write, approve (a second supervisor), send, follow, cancel, resume.

Every page and form needs the supervisor role (403 below it) and every form its
CSRF token. The steps are bot.alerts.approval's, which holds the two-person rule
and writes the audit log: the console passes the signed-in supervisor and the
revision their page showed, and says a refusal (403, 409) on the alert's page.
The worker delivers a sent alert; its page follows the delivery over
Server-Sent Events (`/console/alerts/<id>/stream`).
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Optional

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.alerts import approval, store
from bot.alerts.faq import faq_url
from bot.alerts.store import DRAFT, AlertContent, AlertError, NoSuchAlert
from bot.db.engine import database
from bot.handoff import alert_pages, roles
from bot.handoff.console.accounts import sentence
from bot.handoff.console.web import (
    COOKIE,
    Heartbeat,
    error_for,
    form_value,
    html,
    open_stream,
    see_other,
    sse,
    staff_only,
    wants_json,
)
from bot.handoff.store import StaffSession
from bot.i18n.languages import city_languages, default_language
from bot.jobs.subscriptions import job_subscriber_count

PROGRESS_POLL_SECONDS = 1.0
LIST_LIMIT = 50

alerts = Blueprint("console_alerts")


def typed_form(request: Request) -> alert_pages.AlertForm:
    """The alert as the form sent it (unchecked: the store checks it)."""
    texts = {code: (form_value(request, f"text_{code}") or "").strip() for code in city_languages()}
    return alert_pages.AlertForm(
        topic=form_value(request, "topic") or "",
        zone=form_value(request, "zone") or "",
        severity=form_value(request, "severity") or "",
        texts=texts,
        faq=(form_value(request, "faq") or "").strip(),
        page=form_value(request, "page") == "yes",
    )


def content_of(form: alert_pages.AlertForm) -> AlertContent:
    """What the form says the alert is: a blank text in another language is none (its readers fall back)."""
    default = default_language()
    try:
        link = faq_url(form.faq) if form.faq else None
    except ValueError as error:
        raise AlertError(str(error)) from None
    others = {code: text or None for code, text in form.texts.items() if code != default}
    return AlertContent(form.topic, form.zone, form.severity, form.texts.get(default, ""), others, link, form.page)


def revision_of(request: Request) -> int:
    """The revision the staff member's page showed (a 400 without a number)."""
    try:
        return int(form_value(request, "revision") or "")
    except ValueError:
        raise AlertError("this form lacks the alert's revision: reload the page and try again") from None


async def resumable(alert_id: int) -> int:
    return await database().run(lambda c: approval.cancelled_rows(c, alert_id))


async def render_alert(
    request: Request, alert_id: int, problem: Optional[str] = None, status: int = 200
) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    try:
        current = await store.alert_status(alert_id)
    except NoSuchAlert:
        return error_for(session, 404, "There is no such alert.")
    alert = current.alert
    preview = await store.preview_alert(alert.topic, alert.zone) if alert.state == DRAFT else None
    page = alert_pages.alert_page(
        alert,
        preview,
        current,
        await resumable(alert_id),
        session.username,
        session.csrf_token,
        session.role,
        notice=request.args.get("done"),
        problem=problem,
    )
    return html(page, status=status)


def refusal(request: Request, error: AlertError) -> Optional[HTTPResponse]:
    """A refused step as JSON for a script (None: the page says it)."""
    if wants_json(request):
        return response.json({"error": sentence(error)}, status=error.status)
    return None


async def step(
    request: Request, alert_id: int, action: Callable[[StaffSession], Awaitable[object]], done: str
) -> HTTPResponse:
    """Take one step as the signed-in supervisor; then the alert's page, saying what happened or why not."""
    session: StaffSession = request.ctx.staff
    try:
        await action(session)
    except AlertError as error:
        if error.status == 404:
            return error_for(session, 404, "There is no such alert.")
        return refusal(request, error) or await render_alert(request, alert_id, sentence(error), error.status)
    if wants_json(request):
        return response.json((await store.alert_status(alert_id)).as_dict())
    return see_other(f"/console/alerts/{alert_id}?done={done}")


@alerts.get("/console/alerts")
@staff_only(roles.SUPERVISOR)
async def alert_list(request: Request) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    latest = await store.list_alerts(LIST_LIMIT)
    statuses = {alert.id: await store.alert_status(alert.id) for alert in latest}
    page = alert_pages.alerts_page(
        latest,
        statuses,
        session.username,
        session.csrf_token,
        session.role,
        notice=request.args.get("done"),
        job_subscribers=await job_subscriber_count(),
    )
    return html(page)


@alerts.get("/console/alerts/new")
@staff_only(roles.SUPERVISOR)
async def new_alert(request: Request) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    return html(alert_pages.form_page(alert_pages.AlertForm(), session.username, session.csrf_token, session.role))


@alerts.post("/console/alerts")
@staff_only(roles.SUPERVISOR, csrf=True)
async def create_alert(request: Request) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    form = typed_form(request)
    try:
        alert = await approval.draft_alert(content_of(form), session.username)
    except AlertError as error:
        page = alert_pages.form_page(form, session.username, session.csrf_token, session.role, sentence(error))
        return refusal(request, error) or html(page, status=error.status)
    return see_other(f"/console/alerts/{alert.id}?done=alert_drafted")


@alerts.get("/console/alerts/<alert_id:int>")
@staff_only(roles.SUPERVISOR)
async def alert_page(request: Request, alert_id: int) -> HTTPResponse:
    return await render_alert(request, alert_id)


@alerts.get("/console/api/alerts/<alert_id:int>")
@staff_only(roles.SUPERVISOR)
async def alert_api(_request: Request, alert_id: int) -> HTTPResponse:
    try:
        return response.json((await store.alert_status(alert_id)).as_dict(), headers={"Cache-Control": "no-store"})
    except NoSuchAlert:
        return response.json({"error": "There is no such alert."}, status=404)


@alerts.get("/console/alerts/<alert_id:int>/edit")
@staff_only(roles.SUPERVISOR)
async def edit_page(request: Request, alert_id: int) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    alert = await store.get_alert(alert_id)
    if alert is None:
        return error_for(session, 404, "There is no such alert.")
    if alert.state != DRAFT:
        return await render_alert(request, alert_id, "This alert was sent or cancelled: it cannot change.", 409)
    if alert.created_by != session.username:
        why = f"Only its author, {alert.created_by}, can change this draft; you can approve it or discard it."
        return await render_alert(request, alert_id, why, 403)
    form = alert_pages.AlertForm.of(alert)
    return html(alert_pages.form_page(form, session.username, session.csrf_token, session.role, alert=alert))


@alerts.post("/console/alerts/<alert_id:int>/edit")
@staff_only(roles.SUPERVISOR, csrf=True)
async def edit_alert(request: Request, alert_id: int) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    form = typed_form(request)
    try:
        await approval.edit_draft(alert_id, session.username, revision_of(request), content_of(form))
    except AlertError as error:
        alert = await store.get_alert(alert_id)
        if alert is None:
            return error_for(session, 404, "There is no such alert.")
        if error.status == 400:  # a problem with what was typed: the form again, as typed
            page = alert_pages.form_page(
                form, session.username, session.csrf_token, session.role, sentence(error), alert
            )
            return refusal(request, error) or html(page, status=400)
        return refusal(request, error) or await render_alert(request, alert_id, sentence(error), error.status)
    return see_other(f"/console/alerts/{alert_id}?done=alert_edited")


@alerts.post("/console/alerts/<alert_id:int>/approve")
@staff_only(roles.SUPERVISOR, csrf=True)
async def approve(request: Request, alert_id: int) -> HTTPResponse:
    return await step(
        request,
        alert_id,
        lambda s: approval.approve_alert(alert_id, s.username, revision_of(request)),
        "alert_approved",
    )


@alerts.post("/console/alerts/<alert_id:int>/send")
@staff_only(roles.SUPERVISOR, csrf=True)
async def send(request: Request, alert_id: int) -> HTTPResponse:
    return await step(
        request, alert_id, lambda s: approval.send_alert(alert_id, s.username, revision_of(request)), "alert_sent"
    )


@alerts.post("/console/alerts/<alert_id:int>/cancel")
@staff_only(roles.SUPERVISOR, csrf=True)
async def cancel(request: Request, alert_id: int) -> HTTPResponse:
    return await step(request, alert_id, lambda s: approval.cancel_alert(alert_id, s.username), "alert_cancelled")


@alerts.post("/console/alerts/<alert_id:int>/resume")
@staff_only(roles.SUPERVISOR, csrf=True)
async def resume(request: Request, alert_id: int) -> HTTPResponse:
    return await step(request, alert_id, lambda s: approval.resume_alert(alert_id, s.username), "alert_resumed")


@alerts.get("/console/alerts/<alert_id:int>/stream")
@staff_only(roles.SUPERVISOR)
async def alert_stream(request: Request, alert_id: int) -> None:
    """The alert's state and delivery counts, pushed whenever they change (Server-Sent Events)."""
    heartbeat = Heartbeat(await open_stream(request), request.cookies.get(COOKIE))
    seen = None
    while not request.app.ctx.stopping:
        try:
            current = alert_pages.progress(await store.alert_status(alert_id))
        except NoSuchAlert:
            break
        if current != seen:
            seen = current
            await heartbeat.send(sse("progress", current))
        if not await heartbeat.beat():
            break
        await asyncio.sleep(PROGRESS_POLL_SECONDS)
