"""The retention limit: what the city promises residents, unless RETENTION_DAYS says otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.retention.policy import DEFAULT_DAYS, promised_days, retention_days

ROOT = Path(__file__).resolve().parents[3]
SHARED_CITY = ROOT.parent / "shared" / "city" / "riverton.yml"


def city_file(tmp_path: Path, privacy_facts: list) -> str:
    path = tmp_path / "city.yml"
    path.write_text(
        yaml.safe_dump({"jurisdiction": {"name": "Elsewhere"}, "faq": {"privacy": {"facts": privacy_facts}}})
    )
    return str(path)


def test_the_default_is_the_promise_residents_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RETENTION_DAYS", raising=False)
    monkeypatch.delenv("CITY_FILE", raising=False)
    assert promised_days(str(SHARED_CITY)) == promised_days() == retention_days() == 90
    answers = yaml.safe_load((ROOT / "data" / "nlu" / "faq.yml").read_text())["responses"]["utter_faq/privacy"]
    assert [("90 days" in a["text"]) or ("90 días" in a["text"]) for a in answers] == [True] * len(answers)


def test_another_citys_promise_and_a_city_that_promises_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RETENTION_DAYS", raising=False)
    monkeypatch.setenv("CITY_FILE", city_file(tmp_path, ["transcripts are kept for 30 days unless part of a request"]))
    promised_days.cache_clear()
    try:
        assert retention_days() == 30
        assert promised_days(city_file(tmp_path, ["we value your privacy"])) is None
        monkeypatch.setenv("CITY_FILE", city_file(tmp_path, ["we value your privacy"]))
        promised_days.cache_clear()
        assert retention_days() == DEFAULT_DAYS
    finally:
        promised_days.cache_clear()


def test_retention_days_wins_and_must_be_a_positive_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETENTION_DAYS", "30")
    assert retention_days() == 30
    monkeypatch.setenv("RETENTION_DAYS", "0")
    with pytest.raises(ValueError, match="RETENTION_DAYS"):
        retention_days()
    with pytest.raises(ValueError, match="RETENTION_DAYS"):
        monkeypatch.setenv("RETENTION_DAYS", "ninety")
