"""The queue of conversations waiting for a person (live), picking one up, and the audit log."""

from __future__ import annotations

import asyncio
from typing import Mapping, Optional, Sequence

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import pages, store
from bot.handoff.console.web import COOKIE, Heartbeat, form_value, html, open_stream, see_other, service, staff_only
from bot.handoff.store import Handoff, StaffSession
from bot.handoff.tracker_events import LatestMessage, TrackerUnavailable, tracker_events
from bot.i18n.store import languages_for

QUEUE_POLL_SECONDS = 1.0

queue = Blueprint("console_queue")


async def latest_messages(items: Sequence[Handoff]) -> Mapping[str, LatestMessage]:
    """What each resident in the queue last wrote (none shown while the tracker store cannot be read)."""
    try:
        return await tracker_events().latest_messages([h.sender_id for h in items])
    except TrackerUnavailable:
        return {}


async def queue_fingerprint() -> str:
    """Changes with the queue, and whenever a resident in it writes."""
    items = await store.open_handoffs()
    try:
        written = await tracker_events().last_message_id([h.sender_id for h in items])
    except TrackerUnavailable:
        written = 0
    return f"{await store.queue_fingerprint()}|{written}"


async def render_queue(request: Request, problem: Optional[str] = None, status: int = 200) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    items = await store.open_handoffs()
    return html(
        pages.queue_page(
            items,
            await store.recent_conversations(),
            await store.recently_resolved(10),
            await store.staff_on_duty(),
            session.username,
            session.csrf_token,
            notice=request.args.get("done"),
            problem=problem,
            resident_languages=await languages_for(h.sender_id for h in items),
            role=session.role,
            latest=await latest_messages(items),
        ),
        status=status,
    )


async def queue_json() -> str:
    items = await store.open_handoffs()
    return pages.queue_json(
        items,
        await store.staff_on_duty(),
        await languages_for(h.sender_id for h in items),
        await latest_messages(items),
    )


@queue.get("/console")
@staff_only()
async def queue_page(request: Request) -> HTTPResponse:
    return await render_queue(request)


@queue.get("/console/api/queue")
@staff_only()
async def queue_api(_request: Request) -> HTTPResponse:
    return response.raw(
        (await queue_json()).encode(), content_type="application/json", headers={"Cache-Control": "no-store"}
    )


@queue.get("/console/stream")
@staff_only()
async def queue_stream(request: Request) -> None:
    """The queue, pushed whenever it changes (Server-Sent Events)."""
    heartbeat = Heartbeat(await open_stream(request), request.cookies.get(COOKIE))
    seen = None
    while not request.app.ctx.stopping:
        fingerprint = await queue_fingerprint()
        if fingerprint != seen:
            seen = fingerprint
            await heartbeat.send(f"event: queue\ndata: {await queue_json()}\n\n")
        if not await heartbeat.beat():
            break
        await asyncio.sleep(QUEUE_POLL_SECONDS)


@queue.get("/console/audit")
@staff_only()
async def audit(request: Request) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    return html(pages.audit_page(await store.audit_entries(), session.username, session.csrf_token, session.role))


@queue.post("/console/take-over")
@staff_only(csrf=True)
async def take_over(request: Request) -> HTTPResponse:
    """A refusal (HandoffError) shows the queue again with why: see the app's error handler."""
    session: StaffSession = request.ctx.staff
    handoff = await service(request).take_over(form_value(request, "conversation") or "", session.username)
    return see_other(f"/console/handoffs/{handoff.id}?done=taken")
