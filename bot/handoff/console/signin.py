"""Signing in and out of the console, and the pages that need no session (health, assets).

Sign-in attempts are limited per client (429, `throttle`) and per account (a
lockout, said as such and audited); passwords are argon2id hashes checked in a
small thread pool of their own (`passwords`), so sign-ins never stall the pages.
The sign-in form carries its own CSRF token (a cookie and a field that must match).
"""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path
from typing import Optional

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import pages, store, throttle
from bot.handoff.console.web import (
    COOKIE,
    LOGIN_COOKIE,
    clear_cookie,
    form_value,
    html,
    safe_next,
    same,
    see_other,
    set_cookie,
    staff_only,
)
from bot.handoff.store import SignIn, StaffSession
from bot.web.render import render

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ASSETS = {
    "console.js": "application/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
LOGIN_FORM_SECONDS = 3600
REFUSAL_LOG_SECONDS = 60.0  # at most one log line this often about throttled sign-ins

signin = Blueprint("console_signin")


def sign_in_again(
    request: Request,
    problem: Optional[str],
    status: int,
    username: str = "",
    next_url: str = "/console",
    notice: Optional[str] = None,
) -> HTTPResponse:
    """The sign-in page (once more, with why, or with a notice), with a fresh form token."""
    token = secrets.token_urlsafe(32)
    shown = username if store.USERNAME.match(username) else ""
    page = pages.login_page(token, problem=problem, username=shown, next_url=next_url, notice=notice)
    resp = html(page, status=status)
    set_cookie(resp, request, LOGIN_COOKIE, token, LOGIN_FORM_SECONDS)
    return resp


async def refused_sign_in(request: Request, result: SignIn, username: str, next_url: str) -> HTTPResponse:
    """Audit a refused sign-in and say why: a locked account as such, anything else alike.

    The actor is the account only when it exists: a name that is not an account
    (often a password typed in the wrong field) goes nowhere, neither the audit log nor the log.
    """
    actor = result.account or "(unknown)"
    if result.locked_for is None or result.locked_now:
        await store.audit(actor, "login_failed")
        logger.info("failed console sign-in for %s", actor)
    if result.locked_for is None:
        return sign_in_again(request, pages.sign_in_problem("wrong"), 401, username, next_url)
    seconds = result.locked_for.total_seconds()
    if result.locked_now:
        detail = f"for {pages.minutes(seconds)} after {store.MAX_FAILED_LOGINS} failed sign-ins"
        await store.audit(actor, "account_locked", detail=detail)
    else:
        await store.audit(actor, "login_while_locked")
        logger.info("refused a console sign-in for %s: the account is locked", actor)
    return sign_in_again(request, pages.sign_in_problem("locked", seconds), 401, username, next_url)


def client_of(request: Request) -> str:
    forwarded = ",".join(request.headers.getall("x-forwarded-for", []))
    return throttle.client_address(request.ip, forwarded, request.app.ctx.trusted_proxies)


def throttled(request: Request, wait: float, next_url: str) -> HTTPResponse:
    """429 for a client over its sign-in attempts; logged at most once a minute (no addresses)."""
    ctx = request.app.ctx
    ctx.refusals += 1
    now = time.monotonic()
    if now - ctx.refusals_logged >= REFUSAL_LOG_SECONDS:
        logger.warning("refused %s console sign-in attempts: too many from one client", ctx.refusals)
        ctx.refusals, ctx.refusals_logged = 0, now
    resp = sign_in_again(request, pages.sign_in_problem("throttled", wait), 429, next_url=next_url)
    resp.headers["Retry-After"] = str(throttle.retry_after(wait))
    return resp


@signin.get("/")
async def root(_request: Request) -> HTTPResponse:
    return see_other("/console")


@signin.get("/console/health")
async def health(_request: Request) -> HTTPResponse:
    return response.json({"status": "ok"})


@signin.get("/console/static/<name>")
async def asset(_request: Request, name: str) -> HTTPResponse:
    if name == "brand.css":
        return response.text(
            render("brand.css"), content_type="text/css; charset=utf-8", headers={"Cache-Control": "no-cache"}
        )
    if name not in ASSETS:
        return response.json({"error": "not found"}, status=404)
    return await response.file(STATIC_DIR / name, mime_type=ASSETS[name], headers={"Cache-Control": "no-cache"})


@signin.get("/console/login")
async def login_form(request: Request) -> HTTPResponse:
    if await store.session_for(request.cookies.get(COOKIE)) is not None:
        return see_other(safe_next(request.args.get("next")))
    return sign_in_again(
        request, None, 200, next_url=safe_next(request.args.get("next")), notice=request.args.get("done")
    )


@signin.post("/console/login")
async def login(request: Request) -> HTTPResponse:
    # The client's attempts are counted first: a refusal costs no form check and no hash.
    client = client_of(request)
    next_url = safe_next(form_value(request, "next"))
    wait = request.app.ctx.sign_ins.take(client)
    if wait:
        return throttled(request, wait, next_url)
    # The sign-in form's own CSRF token: a cookie and a form field that must match.
    if not same(form_value(request, "login_token"), request.cookies.get(LOGIN_COOKIE)):
        return html(pages.error_page(403, pages.SIGN_IN_PROBLEMS["expired"]), 403)
    username = (form_value(request, "username") or "").strip().lower()
    result = await store.sign_in(username, form_value(request, "password") or "")
    if result.username is None:
        return await refused_sign_in(request, result, username, next_url)
    request.app.ctx.sign_ins.give_back(client)  # only failed attempts count against the client
    name = result.username
    token, session = await store.start_session(name)
    await store.audit(name, "login")
    logger.info("%s signed in to the console", name)
    resp = see_other(next_url)
    set_cookie(resp, request, COOKIE, token, int(store.session_lifetime().total_seconds()))
    clear_cookie(resp, request, LOGIN_COOKIE)
    return resp


@signin.post("/console/logout")
@staff_only(csrf=True)
async def logout(request: Request) -> HTTPResponse:
    session: StaffSession = request.ctx.staff
    await store.end_session(session.token_hash)
    await store.audit(session.username, "logout")
    resp = see_other("/console/login?done=signed_out")
    clear_cookie(resp, request, COOKIE)
    return resp
