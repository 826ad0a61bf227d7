"""The one Jinja2 environment of every HTML page, and `render`, which shows a page in one language.

Autoescaping is on for `.html` templates, so whatever a resident or a staff member
typed is shown as text, never run as markup; StrictUndefined turns a missing value
into an error instead of a blank. The city's name, numbers and colours come from
the city file (`branding:` and its `translations:`), so a city rebrands without
touching code.

A page's texts are catalog keys, `{{ _("web.chat.send") }}` (gettext-style, with
Jinja2's i18n extension), read from bot/i18n's catalogs in the page's language.
The language, its texts and its branding are values of one `render` call, never
state of the shared environment, so two pages rendered in different languages
cannot mix. Use `_()` rather than `{% trans %}` blocks: the extension marks a
block's text as HTML, and our texts are plain text with `{name}` placeholders.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, NamedTuple, Tuple

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.catalog import Branding
from bot.i18n.city import branding
from bot.i18n.languages import default_language, resident_language
from bot.i18n.messages import Messages, every_language, messages


class PageLanguage(NamedTuple):
    """A language a page can be switched to, named in its own words ("Español")."""

    code: str
    name: str


@lru_cache(maxsize=4)
def environment(default_branding: Branding) -> Environment:
    """The environment for one city file (a test may load another); `brand` is the default language's."""
    env = Environment(
        loader=PackageLoader("bot.web", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.globals["brand"] = default_branding
    return env


def page_languages() -> Tuple[PageLanguage, ...]:
    """Every city language as its own speakers name it, for a page's language links."""
    return tuple(PageLanguage(texts.language, texts.text("language.name")) for texts in every_language())


def text_functions(texts: Messages) -> Dict[str, Any]:
    """The gettext names templates call, reading `texts`: `_("key", name=value)`, `ngettext(key, key, n)`."""

    def ngettext(singular: str, _plural: str, count: int, **values: Any) -> str:
        return texts.plural(singular, count, **values)

    return {"_": texts.text, "gettext": texts.text, "ngettext": ngettext}


def render(name: str, language: object = None, **values: Any) -> str:
    """A template of bot/web/templates in `language`: a city language's code; None or anything else is the default.

    The template sees `language` (the page's code, for `<html lang>`), `brand`
    (the branding in that language), `languages` (every city language, for the
    language links), the text functions and `values`.
    """
    code = resident_language(language)
    page: Dict[str, Any] = {
        "language": code,
        "brand": branding(code),
        "languages": page_languages(),
        **text_functions(messages(code)),
    }
    return environment(branding(default_language())).get_template(name).render(**page, **values)
