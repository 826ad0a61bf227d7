"""The staff console's pages, rendered from the templates in bot/web/templates/console.

This module turns handoffs, transcripts and forms into the values the templates
show (labels, times in the city's zone, the file form's fields); the templates
escape every value. Pages work without JavaScript (forms post and redirect);
`static/console.js` adds the live updates (Server-Sent Events) and sends replies
and notes without a reload.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

from babel import Locale

from bot.answers.checks import MAX_CHARS as MAX_ANSWER_CHARS
from bot.answers.checks import faq_topic
from bot.answers.checks import problems as answer_problems
from bot.answers.editable import EditableAnswer
from bot.answers.store import ORIGINAL, AnswerVersion
from bot.catalog import load_city
from bot.channels.identity import is_anonymous_sender_id
from bot.dashboard.tables import cell_text
from bot.handoff import roles
from bot.handoff.search import RESULT_LIMIT, FoundConversation, SearchQuery, SearchResults
from bot.handoff.service import Turn
from bot.handoff.store import CLAIMED, MIN_PASSWORD_CHARS, WAITING, Handoff, Note, StaffAccount
from bot.handoff.tracker_events import LatestMessage
from bot.i18n.languages import resident_language
from bot.reports.outbox import AWAITING_ID, FILED, PENDING, REJECTED
from bot.retention.holds import MAX_REASON_CHARS, Hold
from bot.web.render import render

if TYPE_CHECKING:
    from bot.dashboard.figures import Dashboard

# The console is written in English, whatever the residents read.
CONSOLE_LOCALE = Locale("en")
CHANNEL_NAMES = {
    "webchat": "Web chat",
    "telegram": "Telegram",
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "messenger": "Messenger",
    "instagram": "Instagram",
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
    "account_created": "Account created. Give its holder the password by a safe way; they can sign in now.",
    "account_disabled": "Account disabled: it cannot sign in, and its sessions have ended.",
    "account_enabled": "Account enabled: it can sign in again.",
    "password_reset": "New password set: the account's sessions have ended and any lockout is lifted.",
    "role_changed": "Role changed; it applies from the account's next page.",
    "role_unchanged": "The account already has that role.",
    "held": "This conversation is on hold: the retention job keeps it until the hold is released.",
    "hold_released": "The hold is released: this conversation is forgotten on the usual schedule.",
    "alert_drafted": "Draft saved. Nothing is sent until a second supervisor approves it.",
    "alert_edited": "Changes saved as a new revision; it needs a second supervisor's approval again.",
    "alert_approved": "Approved. Any supervisor can send it now.",
    "alert_sent": "Sent: the worker is delivering it.",
    "alert_cancelled": "Cancelled: nothing more is sent.",
    "alert_resumed": "Resumed: the messages the cancel stopped are being sent.",
    "answer_published": "Published. Residents get the new text within {wait}, with no retraining.",
    "answer_restored": "Restored as a new version. Residents get it within {wait}.",
    "answer_unchanged": "Nothing changed: residents read that text already.",
}


@dataclass(frozen=True)
class NavLink:
    page: str  # the page name it leads to (marked as the current page there)
    href: str
    label: str
    role: str  # the least role that sees it


# The console's sections, each shown only to the roles that may open it.
NAV = (
    NavLink("queue", "/console", "Queue", roles.AGENT),
    NavLink("search", "/console/search", "Search", roles.AGENT),
    NavLink("alerts", "/console/alerts", "Alerts", roles.SUPERVISOR),
    NavLink("audit", "/console/audit", "Audit log", roles.AGENT),
    NavLink("dashboard", "/console/dashboard", "Dashboard", roles.SUPERVISOR),
    NavLink("answers", "/console/answers", "Answers", roles.SUPERVISOR),
    NavLink("accounts", "/console/accounts", "Accounts", roles.ADMIN),
)


def navigation(role: str) -> List[NavLink]:
    return [link for link in NAV if roles.allows(role, link.role)]


# Why the sign-in page is shown again ({minutes}: "3 minutes", "1 minute").
SIGN_IN_PROBLEMS = {
    "wrong": "Wrong username or password.",
    "locked": "This account is locked for {minutes} after too many failed sign-ins.",
    "throttled": "Too many sign-in attempts from this address. Try again in {minutes}.",
    "expired": "This sign-in form has expired. Reload the page and try again.",
}


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


def language_name(code: Optional[str]) -> str:
    """A resident's language as staff read it, in the console's English ("Spanish"); the default when unknown."""
    return Locale.parse(resident_language(code)).get_display_name(CONSOLE_LOCALE) or str(code)


URGENT_FLAG = "Urgent: emergency message"
NEWEST_FLAG = "Newest"
LATEST_CHARS = 140  # a resident's latest message in a queue row, cut to this many characters


def excerpt(text: str, limit: int = LATEST_CHARS) -> str:
    """A message on one line, cut at `limit` characters with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "\u2026"


# Where a report stands (bot.reports.outbox's states), as staff read it.
REPORT_STATES = {
    PENDING: "not sent to the city yet",
    AWAITING_ID: "sent, waiting for the city's number",
    FILED: "filed",
    REJECTED: "refused by the city",
}


def report_state(state: str) -> str:
    return REPORT_STATES.get(state, state)


def who(turn: Turn) -> str:
    return f"Staff ({turn.staff})" if turn.who == "staff" else WHO.get(turn.who, turn.who)


def turn_time(turn: Turn) -> datetime:
    return datetime.fromtimestamp(turn.at or 0, tz=timezone.utc)


def shown(value: Any) -> str:
    """A slot value as one line of text."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def slot_label(name: str) -> str:
    return SLOT_LABELS.get(name, name)


# What every console template may call or compare with.
HELPERS = {
    "channel_name": channel_name,
    "language_name": language_name,
    "clock": clock,
    "when": when,
    "waited": waited,
    "who": who,
    "turn_time": turn_time,
    "shown": shown,
    "slot_label": slot_label,
    "urgent_text": URGENT_FLAG,
    "newest_text": NEWEST_FLAG,
    "excerpt": excerpt,
    "report_state": report_state,
    "WAITING": WAITING,
    "CLAIMED": CLAIMED,
}


def page(
    template: str,
    title: str,
    page_name: str,
    staff: Optional[str] = None,
    csrf: str = "",
    notice: Optional[str] = None,
    problem: Optional[str] = None,
    role: str = roles.DEFAULT,
    **values: Any,
) -> str:
    """A console page: the layout's values (the sections `role` may open), the notice's text and the helpers,
    then the page's own values."""
    return render(
        f"console/{template}",
        title=title,
        page=page_name,
        staff=staff,
        csrf=csrf,
        nav=navigation(role) if staff else [],
        zone=city_zone().key,
        notice=NOTICES.get(notice or ""),
        problem=problem,
        **HELPERS,
        **values,
    )


# --- login ------------------------------------------------------------------------------


def minutes(seconds: float) -> str:
    """A wait in whole minutes, rounded up: '1 minute', '5 minutes'."""
    count = max(1, math.ceil(seconds / 60))
    return f"{count} minute" if count == 1 else f"{count} minutes"


def sign_in_problem(kind: str, seconds: float = 0.0) -> str:
    return SIGN_IN_PROBLEMS[kind].format(minutes=minutes(seconds))


def login_page(
    token: str,
    problem: Optional[str] = None,
    username: str = "",
    next_url: str = "/console",
    notice: Optional[str] = None,
) -> str:
    return page(
        "login.html",
        "Sign in",
        "login",
        notice=notice,
        problem=problem,
        token=token,
        username=username,
        next_url=next_url,
    )


# --- the queue ----------------------------------------------------------------------------


def waiting_count(items: Sequence[Handoff]) -> int:
    return sum(1 for h in items if h.state == WAITING)


def newest_waiting(items: Sequence[Handoff]) -> Optional[int]:
    """The handoff that joined the queue last (highlighted), if any waits."""
    waiting = [h for h in items if h.state == WAITING]
    return max(waiting, key=lambda h: (h.created_at, h.id)).id if waiting else None


def queue_title(items: Sequence[Handoff]) -> str:
    """The page's title, with how many wait first ("(3) Queue"): the count shows in the browser's tab."""
    count = waiting_count(items)
    return f"({count}) Queue" if count else "Queue"


def queue_page(
    items: Sequence[Handoff],
    recent: Sequence[Mapping[str, Any]],
    resolved: Sequence[Handoff],
    on_duty: Sequence[str],
    staff: str,
    csrf: str,
    notice: Optional[str] = None,
    problem: Optional[str] = None,
    resident_languages: Optional[Mapping[str, str]] = None,
    role: str = roles.DEFAULT,
    latest: Optional[Mapping[str, LatestMessage]] = None,
) -> str:
    """`resident_languages`: each waiting resident's language by conversation id (the default for one not given);
    `latest`: what each resident last wrote, by conversation id."""
    return page(
        "queue.html",
        queue_title(items),
        "queue",
        staff,
        csrf,
        notice,
        problem,
        role,
        items=items,
        recent=recent,
        resolved=resolved,
        on_duty=on_duty,
        resident_languages=resident_languages or {},
        latest=latest or {},
        newest=newest_waiting(items),
    )


# --- one conversation ----------------------------------------------------------------------


@dataclass(frozen=True)
class AttributeField:
    """One question of a service in the file form: a text box, or a list when it has values."""

    id: str
    code: str
    label: str
    required: bool
    value: str
    options: Optional[List[Tuple[str, str, bool]]]  # (key, name, selected); None for a text box
    multiple: bool


@dataclass(frozen=True)
class FileForm:
    """What the file form shows: the services, the one chosen, its questions and the prefilled report."""

    services: Sequence[Any]
    chosen: str
    chosen_name: str
    fields: Optional[List[AttributeField]]  # None without the service's definition: one box for all answers
    answers_text: str
    slots: Dict[str, str]
    photo: Optional[str]


def attribute_fields(definition: Any, answers: Mapping[str, Any]) -> List[AttributeField]:
    """One labelled field per question of the service (from its Open311 definition)."""
    fields = []
    for attribute in definition.attributes:
        if not attribute.variable:
            continue
        current = answers.get(attribute.code)
        options = None
        multiple = False
        if attribute.values:
            multiple = attribute.datatype == "multivaluelist"
            chosen = set(current if isinstance(current, list) else [current]) if current not in (None, "") else set()
            options = [(key, name, key in chosen) for key, name in attribute.values]
        fields.append(
            AttributeField(
                id=f"attr-{attribute.code}",
                code=attribute.code,
                label=(attribute.description or attribute.code) + ("" if attribute.required else " (optional)"),
                required=bool(attribute.required),
                value="" if current is None or options is not None else str(current),
                options=options,
                multiple=multiple,
            )
        )
    return fields


FORM_SLOTS = ("location", "latitude", "longitude", "description", "contact")


def file_form(services: Sequence[Any], chosen: str, definition: Any, slots: Mapping[str, Any]) -> FileForm:
    """The file form, prefilled with what the assistant collected."""
    given = slots.get("attributes")
    answers: Mapping[str, Any] = given if isinstance(given, dict) else {}
    media = slots.get("media_url")
    return FileForm(
        services=services,
        chosen=chosen,
        chosen_name=next((s.service_name for s in services if s.service_code == chosen), chosen) or "",
        fields=None if definition is None else attribute_fields(definition, answers),
        answers_text="\n".join(f"{k} = {shown(v)}" for k, v in answers.items()),
        slots={name: "" if slots.get(name) is None else str(slots.get(name)) for name in FORM_SLOTS},
        photo=media if isinstance(media, str) and media.startswith(("http://", "https://")) else None,
    )


def status_of(handoff: Handoff, staff: str) -> str:
    if handoff.state == WAITING:
        return f"Waiting for {waited(handoff.created_at)}"
    if handoff.state == CLAIMED:
        return "Claimed by you" if handoff.claimed_by == staff else f"Claimed by {handoff.claimed_by}"
    how = " (handed back to the assistant)" if handoff.handed_back else " (closed)"
    return f"Resolved by {handoff.resolved_by}{how}"


def conversation_page(
    handoff: Handoff,
    turns: Sequence[Turn],
    notes: Sequence[Note],
    details: Mapping[str, Any],
    staff: str,
    csrf: str,
    cursor: Dict[str, int],
    filing: Optional[FileForm] = None,
    notice: Optional[str] = None,
    problem: Optional[str] = None,
    paused: Optional[bool] = None,
    reachable: bool = True,
    resident_language: Optional[str] = None,
    role: str = roles.DEFAULT,
    hold: Optional[Hold] = None,
    retention_days: Optional[int] = None,
) -> str:
    """`resident_language`: the language the resident reads (the default when not given); the page stays in English.

    `hold`: the conversation's retention hold, if staff placed one (a supervisor releases it); `retention_days`: the
    retention limit (None: the page says nothing of retention).
    """
    return page(
        "conversation.html",
        f"Conversation #{handoff.id}",
        "conversation",
        staff,
        csrf,
        notice,
        problem,
        role,
        handoff=handoff,
        turns=turns,
        notes=notes,
        details=details,
        cursor=cursor,
        filing=filing,
        paused=paused,
        reachable=reachable,
        resident_language=resident_language,
        hold=hold,
        may_release=roles.allows(role, roles.SUPERVISOR),
        retention_days=retention_days,
        anonymised=is_anonymous_sender_id(handoff.sender_id),
        max_reason=MAX_REASON_CHARS,
        status=status_of(handoff, staff),
        mine=handoff.state == CLAIMED and handoff.claimed_by == staff,
    )


# --- search ---------------------------------------------------------------------------------


def search_page(
    query: SearchQuery,
    results: Optional[SearchResults],
    staff: str,
    csrf: str,
    problem: Optional[str] = None,
    role: str = roles.DEFAULT,
) -> str:
    """The search form (filled in as asked) and, once a search ran, what it found."""
    return page(
        "search.html",
        "Search",
        "search",
        staff,
        csrf,
        role=role,
        problem=problem or (results.problem if results else None),
        query=query,
        results=results,
        channels=CHANNEL_NAMES,
        result_limit=RESULT_LIMIT,
    )


def transcript_page(
    found: FoundConversation,
    turns: Sequence[Turn],
    details: Mapping[str, Any],
    staff: str,
    csrf: str,
    problem: Optional[str] = None,
    role: str = roles.DEFAULT,
) -> str:
    """A conversation no staff member has handled, to read (and take over)."""
    return page(
        "transcript.html",
        "Conversation",
        "transcript",
        staff,
        csrf,
        role=role,
        problem=problem,
        found=found,
        turns=turns,
        details=details,
    )


# --- the dashboard (supervisors) ----------------------------------------------------------------


def dashboard_page(
    dashboard: Optional["Dashboard"],
    fields: Mapping[str, str],
    staff: str,
    csrf: str,
    problem: Optional[str] = None,
    role: str = roles.DEFAULT,
) -> str:
    """The date range form (`fields`: from, to as shown) and, for a range that could be used, its figures."""
    return page(
        "dashboard.html",
        "Dashboard",
        "dashboard",
        staff,
        csrf,
        role=role,
        problem=problem,
        dashboard=dashboard,
        fields=fields,
        cell_text=cell_text,
    )


def audit_page(entries: Iterable[Mapping[str, Any]], staff: str, csrf: str, role: str = roles.DEFAULT) -> str:
    return page("audit.html", "Audit log", "audit", staff, csrf, role=role, entries=entries)


def error_page(
    status: int, message: str, staff: Optional[str] = None, csrf: str = "", role: str = roles.DEFAULT
) -> str:
    return page("error.html", "Error", "error", staff, csrf, role=role, status=status, message=message)


# --- staff accounts (admins) -----------------------------------------------------------------


def account_state(account: StaffAccount) -> str:
    if account.disabled:
        return "Disabled"
    if account.locked_until is not None and account.locked:
        return f"Locked until {when(account.locked_until)}"
    return "Active"


ACCOUNT_HELPERS = {
    "ROLES": roles.ROLES,
    "ROLE_DESCRIPTIONS": roles.DESCRIPTIONS,
    "account_state": account_state,
    "min_password": MIN_PASSWORD_CHARS,
}


def accounts_page(
    accounts: Sequence[StaffAccount],
    staff: str,
    csrf: str,
    role: str,
    notice: Optional[str] = None,
    problem: Optional[str] = None,
    typed: Optional[Mapping[str, str]] = None,
) -> str:
    """Every account, and the form for a new one (`typed`: its username and role as sent, never the password)."""
    return page(
        "accounts.html",
        "Accounts",
        "accounts",
        staff,
        csrf,
        notice,
        problem,
        role,
        accounts=accounts,
        typed={"username": "", "role": roles.DEFAULT, **(typed or {})},
        **ACCOUNT_HELPERS,
    )


def account_page(
    account: StaffAccount,
    staff: str,
    csrf: str,
    role: str,
    notice: Optional[str] = None,
    problem: Optional[str] = None,
) -> str:
    """One account and what an admin may do with it: its role, a new password, disabling or enabling it."""
    return page(
        "account.html",
        f"Account {account.username}",
        "account",
        staff,
        csrf,
        notice,
        problem,
        role,
        account=account,
        own=account.username == staff,
        **ACCOUNT_HELPERS,
    )


def queue_json(
    items: Sequence[Handoff],
    on_duty: Sequence[str],
    languages: Mapping[str, str],
    latest: Optional[Mapping[str, LatestMessage]] = None,
) -> str:
    """The queue for the page's script: the rows as the page shows them (the message already cut), the count."""
    latest = latest or {}
    newest = newest_waiting(items)
    return json.dumps(
        {
            "items": [
                {
                    **h.as_json(),
                    "channel_name": channel_name(h.channel),
                    "language_name": language_name(languages.get(h.sender_id)),
                    "urgent_text": URGENT_FLAG,
                    "latest_message": excerpt(latest[h.sender_id].text) if h.sender_id in latest else "",
                    "newest": h.id == newest,
                    "newest_text": NEWEST_FLAG,
                }
                for h in items
            ],
            "waiting": waiting_count(items),
            "on_duty": list(on_duty),
        }
    )


# --- answers staff edit (supervisors) ----------------------------------------------------------


@dataclass(frozen=True)
class AnswerRow:
    """One answer in one language, as the list of answers shows it."""

    answer: EditableAnswer
    language: str
    newest: Optional[AnswerVersion]  # None: never edited
    text: str  # what residents read
    problems: List[str]  # why a published text would not be published today (the city's facts changed)

    @property
    def edited(self) -> bool:
        return self.newest is not None and self.newest.text is not None


def answer_rows(answers: Sequence[EditableAnswer], newest: Mapping[Tuple[str, str], AnswerVersion]) -> List[AnswerRow]:
    rows = []
    for answer in answers:
        for language in answer.languages():
            version = newest.get((answer.response, language))
            published = version.text if version is not None else None
            text = published if published is not None else answer.original(language) or ""
            found = answer_problems(answer.response, language, published) if published is not None else []
            rows.append(AnswerRow(answer, language, version, text, found))
    return rows


def refresh_wait(seconds: float) -> str:
    """How long the assistant takes to answer with a published text: 'a minute', '5 seconds'."""
    if seconds == 60:
        return "a minute"
    if seconds % 60 == 0:
        return f"{seconds / 60:g} minutes"
    return "1 second" if seconds == 1 else f"{seconds:g} seconds"


def answers_page(rows: Sequence[AnswerRow], wait: str, staff: str, csrf: str, role: str) -> str:
    """Every answer staff may edit, per language: what residents read, its version and today's checks."""
    return page("answers.html", "Answers", "answers", staff, csrf, role=role, rows=rows, wait=wait)


@dataclass(frozen=True)
class AnswerEdit:
    """What the page of one answer in one language shows besides its history."""

    answer: EditableAnswer
    language: str
    history: Sequence[AnswerVersion]  # newest first
    draft: Optional[str] = None  # the text typed, shown again in the editor (None: what residents read now)
    preview: Optional[str] = None  # the text previewed, if any
    problems: Sequence[str] = ()

    @property
    def current(self) -> str:
        """What residents read now."""
        newest = self.history[0] if self.history else None
        return newest.text if newest is not None and newest.text is not None else self.original

    @property
    def original(self) -> str:
        return self.answer.original(self.language) or ""

    @property
    def in_editor(self) -> str:
        return self.current if self.draft is None else self.draft

    @property
    def seen(self) -> int:
        """The newest version's number (0: none), sent back with a change so a newer one is not overwritten."""
        return self.history[0].number if self.history else ORIGINAL

    @property
    def edited(self) -> bool:
        return bool(self.history) and self.history[0].text is not None


def answer_page(edit: AnswerEdit, wait: str, staff: str, csrf: str, role: str, notice: Optional[str] = None) -> str:
    """One answer in one language: what residents read, the editor and its preview, the history to restore from."""
    text = NOTICES.get(notice or "")
    return page(
        "answer.html",
        f"{edit.answer.title} ({language_name(edit.language)})",
        "answers",
        staff,
        csrf,
        role=role,
        notice_text=text.format(wait=wait) if text else None,
        wait=wait,
        edit=edit,
        buttons=edit.answer.buttons(edit.language),
        other_languages=[code for code in edit.answer.languages() if code != edit.language],
        is_faq=faq_topic(edit.answer.response) is not None,
        max_chars=MAX_ANSWER_CHARS,
        ORIGINAL=ORIGINAL,
    )
