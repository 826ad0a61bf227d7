"""Staff accounts in the console, for admins: list, create, change role, reset password, disable and enable.

Every page and form here needs the admin role (403 below it) and every form its
CSRF token. Each change is in the audit log: the admin as actor, the account's
username (and a role change) as detail, never a password. The store refuses to
leave the console without an active admin, so the last one can neither disable
nor demote themselves. `citybot staff` does the same from a shell (and makes the first admin).
"""

from __future__ import annotations

from typing import Awaitable, Callable, Mapping, Optional, Tuple

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import pages, roles, store
from bot.handoff.console.web import error_for, form_value, html, see_other, staff_only
from bot.handoff.store import AccountError, StaffSession

accounts = Blueprint("console_accounts")

PASSWORDS_DIFFER = "the two passwords differ"


def sentence(error: Exception) -> str:
    """A store's refusal as the page says it ('a password needs...' -> 'A password needs....')."""
    text = str(error)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def typed_password(request: Request) -> str:
    """The new password, typed twice alike (else AccountError)."""
    password = form_value(request, "password") or ""
    if password != (form_value(request, "password_again") or ""):
        raise AccountError(PASSWORDS_DIFFER)
    return password


async def render_accounts(
    request: Request, problem: Optional[str] = None, status: int = 200, typed: Optional[Mapping[str, str]] = None
) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    page = pages.accounts_page(
        await store.list_staff(),
        session.username,
        session.csrf_token,
        session.role,
        notice=request.args.get("done"),
        problem=problem,
        typed=typed,
    )
    return html(page, status=status)


async def render_account(
    request: Request, username: str, problem: Optional[str] = None, status: int = 200
) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    account = await store.get_staff(username)
    if account is None:
        return error_for(session, 404, "There is no such staff account.")
    page = pages.account_page(
        account,
        session.username,
        session.csrf_token,
        session.role,
        notice=request.args.get("done"),
        problem=problem,
    )
    return html(page, status=status)


@accounts.get("/console/accounts")
@staff_only(roles.ADMIN)
async def account_list(request: Request) -> HTTPResponse:
    return await render_accounts(request)


@accounts.post("/console/accounts")
@staff_only(roles.ADMIN, csrf=True)
async def create_account(request: Request) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    typed = {"username": form_value(request, "username") or "", "role": form_value(request, "role") or ""}
    try:
        name = store.check_username(typed["username"])
        role = store.check_role(typed["role"])
        await store.add_staff(name, typed_password(request), role)
    except AccountError as error:
        return await render_accounts(request, problem=sentence(error), status=error.status, typed=typed)
    await store.audit(session.username, "staff_add", detail=f"{name} as {role}")
    return see_other(f"/console/accounts/{name}?done=account_created")


@accounts.get("/console/accounts/<username>")
@staff_only(roles.ADMIN)
async def account_page(request: Request, username: str) -> HTTPResponse:
    return await render_account(request, username)


# What a change did: the audit line's detail (None: nothing changed, nothing to audit) and the notice to show.
Outcome = Tuple[Optional[str], str]


async def change(
    request: Request, username: str, action: str, work: Callable[[str], Awaitable[Outcome]]
) -> HTTPResponse:
    """Make one change to an account and audit it; a refusal shows the account again with why."""
    session: StaffSession = request.ctx.staff
    try:
        name = store.check_username(username)
        detail, notice = await work(name)
    except AccountError as error:
        return await render_account(request, username, problem=sentence(error), status=error.status)
    if detail is not None:
        await store.audit(session.username, action, detail=detail)
    return see_other(f"/console/accounts/{name}?done={notice}")


@accounts.post("/console/accounts/<username>/role")
@staff_only(roles.ADMIN, csrf=True)
async def change_role(request: Request, username: str) -> HTTPResponse:
    async def work(name: str) -> Outcome:
        role = store.check_role(form_value(request, "role") or "")
        before = await store.set_role(name, role)
        if before == role:
            return None, "role_unchanged"
        return f"{name}: {before} -> {role}", "role_changed"

    return await change(request, username, "staff_role", work)


@accounts.post("/console/accounts/<username>/password")
@staff_only(roles.ADMIN, csrf=True)
async def reset_password(request: Request, username: str) -> HTTPResponse:
    async def work(name: str) -> Outcome:
        # A reset keeps a disabled account disabled: enabling it is a change of its own.
        await store.set_password(name, typed_password(request), enable=False)
        return name, "password_reset"

    return await change(request, username, "staff_passwd", work)


async def switch(request: Request, username: str, disabled: bool) -> HTTPResponse:
    async def work(name: str) -> Outcome:
        await store.set_disabled(name, disabled)
        return name, "account_disabled" if disabled else "account_enabled"

    return await change(request, username, "staff_disable" if disabled else "staff_enable", work)


@accounts.post("/console/accounts/<username>/disable")
@staff_only(roles.ADMIN, csrf=True)
async def disable_account(request: Request, username: str) -> HTTPResponse:
    return await switch(request, username, disabled=True)


@accounts.post("/console/accounts/<username>/enable")
@staff_only(roles.ADMIN, csrf=True)
async def enable_account(request: Request, username: str) -> HTTPResponse:
    return await switch(request, username, disabled=False)
