"""The systemd units in deploy/systemd run the stack's own processes, restarted, hardened, and are valid."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest

from bot.process.procs import PROJECT_ROOT
from bot.process.stack import StackConfig
from bot.process.stack_processes import stack_processes

UNITS = PROJECT_ROOT / "deploy" / "systemd"
COMMON = UNITS / "citybot-.service.d" / "10-common.conf"
INSTALL_DIR = "/opt/citybot"
SERVICES = sorted(UNITS.glob("citybot-*.service"))
REQUIRED_SERVICE_SETTINGS = {
    "User": "citybot",
    "EnvironmentFile": "/etc/citybot/env",
    "Restart": "on-failure",
    "KillMode": "control-group",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ReadWritePaths": "/var/lib/citybot",
    "PrivateTmp": "yes",
}


def read_unit(*paths: Path) -> Dict[str, Dict[str, List[str]]]:
    """Sections -> keys -> values of a unit and its drop-ins, in the order systemd reads them."""
    merged: Dict[str, Dict[str, List[str]]] = {}
    for path in paths:
        parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
        parser.optionxform = str  # keys are case-sensitive
        parser.read(path)
        for section in parser.sections():
            for key, value in parser.items(section):
                merged.setdefault(section, {}).setdefault(key, []).append(value)
    return merged


def test_there_is_one_unit_for_each_process_of_the_stack():
    # The action server's unit is for ACTIONS_IN_PROCESS=0: by default the Rasa server runs the actions.
    setups = (StackConfig(), StackConfig(actions_in_process=False))
    names = {process.name for config in setups for process in stack_processes(config)}
    assert {path.name.removeprefix("citybot-").removesuffix(".service") for path in SERVICES} == names
    assert (UNITS / "citybot.target").exists()


@pytest.mark.parametrize("path", SERVICES, ids=lambda path: path.name)
def test_each_unit_serves_its_process_restarted_and_hardened(path: Path):
    unit = read_unit(path, COMMON)
    name = path.name.removeprefix("citybot-").removesuffix(".service")
    assert unit["Service"]["ExecStart"] == [f"{INSTALL_DIR}/.venv/bin/citybot serve {name}"]
    for key, value in REQUIRED_SERVICE_SETTINGS.items():
        assert unit["Service"].get(key) == [value], key
    assert unit["Install"]["WantedBy"] == ["citybot.target"]
    assert unit["Unit"]["PartOf"] == ["citybot.target"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units(tmp_path: Path):
    """`systemd-analyze verify` with this checkout as the install folder (it checks that ExecStart exists)."""
    copy = tmp_path / "systemd"
    shutil.copytree(UNITS, copy)
    for path in [*copy.glob("*.service"), *copy.glob("*.d/*.conf")]:
        path.write_text(path.read_text().replace(INSTALL_DIR, str(PROJECT_ROOT)))
    result = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(path) for path in copy.glob("citybot*.*") if path.is_file())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if not re.match(r"^\s*$", line)]
    assert result.returncode == 0 and complaints == [], complaints
