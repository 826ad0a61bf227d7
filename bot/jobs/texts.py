"""City jobs answers in the resident's language, from the gettext catalogs (jobs.po).

Every figure is the feed's: pay with its unit, written by Babel in the
resident's language ("$24.50 an hour", "$52,000 a year"); closing dates in the
city's time zone. A list shows at most three postings, then how many more and
the careers page (a "more" button where the channel has buttons). On SMS
(`compact`), a list is cut to what fits in two segments, down to one posting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_currency

from bot.alerts.segments import sms_segments
from bot.i18n.city import city_name
from bot.i18n.messages import Messages
from bot.jobs.departments import department_name
from bot.jobs.postings import Pay, Posting, city_timezone
from bot.jobs.queries import DepartmentCount

MAX_SHOWN = 3  # postings in one answer
SMS_SEGMENTS = 2  # what a compact answer should fit in


@dataclass(frozen=True)
class JobsAnswer:
    """An answer listing postings: its text and what was left out of it."""

    text: str
    shown: List[Posting] = field(default_factory=list)
    more: int = 0  # postings not shown

    def buttons(self, texts: Messages, more_payload: str) -> List[Dict[str, str]]:
        """The "more jobs" button, when postings were left out (`more_payload`: what it sends)."""
        return [{"title": texts.text("jobs.more_button"), "payload": more_payload}] if self.more else []


def _amount(value: float, currency: str, texts: Messages, cents: bool) -> str:
    if cents:
        return format_currency(value, currency, locale=texts.locale)
    pattern = texts.locale.currency_formats["standard"].pattern.split(";")[0]
    whole = pattern.replace(".00", "").replace(",00", "")
    return format_currency(value, currency, format=whole, locale=texts.locale, currency_digits=False)


def pay_text(pay: Pay, texts: Messages, compact: bool = False) -> str:
    """The pay as the feed gives it: "$17.50 to $19.00 an hour", "$52,000 a year" (on SMS "$52,000/yr")."""
    cents = not (float(pay.minimum).is_integer() and float(pay.maximum).is_integer())
    low = _amount(pay.minimum, pay.currency, texts, cents)
    if pay.maximum != pay.minimum:
        key = "jobs.pay.range_compact" if compact else "jobs.pay.range"
        low = texts.text(key, low=low, high=_amount(pay.maximum, pay.currency, texts, cents))
    if pay.unit is None:
        return low
    return texts.text(f"jobs.pay_compact.{pay.unit}" if compact else f"jobs.pay.{pay.unit}", amount=low)


def closing_day(posting: Posting, texts: Messages, compact: bool = False) -> Optional[str]:
    """The day the posting closes, in the city's time zone: "Friday, December 18" (on SMS "Dec 18")."""
    closes = posting.closes_at()
    if closes is None:
        return None
    day = closes.astimezone(city_timezone()).date()
    if compact:
        return format_date(day, format=texts.text("jobs.short_day_pattern"), locale=texts.locale)
    return texts.day(day)


def department_label(department: str, texts: Messages) -> str:
    """A department's name in the resident's language ("" for postings naming none)."""
    return department_name(department, texts.language) if department else texts.text("jobs.other_department")


def departments_label(departments: Sequence[str], texts: Messages) -> str:
    """Several departments' names as one phrase: "Parks and Recreation and Public Works"."""
    return format_list([department_label(d, texts) for d in departments], locale=texts.locale)


def careers_line(url: Optional[str], texts: Messages) -> List[str]:
    return [texts.text("jobs.careers_link", url=url)] if url else []


def hiring_answer(counts: Sequence[DepartmentCount], texts: Messages, careers_url: Optional[str]) -> str:
    """ "Is the city hiring?": how many postings are open, by department, and the careers page."""
    city = city_name(texts.language)
    total = sum(item.count for item in counts)
    if not total:
        return "\n".join([texts.text("jobs.hiring_none", city=city), *careers_line(careers_url, texts)])
    departments = format_list(
        [
            texts.text("jobs.department_count", department=department_label(item.department, texts), count=item.count)
            for item in counts
        ],
        locale=texts.locale,
    )
    return "\n".join(
        [texts.plural("jobs.hiring", total, city=city, departments=departments), *careers_line(careers_url, texts)]
    )


def item_line(
    posting: Posting, texts: Messages, compact: bool = False, dash: bool = True, department: bool = True
) -> str:
    """One posting in a list: title (department): pay, closes Friday, December 18.

    The department is left out on SMS, and with `department=False` (under a heading naming it).
    """
    head = (
        texts.text("jobs.item_head", title=posting.title, department=department_label(posting.department, texts))
        if posting.department and department and not compact
        else posting.title
    )
    details = [pay_text(posting.pay, texts, compact)] if posting.pay else []
    day = closing_day(posting, texts, compact)
    if day:
        details.append(texts.text("jobs.item_closes", day=day))
    line = (
        texts.text("jobs.item", head=head, details=", ".join(details))
        if details
        else texts.text("jobs.item_bare", head=head)
    )
    return line if dash else line[2:] if line.startswith("- ") else line


def _list_text(
    heading: str,
    postings: Sequence[Posting],
    shown: int,
    texts: Messages,
    url: Optional[str],
    compact: bool,
    department: bool,
) -> str:
    lines = [heading, *(item_line(p, texts, compact, department=department) for p in postings[:shown])]
    more = len(postings) - shown
    if compact:
        if more and url:
            lines.append(texts.plural("jobs.more_compact", more, url=url))
        elif not more:
            lines.extend(careers_line(url, texts))
        return "\n".join(lines)
    if more:
        lines.append(texts.plural("jobs.more", more))
    return "\n".join([*lines, *careers_line(url, texts)])


def list_answer(
    heading: str,
    postings: Sequence[Posting],
    texts: Messages,
    careers_url: Optional[str],
    compact: bool = False,
    department: bool = True,
) -> JobsAnswer:
    """A heading and at most three postings, then how many more and the careers page.

    On SMS (`compact`) each posting takes one short line, and fewer are shown when
    three would not fit in two segments. `department=False`: the heading names it.
    """
    shown = min(MAX_SHOWN, len(postings))
    text = _list_text(heading, postings, shown, texts, careers_url, compact, department)
    while compact and shown > 1 and sms_segments(text) > SMS_SEGMENTS:
        shown -= 1
        text = _list_text(heading, postings, shown, texts, careers_url, compact, department)
    return JobsAnswer(text, list(postings[:shown]), len(postings) - shown)


def department_heading(departments: Sequence[str], count: int, texts: Messages) -> str:
    return texts.plural("jobs.heading.department", count, department=departments_label(departments, texts))


def kind_heading(kind: str, count: int, texts: Messages) -> str:
    return texts.plural(f"jobs.heading.{kind}", count)


def keyword_heading(keyword: str, count: int, texts: Messages) -> str:
    return texts.plural("jobs.heading.keyword", count, keyword=keyword.strip())


def department_answer(
    departments: Sequence[str],
    postings: Sequence[Posting],
    hiring: Sequence[str],
    texts: Messages,
    careers_url: Optional[str],
    compact: bool = False,
) -> JobsAnswer:
    """A department's postings; with none named, the departments hiring (`hiring`)."""
    if not departments:
        text = texts.text("jobs.unknown_department", departments=departments_label(hiring, texts))
        return JobsAnswer("\n".join([text, *careers_line(careers_url, texts)]))
    if not postings:
        text = texts.text("jobs.none.department", department=departments_label(departments, texts))
        return JobsAnswer("\n".join([text, *careers_line(careers_url, texts)]))
    heading = department_heading(departments, len(postings), texts)
    return list_answer(heading, postings, texts, careers_url, compact, department=len(departments) > 1)


def kind_answer(
    kind: str, postings: Sequence[Posting], texts: Messages, careers_url: Optional[str], compact: bool = False
) -> JobsAnswer:
    """The postings of a kind (part-time, internship, summer or seasonal, full-time)."""
    if not postings:
        return JobsAnswer("\n".join([texts.text(f"jobs.none.{kind}"), *careers_line(careers_url, texts)]))
    return list_answer(kind_heading(kind, len(postings), texts), postings, texts, careers_url, compact)


def keyword_answer(
    keyword: str, postings: Sequence[Posting], texts: Messages, careers_url: Optional[str], compact: bool = False
) -> JobsAnswer:
    """The postings with a resident's keyword ("driver", "biblioteca")."""
    if not postings:
        none = texts.text("jobs.none.keyword", keyword=keyword.strip())
        return JobsAnswer("\n".join([none, *careers_line(careers_url, texts)]))
    return list_answer(keyword_heading(keyword, len(postings), texts), postings, texts, careers_url, compact)


def details_answer(posting: Posting, texts: Messages, careers_url: Optional[str], compact: bool = False) -> str:
    """One posting: department, kind, pay, closing date, where, how to apply (on SMS, one line)."""
    url = posting.apply_url or careers_url
    if compact and url:
        line = item_line(posting, texts, compact=True, dash=False)
        title, _, details = line.partition(": ")
        if details:
            return texts.text("jobs.details.compact", title=title, details=details, url=url)
    lines = [texts.text("jobs.details.title", title=posting.title)]
    if posting.department:
        lines.append(texts.text("jobs.details.department", department=department_label(posting.department, texts)))
    if posting.kinds:
        kinds = format_list([texts.text(f"jobs.kind.{kind}") for kind in posting.kinds], locale=texts.locale)
        lines.append(texts.text("jobs.details.kinds", kinds=kinds))
    pay = posting.pay
    lines.append(texts.text("jobs.details.pay", pay=pay_text(pay, texts)) if pay else texts.text("jobs.details.no_pay"))
    day = closing_day(posting, texts)
    lines.append(texts.text("jobs.details.closes", day=day) if day else texts.text("jobs.details.no_closing"))
    if posting.location:
        lines.append(texts.text("jobs.details.location", location=posting.location))
    if url:
        lines.append(texts.text("jobs.details.apply", url=url))
    return "\n".join(lines)


def alert_text(posting: Posting, texts: Messages, careers_url: Optional[str], compact: bool = False) -> str:
    """A job alert: the new posting in one line, where to apply, how to stop the alerts."""
    url = posting.apply_url or careers_url or ""
    item = item_line(posting, texts, compact=compact, dash=False)
    message = texts.text("jobs.alert.message", city=city_name(texts.language), item=item, url=url)
    return f"{message}\n{texts.text('jobs.alert.stop')}"
