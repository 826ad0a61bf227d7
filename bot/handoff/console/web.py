"""What every console blueprint needs: sessions, roles, cookies, CSRF checks, responses.

Security: the session cookie is HttpOnly, SameSite=Strict, and its token is
stored only as a hash; every page and action declares the least role it needs
(403 below it); every form carries a CSRF token (403 without it). The
pages load nothing from elsewhere (the headers below go on every response).
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
import time
from typing import Any, Callable, Coroutine, Optional
from urllib.parse import quote

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import pages, roles, store
from bot.handoff.service import HandoffService
from bot.handoff.store import StaffSession
from bot.settings import settings

logger = logging.getLogger(__name__)

COOKIE = "citybot_console"
LOGIN_COOKIE = "citybot_console_login"
COOKIE_PATH = "/console"
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
KEEPALIVE_SECONDS = 15.0
RECONNECT_MILLISECONDS = 2000

Handler = Callable[..., Coroutine[Any, Any, Any]]


def service(request: Request) -> HandoffService:
    return request.app.ctx.service


def wants_json(request: Request) -> bool:
    return "application/json" in (request.headers.get("accept") or "")


def html(body: str, status: int = 200) -> HTTPResponse:
    return response.html(body, status=status, headers={"Cache-Control": "no-store"})


def see_other(location: str) -> HTTPResponse:
    return response.redirect(location, status=303, headers={"Cache-Control": "no-store"})


def secure_cookies(request: Request) -> bool:
    setting = settings().console_secure_cookies.lower()
    if setting in ("1", "true", "yes"):
        return True
    if setting in ("0", "false", "no"):
        return False
    return request.scheme == "https" or (request.headers.get("x-forwarded-proto") or "").lower() == "https"


def set_cookie(resp: HTTPResponse, request: Request, name: str, value: str, max_age: int) -> None:
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = COOKIE_PATH
    cookie["max-age"] = max_age
    if secure_cookies(request):
        cookie["secure"] = True


def clear_cookie(resp: HTTPResponse, request: Request, name: str) -> None:
    set_cookie(resp, request, name, "", 0)


def same(given: Optional[str], expected: Optional[str]) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(str(given).encode(), str(expected).encode())


def form_value(request: Request, name: str) -> Optional[str]:
    form = request.form or {}
    value = form.get(name)
    return value if isinstance(value, str) else None


def csrf_ok(request: Request, session: StaffSession) -> bool:
    given = form_value(request, "csrf_token") or request.headers.get("x-csrf-token")
    return same(given, session.csrf_token)


def safe_next(value: Optional[str]) -> str:
    """Only a console page may follow the sign-in (no open redirect)."""
    if value and value.startswith("/console") and not value.startswith("//") and "\\" not in value:
        return value
    return "/console"


def login_redirect(request: Request) -> HTTPResponse:
    target = request.path if request.method == "GET" else "/console"
    return see_other(f"/console/login?next={quote(target, safe='/')}")


def error_for(session: StaffSession, status: int, message: str) -> HTTPResponse:
    """The console's error page for a signed-in staff member (with the sections of their role)."""
    return html(pages.error_page(status, message, session.username, session.csrf_token, session.role), status=status)


def refused(request: Request, session: StaffSession, message: str) -> HTTPResponse:
    """403, said on the console's error page, or as JSON for a script."""
    if wants_json(request):
        return response.json({"error": message}, status=403)
    return error_for(session, 403, message)


def staff_only(role: str = roles.AGENT, csrf: bool = False) -> Callable[[Handler], Handler]:
    """Needs a live session (else: to the sign-in page) of an account with at least `role` (else 403);
    a form post also needs the CSRF token (else 403).

    The role comes with the session, read on every request: a new role or a
    disabled account applies at the account's next request.
    """
    if role not in roles.ROLES:
        raise ValueError(f"unknown role {role!r}")

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: Request, *args: Any, **kwargs: Any) -> Any:
            session = await store.session_for(request.cookies.get(COOKIE))
            if session is None:
                if wants_json(request):
                    return response.json({"error": "sign in first"}, status=401)
                return login_redirect(request)
            request.ctx.staff = session
            if not roles.allows(session.role, role):
                logger.warning(
                    "refused %s %s to %s (%s; needs %s)",
                    request.method,
                    request.path,
                    session.username,
                    session.role,
                    role,
                )
                return refused(request, session, roles.refusal(role, session.role))
            if csrf and not csrf_ok(request, session):
                logger.warning("refused a console %s without a valid CSRF token (%s)", request.method, session.username)
                if wants_json(request):
                    return response.json({"error": "missing or wrong CSRF token"}, status=403)
                return html(
                    pages.error_page(
                        403, "This form has expired or did not come from the console. Reload the page and try again."
                    ),
                    status=403,
                )
            return await handler(request, *args, **kwargs)

        return guarded

    return wrap


def sse(event: str, data: Any, event_id: Optional[str] = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data)}\n\n"


async def open_stream(request: Request) -> Any:
    """Start a Server-Sent Events response (the browser reconnects by itself after a drop)."""
    stream = await request.respond(
        content_type="text/event-stream; charset=utf-8",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no", **SECURITY_HEADERS},
    )
    await stream.send(f"retry: {RECONNECT_MILLISECONDS}\n\n")
    return stream


class Heartbeat:
    """Keeps an event stream alive through proxies and ends it when the session ends.

    Checking the session also keeps the staff member "on duty" while a page is open.
    """

    def __init__(self, stream: Any, token: Optional[str]) -> None:
        self.stream = stream
        self.token = token
        self.last_write = self.last_check = time.monotonic()

    async def send(self, text: str) -> None:
        await self.stream.send(text)
        self.last_write = time.monotonic()

    async def beat(self) -> bool:
        """False once the session has ended (the page was told to sign in again)."""
        now = time.monotonic()
        if now - self.last_check >= KEEPALIVE_SECONDS:
            self.last_check = now
            if await store.session_for(self.token) is None:
                await self.stream.send(sse("signed-out", {}))
                return False
        if now - self.last_write >= KEEPALIVE_SECONDS:
            await self.send(": keep-alive\n\n")
        return True
