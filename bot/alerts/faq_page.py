"""Read-only pages with the FAQ answers alerts link to: `GET /faq/<topic>`.

Served by the Rasa server when credentials.yml lists `bot.alerts.faq_page.FaqPages:`
(it takes no settings and receives no messages). A resident who opens the link
from an SMS or a chat reads the same answer the assistant gives in a chat.
"""
from __future__ import annotations

import html
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.alerts.faq import faq_answer
from bot.catalog import load_city
from bot.web.hsts import hsts_for_whole_app

POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
HEADERS = {"Content-Security-Policy": POLICY, "X-Content-Type-Options": "nosniff", "Cache-Control": "max-age=300"}


def faq_page(topic: str) -> HTTPResponse:
    """The page for one answer (404 for a topic the assistant has no answer for)."""
    answer = faq_answer(topic)
    city = html.escape(load_city().name or "City")
    if answer is None:
        return response.html(f"<!doctype html><title>Not found</title><p>{city}: no such page.</p>",
                             status=404, headers=HEADERS)
    title = html.escape(topic.replace("_", " ").capitalize())
    body = "<br>".join(html.escape(line) for line in answer.splitlines())
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{title} - {city}</title>"
        "<body style='font:1.1rem/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem'>"
        f"<p>{city}</p><h1>{title}</h1><p>{body}</p>"
        "<p>For emergencies call 911. Questions: message this assistant or call 311.</p></body></html>"
    )
    return response.html(page, headers=HEADERS)


class FaqPages(InputChannel):
    """Not a chat channel: a way to put the FAQ pages on the Rasa server."""

    @classmethod
    def name(cls) -> Text:
        return "faq_pages"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "FaqPages":
        return cls()

    def url_prefix(self) -> Text:
        return "/"  # mounted at the server's root: /faq/<topic>

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        pages = Blueprint("citybot_faq_pages", __name__)
        hsts_for_whole_app(pages)

        @pages.route("/faq/<topic>", methods=["GET"])
        async def page(_request: Request, topic: str) -> HTTPResponse:
            return faq_page(topic)

        return pages
