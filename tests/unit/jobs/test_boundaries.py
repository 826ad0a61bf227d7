"""What the actions will call of bot.jobs loads no channel (the action server never does; the worker sends)."""

from __future__ import annotations

import pytest

from tests.unit.test_import_boundaries import modules_loaded_by


@pytest.mark.parametrize(
    "module", ["bot.jobs.queries", "bot.jobs.texts", "bot.jobs.subscriptions", "bot.jobs.departments"]
)
def test_the_modules_actions_call_import_no_channel(module: str):
    assert modules_loaded_by(module, "bot.channels") == []
