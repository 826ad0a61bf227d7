"""The staff console: `citybot console`, at http://localhost:8080/console (CONSOLE_PORT).

Staff sign in (accounts from `citybot staff add`), see the queue of conversations
waiting for a person, claim one, read the whole transcript and the report details
the assistant collected, reply on the resident's own channel, keep private notes,
file the report, and resolve (handing the conversation back to the assistant).

Security: passwords are argon2id hashes; the session cookie is HttpOnly,
SameSite=Strict, and its token is stored only as a hash; sessions end after
CONSOLE_SESSION_IDLE_MINUTES without a request and CONSOLE_SESSION_HOURS after
sign-in; every form carries a CSRF token (403 without it); every staff action is
in the audit log. Sign-in attempts are limited per client (429, `throttle`) and
per account (a lockout, said as such and audited); passwords are hashed in a
small thread pool of their own (`passwords`), so sign-ins never stall the pages.
Log lines carry handoff numbers and usernames, never message text or addresses;
the access log is off.
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import hmac
import json
import logging
import secrets
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Tuple
from urllib.parse import quote

from sanic import Sanic, response
from sanic.config import Config
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff import pages, store, throttle
from bot.handoff.service import HandoffError, HandoffService, last_index, report_details, transcript
from bot.handoff.store import CLAIMED, SignIn, StaffSession
from bot.reports.outbox import REJECTED
from bot.web.hsts import add_hsts, served_over_https
from bot.settings import settings

logger = logging.getLogger(__name__)

COOKIE = "citybot_console"
LOGIN_COOKIE = "citybot_console_login"
COOKIE_PATH = "/console"
STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSETS = {
    "console.js": "application/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
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
STREAM_POLL_SECONDS = 0.5
QUEUE_POLL_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
RECONNECT_MILLISECONDS = 2000
MAX_BODY_BYTES = 64 * 1024
LOGIN_FORM_SECONDS = 3600
REFUSAL_LOG_SECONDS = 60.0  # at most one log line this often about throttled sign-ins

Handler = Callable[..., Awaitable[Any]]


# --- helpers ------------------------------------------------------------------------


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


def sign_in_again(request: Request, problem: Optional[str], status: int, username: str = "",
                  next_url: str = "/console", notice: Optional[str] = None) -> HTTPResponse:
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


def login_redirect(request: Request) -> HTTPResponse:
    target = request.path if request.method == "GET" else "/console"
    return see_other(f"/console/login?next={quote(target, safe='/')}")


def staff_only(csrf: bool = False) -> Callable[[Handler], Handler]:
    """Needs a live session (else: to the sign-in page); a form post also needs the CSRF token (else 403)."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: Request, *args: Any, **kwargs: Any) -> Any:
            session = await store.session_for(request.cookies.get(COOKIE))
            if session is None:
                if wants_json(request):
                    return response.json({"error": "sign in first"}, status=401)
                return login_redirect(request)
            if csrf and not csrf_ok(request, session):
                logger.warning("refused a console %s without a valid CSRF token (%s)", request.method, session.username)
                if wants_json(request):
                    return response.json({"error": "missing or wrong CSRF token"}, status=403)
                return html(pages.error_page(403, "This form has expired or did not come from the console. "
                                                  "Reload the page and try again."), status=403)
            request.ctx.staff = session
            return await handler(request, *args, **kwargs)

        return guarded

    return wrap


def parse_float(value: Optional[str], label: str) -> Optional[float]:
    if value is None or not value.strip():
        return None
    try:
        return float(value.strip())
    except ValueError:
        raise HandoffError(f"{label} must be a number", 400) from None


def report_fields(request: Request) -> Dict[str, Any]:
    """The report as staff edited it in the file form."""
    form = request.form or {}
    attributes: Dict[str, Any] = {}
    for key in list(form.keys()):
        if key.startswith("attr:"):
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


def sse(event: str, data: Any, event_id: Optional[str] = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data)}\n\n"


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


# --- the app --------------------------------------------------------------------------


def create_app(service: Optional[HandoffService] = None) -> Sanic:
    config = Config()
    config.update(
        {
            "REGISTER": False,
            "ACCESS_LOG": False,  # URLs and forms are nobody's business in a log
            "MOTD": False,
            "REQUEST_MAX_SIZE": MAX_BODY_BYTES,
            "REQUEST_TIMEOUT": 30,
        }
    )
    app = Sanic("citybot_console", config=config, configure_logging=False)
    app.ctx.service = service
    app.ctx.stopping = False
    app.ctx.sign_ins, app.ctx.trusted_proxies = throttle.from_env()
    app.ctx.refusals, app.ctx.refusals_logged = 0, 0.0

    @app.listener("before_server_start")
    async def start(app: Sanic, _loop: Any) -> None:
        from bot.channels.outbound import load_senders_from_env

        if app.ctx.service is None:
            app.ctx.service = HandoffService()
        channels = load_senders_from_env()
        logger.info("staff console: residents reachable on %s", ", ".join(channels) or "no channel")
        await store.purge_expired_sessions()

    @app.listener("before_server_stop")
    async def stop(app: Sanic, _loop: Any) -> None:
        app.ctx.stopping = True

    @app.listener("after_server_stop")
    async def close(app: Sanic, _loop: Any) -> None:
        if app.ctx.service is not None:
            await app.ctx.service.rasa.aclose()

    @app.middleware("response")
    async def headers(_request: Request, resp: HTTPResponse) -> None:
        if resp is not None:
            for name, value in SECURITY_HEADERS.items():
                resp.headers.setdefault(name, value)

    if served_over_https():
        app.register_middleware(add_hsts, "response")

    def svc() -> HandoffService:
        return app.ctx.service

    def client_of(request: Request) -> str:
        forwarded = ",".join(request.headers.getall("x-forwarded-for", []))
        return throttle.client_address(request.ip, forwarded, app.ctx.trusted_proxies)

    def throttled(request: Request, wait: float, next_url: str) -> HTTPResponse:
        """429 for a client over its sign-in attempts; logged at most once a minute (no addresses)."""
        app.ctx.refusals += 1
        now = time.monotonic()
        if now - app.ctx.refusals_logged >= REFUSAL_LOG_SECONDS:
            logger.warning("refused %s console sign-in attempts: too many from one client", app.ctx.refusals)
            app.ctx.refusals, app.ctx.refusals_logged = 0, now
        resp = sign_in_again(request, pages.sign_in_problem("throttled", wait), 429, next_url=next_url)
        resp.headers["Retry-After"] = str(throttle.retry_after(wait))
        return resp

    # --- pages without a session ------------------------------------------------------

    @app.get("/")
    async def root(_request: Request) -> HTTPResponse:
        return see_other("/console")

    @app.get("/console/health")
    async def health(_request: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.get("/console/static/<name>")
    async def asset(_request: Request, name: str) -> HTTPResponse:
        if name not in ASSETS:
            return response.json({"error": "not found"}, status=404)
        return await response.file(
            STATIC_DIR / name, mime_type=ASSETS[name], headers={"Cache-Control": "no-cache"}
        )

    @app.get("/console/login")
    async def login_form(request: Request) -> HTTPResponse:
        if await store.session_for(request.cookies.get(COOKIE)) is not None:
            return see_other(safe_next(request.args.get("next")))
        return sign_in_again(request, None, 200, next_url=safe_next(request.args.get("next")),
                             notice=request.args.get("done"))

    @app.post("/console/login")
    async def login(request: Request) -> HTTPResponse:
        # The client's attempts are counted first: a refusal costs no form check and no hash.
        client = client_of(request)
        next_url = safe_next(form_value(request, "next"))
        wait = app.ctx.sign_ins.take(client)
        if wait:
            return throttled(request, wait, next_url)
        # The sign-in form's own CSRF token: a cookie and a form field that must match.
        if not same(form_value(request, "login_token"), request.cookies.get(LOGIN_COOKIE)):
            return html(pages.error_page(403, pages.SIGN_IN_PROBLEMS["expired"]), 403)
        username = (form_value(request, "username") or "").strip().lower()
        result = await store.sign_in(username, form_value(request, "password") or "")
        if result.username is None:
            return await refused_sign_in(request, result, username, next_url)
        app.ctx.sign_ins.give_back(client)  # only failed attempts count against the client
        name = result.username
        token, session = await store.start_session(name)
        await store.audit(name, "login")
        logger.info("%s signed in to the console", name)
        resp = see_other(next_url)
        set_cookie(resp, request, COOKIE, token, int(store.session_lifetime().total_seconds()))
        clear_cookie(resp, request, LOGIN_COOKIE)
        return resp

    @app.post("/console/logout")
    @staff_only(csrf=True)
    async def logout(request: Request) -> HTTPResponse:
        session: StaffSession = request.ctx.staff
        await store.end_session(session.token_hash)
        await store.audit(session.username, "logout")
        resp = see_other("/console/login?done=signed_out")
        clear_cookie(resp, request, COOKIE)
        return resp

    # --- the queue --------------------------------------------------------------------

    async def render_queue(request: Request, problem: Optional[str] = None, status: int = 200) -> HTTPResponse:
        session: StaffSession = request.ctx.staff
        return html(
            pages.queue_page(
                await store.open_handoffs(),
                await store.recent_conversations(),
                await store.recently_resolved(10),
                await store.staff_on_duty(),
                session.username,
                session.csrf_token,
                notice=request.args.get("done"),
                problem=problem,
            ),
            status=status,
        )

    @app.get("/console")
    @staff_only()
    async def queue(request: Request) -> HTTPResponse:
        return await render_queue(request)

    @app.get("/console/api/queue")
    @staff_only()
    async def queue_api(request: Request) -> HTTPResponse:
        return response.raw(
            pages.queue_json(await store.open_handoffs(), await store.staff_on_duty()).encode(),
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    @app.get("/console/stream")
    @staff_only()
    async def queue_stream(request: Request) -> None:
        """The queue, pushed whenever it changes (Server-Sent Events)."""
        token = request.cookies.get(COOKIE)
        stream = await request.respond(
            content_type="text/event-stream; charset=utf-8",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no", **SECURITY_HEADERS},
        )
        await stream.send(f"retry: {RECONNECT_MILLISECONDS}\n\n")
        seen = None
        last_write = last_check = time.monotonic()
        while not app.ctx.stopping:
            fingerprint = await store.queue_fingerprint()
            if fingerprint != seen:
                seen = fingerprint
                await stream.send(f"event: queue\ndata: {pages.queue_json(await store.open_handoffs(), await store.staff_on_duty())}\n\n")
                last_write = time.monotonic()
            now = time.monotonic()
            if now - last_check >= KEEPALIVE_SECONDS:
                last_check = now
                if await store.session_for(token) is None:  # also keeps the staff member "on duty"
                    await stream.send(sse("signed-out", {}))
                    break
            if now - last_write >= KEEPALIVE_SECONDS:
                await stream.send(": keep-alive\n\n")
                last_write = now
            await asyncio.sleep(QUEUE_POLL_SECONDS)

    @app.get("/console/audit")
    @staff_only()
    async def audit(request: Request) -> HTTPResponse:
        session: StaffSession = request.ctx.staff
        return html(pages.audit_page(await store.audit_entries(), session.username, session.csrf_token))

    @app.post("/console/take-over")
    @staff_only(csrf=True)
    async def take_over(request: Request) -> HTTPResponse:
        session: StaffSession = request.ctx.staff
        try:
            handoff = await svc().take_over(form_value(request, "conversation") or "", session.username)
        except HandoffError as error:
            return await render_queue(request, problem=str(error), status=error.status)
        return see_other(f"/console/handoffs/{handoff.id}?done=taken")

    # --- one conversation ---------------------------------------------------------------

    async def render_conversation(
        request: Request, handoff_id: int, problem: Optional[str] = None, status: int = 200
    ) -> HTTPResponse:
        from bot.storage import contact_for

        session: StaffSession = request.ctx.staff
        handoff = await store.get_handoff(handoff_id)
        if handoff is None:
            return html(pages.error_page(404, "There is no such handoff.", session.username, session.csrf_token), 404)
        turns: Sequence[Any] = []
        details: Dict[str, Any] = {}
        paused: Optional[bool] = None
        after = -1
        try:
            tracker = await svc().rasa.tracker(handoff.sender_id)
            turns, details, after = transcript(tracker), report_details(tracker), last_index(tracker)
            paused = bool(tracker.get("paused"))
        except HandoffError as error:
            problem = problem or f"The transcript cannot be shown right now: {error}."
        notes = await store.notes_for([h.id for h in await store.handoffs_of(handoff.sender_id)])
        file_section = ""
        if handoff.state == CLAIMED and handoff.claimed_by == session.username:
            chosen = request.args.get("service") or str(details.get("service_code") or "")
            file_section = pages.file_form(
                handoff, session.csrf_token, await services_for_form(), chosen, await definition_for(chosen), details
            )
        page = pages.conversation_page(
            handoff, turns, notes, details, session.username, session.csrf_token,
            {"after": after, "note": max([n.id for n in notes], default=0)},
            file_section=file_section, notice=request.args.get("done"), problem=problem, paused=paused,
            reachable=await contact_for(handoff.sender_id) is not None,
        )
        return html(page, status=status)

    @app.get("/console/handoffs/<handoff_id:int>")
    @staff_only()
    async def conversation(request: Request, handoff_id: int) -> HTTPResponse:
        return await render_conversation(request, handoff_id)

    @app.get("/console/api/handoffs/<handoff_id:int>")
    @staff_only()
    async def conversation_api(request: Request, handoff_id: int) -> HTTPResponse:
        handoff = await store.get_handoff(handoff_id)
        if handoff is None:
            return response.json({"error": "no such handoff"}, status=404)
        try:
            tracker = await svc().rasa.tracker(handoff.sender_id)
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

    @app.get("/console/handoffs/<handoff_id:int>/stream")
    @staff_only()
    async def conversation_stream(request: Request, handoff_id: int) -> Optional[HTTPResponse]:
        """New transcript lines, notes and state changes of one conversation (Server-Sent Events)."""
        handoff = await store.get_handoff(handoff_id)
        if handoff is None:
            return response.json({"error": "no such handoff"}, status=404)
        token = request.cookies.get(COOKIE)
        after, note = stream_cursor(request)
        stream = await request.respond(
            content_type="text/event-stream; charset=utf-8",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no", **SECURITY_HEADERS},
        )
        await stream.send(f"retry: {RECONNECT_MILLISECONDS}\n\n")
        state = (handoff.state, handoff.claimed_by)
        last_write = last_check = time.monotonic()
        while not app.ctx.stopping:
            try:
                tracker = await svc().rasa.tracker(handoff.sender_id)
            except HandoffError:
                tracker = None  # the Rasa server is restarting: try again
            if tracker is not None:
                for turn in transcript(tracker, after=after):
                    after = turn.index
                    await stream.send(sse("turn", turn.as_json(), f"{after}.{note}"))
                    last_write = time.monotonic()
                after = max(after, last_index(tracker))
            related = [h.id for h in await store.handoffs_of(handoff.sender_id)]
            for item in await store.notes_for(related, after=note):
                note = item.id
                await stream.send(sse("note", item.as_json(), f"{after}.{note}"))
                last_write = time.monotonic()
            current = await store.get_handoff(handoff_id)
            if current is not None and (current.state, current.claimed_by) != state:
                state = (current.state, current.claimed_by)
                await stream.send(sse("state", current.as_json(), f"{after}.{note}"))
                last_write = time.monotonic()
            now = time.monotonic()
            if now - last_check >= KEEPALIVE_SECONDS:
                last_check = now
                if await store.session_for(token) is None:
                    await stream.send(sse("signed-out", {}))
                    break
            if now - last_write >= KEEPALIVE_SECONDS:
                await stream.send(": keep-alive\n\n")
                last_write = now
            await asyncio.sleep(STREAM_POLL_SECONDS)
        return None

    @app.post("/console/handoffs/<handoff_id:int>/claim")
    @staff_only(csrf=True)
    async def claim(request: Request, handoff_id: int) -> HTTPResponse:
        session: StaffSession = request.ctx.staff
        try:
            await svc().claim(handoff_id, session.username)
        except HandoffError as error:
            if wants_json(request):
                return response.json({"error": str(error)}, status=error.status)
            return await render_conversation(request, handoff_id, problem=str(error), status=error.status)
        logger.info("handoff %s claimed by %s", handoff_id, session.username)
        if wants_json(request):
            return response.json({"ok": True})
        return see_other(f"/console/handoffs/{handoff_id}?done=claimed")

    @app.post("/console/handoffs/<handoff_id:int>/reply")
    @staff_only(csrf=True)
    async def reply(request: Request, handoff_id: int) -> HTTPResponse:
        session: StaffSession = request.ctx.staff
        try:
            problem = await svc().reply(handoff_id, session.username, form_value(request, "text") or "")
        except HandoffError as error:
            if wants_json(request):
                return response.json({"error": str(error)}, status=error.status)
            return await render_conversation(request, handoff_id, problem=str(error), status=error.status)
        if wants_json(request):
            return response.json({"ok": True, "not_delivered": problem})
        if problem:
            return await render_conversation(request, handoff_id, problem=f"Added to the transcript but not delivered: {problem}.")
        return see_other(f"/console/handoffs/{handoff_id}?done=replied")

    @app.post("/console/handoffs/<handoff_id:int>/note")
    @staff_only(csrf=True)
    async def note(request: Request, handoff_id: int) -> HTTPResponse:
        session: StaffSession = request.ctx.staff
        try:
            saved = await svc().note(handoff_id, session.username, form_value(request, "text") or "")
        except HandoffError as error:
            if wants_json(request):
                return response.json({"error": str(error)}, status=error.status)
            return await render_conversation(request, handoff_id, problem=str(error), status=error.status)
        if wants_json(request):
            return response.json({"ok": True, "note": saved.as_json()})
        return see_other(f"/console/handoffs/{handoff_id}?done=noted")

    @app.post("/console/handoffs/<handoff_id:int>/release")
    @staff_only(csrf=True)
    async def release(request: Request, handoff_id: int) -> HTTPResponse:
        session: StaffSession = request.ctx.staff
        try:
            await svc().release(handoff_id, session.username)
        except HandoffError as error:
            return await render_conversation(request, handoff_id, problem=str(error), status=error.status)
        return see_other("/console?done=released")

    @app.post("/console/handoffs/<handoff_id:int>/resolve")
    @staff_only(csrf=True)
    async def resolve(request: Request, handoff_id: int) -> HTTPResponse:
        session: StaffSession = request.ctx.staff
        hand_back = form_value(request, "hand_back") == "1"
        try:
            problem = await svc().resolve(handoff_id, session.username, hand_back)
        except HandoffError as error:
            if wants_json(request):
                return response.json({"error": str(error)}, status=error.status)
            return await render_conversation(request, handoff_id, problem=str(error), status=error.status)
        logger.info("handoff %s resolved by %s", handoff_id, session.username)
        if wants_json(request):
            return response.json({"ok": True, "not_delivered": problem})
        return see_other("/console?done=resolved")

    @app.post("/console/handoffs/<handoff_id:int>/file")
    @staff_only(csrf=True)
    async def file_report(request: Request, handoff_id: int) -> HTTPResponse:
        session: StaffSession = request.ctx.staff
        try:
            result = await svc().file_report(handoff_id, session.username, report_fields(request))
        except HandoffError as error:
            if wants_json(request):
                return response.json({"error": str(error)}, status=error.status)
            return await render_conversation(request, handoff_id, problem=str(error), status=error.status)
        if wants_json(request):
            return response.json({"ok": True, **result})
        if result["state"] == REJECTED:
            return await render_conversation(
                request, handoff_id, problem=f"The back office refused the request: {result['error'] or 'no reason given'}."
            )
        return see_other(f"/console/handoffs/{handoff_id}?done=filed")

    return app


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`citybot console [--host H] [--port P]`."""
    parser = argparse.ArgumentParser(prog="citybot console", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=settings().console_host)
    parser.add_argument("--port", type=int, default=settings().console_port or 8080)
    args = parser.parse_args(argv)
    logging.basicConfig(level=settings().log_level or "INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every URL at INFO: conversation ids and the Rasa token stay out of the log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    app = create_app()
    logger.info("staff console on http://%s:%s/console (Rasa at %s)", args.host, args.port,
                settings().rasa_url or "http://127.0.0.1:5005")
    app.run(host=args.host, port=args.port, access_log=False, motd=False, workers=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
