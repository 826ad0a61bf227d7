"""The one Jinja2 environment of every HTML page, with the city's branding as globals.

Autoescaping is on for `.html` templates, so whatever a resident or a staff member
typed is shown as text, never run as markup; StrictUndefined turns a missing value
into an error instead of a blank. The city's name, numbers and colours come from
the city file (`branding:`), so a city rebrands without touching code.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.catalog import Branding, load_city


@lru_cache(maxsize=4)
def environment(branding: Branding) -> Environment:
    """The environment for one branding (a test may load another city file)."""
    env = Environment(
        loader=PackageLoader("bot.web", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["brand"] = branding
    return env


def render(name: str, **values: Any) -> str:
    """A template of bot/web/templates, rendered for the city in use."""
    return environment(load_city().branding).get_template(name).render(**values)
