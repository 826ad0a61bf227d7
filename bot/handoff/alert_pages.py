"""The console's crisis alerts pages (supervisors): the list, the form, and one alert.

An alert's page shows what the author, the approver and the residents all see:
each city language's exact message (saying which fall back to the default
language's text), who it reaches now per channel and language, who wrote,
approved and sent it, and, once sent, its delivery per channel (updated live by
`static/console.js`). The buttons each person sees follow the two-person rule
of bot.alerts.approval, which decides; the page only leaves out what would be refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence

from bot.alerts.faq import faq_answers
from bot.alerts.outgoing import copies_of
from bot.alerts.page_post import page_message, page_problem
from bot.alerts.store import (
    CANCELLED,
    DELIVERING,
    DELIVERY_STATES,
    DONE,
    DRAFT,
    MAX_TEXT,
    QUEUED,
    SEVERITIES,
    TOPICS,
    ZONES,
    Alert,
    AlertStatus,
    Preview,
)
from bot.alerts.words import ALL
from bot.handoff import pages
from bot.i18n.languages import city_languages, default_language

TOPIC_NAMES = {"weather": "Weather", "water": "Water", "roads": "Roads", ALL: "Every topic (a general emergency)"}
ZONE_NAMES = {"north": "North", "east": "East", "south": "South", "west": "West", ALL: "Citywide (every zone)"}
SEVERITY_NAMES = {"info": "Information", "advisory": "Advisory", "warning": "Warning", "emergency": "Emergency"}
STATE_NAMES = {DRAFT: "Draft", QUEUED: "Queued", DELIVERING: "Sending", DONE: "Delivered", CANCELLED: "Cancelled"}
DELIVERY_NAMES = {
    "sent": "Sent",
    "failed": "Failed",
    "pending": "Pending",
    "skipped": "Skipped",
    "unconfirmed": "Unconfirmed",
}


def topic_choices() -> Dict[str, str]:
    return {code: TOPIC_NAMES.get(code, code) for code in (*TOPICS, ALL)}


def zone_choices() -> Dict[str, str]:
    return {code: ZONE_NAMES.get(code, code) for code in (*ZONES, ALL)}


def faq_choices() -> Dict[str, str]:
    """The FAQ answers an alert can link to: topic -> its name as staff read it."""
    return {topic: topic.replace("_", " ").capitalize() for topic in sorted(faq_answers())}


def faq_topic(url: Optional[str]) -> str:
    """The FAQ topic a stored link leads to ('' for none)."""
    return (url or "").split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] if url else ""


def where(alert: Alert) -> str:
    """'Water, North zone', 'Every topic, citywide'."""
    topic = "Every topic" if alert.topic == ALL else TOPIC_NAMES.get(alert.topic, alert.topic)
    zone = "citywide" if alert.zone == ALL else f"{ZONE_NAMES.get(alert.zone, alert.zone)} zone"
    return f"{topic}, {zone}"


def approval_state(alert: Alert) -> str:
    """Where the alert stands in the two-person rule, in words."""
    if alert.state == DRAFT:
        if alert.approved_by:
            return f"Draft, approved by {alert.approved_by}: ready to send"
        return "Draft, waiting for a second supervisor's approval"
    if alert.state == CANCELLED and alert.sent_by is None:
        return "Draft discarded (never sent)"
    state = STATE_NAMES.get(alert.state, alert.state)
    if alert.sent_without_approval:
        return f"{state}: sent by {alert.sent_by} without a second approval (admin override)"
    if alert.sent_by:
        return f"{state}: approved by {alert.approved_by}, sent by {alert.sent_by}"
    return state  # written before approvals existed


@dataclass(frozen=True)
class AlertForm:
    """The alert form's values: as typed, or the draft's."""

    topic: str = "weather"
    zone: str = ALL
    severity: str = "warning"
    texts: Dict[str, str] = field(default_factory=dict)  # language -> text
    faq: str = ""
    page: bool = False  # also publish it on the city's Facebook Page

    @classmethod
    def of(cls, alert: Alert) -> "AlertForm":
        texts = {default_language(): alert.text, **alert.translations}
        return cls(alert.topic, alert.zone, alert.severity, texts, faq_topic(alert.faq_url), alert.publish_to_page)


@dataclass(frozen=True)
class TextField:
    """One language's text box of the form."""

    language: str
    name: str  # the form field: text_<code>
    label: str
    hint: str
    required: bool
    value: str


def text_fields(form: AlertForm) -> List[TextField]:
    default = default_language()
    default_name = pages.language_name(default)
    fields = []
    for code in (default, *(c for c in city_languages() if c != default)):
        name = pages.language_name(code)
        required = code == default
        hint = (
            f"Up to {MAX_TEXT} characters. Each reader gets it framed in their own language: the city, "
            "how serious it is, the zone, the FAQ link and how to stop alerts."
            if required
            else f"Optional: without it, {name} readers get the {default_name} text (framed in {name})."
        )
        label = f"Text in {name}" + ("" if required else " (optional)")
        fields.append(TextField(code, f"text_{code}", label, hint, required, form.texts.get(code, "")))
    return fields


ALERT_HELPERS = {
    "where": where,
    "approval_state": approval_state,
    "STATE_NAMES": STATE_NAMES,
    "SEVERITY_NAMES": SEVERITY_NAMES,
    "DELIVERY_NAMES": DELIVERY_NAMES,
    "DRAFT": DRAFT,
}


def alerts_page(
    alerts: Sequence[Alert],
    statuses: Mapping[int, AlertStatus],
    staff: str,
    csrf: str,
    role: str,
    notice: Optional[str] = None,
    job_subscribers: int = 0,
) -> str:
    """The latest alerts, each with where it stands and how far its delivery got, and how many residents
    get job alerts (new city job postings: bot.jobs.alerts)."""
    return pages.page(
        "alerts.html",
        "Crisis alerts",
        "alerts",
        staff,
        csrf,
        notice,
        None,
        role,
        alerts=alerts,
        statuses=statuses,
        job_subscribers=job_subscribers,
        **ALERT_HELPERS,
    )


def form_page(
    form: AlertForm,
    staff: str,
    csrf: str,
    role: str,
    problem: Optional[str] = None,
    alert: Optional[Alert] = None,
) -> str:
    """The form for a new alert, or for changing `alert` (a draft of `staff`'s)."""
    return pages.page(
        "alert_form.html",
        f"Change alert #{alert.id}" if alert else "New crisis alert",
        "alert-form",
        staff,
        csrf,
        None,
        problem,
        role,
        form=form,
        alert=alert,
        text_fields=text_fields(form),
        topics=topic_choices(),
        zones=zone_choices(),
        severities={code: SEVERITY_NAMES.get(code, code) for code in SEVERITIES},
        faqs=faq_choices(),
        max_text=MAX_TEXT,
        page_problem=page_problem(),
        **ALERT_HELPERS,
    )


def alert_page(
    alert: Alert,
    preview: Optional[Preview],
    status: AlertStatus,
    resumable: int,
    staff: str,
    csrf: str,
    role: str,
    notice: Optional[str] = None,
    problem: Optional[str] = None,
) -> str:
    """One alert: what it sends and to whom, what staff may do.

    `preview`: who a draft reaches now (None once sent: then its deliveries say
    it); `resumable`: deliveries a cancel stopped (a resume sends them).
    """
    readers = preview.by_language if preview is not None else status.by_language
    return pages.page(
        "alert.html",
        f"Alert #{alert.id}",
        "alert",
        staff,
        csrf,
        notice,
        problem,
        role,
        alert=alert,
        preview=preview,
        copies=copies_of(alert, readers),
        status=status,
        progress=progress(status),
        resumable=resumable,
        city_codes=city_languages(),
        default=default_language(),
        mine=alert.created_by == staff,
        page_text=page_message(alert) if alert.publish_to_page else None,
        page_post=status.page_post,
        **ALERT_HELPERS,
    )


def progress(status: AlertStatus) -> Dict[str, Any]:
    """An alert's delivery for the page and its live updates: counts per channel and overall, its state."""
    alert = status.alert

    def counts(by_state: Mapping[str, int]) -> Dict[str, int]:
        pending = sum(by_state.get(s, 0) for s in ("pending", "sending"))
        shown = {s: by_state.get(s, 0) for s in DELIVERY_NAMES if s != "pending"}
        return {**shown, "pending": pending, "total": sum(by_state.get(s, 0) for s in DELIVERY_STATES)}

    totals: Dict[str, int] = {}
    for by_state in status.by_channel.values():
        for state, number in by_state.items():
            totals[state] = totals.get(state, 0) + number
    return {
        "state": alert.state,
        "state_name": approval_state(alert),
        "revision": alert.revision,
        "approved_by": alert.approved_by or "",
        # its Facebook Page post: state and attempts ("" for none); the page reloads when they change
        "page_post": f"{status.page_post.state}/{status.page_post.attempts}" if status.page_post else "",
        "channels": {channel: counts(by_state) for channel, by_state in status.by_channel.items()},
        "all": counts(totals),
        "finished": status.finished,
    }
