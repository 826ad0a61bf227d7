"""The dashboard at /console/dashboard for supervisors, and each of its tables as CSV (/console/dashboard.csv).

A GET form (the date range), so a view can be bookmarked; the figures are read
for each request (bot.dashboard), off the event loop: the page computes every
table, a CSV only its own. Nothing changes: no audit line, and nothing of a
request is logged (the console's access log is off).
"""

from __future__ import annotations

from datetime import datetime
from typing import Dict

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.dashboard.figures import UnknownTable, build_dashboard, build_table
from bot.dashboard.period import Period, PeriodError, parse_period
from bot.dashboard.sources import Unavailable
from bot.dashboard.tables import csv_text
from bot.handoff import pages, roles
from bot.handoff.console.web import html, staff_only
from bot.handoff.store import StaffSession

FIELDS = ("from", "to")

dashboard = Blueprint("console_dashboard")


def asked(request: Request) -> Dict[str, str]:
    return {name: str(request.args.get(name) or "").strip() for name in FIELDS}


def asked_period(request: Request) -> Period:
    """The date range of the request's `from` and `to`, in the city's days (PeriodError: why it cannot be used)."""
    zone = pages.city_zone()
    return parse_period(asked(request), zone, datetime.now(zone).date())


def refused_period(request: Request, error: PeriodError) -> HTTPResponse:
    """400: the form again, as it was sent, with what to change."""
    session: StaffSession = request.ctx.staff
    page = pages.dashboard_page(None, asked(request), session.username, session.csrf_token, str(error), session.role)
    return html(page, status=400)


@dashboard.get("/console/dashboard")
@staff_only(roles.SUPERVISOR)
async def dashboard_page(request: Request) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    try:
        period = asked_period(request)
    except PeriodError as error:
        return refused_period(request, error)
    shown = {"from": period.first.isoformat(), "to": period.last.isoformat()}
    figures = await build_dashboard(period)
    return html(pages.dashboard_page(figures, shown, session.username, session.csrf_token, role=session.role))


@dashboard.get("/console/dashboard.csv")
@staff_only(roles.SUPERVISOR)
async def dashboard_csv(request: Request) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    try:
        period = asked_period(request)
    except PeriodError as error:
        return refused_period(request, error)
    name = str(request.args.get("table") or "").strip()
    try:
        table = await build_table(period, name)  # that table alone: nothing else is read or computed
    except (UnknownTable, Unavailable) as error:  # 400: no such table; 503: its source cannot be read now
        status = 400 if isinstance(error, UnknownTable) else 503
        return html(pages.error_page(status, str(error), session.username, session.csrf_token, session.role), status)
    filename = f"dashboard-{table.name}-{period.first.isoformat()}-to-{period.last.isoformat()}.csv"
    return response.text(
        csv_text(table),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
