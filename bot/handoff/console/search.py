"""Search at /console/search, and the read-only transcript of a conversation without a handoff.

A GET form (a reference, a request number, a channel, dates), so a search can
be bookmarked; nothing but the search's own terms goes in the URL: a
conversation without a handoff opens by a number (`/console/conversations/<n>`,
bot/handoff/tracker_events.py), never by its id. Searches and what they find are
not logged (the console's access log is off).
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import pages, store
from bot.handoff.console.web import html, see_other, service, staff_only
from bot.handoff.search import SearchError, SearchQuery, SearchResults, describe, parse_query, search
from bot.handoff.service import HandoffError, report_details, transcript
from bot.handoff.store import StaffSession
from bot.handoff.tracker_events import TrackerUnavailable, tracker_events

FIELDS = ("q", "channel", "from", "to")

search_pages = Blueprint("console_search")


@search_pages.get("/console/search")
@staff_only()
async def search_page(request: Request) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    asked = {name: str(request.args.get(name) or "") for name in FIELDS}
    try:
        query = parse_query(asked, pages.city_zone(), pages.CHANNEL_NAMES)
    except SearchError as error:
        shown = SearchQuery(term=asked["q"].strip(), from_text=asked["from"], to_text=asked["to"])
        page = pages.search_page(shown, None, session.username, session.csrf_token, str(error), session.role)
        return html(page, status=400)
    results: Optional[SearchResults] = None if query.empty else await search(query)
    return html(pages.search_page(query, results, session.username, session.csrf_token, role=session.role))


@search_pages.get("/console/conversations/<key:int>")
@staff_only()
async def conversation_page(request: Request, key: int) -> HTTPResponse:
    """A conversation found by search: its handoff's page if it had one, else its transcript to read."""
    session: StaffSession = request.ctx.staff
    try:
        sender_id = await tracker_events().sender_of(key)
        spans = await tracker_events().spans([sender_id] if sender_id else [])
    except TrackerUnavailable as error:
        why = f"Conversations cannot be read now: {error}."
        return html(pages.error_page(503, why, session.username, session.csrf_token), 503)
    if sender_id is None:
        page = pages.error_page(404, "There is no such conversation.", session.username, session.csrf_token)
        return html(page, 404)
    held = await store.handoffs_of(sender_id)
    if held:
        return see_other(f"/console/handoffs/{held[-1].id}")
    (found,) = await describe([sender_id], spans, SearchQuery())
    turns: Sequence[Any] = []
    details: Dict[str, Any] = {}
    problem: Optional[str] = None
    try:
        tracker = await service(request).rasa.tracker(sender_id)
        turns, details = transcript(tracker), report_details(tracker)
    except HandoffError as error:
        problem = f"The transcript cannot be shown right now: {error}."
    page = pages.transcript_page(
        found, turns, details, session.username, session.csrf_token, problem=problem, role=session.role
    )
    return html(page)
