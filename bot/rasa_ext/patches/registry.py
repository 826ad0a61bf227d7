"""What a patch is, and the one place that applies patches and keeps what they replaced.

A patch names the Rasa attributes it replaces ("rasa.core.processor.MessageProcessor.parse_message")
and builds the replacements when applied, from whatever is there then. The
registry keeps each replaced attribute as it found it, so a patch can be taken
back exactly (`undo`); no patch marks Rasa's objects to remember anything.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Tuple

_MISSING = object()


@dataclass(frozen=True)
class Patch:
    """One change to Rasa: the attributes it replaces, why, and how to build the replacements.

    `replacements` is called when the patch is applied and maps each target to
    its new value (a patch may leave a target alone, e.g. when configured off).
    """

    name: str
    targets: Tuple[str, ...]
    why: str
    replacements: Callable[[], Mapping[str, Any]]


@dataclass(frozen=True)
class Replaced:
    """An attribute as a patch found it: its owner's own value, or none (inherited or absent)."""

    owner: Any
    attribute: str
    value: Any

    def put_back(self) -> None:
        if self.value is _MISSING:
            delattr(self.owner, self.attribute)
        else:
            setattr(self.owner, self.attribute, self.value)


def locate(target: str) -> Tuple[Any, str]:
    """The object holding a dotted target's last attribute (importing modules on the way), and its name."""
    parts = target.split(".")
    owner: Any = importlib.import_module(parts[0])
    for index, part in enumerate(parts[1:-1], start=1):
        try:
            owner = getattr(owner, part)
        except AttributeError:
            owner = importlib.import_module(".".join(parts[: index + 1]))
    return owner, parts[-1]


def own_value(target: str) -> Any:
    """The target's value as stored on its owner (a staticmethod stays one), for comparing by identity."""
    owner, attribute = locate(target)
    return vars(owner).get(attribute, _MISSING)


# Patches in force, in the order applied, each with what it replaced.
_applied: Dict[str, List[Replaced]] = {}


def in_force() -> Tuple[str, ...]:
    """The names of the patches in force, in the order applied."""
    return tuple(_applied)


def apply(patch: Patch) -> None:
    """Put the patch's replacements in place; nothing when it is in force already."""
    if patch.name in _applied:
        return
    replacements = dict(patch.replacements())
    undeclared = set(replacements) - set(patch.targets)
    if undeclared:
        raise ValueError(f"Patch {patch.name!r} replaces targets it does not declare: {sorted(undeclared)}")
    places = {target: locate(target) for target in replacements}  # all found before any is replaced
    replaced: List[Replaced] = []
    for target, value in replacements.items():
        owner, attribute = places[target]
        replaced.append(Replaced(owner, attribute, vars(owner).get(attribute, _MISSING)))
        setattr(owner, attribute, value)
    _applied[patch.name] = replaced


def undo(name: str) -> None:
    """Put back what the named patch replaced; nothing when it is not in force."""
    for replaced in reversed(_applied.pop(name, [])):
        replaced.put_back()
