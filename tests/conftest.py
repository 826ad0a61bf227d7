"""Settings for every test, and the shared fixtures (tests/support) registered once."""

import os

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

pytest_plugins = [
    "tests.support.settings",
    "tests.support.city",
    "tests.support.stack",
    "tests.support.conversation",
    "tests.support.open311",
    "tests.support.browser",
    "tests.support.handoff",
    "tests.support.databases",
]
