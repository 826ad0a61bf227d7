"""Retention holds from a conversation's page: keep it past the retention limit, or let it go.

Any signed-in staff member may do either (a legal hold, a complaint under
review); each is in the audit log with the handoff's number. The hold itself is
bot.retention.holds; a refusal (no reason, already held, not held) is shown on
the conversation's page by the app's error handler.
"""

from __future__ import annotations

from typing import Awaitable, Callable

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import roles, store
from bot.handoff.console.web import form_value, staff_only
from bot.handoff.service import HandoffError
from bot.handoff.store import StaffSession
from bot.retention.holds import HoldError, place_hold, release_hold

holds = Blueprint("console_holds")


async def on_conversation(
    request: Request, handoff_id: int, change: Callable[[str, str], Awaitable[object]], what: str
) -> HTTPResponse:
    """Apply `change(conversation_id, username)` to the handoff's conversation; then back to its page."""
    from bot.handoff.console.conversation import done

    session: StaffSession = request.ctx.staff
    handoff = await store.get_handoff(handoff_id)
    if handoff is None:
        raise HandoffError("there is no such handoff", 404)
    try:
        await change(handoff.sender_id, session.username)
    except HoldError as error:
        raise HandoffError(str(error), error.status) from None
    return done(request, handoff_id, what)


@holds.post("/console/handoffs/<handoff_id:int>/hold")
@staff_only(csrf=True)
async def hold(request: Request, handoff_id: int) -> HTTPResponse:
    reason = form_value(request, "reason")
    return await on_conversation(
        request,
        handoff_id,
        lambda conversation, staff: place_hold(conversation, staff, reason, handoff_id=handoff_id),
        "held",
    )


@holds.post("/console/handoffs/<handoff_id:int>/unhold")
@staff_only(roles.SUPERVISOR, csrf=True)
async def unhold(request: Request, handoff_id: int) -> HTTPResponse:
    return await on_conversation(
        request,
        handoff_id,
        lambda conversation, staff: release_hold(conversation, staff, handoff_id=handoff_id),
        "hold_released",
    )
