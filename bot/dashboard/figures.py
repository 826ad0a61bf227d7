"""The dashboard's sections, each from its source of figures (docs/dashboard.md says how each is computed).

A source reads what it needs for the date range and computes its sections,
both off the event loop (worker threads); `build_dashboard` runs every source
in SOURCES at once. A new kind of figure (the satisfaction survey's, say) is a
new source added to SOURCES: its tables get their place on the page, their
charts and their CSV export with nothing else to change.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from statistics import median
from typing import Awaitable, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

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
from bot.dashboard.satisfaction import satisfaction_section
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
from bot.survey.store import answers_between

Source = Callable[[Period], Awaitable[List[Section]]]
TOP = 10  # the page's lists of questions; the CSV has every one
OUTCOMES = (
    Column("Conversations", COUNT),
    Column("Contained", COUNT),
    Column("Handed to staff", COUNT),
    Column("Abandoned after a misunderstanding", COUNT),
)


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


def grouped(name: str, caption: str, first: Column, groups: Dict[str, List[Conversation]], chart_title: str) -> Table:
    """A table of the conversations' outcomes per group (largest first), with its bar chart."""
    order = sorted(groups, key=lambda label: (-len(groups[label]), label))
    rows = tuple((label, *outcomes(groups[label])) for label in order)
    chart = charts.bars(chart_title, [(label, len(groups[label]), str(len(groups[label]))) for label in order])
    return Table(name, caption, (first, *OUTCOMES), rows, chart=chart)


def conversation_tables(conversations: Sequence[Conversation], period: Period) -> List[Section]:
    """Conversations by day, channel and language, what became of them, and what residents asked."""
    total, contained, to_staff, abandoned = outcomes(conversations)
    answered = [m for c in conversations for m in c.answered_messages]
    misunderstood = [m for m in answered if m.misunderstood]
    summary = Table(
        "summary",
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
    outcome_rows = (
        ("Contained", contained, share(contained, total)),
        ("Handed to staff", to_staff, share(to_staff, total)),
        ("Abandoned after a misunderstanding", abandoned, share(abandoned, total)),
    )
    containment = Table(
        "containment",
        "What became of the conversations",
        (Column("Outcome"), Column("Conversations", COUNT), Column("Share", PERCENT)),
        outcome_rows,
        chart=charts.bars(
            "Bar chart of what became of the conversations; the table after it has the figures.",
            [
                (label, n, f"{n} ({percent_text(part)})" if part is not None else str(n))
                for label, n, part in outcome_rows
            ],
        ),
    )
    by_day: Dict[str, List[Conversation]] = {}
    for conversation in conversations:
        by_day.setdefault(period.day_of(conversation.started_at).isoformat(), []).append(conversation)
    day_rows = tuple((day, *outcomes(by_day.get(day.isoformat(), []))) for day in period.days)
    days = Table(
        "by_day",
        "Conversations by day",
        (Column("Day", DAY), *OUTCOMES),
        day_rows,
        chart=charts.columns(
            "Column chart of the conversations of each day; the table after it has the figures.",
            [(row[0].strftime("%b %d"), row[1], str(row[1])) for row in day_rows],
        ),
    )
    channels: Dict[str, List[Conversation]] = {}
    languages: Dict[str, List[Conversation]] = {}
    for conversation in conversations:
        channels.setdefault(pages.channel_name(conversation.channel), []).append(conversation)
        languages.setdefault(pages.language_name(resident_language(conversation.language)), []).append(conversation)
    overview = Section(
        "conversations",
        "Conversations",
        (
            summary,
            containment,
            days,
            grouped(
                "by_channel",
                "Conversations by channel",
                Column("Channel"),
                channels,
                "Bar chart of the conversations on each channel; the table after it has the figures.",
            ),
            grouped(
                "by_language",
                "Conversations by language",
                Column("Language"),
                languages,
                "Bar chart of the conversations in each language; the table after it has the figures.",
            ),
        ),
        intro="A conversation is a session in which a resident wrote, counted on the day of its first message.",
    )
    return [overview, questions_section(conversations), jobs_section(conversations)]


def jobs_section(conversations: Sequence[Conversation]) -> Section:
    """City jobs: the jobs answers residents saw and the job alerts they asked for or stopped."""
    done = Counter(m.jobs for c in conversations for m in c.answered_messages if m.jobs)
    reached = sum(1 for c in conversations if any(m.jobs == JOBS_ANSWER for m in c.answered_messages))
    return Section(
        "jobs",
        "City jobs",
        (
            Table(
                "jobs",
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
            ),
        ),
        intro="Answers about the city's open job postings (hiring, a department, a kind of job, one posting, "
        '"More jobs") and residents\' job alerts.',
    )


def ranked(counts: Counter, labels: Dict[str, str]) -> Tuple[Tuple[str, int], ...]:
    """(label, count), the most frequent first, then alphabetically."""
    return tuple(sorted(((labels[key], n) for key, n in counts.items()), key=lambda item: (-item[1], item[0])))


def topic_name(topic: str) -> str:
    return topic.replace("_", " ").strip().capitalize() or topic


def questions_section(conversations: Sequence[Conversation]) -> Section:
    """The city questions answered most, and what the assistant did not understand (personal data masked)."""
    asked = Counter(m.question for c in conversations for m in c.messages if m.question)
    question_rows = ranked(asked, {topic: topic_name(topic) for topic in asked})
    unanswered: Counter = Counter()
    first_seen: Dict[str, str] = {}
    for message in (m for c in conversations for m in c.misunderstood if m.text):
        masked = mask_personal_data(message.text or "")
        key = masked.casefold()
        first_seen.setdefault(key, masked)
        unanswered[key] += 1
    return Section(
        "questions",
        "Questions",
        (
            Table(
                "questions",
                "Top city questions",
                (Column("City question (FAQ answer)"), Column("Times answered", COUNT)),
                question_rows,
                shown=TOP,
                chart=charts.bars(
                    "Bar chart of the city questions answered most; the table after it has the figures.",
                    [(label, n, str(n)) for label, n in question_rows[:TOP]],
                ),
                note=f"The {TOP} answered most on this page; the CSV has every one."
                if len(question_rows) > TOP
                else None,
            ),
            Table(
                "unanswered",
                "Top unanswered messages",
                (Column("Message (personal data masked)"), Column("Times", COUNT)),
                ranked(unanswered, first_seen),
                shown=TOP,
                note="Messages the assistant did not understand, as residents typed them, with emails, phone numbers, "
                "addresses, references and names masked. Texts older than the retention limit are gone "
                "(docs/privacy.md): those messages count in the fallback rate only.",
            ),
        ),
    )


async def conversation_source(period: Period) -> List[Section]:
    try:
        conversations = await conversations_in(period, tracker_events())
    except TrackerUnavailable as error:
        problem = f"Conversations cannot be read now: {error}."
        return [
            Section("conversations", "Conversations", problem=problem),
            Section("questions", "Questions", problem=problem),
            Section("jobs", "City jobs", problem=problem),
        ]
    return await asyncio.to_thread(conversation_tables, conversations, period)  # masking and counting, off the loop


def middle(values: Iterable[Optional[float]]) -> Optional[float]:
    """The median of the values measured (None when none was)."""
    measured = [value for value in values if value is not None]
    return median(measured) if measured else None


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


def handoff_section(items: Sequence[HandoffTimes]) -> Section:
    """Handoffs opened, per reason, and the residents' median waits."""
    rows = tuple(handoff_row(label, [h for h in items if h.reason == reason]) for reason, label in REASONS.items())
    return Section(
        "handoffs",
        "Handoffs to staff",
        (
            Table(
                "handoffs",
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
            ),
        ),
        intro="Handoffs opened in the date range (the conversation's own day may differ).",
    )


async def handoff_source(period: Period) -> List[Section]:
    return [await asyncio.to_thread(handoff_section, await handoffs_in(period))]


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


def report_section(items: Sequence[ReportTimes]) -> Section:
    """Reports by service, and by service and channel, with the back office's median time to close."""
    by_service: Dict[str, List[ReportTimes]] = {}
    by_pair: Dict[Tuple[str, str], List[ReportTimes]] = {}
    for report in items:
        channel = "No conversation" if report.channel == NO_CONVERSATION else pages.channel_name(report.channel)
        by_service.setdefault(report.service, []).append(report)
        by_pair.setdefault((report.service, channel), []).append(report)
    services = sorted(by_service, key=lambda s: (-len(by_service[s]), s))
    service_rows = tuple((service, *report_row(by_service[service])) for service in services)
    pairs = sorted(by_pair, key=lambda p: (services.index(p[0]), -len(by_pair[p]), p[1]))
    return Section(
        "reports",
        "Reports",
        (
            Table(
                "reports_by_service",
                "Reports by service",
                (Column("Service"), *REPORT_FIGURES),
                (*service_rows, ("All services", *report_row(items))),
                chart=charts.bars(
                    "Bar chart of the reports of each service; the table after it has the figures.",
                    [(service, len(by_service[service]), str(len(by_service[service]))) for service in services],
                ),
                note="Time to close: from the back office receiving the report to the status poll hearing it closed.",
            ),
            Table(
                "reports_by_channel",
                "Reports by service and channel",
                (Column("Service"), Column("Channel"), *REPORT_FIGURES),
                tuple((service, channel, *report_row(by_pair[(service, channel)])) for service, channel in pairs),
            ),
        ),
        intro="Reports residents made in the date range, whatever became of them since.",
    )


async def report_source(period: Period) -> List[Section]:
    return [await asyncio.to_thread(report_section, await reports_in(period))]


async def satisfaction_source(period: Period) -> List[Section]:
    answers = await answers_between(period.start_utc, period.end_utc)
    return [await asyncio.to_thread(satisfaction_section, answers)]


SOURCES: Tuple[Source, ...] = (conversation_source, handoff_source, report_source, satisfaction_source)


@dataclass(frozen=True)
class Dashboard:
    period: Period
    sections: Tuple[Section, ...]

    def table(self, name: str) -> Optional[Table]:
        return next((table for table in every_table(self.sections) if table.name == name), None)

    @property
    def table_names(self) -> Tuple[str, ...]:
        return tuple(table.name for table in every_table(self.sections))


async def build_dashboard(period: Period, sources: Sequence[Source] = SOURCES) -> Dashboard:
    """Every source's sections for `period`, read at the same time."""
    found = await asyncio.gather(*(source(period) for source in sources))
    return Dashboard(period, tuple(section for sections in found for section in sections))
