"""The console's alerts list and an alert's page say where its Facebook Page post stands, in the same words."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Dict, Optional

import pytest

from bot.alerts.page_post import FAILED, PENDING, PUBLISHED, UNCONFIRMED, PagePost
from bot.alerts.store import DONE, DRAFT, Alert, AlertStatus, Preview
from bot.handoff.alert_pages import alert_page, alerts_page

NOW = datetime(2026, 12, 6, 21, 0, tzinfo=timezone.utc)
POST_ID = "104000000000001_998877665544"


def alert(alert_id: int, state: str = DONE, page: bool = True) -> Alert:
    return Alert(
        id=alert_id,
        topic="weather",
        zone="north",
        severity="warning",
        text="Severe storm tonight: stay indoors.",
        created_by="ana",
        created_at=NOW,
        state=state,
        approved_by="bo",
        approved_at=NOW,
        sent_by="ana" if state != DRAFT else None,
        sent_at=NOW if state != DRAFT else None,
        publish_to_page=page,
    )


def post(alert_id: int, state: str, attempts: int = 1, error: Optional[str] = None) -> PagePost:
    published = state == PUBLISHED
    return PagePost(
        alert_id,
        state,
        attempts,
        NOW + timedelta(minutes=2),
        POST_ID if published else None,
        NOW if published else None,
        error,
    )


STATUSES = {
    1: AlertStatus(alert(1, page=False)),
    2: AlertStatus(alert(2, state=DRAFT)),
    3: AlertStatus(alert(3), page_post=post(3, PENDING, attempts=0)),
    4: AlertStatus(alert(4), page_post=post(4, PENDING, error="GraphSendError: HTTP 500")),
    5: AlertStatus(alert(5), page_post=post(5, PUBLISHED, attempts=2)),
    6: AlertStatus(alert(6), page_post=post(6, FAILED, error="GraphSendError: (#200) Requires pages_manage_posts")),
    7: AlertStatus(alert(7), page_post=post(7, UNCONFIRMED, error="no answer from Meta")),
}


def page_cells(html: str) -> Dict[int, str]:
    """Each row's Facebook Page cell, as markup."""
    rows = re.findall(r'<tr data-alert="(\d+)">(.*?)</tr>', html, re.S)
    cells = {int(key): re.search(r'<td class="page-post">(.*?)</td>', row, re.S) for key, row in rows}
    return {key: found.group(1).strip() for key, found in cells.items() if found}


@pytest.mark.usefixtures("city")
def test_the_list_shows_each_alerts_page_post_as_its_own_page_does() -> None:
    listed = alerts_page([s.alert for s in STATUSES.values()], STATUSES, "ana", "csrf", "supervisor")
    cells = page_cells(listed)
    assert sorted(cells) == sorted(STATUSES)
    assert "Not posted: not chosen for the Page." in cells[1]
    assert "Posted once it is approved and sent." in cells[2]
    assert "Waiting for the worker." in cells[3]
    assert "Waiting for the worker: attempt 1 failed (GraphSendError: HTTP 500), next attempt" in cells[4]
    assert f'post <a href="https://www.facebook.com/{POST_ID}">{POST_ID}</a>' in cells[5]
    assert "Not published after 1 attempt: GraphSendError: (#200) Requires pages_manage_posts" in cells[6]
    assert "Unconfirmed: no answer from Meta." in cells[7]
    assert "role=" not in "".join(cells.values())  # a list read on arrival: no live announcements

    for alert_id in (2, 4, 5, 6, 7):  # the alert's own page: the same words, announced
        status = STATUSES[alert_id]
        preview = Preview("weather", "north", {}, 0) if status.alert.is_draft else None
        own = alert_page(status.alert, preview, status, 0, "ana", "csrf", "supervisor")
        section = re.search(r'<section[^>]*id="page-post">.*?</h2>\s*(<p.*?</p>)', own, re.S)
        assert section, own
        assert re.sub(r' role="\w+"', "", section.group(1)) in cells[alert_id]
        assert alert_id == 2 or 'role="' in section.group(1)
