"""Browser fixtures: Debian's chromium driven by Playwright's sync API, plus axe-core.

The fixtures are registered for every test by tests/conftest.py; `run_async` runs
coroutines inside a browser test. Tests that use `page` are plain `def` functions.

One chromium serves the whole session. Playwright's sync API marks its own asyncio
loop as running in the main thread while it is in use, which breaks every
pytest-asyncio test (and `asyncio.run`) that comes after it; so the mark is set
only while a `page` is open and cleared again afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Coroutine, Dict, Iterator, List, Optional, TypeVar

import pytest

from bot.process.procs import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPORTS = PROJECT_ROOT / "reports"
PHONE = {"width": 375, "height": 667}
T = TypeVar("T")


class BrowserSession:
    """A running chromium; `active()` lends it to one test at a time."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._loop = asyncio._get_running_loop()
        try:
            # Playwright gives the browser a new temporary profile: nothing of the machine's is used.
            self.browser = self._playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
        finally:
            self._release()

    def _release(self) -> None:
        asyncio._set_running_loop(None)

    @contextlib.contextmanager
    def active(self) -> Iterator[Any]:
        """The browser, with Playwright's loop marked running for the duration."""
        asyncio._set_running_loop(self._loop)
        try:
            yield self.browser
        finally:
            self._release()

    def close(self) -> None:
        with self.active():
            self.browser.close()
            self._playwright.stop()


@pytest.fixture(scope="session")
def browser_session() -> Iterator[BrowserSession]:
    """Debian's chromium, started once; fails (never skips) when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium for the browser tests")
    session = BrowserSession()
    yield session
    session.close()


@pytest.fixture
def page(browser_session: BrowserSession) -> Iterator[Any]:
    """A fresh tab in a fresh context (no cookies or storage from other tests)."""
    with browser_session.active() as browser:
        context = browser.new_context(viewport={"width": 1024, "height": 768})
        context.set_default_timeout(15_000)
        tab = context.new_page()
        try:
            yield tab
        finally:
            context.close()


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from a browser test (the main thread's loop belongs to Playwright)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def serious_violations(page: Any, context: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1 A and AA violations of impact serious or critical on the page."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}
    results = Axe().run(page, context=context, options=options)
    return [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


def describe(violations: List[Dict[str, Any]]) -> str:
    """A readable list of violations for an assertion message."""
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} -> " + ", ".join(str(n["target"]) for n in v["nodes"][:5])
        for v in violations
    )


def screenshot(page: Any, name: str, full_page: bool = True) -> Path:
    """Save a screenshot under reports/ (the whole page, or what the viewport shows)."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    path = REPORTS / name
    page.screenshot(path=str(path), full_page=full_page)
    return path
