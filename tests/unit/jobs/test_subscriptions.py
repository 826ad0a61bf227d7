"""Job subscriptions: one department or keyword each, kept once, ended in one call; counted for the console."""

from __future__ import annotations

import pytest

from bot.jobs.postings import Posting
from bot.jobs.subscriptions import (
    JobSubscription,
    job_subscriber_count,
    job_subscriptions_of,
    subscribe_to_jobs,
    unsubscribe_from_jobs,
)


async def test_subscribe_once_then_unsubscribe_one_or_all():
    assert await subscribe_to_jobs("webchat-a", "webchat", "en", department="Parks and Recreation")
    assert not await subscribe_to_jobs("webchat-a", "webchat", "es", department="Parks and Recreation")
    assert await subscribe_to_jobs("webchat-a", "webchat", "es", keyword="  Driver ")
    assert await subscribe_to_jobs("sms-b", "sms", "es", keyword="biblioteca")
    assert await job_subscriptions_of("webchat-a") == [
        JobSubscription("webchat-a", "webchat", "es", "Parks and Recreation", None),  # the language given last
        JobSubscription("webchat-a", "webchat", "es", None, "driver"),
    ]
    assert await job_subscriber_count() == 2
    assert await unsubscribe_from_jobs("webchat-a", keyword="driver") == 1
    assert await unsubscribe_from_jobs("webchat-a", keyword="driver") == 0
    assert await unsubscribe_from_jobs("sms-b") == 1
    assert await job_subscriber_count() == 1


async def test_a_subscription_is_for_a_department_or_a_keyword():
    with pytest.raises(ValueError):
        await subscribe_to_jobs("webchat-a", "webchat", "en")
    with pytest.raises(ValueError):
        await subscribe_to_jobs("webchat-a", "webchat", "en", department="Public Works", keyword="driver")


def test_what_a_subscription_wants():
    operator = Posting("1", "Equipment Operator II", department="Public Works", description="Drive snow plows.")
    assert JobSubscription("s", "sms", "en", "Public Works", None).wants(operator)
    assert not JobSubscription("s", "sms", "en", "Parks and Recreation", None).wants(operator)
    assert JobSubscription("s", "sms", "es", None, "chofer").wants(operator)
    assert not JobSubscription("s", "sms", "en", None, "library").wants(operator)
