"""The running Rasa server's log, read from where a test started (to check it logged no error)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class RasaLog:
    """The part of the Rasa server's log written since a test started."""

    def __init__(self, stack: Any) -> None:
        self.path: Path = stack.var_dir / "logs" / "rasa.log"
        self.start = self.path.stat().st_size

    def new_text(self) -> str:
        with self.path.open("rb") as log:
            log.seek(self.start)
            return log.read().decode("utf-8", "replace")
