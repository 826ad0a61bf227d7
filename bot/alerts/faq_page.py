"""Read-only pages with the FAQ answers alerts link to: `GET /faq/<topic>`.

Served by the Rasa server when credentials.yml lists `bot.alerts.faq_page.FaqPages:`
(it takes no settings and receives no messages). A resident who opens the link
from an SMS or a chat reads the same answer the assistant gives in a chat, in
the language the link asks for (`?lang=es`), else their browser's: the text
staff published in the console when there is one (bot/answers/published.py,
which this process keeps fresh), else the training files'.
Listing it is how a Rasa server takes part in alerts, so loading it also
registers the ALERTS keywords with the channels (whichever command started Rasa).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.alerts.faq import PREFIX, faq_answer
from bot.alerts.keywords import register_channel_hooks
from bot.answers.published import PUBLISHED
from bot.i18n.city import branding
from bot.i18n.languages import resident_language
from bot.i18n.messages import messages
from bot.web.hsts import hsts_for_whole_app
from bot.web.language import page_language
from bot.web.render import render

POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "max-age=300",
    "Vary": "Accept-Language",  # the same address is a page per language
}


def topic_heading(topic: str, language: str) -> str:
    """The page's heading: the topic's title in the catalog (`web.faq.topic.<topic>`), else a general one."""
    texts = messages(language)
    key = f"web.faq.topic.{topic}"
    return texts.text(key) if texts.has(key) else texts.text("web.faq.heading", assistant=branding(language).assistant)


def faq_page(topic: str, language: Optional[str] = None) -> HTTPResponse:
    """The page for one answer in `language` (404 for a topic the assistant has no answer for)."""
    code = resident_language(language)
    headers = {**HEADERS, "Content-Language": code}
    answer = PUBLISHED.text_for(PREFIX + topic, code) or faq_answer(topic, code)
    if answer is None:
        return response.html(render("faq/not_found.html", language=code), status=404, headers=headers)
    page = render("faq/answer.html", language=code, heading=topic_heading(topic, code), answer=answer)
    return response.html(page, headers=headers)


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
        async def page(request: Request, topic: str) -> HTTPResponse:
            return faq_page(topic, page_language(request))

        return pages
