"""The debug-snapshots patch: Rasa's copies for its debug logs, made only when those logs are written."""

from __future__ import annotations

import ast
import copy
import importlib
import inspect
import logging
from typing import Iterator

import pytest

from bot.rasa_ext.patches import debug_snapshots, patched


def parents(tree: ast.AST) -> dict:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def uses_of_copy(tree: ast.AST) -> Iterator[ast.Attribute]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "copy":
            yield node


def in_a_debug_log(node: ast.AST, parent_of: dict) -> bool:
    while node in parent_of:
        node = parent_of[node]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "debug" and getattr(node.func.value, "id", "") == "structlogger":
                return True
    return False


@pytest.mark.parametrize("module", debug_snapshots.MODULES)
def test_every_use_of_copy_in_the_patched_modules_is_a_debug_logs_snapshot(module: str) -> None:
    """What makes the patch safe: should a Rasa upgrade copy for another reason there, this fails."""
    tree = ast.parse(inspect.getsource(importlib.import_module(module)))
    parent_of = parents(tree)
    uses = list(uses_of_copy(tree))
    assert uses, f"{module} no longer uses copy: the patch has nothing to do there"
    for use in uses:
        assert use.attr == "deepcopy" and in_a_debug_log(use, parent_of), f"{module}:{use.lineno}"


def test_a_snapshot_is_the_value_itself_unless_debug_records_are_written(caplog: pytest.LogCaptureFixture) -> None:
    snapshots = debug_snapshots.DebugSnapshots("rasa.core.processor")
    value = {"events": [{"event": "slot", "value": ["a"]}]}
    with caplog.at_level(logging.INFO, logger="rasa.core.processor"):
        assert snapshots.deepcopy(value) is value
    with caplog.at_level(logging.DEBUG, logger="rasa.core.processor"):
        snapshot = snapshots.deepcopy(value)
    assert snapshot == value and snapshot is not value and snapshot["events"][0] is not value["events"][0]
    assert snapshots.copy is copy.copy  # the rest of the copy module is the module's own


@pytest.mark.parametrize("module", debug_snapshots.MODULES)
def test_the_patched_modules_copy_for_debug_records_only_while_patched(
    module: str, caplog: pytest.LogCaptureFixture
) -> None:
    rasa_module = importlib.import_module(module)
    value = {"slots": {"language": "es"}}
    with patched(debug_snapshots.PATCH):
        with caplog.at_level(logging.INFO, logger=module):
            assert rasa_module.copy.deepcopy(value) is value
        with caplog.at_level(logging.DEBUG, logger=module):
            assert rasa_module.copy.deepcopy(value) is not value
    assert rasa_module.copy is copy
