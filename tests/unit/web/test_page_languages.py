"""The web chat, its embed script and the FAQ pages in each city language: every visible text from the catalogs."""

from __future__ import annotations

import functools
import json
import re
import string
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import pytest

from bot.alerts import faq as faq_texts
from bot.alerts import faq_page as faq_module
from bot.i18n.city import branding
from bot.i18n.languages import default_language
from bot.i18n.messages import catalog, every_language, messages
from bot.web.language import page_language
from bot.web.render import environment, render
from tests.support.city import use_city, use_city_text

CITY = """
jurisdiction:
  id: example.gov
  name: City of Example
  phone_311: "311, or (555) 123-4567 from outside the city"
  languages: [English, Spanish]
branding:
  assistant: Example 311
  phone: "311"
services: []
translations:
  es:
    jurisdiction: {name: Ciudad de Example, phone_311: "311, o al (555) 123-4567 desde fuera de la ciudad"}
    branding: {assistant: Example 311 en español}
"""

DOMAIN = """
responses:
  utter_faq/cooling_warming_centers:
  - text: "Cooling centers open above 100°F."
  - condition: [{type: slot, name: language, value: es}]
    text: "Los centros de enfriamiento abren cuando pasa de 100 °F."
  utter_faq/only_in_english:
  - text: "Ask at City Hall."
"""

HOSTILE = "\"'><script>alert(1)</script>&amp;"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;"
LANGUAGES = [texts.language for texts in every_language()]
# The keys of what a page shows; web.faq.topic.* titles only where their topic is shown.
PAGE_KEYS = ("web.languages", "web.chat.", "web.embed.", "web.faq.heading", "web.faq.more", "web.faq.not_found")


@pytest.fixture
def example_city(city: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_city_text(monkeypatch, tmp_path, CITY)


@pytest.fixture
def example_answers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The FAQ answers of a test domain (data/nlu/faq.yml in a temporary project)."""
    (tmp_path / "data" / "nlu").mkdir(parents=True)
    (tmp_path / "data" / "nlu" / "faq.yml").write_text(DOMAIN, encoding="utf-8")
    monkeypatch.setattr(faq_module, "faq_answer", functools.partial(faq_texts.faq_answer, root=tmp_path))


class VisibleText(HTMLParser):
    """What a reader meets on a page: its text, its labels and alternative texts, and chat.js's texts."""

    LABELS = ("aria-label", "title", "alt", "placeholder")

    def __init__(self) -> None:
        super().__init__()
        self.parts: List[str] = []
        self._script: Optional[str] = None

    def handle_starttag(self, tag: str, attrs: List[Any]) -> None:
        values = dict(attrs)
        self.parts += [str(values[name]) for name in self.LABELS if values.get(name)]
        if tag in ("script", "style"):
            self._script = str(values.get("id") or tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script == "chat-texts":
            self.parts += list(json.loads(data).values())
        elif self._script is None:
            self.parts.append(" ".join(data.split()))


def visible(page: str) -> str:
    parser = VisibleText()
    parser.feed(page)
    return "\n".join(part for part in parser.parts if part)


def embed_texts(script: str) -> Dict[str, str]:
    """The values the assistant rendered into embed.js."""
    found = re.search(r"var PAGE = (\{.*?\});\n", script)
    assert found, script[:500]
    return json.loads(found.group(1))


def fragments(text: str) -> List[str]:
    """The words of a catalog text around its placeholders, where long enough to tell a language."""
    return [literal.strip() for literal, *_ in string.Formatter().parse(text) if len(literal.strip()) >= 4]


def only_in(language: str, other: str) -> List[str]:
    """Fragments of `language`'s page texts that `other` does not share."""
    mine, theirs = catalog(language).texts, catalog(other).texts
    found = []
    for key, text in mine.items():
        if key.startswith(PAGE_KEYS) and isinstance(text, str) and text != theirs.get(key):
            found += [part for part in fragments(text) if part not in str(theirs.get(key, ""))]
    return found


def pages(language: str) -> Dict[str, str]:
    """Every page a resident reads, as they read it, in `language`."""
    answer = faq_module.faq_page("cooling_warming_centers", language).body.decode()
    not_found = faq_module.faq_page("no_such_topic", language).body.decode()
    chat = render("chat/chat.html", language=language, hint=language)
    embed = embed_texts(render("chat/embed.js", language=language, asked=language))
    return {
        "chat": visible(chat),
        "faq": visible(answer),
        "faq 404": visible(not_found),
        "embed": "\n".join(embed[name] for name in ("label", "title")),
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_page_declares_its_language(example_city: None, example_answers: None, language: str) -> None:
    for page in (
        render("chat/chat.html", language=language),
        faq_module.faq_page("cooling_warming_centers", language).body.decode(),
        faq_module.faq_page("no_such_topic", language).body.decode(),
    ):
        assert f'<html lang="{language}">' in page
    assert embed_texts(render("chat/embed.js", language=language))["language"] == language


def test_the_spanish_chat_page(example_city: None) -> None:
    page = render("chat/chat.html", language="es", hint="es")
    text = visible(page)
    for shown in (
        "Asistente de Example 311 en español - Ciudad de Example",
        "Nueva conversación",
        "En caso de emergencia, llame al 911.",
        "Su mensaje",
        "Enviar",
        "Usted dijo:",
        "Example 311 en español dijo:",
        "Opciones de respuesta",
        "Su mensaje no se envió ({reason}). Inténtelo de nuevo o llame al 311.",
        "También puede llamar al 311, o al (555) 123-4567 desde fuera de la ciudad.",
    ):
        assert shown in text, shown
    assert 'data-language-hint="es"' in page
    # The link to the English page is named in English, and marked so.
    assert '<a href="?lang=en" lang="en" hreflang="en" data-language="en">English</a>' in page
    assert "?lang=es" not in page


def test_a_page_shown_in_the_default_language_by_default_sends_no_hint(example_city: None) -> None:
    page = render("chat/chat.html", language=None)
    assert '<html lang="en">' in page and 'data-language-hint=""' in page
    assert "Example 311 assistant - City of Example" in page and "Ciudad de Example" not in page
    assert '<a href="?lang=es" lang="es" hreflang="es" data-language="es">Español</a>' in page


@pytest.mark.parametrize("language, other", [("es", "en"), ("en", "es")])
def test_no_text_of_another_language_is_left_on_a_page(
    example_city: None, example_answers: None, language: str, other: str
) -> None:
    foreign = only_in(other, language)
    assert "You said:" in foreign or "Usted dijo:" in foreign  # the check can fail
    for name, text in pages(language).items():
        left = [part for part in foreign if part in text]
        assert left == [], f"{name} ({language}) shows {left}"


def test_the_spanish_faq_page_shows_the_spanish_answer(example_city: None, example_answers: None) -> None:
    page = faq_module.faq_page("cooling_warming_centers", "es")
    body = page.body.decode()
    assert page.status == 200
    assert page.headers["Content-Language"] == "es" and page.headers["Vary"] == "Accept-Language"
    assert "Los centros de enfriamiento abren cuando pasa de 100 °F." in body
    assert "Cooling centers open" not in body
    assert "<h1>Centros de enfriamiento y de calor</h1>" in body
    assert "<title>Centros de enfriamiento y de calor - Ciudad de Example</title>" in body
    assert "llame al 311." in body and '<a href="?lang=en" lang="en"' in body

    english = faq_module.faq_page("cooling_warming_centers", None).body.decode()
    assert "Cooling centers open above 100°F." in english and "<h1>Cooling and warming centers</h1>" in english


def test_an_answer_without_a_translation_is_shown_in_the_default_language(
    example_city: None, example_answers: None
) -> None:
    body = faq_module.faq_page("only_in_english", "es").body.decode()
    assert "Ask at City Hall." in body
    assert "<h1>Respuesta de Example 311 en español</h1>" in body  # no title for this topic: the general one


def test_the_not_found_page_is_in_the_readers_language(example_city: None, example_answers: None) -> None:
    page = faq_module.faq_page("no_such_topic", "es")
    assert page.status == 404 and "Ciudad de Example: esta página no existe." in page.body.decode()


def test_every_faq_topic_has_a_title_in_every_language() -> None:
    topics = sorted(faq_texts.faq_answers())
    assert "cooling_warming_centers" in topics
    for texts in every_language():
        missing = [topic for topic in topics if not texts.has(f"web.faq.topic.{topic}")]
        assert missing == [], f"{texts.language}: no web.faq.topic.* title for {missing}"


def test_the_embed_script_follows_the_language_and_the_city(example_city: None) -> None:
    spanish = embed_texts(render("chat/embed.js", language="es", asked="es"))
    assert spanish == {
        "label": "Chatear con el 311",
        "title": "Asistente de chat del 311",
        "language": "es",
        "asked": "es",
        "colour": branding("es").brand,
    }
    english = embed_texts(render("chat/embed.js", language="en", asked=None))
    assert english["label"] == "Chat with 311" and english["asked"] == ""


@pytest.mark.parametrize("language", LANGUAGES)
def test_hostile_city_values_are_escaped_in_every_language(
    city: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, language: str
) -> None:
    use_city(monkeypatch, tmp_path, HOSTILE, HOSTILE, HOSTILE, "#0b4f8a")
    monkeypatch.setattr(faq_module, "faq_answer", lambda topic, language=None: HOSTILE)
    for name, page in {
        "faq": faq_module.faq_page("cooling_warming_centers", language).body.decode(),
        "faq 404": render("faq/not_found.html", language=language),
        "chat": render("chat/chat.html", language=language, hint=language),
    }.items():
        assert "<script>alert" not in page and HOSTILE not in page and ESCAPED in page, name
    chat = render("chat/chat.html", language=language)
    script_texts = re.search(r'id="chat-texts">(.*?)</script>', chat, re.S)
    assert script_texts and HOSTILE in json.loads(script_texts.group(1))["assistant_said"]
    script = render("chat/embed.js", language=language)
    assert "<script>alert" not in script and "alert(1)</script>" not in script
    assert embed_texts(script)["label"] == messages(language).text("web.embed.open", phone=HOSTILE)


def test_a_render_leaves_nothing_of_its_language_behind(example_city: None) -> None:
    assert "Usted dijo:" in render("chat/chat.html", language="es")
    english = render("chat/chat.html")
    assert "You said:" in english and "Usted dijo:" not in english and "Ciudad de Example" not in english
    shared = environment(branding(default_language())).globals
    assert not {"gettext", "ngettext", "language"} & set(shared)  # `_` is the i18n extension's: it calls `gettext`
    assert shared["brand"] == branding(default_language())


def request(lang: Optional[str] = None, accept_language: Optional[str] = None) -> Any:
    """What page_language reads of a Sanic request."""
    args = {"lang": lang} if lang is not None else {}
    headers = {"accept-language": accept_language} if accept_language is not None else {}
    return SimpleNamespace(args=args, headers=headers)


def test_a_request_gets_its_page_in_the_language_it_asks_for(example_city: None) -> None:
    assert page_language(request("es", "en-US")) == "es"
    assert page_language(request(None, "es-MX,es;q=0.9")) == "es"
    assert page_language(request("xx", "fr-FR")) == "en"
    assert page_language(request()) == "en"
