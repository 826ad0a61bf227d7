"""Each side's model, cached under var/bench/ by what it was trained on, with its training time.

A change to the configuration, the domain, the data or the Rasa version
trains again; the training is timed on a cache of its own, so the time is
that of a whole training.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

from bench.paths import CACHE, DATA, DOMAIN
from bench.progress import say
from bot.process.procs import PROJECT_ROOT, venv_bin


def training_fingerprint(config: Path) -> str:
    """What a model depends on: the Rasa version, the configuration, the domain and the data."""
    import rasa

    digest = hashlib.sha256()
    digest.update(f"rasa {rasa.__version__}\n".encode())
    for path in [config, DOMAIN] + sorted(DATA.rglob("*.yml")):
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\n")
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class TrainedModel:
    side: str
    path: Path
    train_s: Optional[float]
    fingerprint: str
    reused: bool


def training_env() -> Dict[str, str]:
    return {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }


def ensure_model(side: str, config: Path, given: Optional[Path] = None, may_train: bool = True) -> TrainedModel:
    """The side's model for the current data: cached by fingerprint, else trained (and timed) now."""
    fingerprint = training_fingerprint(config)
    CACHE.mkdir(parents=True, exist_ok=True)
    model = CACHE / f"{side}-{fingerprint[:16]}.tar.gz"
    record = CACHE / f"{side}-{fingerprint[:16]}.json"
    recorded = json.loads(record.read_text()) if record.exists() else {}
    if given is not None:
        # A model this bench trained earlier keeps its record (training time, fingerprint) beside it.
        beside = given.with_name(given.name[: -len(".tar.gz")] + ".json") if given.name.endswith(".tar.gz") else None
        if beside is not None and beside.exists():
            recorded = json.loads(beside.read_text())
        matches = recorded.get("fingerprint") == fingerprint
        say(f"{side}: using the given model {given}" + ("" if matches else " (trained on other data than the current)"))
        return TrainedModel(side, given, recorded.get("train_s"), recorded.get("fingerprint") or "unknown", True)
    if model.exists() and recorded:
        say(f"{side}: reusing {model.name} (trained in {recorded['train_s']:.0f}s on the same config and data)")
        return TrainedModel(side, model, float(recorded["train_s"]), fingerprint, True)
    if not may_train:
        raise SystemExit(f"no {side} model for the current data in {CACHE} and --no-train was given")
    out = Path(tempfile.mkdtemp(prefix=f"train-{side}-", dir=CACHE))
    log_path = CACHE / f"train-{side}.log"
    say(f"{side}: training with {config.relative_to(PROJECT_ROOT)} (log: {log_path}); this takes minutes")
    # A training cache of its own: Rasa would otherwise reuse components cached by
    # earlier trainings, and the time would not be that of a whole training.
    env = {**training_env(), "RASA_CACHE_DIRECTORY": str(out / "cache")}
    started = time.monotonic()
    with open(log_path, "wb") as log:
        subprocess.run(
            [
                venv_bin("rasa"),
                "train",
                "--config",
                str(config),
                "--domain",
                str(DOMAIN),
                "--data",
                str(DATA),
                "--out",
                str(out),
                "--fixed-model-name",
                side,
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
        )
    train_s = time.monotonic() - started
    for old in CACHE.glob(f"{side}-*.tar.gz"):
        old.unlink()
    for old in CACHE.glob(f"{side}-*.json"):
        old.unlink()
    shutil.move(str(out / f"{side}.tar.gz"), model)
    shutil.rmtree(out, ignore_errors=True)
    record.write_text(json.dumps({"train_s": round(train_s, 1), "fingerprint": fingerprint, "config": str(config)}))
    say(f"{side}: trained in {train_s:.0f}s")
    return TrainedModel(side, model, train_s, fingerprint, False)
