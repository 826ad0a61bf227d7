"""Rasa's own commands in the project root, with no environment at all."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from bot.process.procs import PROJECT_ROOT, venv_bin

pytestmark = pytest.mark.e2e


def test_rasa_shell_answers_in_the_project_root_with_no_environment(trained_model: Path, tmp_path: Path):
    """`rasa shell` with the project's own endpoints.yml and credentials.yml, no variable set.

    The shell never ends by itself once its input is over (it waits on a
    button prompt), so the test stops it when the answer is in.
    """
    clean = {key: os.environ[key] for key in ("PATH", "HOME", "PYTHONPATH") if key in os.environ}
    output = tmp_path / "shell.log"
    with output.open("w") as log:
        shell = subprocess.Popen(
            [venv_bin("rasa"), "shell", "--model", str(trained_model)],
            cwd=PROJECT_ROOT,
            env={**clean, "RASA_TELEMETRY_ENABLED": "false"},
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            shell.stdin.write("hello\n")
            shell.stdin.flush()
            deadline = time.monotonic() + 600
            while "311 assistant" not in output.read_text() and shell.poll() is None and time.monotonic() < deadline:
                time.sleep(1)
        finally:
            shell.kill()
            shell.wait()
    said = output.read_text()
    assert "Bot loaded" in said and "311 assistant" in said
    assert "unable to open database file" not in said  # the SQLite store in var/ worked
