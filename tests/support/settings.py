"""bot.settings as a freshly started process would read it, for every test."""

from typing import Any, Iterator

import pytest

from bot.settings import reload_settings


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """bot.settings rebuilt at each test's start and whenever it changes a variable through monkeypatch.

    A process reads its settings once; a test changing the environment stands
    for a process started with that environment.
    """
    for name in ("setenv", "delenv"):
        original = getattr(monkeypatch, name)

        def changed(*args: Any, _original: Any = original, **kwargs: Any) -> None:
            _original(*args, **kwargs)
            reload_settings()

        monkeypatch.setattr(monkeypatch, name, changed)
    reload_settings()
    yield
