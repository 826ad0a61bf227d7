"""Search: what staff type, read tolerantly, and the conversations it finds in real SQLite databases.

Each test has its own var folder: the assistant's database (reports, handoffs,
languages) and Rasa's tracker store, written by Rasa's own SQLTrackerStore.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

import pytest

from bot.channels.identity import sender_id_for
from bot.db.engine import database
from bot.db.schema import report_outbox
from bot.handoff import pages, store
from bot.handoff.search import SearchError, SearchQuery, as_reference, parse_query, search
from bot.i18n.store import remember_language
from bot.reports.outbox import FILED, PENDING
from tests.support.tracker_store import DAY, record, said

ZONE = ZoneInfo("America/Chicago")
CHANNELS = pages.CHANNEL_NAMES


def query(**fields: str) -> SearchQuery:
    return parse_query(fields, ZONE, CHANNELS)


async def report(reference: str, sender_id: Optional[str], at: datetime, number: Optional[str] = None) -> None:
    """A report as the outbox stores it: filed with the city's number, or still pending."""
    values = dict(
        reference=reference,
        idempotency_key=reference,
        sender_id=sender_id,
        service_code="POTHOLE",
        service_name="Pothole",
        fields=json.dumps({"description": "deep [ref " + reference + "]"}),
        state=FILED if number else PENDING,
        attempts=1,
        next_attempt_at=at,
        service_request_id=number,
        created_at=at,
        resident_told=True,
        language="en",
    )
    await database().run(lambda c: c.execute(report_outbox.insert().values(**values)))


# --- what staff type ---------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["R-KVJ88H", "r-kvj88h", " R-KVJ88H ", "R KVJ88H", "rkvj88h", "r - kvj 88h"])
def test_a_reference_is_read_whatever_its_case_and_spaces(typed: str) -> None:
    asked = query(q=typed)
    assert asked.reference == "R-KVJ88H" and asked.term == typed.strip()


def test_anything_else_is_a_request_number_and_the_dates_are_the_citys_days() -> None:
    asked = query(q=" #ab 1234 ", channel="sms", **{"from": "2026-03-01", "to": "2026-03-02"})
    assert (asked.reference, asked.number, asked.channel) == (None, "AB1234", "sms")
    assert asked.start == datetime(2026, 3, 1, tzinfo=ZONE)
    assert asked.end == datetime(2026, 3, 3, tzinfo=ZONE)  # the "to" day included
    assert asked.start.utcoffset() == timedelta(hours=-6)
    assert as_reference("R-KVJ88") is None and as_reference("X-KVJ88H") is None
    assert query().empty and not query(channel="rest").empty


@pytest.mark.parametrize(
    "fields, problem",
    [
        ({"from": "31/05/2026"}, "From must be a date"),
        ({"to": "yesterday"}, "To must be a date"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "after the 'to' date"),
        ({"channel": "fax"}, "Choose a channel"),
        ({"q": "x" * 65}, "at most 64 characters"),
    ],
)
def test_what_cannot_be_searched_says_why(fields: dict, problem: str) -> None:
    with pytest.raises(SearchError, match=problem):
        query(**fields)


# --- what a search finds -----------------------------------------------------------------


async def test_a_reference_or_a_request_number_finds_the_conversation_with_its_reports(var_dir: Path) -> None:
    sms = sender_id_for("sms", "+15550100")
    await record(f"sqlite:///{var_dir / 'rasa.db'}", sms, said("pothole on Elm", DAY, "twilio"))
    await remember_language(sms, "es")
    await report("R-KVJ88H", sms, DAY + timedelta(minutes=5), number="City 1042")
    await report("R-PPPPPP", sms, DAY + timedelta(minutes=9))
    await report("R-OTHER2", "resident-else", DAY, number="1043")

    for typed in ("r-kvj88h", " R-KVJ88H ", "city1042", "CITY 1042"):
        (found,) = (await search(query(q=typed))).conversations
        assert found.sender_id == sms and (found.channel, found.language) == ("sms", "es")
        assert (found.first_at, found.last_at) == (DAY, DAY)
        assert [(r.reference, r.matched) for r in found.reports] == [("R-KVJ88H", True), ("R-PPPPPP", False)]
        assert found.reports[0].service_request_id == "City 1042" and found.handoffs == []
        assert found.link == f"/console/conversations/{found.span.key}"  # no handoff: its transcript
    assert (await search(query(q="R-PPPPPP"))).conversations[0].sender_id == sms  # a report not filed yet
    assert (await search(query(q="R-ZZZZZZ"))).conversations == []
    assert (await search(query(q="#"))).conversations == []  # not every report without a number
    assert (await search(query(q="R-KVJ88H", channel="telegram"))).conversations == []
    assert (await search(query(q="R-KVJ88H", **{"from": "2026-03-03"}))).conversations == []

    handoff, _ = await store.open_handoff(sms, "sms", store.ASKED)
    (found,) = (await search(query(q="R-KVJ88H"))).conversations
    assert [h.id for h in found.handoffs] == [handoff.id] and found.link == f"/console/handoffs/{handoff.id}"


async def test_a_channel_and_dates_find_the_conversations_residents_wrote_in_then(var_dir: Path) -> None:
    tracker = f"sqlite:///{var_dir / 'rasa.db'}"
    telegram = sender_id_for("telegram", "4242")
    await record(tracker, "resident-rest", said("hello", DAY, "rest"))
    await record(tracker, telegram, said("hi", DAY + timedelta(days=1), "telegram"))
    await report("R-TELEG2", telegram, DAY + timedelta(days=1), number="77")

    every = (await search(query(channel="", **{"from": "2026-03-01"}))).conversations
    assert [f.sender_id for f in every] == [telegram, "resident-rest"]  # latest first
    assert [r.reference for r in every[0].reports] == ["R-TELEG2"] and not every[0].reports[0].matched
    assert [f.sender_id for f in (await search(query(channel="telegram"))).conversations] == [telegram]
    on_the_day = (await search(query(**{"from": "2026-03-02", "to": "2026-03-02"}))).conversations
    assert [f.sender_id for f in on_the_day] == ["resident-rest"]
    assert (await search(query())).conversations == []  # nothing asked, nothing listed


async def test_a_report_outside_any_conversation_and_a_missing_tracker_store(var_dir: Path) -> None:
    await report("R-NOCONV", None, DAY, number="501")
    results = await search(query(q="501"))
    (found,) = results.conversations
    assert found.sender_id is None and found.link is None and [r.reference for r in found.reports] == ["R-NOCONV"]

    await report("R-LOSTTR", "resident-x", DAY)
    results = await search(query(q="R-LOSTTR"))  # Rasa never stored anything here
    (found,) = results.conversations
    assert found.span is None and found.first_at == DAY and results.problem and "missing" in results.problem
    listed = await search(query(channel="rest"))
    assert listed.conversations == [] and "cannot be listed" in (listed.problem or "")
    assert not (var_dir / "rasa.db").exists()


async def test_results_past_the_limit_are_said(var_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.handoff import search as search_module

    monkeypatch.setattr(search_module, "RESULT_LIMIT", 2)
    for number in range(3):
        await record(f"sqlite:///{var_dir / 'rasa.db'}", f"resident-{number}", said("hi", DAY, "rest"))
    results = await search(query(channel="rest"))
    assert len(results.conversations) == 2 and results.more


def test_the_search_page_shows_what_was_asked_and_found_escaped() -> None:
    asked = query(q="<b>R-KVJ88H</b>")
    page = pages.search_page(asked, None, "dana", "csrf")
    assert 'value="&lt;b&gt;R-KVJ88H&lt;/b&gt;"' in page and "<b>R-KVJ88H" not in page
    assert '<label for="q">Report reference or city request number</label>' in page
    assert "<title>Search - " in page and 'href="/console/search"' in page
    assert "Results" not in page  # no search ran
