"""Read-only pages with the FAQ answers alerts link to: `GET /faq/<topic>`.

Served by the Rasa server when credentials.yml lists `bot.alerts.faq_page.FaqPages:`
(it takes no settings and receives no messages). A resident who opens the link
from an SMS or a chat reads the same answer the assistant gives in a chat.
Listing it is how a Rasa server takes part in alerts, so loading it also
registers the ALERTS keywords with the channels (whichever command started Rasa).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.alerts.faq import faq_answer
from bot.alerts.keywords import register_channel_hooks
from bot.web.hsts import hsts_for_whole_app
from bot.web.render import render

POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
HEADERS = {"Content-Security-Policy": POLICY, "X-Content-Type-Options": "nosniff", "Cache-Control": "max-age=300"}


def faq_page(topic: str) -> HTTPResponse:
    """The page for one answer (404 for a topic the assistant has no answer for)."""
    answer = faq_answer(topic)
    if answer is None:
        return response.html(render("faq/not_found.html"), status=404, headers=HEADERS)
    title = topic.replace("_", " ").capitalize()
    return response.html(render("faq/answer.html", title=title, answer=answer), headers=HEADERS)


class FaqPages(InputChannel):
    """Not a chat channel: a way to put the FAQ pages on the Rasa server."""

    @classmethod
    def name(cls) -> Text:
        return "faq_pages"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "FaqPages":
        register_channel_hooks()  # ALERTS ON / ALERTS OFF by SMS and WhatsApp
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
