"""CPU time per message, part by part of a side's stack."""

from __future__ import annotations

import subprocess
import sys
import time
from types import SimpleNamespace
from typing import Any, Dict, List

from bench.cpu import LOAD_GENERATOR, add_usage, cpu_snapshot, ms_per_message, part_of
from bench.procfs import cpu_seconds

BUSY_THEN_IDLE = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\ntime.sleep(60)"


def test_every_rasa_process_counts_as_rasa() -> None:
    assert part_of("rasa") == part_of("rasa-2") == "rasa"
    assert part_of("actions") == "actions"


def test_usage_adds_up_over_rounds_and_is_divided_by_the_messages() -> None:
    used: Dict[str, float] = {}
    add_usage(used, {"rasa": 10.0, "actions": 2.0}, {"rasa": 12.0, "actions": 2.5})
    add_usage(used, {"rasa": 20.0, "actions": 5.0}, {"rasa": 21.0, "actions": 5.5})
    assert used == {"rasa": 3.0, "actions": 1.0}
    assert ms_per_message(used, 1000) == {"actions": 1.0, "rasa": 3.0}
    assert ms_per_message(used, 0) is None


def test_a_snapshot_reads_each_part_of_a_running_stack() -> None:
    children: List[Any] = [
        SimpleNamespace(name=name, popen=subprocess.Popen([sys.executable, "-c", BUSY_THEN_IDLE]))
        for name in ("rasa", "rasa-2", "actions")
    ]
    try:
        deadline = time.monotonic() + 30
        while any(cpu_seconds(c.popen.pid) < 0.3 for c in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        snapshot = cpu_snapshot(children + [SimpleNamespace(name="worker", popen=None)])
        assert set(snapshot) == {"rasa", "actions", LOAD_GENERATOR}
        assert snapshot["rasa"] >= 0.6 and snapshot["actions"] >= 0.3
    finally:
        for child in children:
            child.popen.kill()
            child.popen.wait()
