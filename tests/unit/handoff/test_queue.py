"""The queue staff notice: each resident's latest message, the newest arrival, the count in the title, urgent first.

The live parts read real SQLite databases: the assistant's (handoffs) and Rasa's
tracker store (written by Rasa's own SQLTrackerStore).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import List

from bot.handoff import pages, store
from bot.handoff.console import queue
from bot.handoff.store import CLAIMED, WAITING, Handoff
from bot.handoff.tracker_events import LatestMessage
from tests.support.tracker_store import DAY, record, said


def handoff(handoff_id: int, minutes: int, state: str = WAITING, urgent: bool = False) -> Handoff:
    at = DAY + timedelta(minutes=minutes)
    return Handoff(
        handoff_id,
        f"resident-{handoff_id}",
        "webchat",
        store.ASKED,
        state,
        at,
        at,
        "dana" if state == CLAIMED else None,
        at if state == CLAIMED else None,
        None,
        None,
        None,
        urgent_at=at if urgent else None,
    )


def rows(page: str) -> List[str]:
    return [line for line in page.splitlines() if line.startswith("<tr data-handoff=")]


def test_rows_show_the_latest_message_cut_and_escaped_and_mark_the_newest() -> None:
    items = [handoff(1, 0), handoff(2, 5), handoff(3, 1, CLAIMED)]
    long = "<script>alert(1)</script> " + "very " * 60 + "end"
    latest = {"resident-1": LatestMessage(long, DAY), "resident-2": LatestMessage("Pothole on\nElm", DAY)}
    page = pages.queue_page(items, [], [], [], "dana", "csrf", latest=latest)
    first, second, claimed = rows(page)
    cell = re.search(r"<td class=\"latest\" data-latest>(.*?)</td>", first).group(1)
    assert cell.startswith("&lt;script&gt;alert(1)&lt;/script&gt; very") and "<script>" not in page
    assert cell.endswith("\u2026") and len(cell.replace("&lt;", "<").replace("&gt;", ">")) == pages.LATEST_CHARS
    assert '<td class="latest" data-latest>Pothole on Elm</td>' in second  # on one line
    assert "data-newest" in second and "Newest" in second  # the last to arrive, in words too
    assert "data-newest" not in first and "Newest" not in first and "data-newest" not in claimed
    assert "<title>(2) Queue - " in page  # two waiting; a claimed one is not counted
    assert "<title>Queue - " in pages.queue_page([handoff(3, 1, CLAIMED)], [], [], [], "dana", "csrf")
    assert 'id="arrival-alerts" class="alerts" hidden' in page  # the script shows the switches


def test_the_live_queue_carries_the_same_and_the_count() -> None:
    items = [handoff(1, 0), handoff(2, 5, urgent=True)]
    data = json.loads(pages.queue_json(items, [], {}, {"resident-1": LatestMessage("x" * 500, DAY)}))
    one, two = data["items"]
    assert data["waiting"] == 2
    assert len(one["latest_message"]) == pages.LATEST_CHARS and two["latest_message"] == ""
    assert (one["newest"], two["newest"], two["urgent"]) == (False, True, True)
    assert two["urgent_text"] == "Urgent: emergency message"


async def test_urgent_ones_come_first_and_a_new_message_moves_the_fingerprint(var_dir: Path) -> None:
    tracker = f"sqlite:///{var_dir / 'rasa.db'}"
    await record(tracker, "resident-a", said("I want a person", DAY, "rest"))
    await record(tracker, "resident-b", said("talk to someone", DAY, "rest"))
    first, _ = await store.open_handoff("resident-a", "rest", store.ASKED)
    second, _ = await store.open_handoff("resident-b", "rest", store.ASKED)
    before = await queue.queue_fingerprint()
    await record(tracker, "resident-b", said("talk to someone", DAY, "rest"), said("I smell gas", DAY, "rest"))
    assert await queue.queue_fingerprint() != before  # a resident wrote: the live queue is sent again
    await store.mark_urgent(second.id)

    data = json.loads(await queue.queue_json())
    assert [(i["id"], i["urgent"], i["latest_message"]) for i in data["items"]] == [
        (second.id, True, "I smell gas"),  # urgent: on top, though it came later
        (first.id, False, "I want a person"),
    ]
    page = pages.queue_page(await store.open_handoffs(), [], [], [], "dana", "csrf")
    top = rows(page)[0]
    assert f'data-handoff="{second.id}"' in top and "data-urgent" in top and "Urgent: emergency message" in top


async def test_without_a_tracker_store_the_queue_still_works(var_dir: Path) -> None:
    await store.open_handoff("resident-a", "rest", store.ASKED)
    data = json.loads(await queue.queue_json())
    assert data["items"][0]["latest_message"] == "" and data["waiting"] == 1
    assert (await queue.queue_fingerprint()).endswith("|0")
    assert not (var_dir / "rasa.db").exists()
