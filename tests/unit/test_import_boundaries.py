"""The action server loads no channel: actions reach residents only through stores the worker reads.

Each module is imported in a fresh interpreter, so what another test imported
first cannot hide (or cause) a dependency.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

ROOT = Path(__file__).resolve().parents[2]


def action_modules() -> List[str]:
    return sorted(f"actions.{path.stem}" for path in (ROOT / "actions").glob("*.py") if path.stem != "__init__")


def modules_loaded_by(module: str, prefix: str) -> List[str]:
    """The modules under `prefix` that importing `module` loads, in a new interpreter."""
    script = (
        "import importlib, json, sys; "
        f"importlib.import_module({module!r}); "
        f"print(json.dumps(sorted(m for m in sys.modules if m == {prefix!r} or m.startswith({prefix + '.'!r}))))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_actions_module_is_checked():
    assert {"actions.report_form", "actions.status", "actions.alerts"} <= set(action_modules())


@pytest.mark.parametrize("module", action_modules())
def test_an_actions_module_imports_no_channel(module: str):
    assert modules_loaded_by(module, "bot.channels") == []
