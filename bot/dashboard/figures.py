"""The dashboard's sources and tables, each table defined once (docs/dashboard.md says how each is computed).

A source (bot.dashboard.sources) reads what it needs for the date range and
lays out its sections; each table is one function of what its source read.
`build_dashboard` reads every source in SOURCES at once and computes every
table, for the page; `build_table` reads one table's source and computes that
table alone, for its CSV. A new kind of figure is a new source added to
SOURCES: its tables get their place on the page, their charts and their CSV
export with nothing else to change.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from statistics import median
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from bot.dashboard import charts
from bot.dashboard.conversations import (
    JOBS_ANSWER,
    JOBS_SUBSCRIBE,
    JOBS_UNSUBSCRIBE,
    Conversation,
    conversations_in,
)
from bot.dashboard.handoffs import HandoffTimes, handoffs_in
from bot.dashboard.masking import mask_personal_data
from bot.dashboard.period import Period
from bot.dashboard.reports import NO_CONVERSATION, ReportTimes, reports_in
from bot.dashboard.satisfaction import by_channel_table, scores_table, summary_table
from bot.dashboard.sources import SectionPart, Source, TablePart, Unavailable
from bot.dashboard.tables import (
    COUNT,
    DAY,
    HOURS,
    MINUTES,
    PERCENT,
    Cell,
    Column,
    Section,
    Table,
    every_table,
    percent_text,
    share,
)
from bot.handoff import pages
from bot.handoff.store import REASONS
from bot.handoff.tracker_events import TrackerUnavailable, tracker_events
from bot.i18n.languages import resident_language
from bot.reports.outbox import FILED
from bot.survey.store import SurveyAnswer, answers_between

TOP = 10  # the page's lists of questions; the CSV has every one
OUTCOMES = (
    Column("Conversations", COUNT),
    Column("Contained", COUNT),
    Column("Handed to staff", COUNT),
    Column("Abandoned after a misunderstanding", COUNT),
)


class UnknownTable(ValueError):
    """No table has that name; the message lists those that do."""


def middle(values: Iterable[Optional[float]]) -> Optional[float]:
    """The median of the values measured (None when none was)."""
    measured = [value for value in values if value is not None]
    return median(measured) if measured else None


# --- conversations (Rasa's events) -------------------------------------------------------------


@dataclass(frozen=True)
class RangeConversations:
    """The conversations that began in a date range."""

    period: Period
    items: Sequence[Conversation]


async def read_conversations(period: Period) -> RangeConversations:
    try:
        return RangeConversations(period, await conversations_in(period, tracker_events()))
    except TrackerUnavailable as error:
        raise Unavailable(f"Conversations cannot be read now: {error}.") from None


def outcomes(conversations: Sequence[Conversation]) -> Tuple[int, int, int, int]:
    """How many conversations, and how many of them were contained, went to staff, were abandoned."""
    return (
        len(conversations),
        sum(1 for c in conversations if c.contained),
        sum(1 for c in conversations if c.to_staff),
        sum(1 for c in conversations if c.abandoned),
    )


def figure(label: str, value: object, kind: str = COUNT) -> Tuple[str, Cell]:
    return (label, Cell(value, kind))


def summary(name: str, found: RangeConversations) -> Table:
    """The key figures: conversations, the containment, handoff and abandonment rates, the fallback rate."""
    total, contained, to_staff, abandoned = outcomes(found.items)
    answered = [m for c in found.items for m in c.answered_messages]
    misunderstood = [m for m in answered if m.misunderstood]
    return Table(
        name,
        "Key figures",
        (Column("Figure"), Column("Value", COUNT)),
        (
            figure("Conversations", total),
            figure("Containment rate", share(contained, total), PERCENT),
            figure("Handoff rate", share(to_staff, total), PERCENT),
            figure("Abandoned after a misunderstanding", share(abandoned, total), PERCENT),
            figure("Resident messages the assistant answered", len(answered)),
            figure("Messages not understood", len(misunderstood)),
            figure("Fallback rate", share(len(misunderstood), len(answered)), PERCENT),
        ),
        figures=True,
    )


def containment(name: str, found: RangeConversations) -> Table:
    total, contained, to_staff, abandoned = outcomes(found.items)
    rows = (
        ("Contained", contained, share(contained, total)),
        ("Handed to staff", to_staff, share(to_staff, total)),
        ("Abandoned after a misunderstanding", abandoned, share(abandoned, total)),
    )
    return Table(
        name,
        "What became of the conversations",
        (Column("Outcome"), Column("Conversations", COUNT), Column("Share", PERCENT)),
        rows,
        chart=charts.bars(
            "Bar chart of what became of the conversations; the table after it has the figures.",
            [(label, n, f"{n} ({percent_text(part)})" if part is not None else str(n)) for label, n, part in rows],
        ),
    )


def by_day(name: str, found: RangeConversations) -> Table:
    """Every day of the range (zeros too), on the city day of each conversation's first message."""
    days = groups(found.items, lambda c: found.period.day_of(c.started_at).isoformat())
    rows = tuple((day, *outcomes(days.get(day.isoformat(), []))) for day in found.period.days)
    return Table(
        name,
        "Conversations by day",
        (Column("Day", DAY), *OUTCOMES),
        rows,
        chart=charts.columns(
            "Column chart of the conversations of each day; the table after it has the figures.",
            [(row[0].strftime("%b %d"), row[1], str(row[1])) for row in rows],
        ),
    )


def groups(
    conversations: Sequence[Conversation], label: Callable[[Conversation], str]
) -> Dict[str, List[Conversation]]:
    found: Dict[str, List[Conversation]] = {}
    for conversation in conversations:
        found.setdefault(label(conversation), []).append(conversation)
    return found


def grouped(name: str, caption: str, first: Column, found: Dict[str, List[Conversation]], chart_title: str) -> Table:
    """A table of the conversations' outcomes per group (largest first), with its bar chart."""
    order = sorted(found, key=lambda label: (-len(found[label]), label))
    rows = tuple((label, *outcomes(found[label])) for label in order)
    chart = charts.bars(chart_title, [(label, len(found[label]), str(len(found[label]))) for label in order])
    return Table(name, caption, (first, *OUTCOMES), rows, chart=chart)


def by_channel(name: str, found: RangeConversations) -> Table:
    return grouped(
        name,
        "Conversations by channel",
        Column("Channel"),
        groups(found.items, lambda c: pages.channel_name(c.channel)),
        "Bar chart of the conversations on each channel; the table after it has the figures.",
    )


def by_language(name: str, found: RangeConversations) -> Table:
    return grouped(
        name,
        "Conversations by language",
        Column("Language"),
        groups(found.items, lambda c: pages.language_name(resident_language(c.language))),
        "Bar chart of the conversations in each language; the table after it has the figures.",
    )


def ranked(counts: Counter, labels: Dict[str, str]) -> Tuple[Tuple[str, int], ...]:
    """(label, count), the most frequent first, then alphabetically."""
    return tuple(sorted(((labels[key], n) for key, n in counts.items()), key=lambda item: (-item[1], item[0])))


def topic_name(topic: str) -> str:
    return topic.replace("_", " ").strip().capitalize() or topic


def questions(name: str, found: RangeConversations) -> Table:
    """The city questions answered most."""
    asked = Counter(m.question for c in found.items for m in c.messages if m.question)
    rows = ranked(asked, {topic: topic_name(topic) for topic in asked})
    return Table(
        name,
        "Top city questions",
        (Column("City question (FAQ answer)"), Column("Times answered", COUNT)),
        rows,
        shown=TOP,
        chart=charts.bars(
            "Bar chart of the city questions answered most; the table after it has the figures.",
            [(label, n, str(n)) for label, n in rows[:TOP]],
        ),
        note=f"The {TOP} answered most on this page; the CSV has every one." if len(rows) > TOP else None,
    )


def unanswered(name: str, found: RangeConversations) -> Table:
    """What the assistant did not understand, personal data masked."""
    counts: Counter = Counter()
    first_seen: Dict[str, str] = {}
    for message in (m for c in found.items for m in c.misunderstood if m.text):
        masked = mask_personal_data(message.text or "")
        key = masked.casefold()
        first_seen.setdefault(key, masked)
        counts[key] += 1
    return Table(
        name,
        "Top unanswered messages",
        (Column("Message (personal data masked)"), Column("Times", COUNT)),
        ranked(counts, first_seen),
        shown=TOP,
        note="Messages the assistant did not understand, as residents typed them, with emails, phone numbers, "
        "addresses, references and names masked. Texts older than the retention limit are gone "
        "(docs/privacy.md): those messages count in the fallback rate only.",
    )


def jobs(name: str, found: RangeConversations) -> Table:
    """The jobs answers residents saw and the job alerts they asked for or stopped."""
    done = Counter(m.jobs for c in found.items for m in c.answered_messages if m.jobs)
    reached = sum(1 for c in found.items if any(m.jobs == JOBS_ANSWER for m in c.answered_messages))
    return Table(
        name,
        "Jobs answers and job alerts",
        (Column("Figure"), Column("Value", COUNT)),
        (
            figure("Jobs answers viewed", done[JOBS_ANSWER]),
            figure("Conversations with a jobs answer", reached),
            figure("Job alert subscriptions asked for", done[JOBS_SUBSCRIBE]),
            figure("Job alerts stopped", done[JOBS_UNSUBSCRIBE]),
        ),
        figures=True,
        note="Counted in the conversations of the date range, from their stored events. A subscription "
        "asked for from a conversation no message can reach (the REST API), or naming no department "
        "or word, is counted here though no alert was set up; the alerts page has the residents "
        "who get job alerts now.",
    )


CONVERSATIONS: Source[RangeConversations] = Source(
    read_conversations,
    (
        SectionPart(
            "conversations",
            "Conversations",
            (
                TablePart("summary", summary),
                TablePart("containment", containment),
                TablePart("by_day", by_day),
                TablePart("by_channel", by_channel),
                TablePart("by_language", by_language),
            ),
            intro="A conversation is a session in which a resident wrote, counted on the day of its first message.",
        ),
        SectionPart(
            "questions",
            "Questions",
            (TablePart("questions", questions), TablePart("unanswered", unanswered)),
        ),
        SectionPart(
            "jobs",
            "City jobs",
            (TablePart("jobs", jobs),),
            intro="Answers about the city's open job postings (hiring, a department, a kind of job, one posting, "
            '"More jobs") and residents\' job alerts.',
        ),
    ),
)


# --- handoffs (the handoffs table, the audit log) ----------------------------------------------


def handoff_row(label: str, items: Sequence[HandoffTimes]) -> Tuple[object, ...]:
    claimed = sum(1 for h in items if h.claimed_at is not None)
    return (
        label,
        len(items),
        claimed,
        len(items) - claimed,
        middle(h.wait_to_claim for h in items),
        middle(h.wait_to_reply for h in items),
    )


def handoffs_by_reason(name: str, items: Sequence[HandoffTimes]) -> Table:
    """Handoffs opened, per reason, and the residents' median waits."""
    rows = tuple(handoff_row(label, [h for h in items if h.reason == reason]) for reason, label in REASONS.items())
    return Table(
        name,
        "Handoffs opened, by reason",
        (
            Column("Reason"),
            Column("Handoffs", COUNT),
            Column("Claimed", COUNT),
            Column("Not claimed", COUNT),
            Column("Median wait to claim", MINUTES),
            Column("Median wait to first staff reply", MINUTES),
        ),
        (*rows, handoff_row("All handoffs", items)),
        note="Waits run from the handoff's opening. Conversations staff picked up on their own had nobody "
        "waiting: they are left out of the waits.",
    )


HANDOFFS: Source[List[HandoffTimes]] = Source(
    handoffs_in,
    (
        SectionPart(
            "handoffs",
            "Handoffs to staff",
            (TablePart("handoffs", handoffs_by_reason),),
            intro="Handoffs opened in the date range (the conversation's own day may differ).",
        ),
    ),
)


# --- reports (the report outbox) -----------------------------------------------------------------


def report_row(items: Sequence[ReportTimes]) -> Tuple[object, ...]:
    return (
        len(items),
        sum(1 for r in items if r.state == FILED),
        sum(1 for r in items if r.closed_at is not None),
        middle(r.time_to_close for r in items),
    )


REPORT_FIGURES = (
    Column("Reports", COUNT),
    Column("Filed with the city", COUNT),
    Column("Closed", COUNT),
    Column("Median time to close", HOURS),
)


def per_service(items: Sequence[ReportTimes]) -> Tuple[List[str], Dict[str, List[ReportTimes]]]:
    """The services (most reports first) and the reports of each."""
    found: Dict[str, List[ReportTimes]] = {}
    for report in items:
        found.setdefault(report.service, []).append(report)
    return sorted(found, key=lambda s: (-len(found[s]), s)), found


def reports_by_service(name: str, items: Sequence[ReportTimes]) -> Table:
    services, found = per_service(items)
    return Table(
        name,
        "Reports by service",
        (Column("Service"), *REPORT_FIGURES),
        (*((service, *report_row(found[service])) for service in services), ("All services", *report_row(items))),
        chart=charts.bars(
            "Bar chart of the reports of each service; the table after it has the figures.",
            [(service, len(found[service]), str(len(found[service]))) for service in services],
        ),
        note="Time to close: from the back office receiving the report to the status poll hearing it closed.",
    )


def report_channel(report: ReportTimes) -> str:
    return "No conversation" if report.channel == NO_CONVERSATION else pages.channel_name(report.channel)


def reports_by_channel(name: str, items: Sequence[ReportTimes]) -> Table:
    services, _ = per_service(items)
    pairs: Dict[Tuple[str, str], List[ReportTimes]] = {}
    for report in items:
        pairs.setdefault((report.service, report_channel(report)), []).append(report)
    order = sorted(pairs, key=lambda p: (services.index(p[0]), -len(pairs[p]), p[1]))
    return Table(
        name,
        "Reports by service and channel",
        (Column("Service"), Column("Channel"), *REPORT_FIGURES),
        tuple((service, channel, *report_row(pairs[(service, channel)])) for service, channel in order),
    )


REPORTS: Source[List[ReportTimes]] = Source(
    reports_in,
    (
        SectionPart(
            "reports",
            "Reports",
            (TablePart("reports_by_service", reports_by_service), TablePart("reports_by_channel", reports_by_channel)),
            intro="Reports residents made in the date range, whatever became of them since.",
        ),
    ),
)


# --- satisfaction (the survey's answers) ---------------------------------------------------------


async def read_answers(period: Period) -> List[SurveyAnswer]:
    return await answers_between(period.start_utc, period.end_utc)


SATISFACTION: Source[List[SurveyAnswer]] = Source(
    read_answers,
    (
        SectionPart(
            "satisfaction",
            "Satisfaction",
            (
                TablePart("satisfaction_summary", summary_table),
                TablePart("satisfaction_scores", scores_table),
                TablePart("satisfaction_by_channel", by_channel_table),
            ),
            intro='Residents\' answers to "How did we do? 1-5", asked once after a report was filed or a handoff '
            "resolved, counted on the day they answered.",
        ),
    ),
)


# --- the whole dashboard, and one table ----------------------------------------------------------

SOURCES: Tuple[Source[Any], ...] = (CONVERSATIONS, HANDOFFS, REPORTS, SATISFACTION)


@dataclass(frozen=True)
class Dashboard:
    period: Period
    sections: Tuple[Section, ...]

    def table(self, name: str) -> Optional[Table]:
        return next((table for table in every_table(self.sections) if table.name == name), None)

    @property
    def table_names(self) -> Tuple[str, ...]:
        return tuple(table.name for table in every_table(self.sections))


def table_names(sources: Optional[Sequence[Source[Any]]] = None) -> Tuple[str, ...]:
    """Every table's name, in the page's order (known without reading anything)."""
    return tuple(part.name for source in sources or SOURCES for part in source.table_parts)


async def build_dashboard(period: Period, sources: Optional[Sequence[Source[Any]]] = None) -> Dashboard:
    """Every source's sections for `period`, read at the same time."""
    found = await asyncio.gather(*(source.computed(period) for source in sources or SOURCES))
    return Dashboard(period, tuple(section for sections in found for section in sections))


async def build_table(period: Period, name: str, sources: Optional[Sequence[Source[Any]]] = None) -> Table:
    """The table `name` alone (its CSV): only its source is read, only its own function runs.

    UnknownTable: no table has that name; Unavailable: its source cannot be read now.
    """
    known = sources or SOURCES
    source = next((source for source in known if source.part(name) is not None), None)
    if source is None:
        raise UnknownTable("Choose a table to export: " + ", ".join(table_names(known)) + ".")
    return await source.table(name, period)
