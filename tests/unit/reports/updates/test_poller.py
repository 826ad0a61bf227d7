"""A status change reaches each follower in their own stored language."""

from __future__ import annotations

from typing import List

import pytest

from bot.db.engine import reset_database
from bot.i18n.store import remember_language
from bot.open311.models import ServiceRequest
from bot.reports.updates.poller import poll_back_office
from bot.reports.updates.store import pending_notifications, subscribe


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
