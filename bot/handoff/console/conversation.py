"""One conversation: its page and live stream, and what staff do with it.

Claim, reply on the resident's own channel, keep private notes, file the report
the assistant collected, release or resolve. A refusal (HandoffError) is turned
into the answer by the app's error handler: JSON for the page's script, else
this conversation's page once more with why.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import pages, store
from bot.handoff.console.web import (
    COOKIE,
    Heartbeat,
    error_for,
    form_value,
    html,
    open_stream,
    see_other,
    service,
    sse,
    staff_only,
    wants_json,
)
from bot.handoff.service import HandoffError, last_index, report_details, transcript
from bot.handoff.store import CLAIMED, StaffSession
from bot.reports.outbox import REJECTED

logger = logging.getLogger(__name__)

STREAM_POLL_SECONDS = 0.5

conversation = Blueprint("console_conversation")


def parse_float(value: Optional[str], label: str) -> Optional[float]:
    if value is None or not value.strip():
        return None
    try:
        return float(value.strip())
    except ValueError:
        raise HandoffError(f"{label} must be a number", 400) from None


def report_fields(request: Request) -> Dict[str, Any]:
    """The report as staff edited it in the file form."""
    form = request.form
    attributes: Dict[str, Any] = {}
    for key in list(form.keys()) if form else []:
        if form and key.startswith("attr:"):
            values = [v for v in form.getlist(key) if isinstance(v, str) and v.strip()]
            if values:
                attributes[key[5:]] = values if len(values) > 1 else values[0].strip()
    for line in (form_value(request, "attributes_text") or "").splitlines():
        if "=" in line:
            code, value = (part.strip() for part in line.split("=", 1))
            if code and value:
                attributes[code] = value
    latitude = parse_float(form_value(request, "latitude"), "Latitude")
    longitude = parse_float(form_value(request, "longitude"), "Longitude")
    if (latitude is None) != (longitude is None):
        raise HandoffError("give both latitude and longitude, or neither", 400)
    if latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):  # type: ignore[operator]
        raise HandoffError("those coordinates are not on Earth", 400)
    text = lambda name: (form_value(request, name) or "").strip() or None  # noqa: E731
    return {
        "service_code": text("service_code"),
        "attributes": attributes,
        "location": text("location"),
        "latitude": latitude,
        "longitude": longitude,
        "description": text("description"),
        "contact": text("contact"),
        "media_url": text("media_url"),
    }


async def services_for_form() -> List[Any]:
    from bot.open311.models import Service
    from bot.reports.directory import directory

    try:
        return list(await directory().services())
    except Exception:
        from bot.catalog import load_city

        return [Service(service_code=s.code, service_name=s.name) for s in load_city().services]


async def definition_for(code: str) -> Any:
    from bot.reports.directory import directory

    if not code:
        return None
    try:
        return await directory().definition(code)
    except Exception:
        return None


def stream_cursor(request: Request) -> Tuple[int, int]:
    """Where a conversation stream resumes: (last transcript index, last note id)."""
    after, note = -1, 0
    try:
        after = int(request.args.get("after", -1))
        note = int(request.args.get("note", 0))
    except (TypeError, ValueError):
        pass
    last = request.headers.get("last-event-id") or ""
    if "." in last:
        try:
            after, note = (int(part) for part in last.split(".", 1))
        except ValueError:
            pass
    return after, note


async def render_conversation(
    request: Request, handoff_id: int, problem: Optional[str] = None, status: int = 200
) -> HTTPResponse:
    from bot.db.contacts import contact_for
    from bot.i18n.store import language_for
    from bot.retention.holds import hold_of
    from bot.retention.policy import retention_days

    session: StaffSession = request.ctx.staff
    handoff = await store.get_handoff(handoff_id)
    if handoff is None:
        return error_for(session, 404, "There is no such handoff.")
    turns: Sequence[Any] = []
    details: Dict[str, Any] = {}
    paused: Optional[bool] = None
    after = -1
    try:
        tracker = await service(request).rasa.tracker(handoff.sender_id)
        turns, details, after = transcript(tracker), report_details(tracker), last_index(tracker)
        paused = bool(tracker.get("paused"))
    except HandoffError as error:
        problem = problem or f"The transcript cannot be shown right now: {error}."
    notes = await store.notes_for([h.id for h in await store.handoffs_of(handoff.sender_id)])
    filing = None
    if handoff.state == CLAIMED and handoff.claimed_by == session.username:
        chosen = request.args.get("service") or str(details.get("service_code") or "")
        filing = pages.file_form(await services_for_form(), chosen, await definition_for(chosen), details)
    page = pages.conversation_page(
        handoff,
        turns,
        notes,
        details,
        session.username,
        session.csrf_token,
        {"after": after, "note": max([n.id for n in notes], default=0)},
        filing=filing,
        notice=request.args.get("done"),
        problem=problem,
        paused=paused,
        reachable=await contact_for(handoff.sender_id) is not None,
        resident_language=await language_for(handoff.sender_id),
        role=session.role,
        hold=await hold_of(handoff.sender_id),
        retention_days=await asyncio.to_thread(retention_days),
    )
    return html(page, status=status)


def done(request: Request, handoff_id: int, what: str, **extra: Any) -> HTTPResponse:
    """A staff action went through: JSON for the page's script, else back to the conversation."""
    if wants_json(request):
        return response.json({"ok": True, **extra})
    return see_other(f"/console/handoffs/{handoff_id}?done={what}")


@conversation.get("/console/handoffs/<handoff_id:int>")
@staff_only()
async def conversation_page(request: Request, handoff_id: int) -> HTTPResponse:
    return await render_conversation(request, handoff_id)


@conversation.get("/console/api/handoffs/<handoff_id:int>")
@staff_only()
async def conversation_api(request: Request, handoff_id: int) -> HTTPResponse:
    handoff = await store.get_handoff(handoff_id)
    if handoff is None:
        return response.json({"error": "no such handoff"}, status=404)
    try:
        tracker = await service(request).rasa.tracker(handoff.sender_id)
    except HandoffError as error:
        return response.json({"error": str(error)}, status=error.status)
    notes = await store.notes_for([h.id for h in await store.handoffs_of(handoff.sender_id)])
    return response.json(
        {
            "handoff": handoff.as_json(),
            "paused": bool(tracker.get("paused")),
            "turns": [t.as_json() for t in transcript(tracker)],
            "details": report_details(tracker),
            "notes": [n.as_json() for n in notes],
        },
        headers={"Cache-Control": "no-store"},
    )


@conversation.get("/console/handoffs/<handoff_id:int>/stream")
@staff_only()
async def conversation_stream(request: Request, handoff_id: int) -> Optional[HTTPResponse]:
    """New transcript lines, notes and state changes of one conversation (Server-Sent Events)."""
    handoff = await store.get_handoff(handoff_id)
    if handoff is None:
        return response.json({"error": "no such handoff"}, status=404)
    after, note = stream_cursor(request)
    heartbeat = Heartbeat(await open_stream(request), request.cookies.get(COOKIE))
    state = (handoff.state, handoff.claimed_by)
    while not request.app.ctx.stopping:
        try:
            tracker = await service(request).rasa.tracker(handoff.sender_id)
        except HandoffError:
            tracker = None  # the Rasa server is restarting: try again
        if tracker is not None:
            for turn in transcript(tracker, after=after):
                after = turn.index
                await heartbeat.send(sse("turn", turn.as_json(), f"{after}.{note}"))
            after = max(after, last_index(tracker))
        related = [h.id for h in await store.handoffs_of(handoff.sender_id)]
        for item in await store.notes_for(related, after=note):
            note = item.id
            await heartbeat.send(sse("note", item.as_json(), f"{after}.{note}"))
        current = await store.get_handoff(handoff_id)
        if current is not None and (current.state, current.claimed_by) != state:
            state = (current.state, current.claimed_by)
            await heartbeat.send(sse("state", current.as_json(), f"{after}.{note}"))
        if not await heartbeat.beat():
            break
        await asyncio.sleep(STREAM_POLL_SECONDS)
    return None


@conversation.post("/console/handoffs/<handoff_id:int>/claim")
@staff_only(csrf=True)
async def claim(request: Request, handoff_id: int) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    await service(request).claim(handoff_id, session.username)
    logger.info("handoff %s claimed by %s", handoff_id, session.username)
    return done(request, handoff_id, "claimed")


@conversation.post("/console/handoffs/<handoff_id:int>/reply")
@staff_only(csrf=True)
async def reply(request: Request, handoff_id: int) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    problem = await service(request).reply(handoff_id, session.username, form_value(request, "text") or "")
    if problem and not wants_json(request):
        shown = f"Added to the transcript but not delivered: {problem}."
        return await render_conversation(request, handoff_id, problem=shown)
    return done(request, handoff_id, "replied", not_delivered=problem)


@conversation.post("/console/handoffs/<handoff_id:int>/note")
@staff_only(csrf=True)
async def note(request: Request, handoff_id: int) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    saved = await service(request).note(handoff_id, session.username, form_value(request, "text") or "")
    return done(request, handoff_id, "noted", note=saved.as_json())


@conversation.post("/console/handoffs/<handoff_id:int>/release")
@staff_only(csrf=True)
async def release(request: Request, handoff_id: int) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    await service(request).release(handoff_id, session.username)
    return see_other("/console?done=released")


@conversation.post("/console/handoffs/<handoff_id:int>/resolve")
@staff_only(csrf=True)
async def resolve(request: Request, handoff_id: int) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    hand_back = form_value(request, "hand_back") == "1"
    problem = await service(request).resolve(handoff_id, session.username, hand_back)
    logger.info("handoff %s resolved by %s", handoff_id, session.username)
    if wants_json(request):
        return response.json({"ok": True, "not_delivered": problem})
    return see_other("/console?done=resolved")


@conversation.post("/console/handoffs/<handoff_id:int>/file")
@staff_only(csrf=True)
async def file_report(request: Request, handoff_id: int) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    result = await service(request).file_report(handoff_id, session.username, report_fields(request))
    if result["state"] == REJECTED and not wants_json(request):
        refusal = result["error"] or "no reason given"
        shown = f"The back office refused the request: {refusal}."
        return await render_conversation(request, handoff_id, problem=shown)
    return done(request, handoff_id, "filed", **result)
