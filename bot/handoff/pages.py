"""The staff console's pages: plain HTML, every value escaped.

Pages work without JavaScript (forms post and redirect); `static/console.js`
adds the live updates (Server-Sent Events) and sends replies and notes without
a reload.
"""
from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from html import escape
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence
from zoneinfo import ZoneInfo

from bot.catalog import load_city
from bot.handoff.service import Turn
from bot.handoff.store import CLAIMED, WAITING, Handoff, Note

CHANNEL_NAMES = {
    "webchat": "Web chat",
    "telegram": "Telegram",
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "rest": "REST API",
}
WHO = {"resident": "Resident", "assistant": "Assistant", "event": "Note from the system"}
SLOT_LABELS = {
    "service_code": "Service",
    "attributes": "Answers",
    "attribute_value": "Answer in progress",
    "location": "Location",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "description": "Description",
    "media_url": "Photo",
    "contact": "Contact",
    "confirm": "Confirmed",
    "duplicate_of": "Possible duplicate of",
    "duplicate_choice": "Duplicate choice",
}
NOTICES = {
    "claimed": "You claimed this conversation. The resident was told a person has joined.",
    "replied": "Reply sent.",
    "noted": "Note saved.",
    "released": "The conversation is back in the queue.",
    "resolved": "Conversation resolved.",
    "filed": "The service request was filed.",
    "taken": "You took over this conversation; the assistant is paused.",
    "signed_out": "You are signed out.",
}
# Why the sign-in page is shown again ({minutes}: "3 minutes", "1 minute").
SIGN_IN_PROBLEMS = {
    "wrong": "Wrong username or password.",
    "locked": "This account is locked for {minutes} after too many failed sign-ins.",
    "throttled": "Too many sign-in attempts from this address. Try again in {minutes}.",
    "expired": "This sign-in form has expired. Reload the page and try again.",
}


def e(value: Any) -> str:
    """Escaped text for HTML content and attribute values."""
    return escape("" if value is None else str(value), quote=True)


def city_zone() -> ZoneInfo:
    try:
        return ZoneInfo(load_city().timezone or "UTC")
    except Exception:
        return ZoneInfo("UTC")


def clock(moment: datetime) -> str:
    local = moment.astimezone(city_zone())
    return local.strftime("%H:%M")


def when(moment: datetime) -> str:
    local = moment.astimezone(city_zone())
    return local.strftime("%Y-%m-%d %H:%M")


def waited(since: datetime, now: Optional[datetime] = None) -> str:
    seconds = max(0, int(((now or datetime.now(timezone.utc)) - since).total_seconds()))
    if seconds < 60:
        return "less than a minute"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def channel_name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel)


def csrf_field(token: str) -> str:
    return f'<input type="hidden" name="csrf_token" value="{e(token)}">'


def layout(title: str, body: str, staff: Optional[str] = None, csrf: str = "", page: str = "") -> str:
    account = ""
    if staff:
        account = (
            '<nav class="banner__nav" aria-label="Console">'
            '<a href="/console">Queue</a><a href="/console/audit">Audit log</a></nav>'
            f'<form class="banner__account" method="post" action="/console/logout">{csrf_field(csrf)}'
            f'<span>Signed in as <strong>{e(staff)}</strong></span>'
            '<button type="submit" class="secondary">Sign out</button></form>'
        )
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)} - Riverton 311 staff console</title>\n"
        '<link rel="icon" href="data:,">\n'
        '<link rel="stylesheet" href="/console/static/console.css">\n'
        '<script src="/console/static/console.js" defer></script>\n'
        "</head>\n"
        f'<body data-page="{e(page)}" data-csrf="{e(csrf)}" data-zone="{e(city_zone().key)}">\n'
        '<a class="skip" href="#main">Skip to main content</a>\n'
        '<header class="banner"><div class="banner__inner">'
        '<p class="banner__title">Riverton 311 <span>staff console</span></p>'
        f"{account}</div></header>\n"
        f'<main id="main" tabindex="-1">\n{body}\n</main>\n</body>\n</html>\n'
    )


def messages(notice: Optional[str] = None, problem: Optional[str] = None) -> str:
    html = ""
    text = NOTICES.get(notice or "")
    html += f'<p id="notice" class="notice" role="status">{e(text) if text else ""}</p>'
    html += f'<p id="problem" class="problem" role="alert"{"" if problem else " hidden"}>{e(problem)}</p>'
    return html


# --- login ------------------------------------------------------------------------------


def minutes(seconds: float) -> str:
    """A wait in whole minutes, rounded up: '1 minute', '5 minutes'."""
    count = max(1, math.ceil(seconds / 60))
    return f"{count} minute" if count == 1 else f"{count} minutes"


def sign_in_problem(kind: str, seconds: float = 0.0) -> str:
    return SIGN_IN_PROBLEMS[kind].format(minutes=minutes(seconds))


def login_page(token: str, problem: Optional[str] = None, username: str = "", next_url: str = "/console",
               notice: Optional[str] = None) -> str:
    body = (
        '<div class="card login">'
        "<h1>Staff sign-in</h1>"
        f"{messages(notice, problem)}"
        '<form method="post" action="/console/login">'
        f'<input type="hidden" name="login_token" value="{e(token)}">'
        f'<input type="hidden" name="next" value="{e(next_url)}">'
        '<p class="field"><label for="username">Username</label>'
        f'<input id="username" name="username" type="text" autocomplete="username" required value="{e(username)}"'
        f'{" autofocus" if not username else ""}></p>'
        '<p class="field"><label for="password">Password</label>'
        f'<input id="password" name="password" type="password" autocomplete="current-password" required'
        f'{" autofocus" if username else ""}></p>'
        '<p><button type="submit" class="primary">Sign in</button></p>'
        "</form>"
        '<p class="hint">Accounts are created by an administrator with <code>citybot staff add</code>.</p>'
        "</div>"
    )
    return layout("Sign in", body, page="login")


# --- the queue ----------------------------------------------------------------------------


URGENT_FLAG = "Urgent: emergency message"


def urgent_flag(handoff: Handoff) -> str:
    """The queue's mark on a conversation whose resident reported an emergency (they were told to call 911)."""
    return f'<strong class="flag flag--urgent">{URGENT_FLAG}</strong> ' if handoff.urgent else ""


def queue_row(handoff: Handoff, csrf: str, me: str) -> str:
    if handoff.state == WAITING:
        state = "Waiting"
        action = (
            f'<form method="post" action="/console/handoffs/{handoff.id}/claim">{csrf_field(csrf)}'
            f'<button type="submit" class="primary" aria-label="Claim conversation {handoff.id}">Claim</button></form>'
        )
    else:
        state = "Claimed by you" if handoff.claimed_by == me else f"Claimed by {e(handoff.claimed_by)}"
        action = f'<a href="/console/handoffs/{handoff.id}">Open<span class="visually-hidden"> conversation {handoff.id}</span></a>'
    return (
        f'<tr data-handoff="{handoff.id}" data-conversation="{e(handoff.sender_id)}" data-state="{e(handoff.state)}"'
        f'{" data-urgent" if handoff.urgent else ""}>'
        f'<th scope="row"><a href="/console/handoffs/{handoff.id}">#{handoff.id}</a></th>'
        f"<td>{e(channel_name(handoff.channel))}</td>"
        f'<td><time datetime="{e(handoff.created_at.isoformat())}" data-since>{e(waited(handoff.created_at))}</time></td>'
        f"<td>{urgent_flag(handoff)}{e(handoff.reason_text)}</td>"
        f"<td>{state}</td>"
        f"<td>{action}</td></tr>"
    )


def queue_page(
    items: Sequence[Handoff],
    recent: Sequence[Mapping[str, Any]],
    resolved: Sequence[Handoff],
    on_duty: Sequence[str],
    staff: str,
    csrf: str,
    notice: Optional[str] = None,
    problem: Optional[str] = None,
) -> str:
    rows = "".join(queue_row(h, csrf, staff) for h in items)
    empty = "" if items else "Nobody is waiting."
    duty = ", ".join(on_duty) if on_duty else "nobody"
    recent_rows = "".join(
        f'<tr><td>{e(channel_name(c["channel"]))}</td>'
        f'<td><code>{e(c["sender_id"])}</code></td>'
        f'<td><time datetime="{e(c["updated_at"].isoformat())}">{e(when(c["updated_at"]))}</time></td>'
        f'<td><form method="post" action="/console/take-over">{csrf_field(csrf)}'
        f'<input type="hidden" name="conversation" value="{e(c["sender_id"])}">'
        f'<button type="submit" class="secondary">Take over<span class="visually-hidden"> '
        f'conversation {e(c["sender_id"])}</span></button></form></td></tr>'
        for c in recent
    )
    resolved_items = "".join(
        f'<li><a href="/console/handoffs/{h.id}">#{h.id}</a> {e(channel_name(h.channel))}, '
        f'resolved by {e(h.resolved_by)} at {e(when(h.resolved_at)) if h.resolved_at else ""}</li>'
        for h in resolved
    )
    body = (
        "<h1>Conversations waiting for staff</h1>"
        f"{messages(notice, problem)}"
        f'<p class="duty">On duty now: <span id="on-duty">{e(duty)}</span></p>'
        '<table class="queue"><caption>Queue (updates live)</caption>'
        '<thead><tr><th scope="col">Handoff</th><th scope="col">Channel</th><th scope="col">Waiting</th>'
        '<th scope="col">Reason</th><th scope="col">State</th><th scope="col">Action</th></tr></thead>'
        f'<tbody id="queue-rows">{rows}</tbody></table>'
        f'<p id="queue-empty" class="hint" role="status">{empty}</p>'
        '<section aria-labelledby="pickup-title"><h2 id="pickup-title">Pick up a conversation</h2>'
        "<p>Take over a conversation the assistant is having: it is paused and you are in charge at once.</p>"
        f'<form class="inline" method="post" action="/console/take-over">{csrf_field(csrf)}'
        '<label for="conversation">Conversation id</label>'
        '<input id="conversation" name="conversation" type="text" required maxlength="128" spellcheck="false">'
        '<button type="submit" class="secondary">Take over</button></form>'
        + (
            '<table class="recent"><caption>Recent conversations</caption><thead><tr><th scope="col">Channel</th>'
            '<th scope="col">Conversation id</th><th scope="col">Last message</th><th scope="col">Action</th></tr></thead>'
            f"<tbody>{recent_rows}</tbody></table>"
            if recent_rows
            else ""
        )
        + "</section>"
        + (
            f'<section aria-labelledby="resolved-title"><h2 id="resolved-title">Recently resolved</h2><ul>{resolved_items}</ul></section>'
            if resolved_items
            else ""
        )
    )
    return layout("Queue", body, staff=staff, csrf=csrf, page="queue")


# --- one conversation ----------------------------------------------------------------------


def turn_item(turn: Turn) -> str:
    who = f"Staff ({turn.staff})" if turn.who == "staff" else WHO.get(turn.who, turn.who)
    moment = datetime.fromtimestamp(turn.at or 0, tz=timezone.utc)
    buttons = ""
    if turn.buttons:
        buttons = '<p class="turn__buttons">Buttons: ' + e(" | ".join(turn.buttons)) + "</p>"
    return (
        f'<li class="turn turn--{e(turn.who)}" data-index="{turn.index}">'
        f'<span class="turn__who">{e(who)}</span> '
        f'<time datetime="{e(moment.isoformat())}">{e(clock(moment))}</time>'
        f'<p class="turn__text">{e(turn.text)}</p>{buttons}</li>'
    )


def note_item(note: Note) -> str:
    return (
        f'<li class="note" data-note="{note.id}"><span class="turn__who">{e(note.author)}</span> '
        f'<time datetime="{e(note.created_at.isoformat())}">{e(when(note.created_at))}</time>'
        f'<p class="turn__text">{e(note.text)}</p></li>'
    )


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def report_details(details: Mapping[str, Any]) -> str:
    if not details:
        return '<p class="hint">The assistant has not collected any report details in this conversation.</p>'
    rows = "".join(
        f"<dt>{e(SLOT_LABELS.get(name, name))}</dt><dd>{e(_value(value))}</dd>" for name, value in details.items()
    )
    return f'<dl class="details" id="report-details">{rows}</dl>'


def attribute_fields(definition: Any, answers: Mapping[str, Any]) -> str:
    """One labelled field per question of the service (from its Open311 definition)."""
    if definition is None:
        lines = "\n".join(f"{k} = {_value(v)}" for k, v in answers.items())
        return (
            '<p class="field"><label for="attributes_text">Answers (one per line: code = value)</label>'
            f'<textarea id="attributes_text" name="attributes_text" rows="3">{e(lines)}</textarea></p>'
        )
    html = ""
    for attribute in definition.attributes:
        if not attribute.variable:
            continue
        field_id = f"attr-{attribute.code}"
        label = (attribute.description or attribute.code) + ("" if attribute.required else " (optional)")
        current = answers.get(attribute.code)
        required = " required" if attribute.required else ""
        if attribute.values:
            multiple = attribute.datatype == "multivaluelist"
            chosen = set(current if isinstance(current, list) else [current]) if current not in (None, "") else set()
            options = "" if multiple else '<option value="">(not given)</option>'
            options += "".join(
                f'<option value="{e(key)}"{" selected" if key in chosen else ""}>{e(name)}</option>'
                for key, name in attribute.values
            )
            html += (
                f'<p class="field"><label for="{e(field_id)}">{e(label)}</label>'
                f'<select id="{e(field_id)}" name="attr:{e(attribute.code)}"{" multiple" if multiple else ""}{required}>'
                f"{options}</select></p>"
            )
        else:
            html += (
                f'<p class="field"><label for="{e(field_id)}">{e(label)}</label>'
                f'<input id="{e(field_id)}" name="attr:{e(attribute.code)}" type="text" value="{e(current if current is not None else "")}"{required}></p>'
            )
    return html


def file_form(
    handoff: Handoff,
    csrf: str,
    services: Sequence[Any],
    chosen: str,
    definition: Any,
    slots: Mapping[str, Any],
) -> str:
    options = '<option value="">Choose a service</option>' + "".join(
        f'<option value="{e(s.service_code)}"{" selected" if s.service_code == chosen else ""}>'
        f"{e(s.service_name or s.service_code)}</option>"
        for s in services
    )
    attributes = slots.get("attributes") if isinstance(slots.get("attributes"), dict) else {}
    media = slots.get("media_url")

    def text_field(name: str, label: str, kind: str = "text", extra: str = "") -> str:
        value = slots.get(name)
        return (
            f'<p class="field"><label for="f-{name}">{e(label)}</label>'
            f'<input id="f-{name}" name="{name}" type="{kind}" value="{e("" if value is None else value)}"{extra}></p>'
        )

    return (
        f'<section aria-labelledby="file-title" class="card"><h2 id="file-title">File a service request</h2>'
        "<p>Prefilled with what the assistant collected; correct anything before filing. "
        "The resident is told the request number.</p>"
        f'<form method="get" action="/console/handoffs/{handoff.id}#file-title" class="inline">'
        '<label for="service-pick">Service</label>'
        f'<select id="service-pick" name="service">{options}</select>'
        '<button type="submit" class="secondary">Show this service\'s questions</button></form>'
        f'<form method="post" action="/console/handoffs/{handoff.id}/file" id="file-form">{csrf_field(csrf)}'
        f'<input type="hidden" name="service_code" value="{e(chosen)}">'
        f'<p>Filing as: <strong>{e(next((s.service_name for s in services if s.service_code == chosen), chosen) or "no service chosen")}</strong></p>'
        f"{attribute_fields(definition, attributes) if chosen else ''}"
        + text_field("location", "Location (address, intersection or landmark)")
        + text_field("latitude", "Latitude (optional)", extra=' inputmode="decimal"')
        + text_field("longitude", "Longitude (optional)", extra=' inputmode="decimal"')
        + '<p class="field"><label for="f-description">Description</label>'
        f'<textarea id="f-description" name="description" rows="3">{e(slots.get("description") or "")}</textarea></p>'
        + text_field("contact", "Resident's contact details (optional)")
        + (
            f'<input type="hidden" name="media_url" value="{e(media)}"><p>Photo: '
            f'<a href="{e(media)}" rel="noopener noreferrer" target="_blank">open the photo</a></p>'
            if isinstance(media, str) and media.startswith(("http://", "https://"))
            else ""
        )
        + f'<p><button type="submit" class="primary"{"" if chosen else " disabled"}>File the request</button></p>'
        "</form></section>"
    )


def conversation_page(
    handoff: Handoff,
    turns: Sequence[Turn],
    notes: Sequence[Note],
    details: Mapping[str, Any],
    staff: str,
    csrf: str,
    cursor: Dict[str, int],
    file_section: str = "",
    notice: Optional[str] = None,
    problem: Optional[str] = None,
    paused: Optional[bool] = None,
    reachable: bool = True,
) -> str:
    mine = handoff.state == CLAIMED and handoff.claimed_by == staff
    if handoff.state == WAITING:
        status = f"Waiting for {waited(handoff.created_at)}"
        controls = (
            f'<form method="post" action="/console/handoffs/{handoff.id}/claim">{csrf_field(csrf)}'
            '<button type="submit" class="primary">Claim this conversation</button></form>'
        )
    elif handoff.state == CLAIMED:
        status = "Claimed by you" if mine else f"Claimed by {handoff.claimed_by}"
        controls = ""
        if not mine:
            controls = f"<p>{e(handoff.claimed_by)} is handling this conversation; you can read it and add notes.</p>"
    else:
        status = f"Resolved by {handoff.resolved_by}" + (" (handed back to the assistant)" if handoff.handed_back else " (closed)")
        controls = ""
    reply = ""
    if mine:
        warning = "" if reachable else (
            '<p class="problem">This resident has no channel the console can reach (a REST API conversation): '
            "replies are only added to the transcript.</p>"
        )
        reply = (
            '<section aria-labelledby="reply-title" class="card"><h2 id="reply-title">Reply to the resident</h2>'
            f"{warning}"
            f'<form method="post" action="/console/handoffs/{handoff.id}/reply" id="reply-form" data-live>{csrf_field(csrf)}'
            '<p class="field"><label for="reply">Your reply (sent on the resident\'s channel)</label>'
            '<textarea id="reply" name="text" rows="3" maxlength="1500" required aria-describedby="reply-hint"></textarea></p>'
            '<p id="reply-hint" class="hint">Ctrl+Enter sends.</p>'
            '<p><button type="submit" class="primary">Send reply</button></p></form></section>'
            '<section aria-labelledby="resolve-title" class="card"><h2 id="resolve-title">Finish</h2>'
            f'<form method="post" action="/console/handoffs/{handoff.id}/resolve">{csrf_field(csrf)}'
            '<p class="check"><input type="checkbox" id="hand_back" name="hand_back" value="1" checked>'
            '<label for="hand_back">Hand the conversation back to the assistant (otherwise it is closed and an unfinished report is cleared)</label></p>'
            '<p><button type="submit" class="primary">Resolve</button></p></form>'
            f'<form method="post" action="/console/handoffs/{handoff.id}/release">{csrf_field(csrf)}'
            '<p><button type="submit" class="secondary">Put back in the queue</button></p></form></section>'
        )
    elif handoff.state == WAITING:
        reply = (
            '<section aria-labelledby="resolve-title" class="card"><h2 id="resolve-title">Finish without claiming</h2>'
            f'<form method="post" action="/console/handoffs/{handoff.id}/resolve">{csrf_field(csrf)}'
            '<input type="hidden" name="hand_back" value="1">'
            '<p><button type="submit" class="secondary">Resolve and hand back to the assistant</button></p></form></section>'
        )
    paused_text = ""
    if paused is not None and handoff.is_open:
        paused_text = f"<dt>Assistant</dt><dd>{'paused' if paused else 'answering (not paused)'}</dd>"
    body = (
        f'<h1>Conversation #{handoff.id} <span class="sub">{e(channel_name(handoff.channel))}</span></h1>'
        f"{messages(notice, problem)}"
        f'<dl class="summary"><dt>State</dt><dd id="handoff-state" data-state="{e(handoff.state)}">{e(status)}</dd>'
        f"<dt>Reason</dt><dd>{urgent_flag(handoff)}{e(handoff.reason_text)}</dd>"
        f'<dt>Opened</dt><dd><time datetime="{e(handoff.created_at.isoformat())}">{e(when(handoff.created_at))}</time></dd>'
        f"<dt>Channel</dt><dd>{e(channel_name(handoff.channel))}</dd>"
        f"<dt>Conversation id</dt><dd><code>{e(handoff.sender_id)}</code></dd>{paused_text}</dl>"
        f"{controls}"
        '<div class="columns"><div class="column">'
        '<section aria-labelledby="transcript-title"><h2 id="transcript-title">Transcript</h2>'
        '<div id="transcript-box" class="transcript" role="log" aria-live="polite" aria-label="Transcript, updates live"'
        ' tabindex="0">'
        f'<ol id="transcript" data-handoff="{handoff.id}" data-after="{cursor["after"]}" data-note="{cursor["note"]}" data-state="{e(handoff.state)}" data-claimed-by="{e(handoff.claimed_by or "")}">'
        + "".join(turn_item(t) for t in turns)
        + "</ol></div></section>"
        + reply
        + "</div><div class=\"column\">"
        '<section aria-labelledby="details-title" class="card"><h2 id="details-title">Report details collected</h2>'
        f"{report_details(details)}</section>"
        + (file_section if mine else "")
        + '<section aria-labelledby="notes-title" class="card"><h2 id="notes-title">Private notes</h2>'
        "<p class=\"hint\">Only staff see notes.</p>"
        f'<ol id="notes" class="notes" aria-live="polite">{"".join(note_item(n) for n in notes)}</ol>'
        f'<form method="post" action="/console/handoffs/{handoff.id}/note" id="note-form" data-live>{csrf_field(csrf)}'
        '<p class="field"><label for="note">Add a private note</label>'
        '<textarea id="note" name="text" rows="2" maxlength="4000" required></textarea></p>'
        '<p><button type="submit" class="secondary">Save note</button></p></form></section>'
        "</div></div>"
    )
    return layout(f"Conversation #{handoff.id}", body, staff=staff, csrf=csrf, page="conversation")


def audit_page(entries: Iterable[Mapping[str, Any]], staff: str, csrf: str) -> str:
    rows = "".join(
        f'<tr><td><time datetime="{e(x["at"].isoformat())}">{e(when(x["at"]))}</time></td>'
        f'<td>{e(x["actor"])}</td><td>{e(x["action"])}</td>'
        f'<td>{f"""<a href="/console/handoffs/{x["handoff_id"]}">#{x["handoff_id"]}</a>""" if x["handoff_id"] else ""}</td>'
        f'<td>{e(x["detail"] or "")}</td></tr>'
        for x in entries
    )
    body = (
        "<h1>Audit log</h1><p>Every staff action, newest first (the last 200).</p>"
        '<table class="audit"><caption>Staff actions</caption><thead><tr><th scope="col">When</th><th scope="col">Who</th>'
        '<th scope="col">Action</th><th scope="col">Handoff</th><th scope="col">Detail</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )
    return layout("Audit log", body, staff=staff, csrf=csrf, page="audit")


def error_page(status: int, message: str, staff: Optional[str] = None, csrf: str = "") -> str:
    body = f'<h1>{e(status)}</h1><p role="alert">{e(message)}</p><p><a href="/console">Back to the queue</a></p>'
    return layout("Error", body, staff=staff, csrf=csrf, page="error")


def queue_json(items: Sequence[Handoff], on_duty: Sequence[str]) -> str:
    return json.dumps(
        {
            "items": [{**h.as_json(), "channel_name": channel_name(h.channel), "urgent_text": URGENT_FLAG} for h in items],
            "on_duty": list(on_duty),
        }
    )
