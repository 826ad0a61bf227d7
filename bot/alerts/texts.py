"""What residents read about alerts, in their language: the alert itself and their subscriptions.

The words come from the catalogs (`alerts.*` in
`bot/i18n/locales/<lang>/LC_MESSAGES/alerts.po`); the staff's own words come
from the alert (`Alert.text_in`). A reader whose language has no text from
staff gets the default language's text inside a frame (severity, zone, how to
stop, the FAQ link) still in their own language: every part is in the
reader's language when it exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Tuple

from bot.alerts.words import ALL
from bot.i18n.city import city_name
from bot.i18n.messages import Messages

if TYPE_CHECKING:
    from bot.alerts.store import Alert


def zone_name(zone: str, text: Messages) -> str:
    """A zone as its residents call it: North / Norte."""
    return text.text(f"alerts.zone.{zone}")


def subscription(pair: Tuple[str, str], text: Messages) -> str:
    """One subscription: "water alerts for the North zone" / "alertas de agua para la zona Norte"."""
    topic, zone = pair
    where = (
        text.text("alerts.where.citywide")
        if zone == ALL
        else text.text("alerts.where.zone", zone=zone_name(zone, text))
    )
    return text.text("alerts.subscription", alerts=text.text(f"alerts.topic.{topic}"), where=where)


def describe(pairs: Iterable[Tuple[str, str]], text: Messages) -> str:
    """Subscriptions in a sentence: "water alerts for the North zone and all alerts citywide"."""
    parts = [subscription(p, text) for p in sorted(pairs, key=lambda p: (p[0] != ALL, p))]
    if not parts:
        return text.text("alerts.list.none")
    if len(parts) == 1:
        return parts[0]
    return text.text("alerts.list.and", first=", ".join(parts[:-1]), last=parts[-1])


def city_in_sentence(text: Messages) -> str:
    """The city as a sentence names it: "the City of Riverton" / "la Ciudad de Riverton", "Springfield"."""
    name = city_name(text.language)
    if name.casefold().startswith(text.text("alerts.city.title").casefold()):
        return text.text("alerts.city.in_sentence", city=name)
    return name


def headline(alert: "Alert", text: Messages) -> str:
    """Who sends the alert, how serious, where, and the staff's words, in `text`'s language.

    A resident's message and the city's Facebook Page post both start with it.
    """
    values = {
        "city": city_name(text.language),
        "severity": text.text(f"alerts.severity.{alert.severity}"),
        "text": alert.text_in(text.language),
    }
    if alert.zone == ALL:
        return text.text("alerts.message.citywide", **values)
    return text.text("alerts.message.zone", zone=zone_name(alert.zone, text), **values)


def alert_message(alert: "Alert", text: Messages) -> str:
    """The alert as a reader of `text`'s language receives it.

    Who sends it, how serious, where, the staff's words, the FAQ link, how to stop.
    """
    from bot.alerts.faq import with_language

    lines = [headline(alert, text)]
    if alert.faq_url:
        lines.append(text.text("alerts.message.faq", url=with_language(alert.faq_url, text.language)))
    lines.append(text.text("alerts.message.stop"))
    return "\n".join(lines)
