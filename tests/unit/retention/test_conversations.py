"""Job alert subscribers are kept like crisis alert subscribers; a forgotten resident's job alerts go with them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.db.engine import database, utcnow
from bot.db.schema import job_notifications, job_subscriptions
from bot.retention.conversations import alert_subscribers, forget_residents

pytestmark = pytest.mark.usefixtures("fresh_sqlite")


def test_job_subscribers_keep_their_contact_and_the_forgotten_lose_their_job_alerts():
    now = utcnow()
    with database().engine.begin() as connection:
        connection.execute(
            job_subscriptions.insert().values(
                sender_id="sms-jobs", channel="sms", language="en", department="Public Works", created_at=now
            )
        )
        connection.execute(
            job_notifications.insert(),
            [
                dict(
                    posting_id="2027-0150",
                    sender_id=sender_id,
                    language="en",
                    posting="{}",
                    state="sent",
                    attempts=1,
                    next_attempt_at=now,
                    created_at=now,
                )
                for sender_id in ("sms-jobs", "sms-gone")
            ],
        )
        assert alert_subscribers(connection, ["sms-jobs", "sms-gone"]) == {"sms-jobs"}
        counts = forget_residents(connection, {"sms-gone": "anon-1"}, now - timedelta(days=90))
        assert counts["notifications_deleted"] == 1
        left = connection.execute(sa.select(job_notifications.c.sender_id)).scalars().all()
    assert left == ["sms-jobs"]
