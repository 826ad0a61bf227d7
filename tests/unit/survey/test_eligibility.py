"""When the survey may be asked: once, never in a form, inside the channel's window."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.survey.eligibility import inside_window, may_ask

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)


def test_asked_once_per_conversation() -> None:
    assert may_ask(None, None, "webchat", NOW, NOW)
    assert not may_ask("request:R-ABC123", None, "webchat", NOW, NOW)


def test_never_during_a_form() -> None:
    assert not may_ask(None, "service_request_form", "sms", NOW, NOW)
    assert not may_ask(None, "status_form", "sms", NOW, NOW)


@pytest.mark.parametrize("channel", ["whatsapp", "messenger", "instagram"])
def test_meta_channels_only_within_24_hours_of_the_residents_last_message(channel: str) -> None:
    assert inside_window(channel, NOW - timedelta(hours=23, minutes=59), NOW)
    assert not inside_window(channel, NOW - timedelta(hours=24), NOW)
    assert not inside_window(channel, None, NOW)
    assert not may_ask(None, None, channel, NOW - timedelta(days=2), NOW)  # not with Messenger's HUMAN_AGENT tag


def test_other_channels_have_no_window() -> None:
    for channel in ("sms", "telegram", "webchat", "rest"):
        assert inside_window(channel, NOW - timedelta(days=30), NOW)
