"""Patch: the copies Rasa makes for its debug logs are made only when those logs are written.

Rasa 3.6 passes `copy.deepcopy(...)` of events, slots, states and messages to
`structlogger.debug` several times a turn, in the message processor, the form
action and the rule policy. The copy is made before the call, so it costs the
same whether debug logging is on or off; with the server at INFO, every copy
is thrown away. In those three modules, where every use of `copy` is such a
snapshot (tests/unit/rasa_ext/test_debug_snapshots.py checks it), the
name `copy` now stands for `DebugSnapshots`: a deep copy when the module's
logger writes debug records, the value itself otherwise.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Dict, Optional

from bot.rasa_ext.patches.registry import Patch

# The modules whose `copy` is used only for debug logs' snapshots.
MODULES = ("rasa.core.processor", "rasa.core.actions.forms", "rasa.core.policies.rule_policy")
TARGETS = tuple(f"{module}.copy" for module in MODULES)


class DebugSnapshots:
    """Stands for the `copy` module in a module of Rasa's: deep copies only while its debug logs are written."""

    def __init__(self, logger_name: str) -> None:
        # structlog's stdlib loggers are named after the calling module, and Rasa's
        # processors drop a record its stdlib logger is not enabled for.
        self._logger = logging.getLogger(logger_name)

    def deepcopy(self, value: Any, memo: Optional[Dict[int, Any]] = None) -> Any:
        if self._logger.isEnabledFor(logging.DEBUG):
            return copy.deepcopy(value, memo)
        return value  # the debug record that would hold the copy is dropped

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)  # anything else is the copy module's own


def replacements() -> Dict[str, Any]:
    return {target: DebugSnapshots(module) for target, module in zip(TARGETS, MODULES, strict=True)}


PATCH = Patch(
    name="debug_snapshots",
    targets=TARGETS,
    why=(
        "Rasa deep-copies events, slots and states for its debug logs several times a turn, logging on or off.\n"
        "In the three modules that do it the copies are made only when their debug records are written."
    ),
    replacements=replacements,
)
