"""The staff console: `citybot console`, at http://localhost:8080/console (CONSOLE_PORT).

Staff sign in (the first admin from `citybot staff add --role admin`; admins
manage the other accounts under /console/accounts), see the queue of conversations
waiting for a person, claim one, read the whole transcript and the report details
the assistant collected, reply on the resident's own channel, keep private notes,
file the report, and resolve (handing the conversation back to the assistant).
Supervisors also see the dashboard (/console/dashboard), write, approve (a second
supervisor) and send crisis alerts under /console/alerts, and edit the assistant's
answers (/console/answers). Each page needs a role (agent, supervisor, admin:
bot/handoff/roles.py).

Security: passwords are argon2id hashes; the session cookie is HttpOnly,
SameSite=Strict, and its token is stored only as a hash; sessions end after
CONSOLE_SESSION_IDLE_MINUTES without a request and CONSOLE_SESSION_HOURS after
sign-in; every form carries a CSRF token (403 without it); every staff action is
in the audit log. Sign-in attempts are limited per client and per account.
Log lines carry handoff numbers and usernames, never message text or addresses;
the access log is off.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any, Optional, Sequence

from sanic import Sanic, response
from sanic.config import Config
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import BaseHTTPResponse, HTTPResponse

from bot.handoff import pages, store, throttle
from bot.handoff.console.accounts import accounts
from bot.handoff.console.alerts import alerts
from bot.handoff.console.answers import answers
from bot.handoff.console.conversation import conversation, render_conversation
from bot.handoff.console.dashboard import dashboard
from bot.handoff.console.holds import holds
from bot.handoff.console.queue import queue, render_queue
from bot.handoff.console.search import search_pages
from bot.handoff.console.signin import signin
from bot.handoff.console.web import SECURITY_HEADERS, error_for, html, wants_json
from bot.handoff.service import HandoffError, HandoffService
from bot.settings import settings
from bot.web.hsts import add_hsts, served_over_https

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
UNEXPECTED = "Something went wrong on our side. Try again; if it keeps happening, tell the administrator."


async def on_error(request: Request, exception: Exception) -> HTTPResponse:
    """The app's one error handler.

    A refused staff action (HandoffError) is said where it happened: JSON for the
    page's script, else the conversation (or the queue) once more with why. Any
    other error is the console's error page (JSON for the script), with its status.
    """
    staff = getattr(request.ctx, "staff", None)
    if isinstance(exception, HandoffError):
        status, message = exception.status, str(exception)
    elif isinstance(exception, SanicException):
        status, message = exception.status_code, str(exception)
    else:
        logger.error("console error on %s %s", request.method, request.path, exc_info=exception)
        status, message = 500, UNEXPECTED
    if wants_json(request):
        return response.json({"error": message}, status=status)
    if isinstance(exception, HandoffError) and staff is not None:
        handoff_id = request.match_info.get("handoff_id")
        if handoff_id is not None:
            return await render_conversation(request, int(handoff_id), problem=message, status=status)
        return await render_queue(request, problem=message, status=status)
    if staff is None:
        return html(pages.error_page(status, message), status=status)
    return error_for(staff, status, message)


async def security_headers(_request: Request, resp: BaseHTTPResponse) -> None:
    if resp is not None:
        for name, value in SECURITY_HEADERS.items():
            resp.headers.setdefault(name, value)


async def start(app: Sanic, _loop: Any) -> None:
    from bot.channels.outbound import load_senders_from_env

    if app.ctx.service is None:
        app.ctx.service = HandoffService()
    channels = load_senders_from_env()
    logger.info("staff console: residents reachable on %s", ", ".join(channels) or "no channel")
    await store.purge_expired_sessions()


async def stop(app: Sanic, _loop: Any) -> None:
    app.ctx.stopping = True  # ends the event streams


async def close(app: Sanic, _loop: Any) -> None:
    if app.ctx.service is not None:
        await app.ctx.service.rasa.aclose()


def create_app(service: Optional[HandoffService] = None) -> Sanic:
    """The console app: its blueprints, and on `app.ctx` what they share (the service, the sign-in limits)."""
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
    app.register_listener(start, "before_server_start")
    app.register_listener(stop, "before_server_stop")
    app.register_listener(close, "after_server_stop")
    app.register_middleware(security_headers, "response")
    if served_over_https():
        app.register_middleware(add_hsts, "response")
    app.error_handler.add(Exception, on_error)
    for blueprint in (signin, queue, conversation, holds, search_pages, alerts, dashboard, answers, accounts):
        app.blueprint(blueprint)
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
    logger.info(
        "staff console on http://%s:%s/console (Rasa at %s)",
        args.host,
        args.port,
        settings().rasa_url or "http://127.0.0.1:5005",
    )
    app.run(host=args.host, port=args.port, access_log=False, motd=False, workers=1)
    return 0
