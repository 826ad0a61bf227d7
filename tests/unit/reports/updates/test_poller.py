"""A status change reaches each follower in their own stored language."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Dict, List, Optional

import pytest
import sqlalchemy as sa

from bot.db.engine import database, reset_database, utcnow
from bot.db.schema import report_outbox
from bot.handoff.store import aware
from bot.i18n.store import remember_language
from bot.open311.models import ServiceRequest
from bot.reports.outbox import FILED
from bot.reports.updates.poller import poll_back_office
from bot.reports.updates.store import pending_notifications, record_changes, subscribe
from tests.support.dashboard import report


@pytest.fixture(autouse=True)
def fresh_database(tmp_path, monkeypatch):
    monkeypatch.setenv("CITYBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    reset_database()
    yield
    reset_database()


class BackOffice:
    """Answers the poller with the requests as they are now."""

    def __init__(self, requests: List[ServiceRequest]) -> None:
        self.requests = requests

    async def list_requests(self, service_request_ids: List[str]) -> List[ServiceRequest]:
        return [r for r in self.requests if r.service_request_id in service_request_ids]


async def test_each_follower_reads_the_update_in_their_language():
    before = ServiceRequest(service_request_id="1042", status="open", service_name="Pothole", service_code="POTHOLE")
    for sender in ("ana", "bob", "carla"):
        await subscribe(sender, before)
    await remember_language("ana", "es")
    await remember_language("bob", "en")  # carla was never seen: the city's default
    after = ServiceRequest(
        service_request_id="1042", status="closed", status_notes="closed - fixed", service_code="POTHOLE"
    )
    assert await poll_back_office(BackOffice([after])) == 3  # type: ignore[arg-type]
    texts = {row.sender_id: row.text for row in await pending_notifications(10)}
    assert (
        texts["ana"].startswith("Novedades sobre su reporte: La solicitud 1042 (")
        and "está cerrada: closed - fixed." in texts["ana"]
    )
    assert (
        texts["bob"].startswith("Update on your report: Request 1042 (")
        and "is closed: closed - fixed." in texts["bob"]
    )
    assert texts["carla"] == texts["bob"]


async def filed(number: str) -> None:
    """A report the outbox filed as request `number`."""
    values = report(f"R-{number}", "ana", "POTHOLE", "Pothole", utcnow(), FILED, number)
    await database().run(lambda c: c.execute(report_outbox.insert().values(**values)))


async def closed_at() -> Dict[str, Optional[datetime]]:
    rows = await database().run(
        lambda c: c.execute(sa.select(report_outbox.c.service_request_id, report_outbox.c.closed_at)).all()
    )
    return {row.service_request_id: aware(row.closed_at) for row in rows}


async def test_a_report_is_stamped_closed_when_the_poll_first_hears_it_closed():
    for number in ("1042", "1043"):
        await filed(number)
        await subscribe("ana", ServiceRequest(service_request_id=number, status="open"))
    before = utcnow()
    back_office = BackOffice(
        [ServiceRequest(service_request_id="1042", status="closed"), ServiceRequest(service_request_id="1043")]
    )
    await poll_back_office(back_office)  # type: ignore[arg-type]
    stamped = (await closed_at())["1042"]
    assert stamped is not None and before <= stamped <= utcnow()
    assert (await closed_at())["1043"] is None  # still open

    # Reopened, then closed again later: the first close stays (the back office's time to close).
    later = datetime(2030, 1, 1, tzinfo=timezone.utc)
    await record_changes([ServiceRequest(service_request_id="1042", status="open")], lambda r, s: "open", now=later)
    await record_changes(
        [ServiceRequest(service_request_id="1042", status="closed")],
        lambda r, s: "closed",
        now=later + timedelta(days=1),
    )
    await record_changes([ServiceRequest(service_request_id="1043", status="closed")], lambda r, s: "closed", now=later)
    assert await closed_at() == {"1042": stamped, "1043": later}
