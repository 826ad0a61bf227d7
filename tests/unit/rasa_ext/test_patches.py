"""The patch registry (bot/rasa_ext/patches): every patch declares itself, and `patched()` restores Rasa exactly."""

from __future__ import annotations

import gc

import pytest

from bot.rasa_ext.patches import ALL, apply_all, patched
from bot.rasa_ext.patches.object_state import PerObject
from bot.rasa_ext.patches.registry import Patch, apply, in_force, locate, own_value, undo

TARGETS = [target for patch in ALL for target in patch.targets]


def rasas_own() -> dict:
    return {target: own_value(target) for target in TARGETS}


@pytest.mark.parametrize("patch", ALL, ids=[patch.name for patch in ALL])
def test_each_patch_declares_its_rasa_targets_and_why(patch: Patch):
    # Rasa's own modules, or the Sanic server Rasa 3.6 runs on.
    assert patch.targets and all(target.startswith(("rasa.", "sanic.")) for target in patch.targets)
    for target in patch.targets:
        owner, attribute = locate(target)
        assert hasattr(owner, attribute), target
    lines = [line for line in patch.why.splitlines() if line.strip()]
    assert 2 <= len(lines) <= 4


def test_no_two_patches_replace_the_same_target():
    assert len(TARGETS) == len(set(TARGETS))
    assert len({patch.name for patch in ALL}) == len(ALL)


def test_leaving_patched_puts_back_every_target_after_apply_all(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ACTION_TRACKER_USER_TURNS", "5")
    before = rasas_own()
    assert in_force() == ()
    with patched():
        apply_all()
        apply_all()  # once is enough: nothing is patched twice
        assert in_force() == tuple(patch.name for patch in ALL)
        assert all(own_value(target) is not value for target, value in before.items())
    after = rasas_own()
    assert all(after[target] is value for target, value in before.items())
    assert in_force() == ()


def test_patched_restores_only_what_it_applied():
    first, second = ALL[0], ALL[1]
    before = rasas_own()
    apply(first)
    try:
        applied_first = rasas_own()
        with patched(second):
            apply_all()
        assert in_force() == (first.name,)
        assert rasas_own() == applied_first
    finally:
        undo(first.name)
    assert all(own_value(target) is value for target, value in before.items())


def test_a_patch_may_not_replace_what_it_does_not_declare():
    rogue = Patch(
        name="rogue",
        targets=("rasa.core.processor.MessageProcessor.handle_message",),
        why="Replaces a target\nit never declared.",
        replacements=lambda: {"rasa.core.processor.MessageProcessor.parse_message": None},
    )
    before = own_value("rasa.core.processor.MessageProcessor.parse_message")
    with pytest.raises(ValueError):
        apply(rogue)
    assert own_value("rasa.core.processor.MessageProcessor.parse_message") is before
    assert "rogue" not in in_force()


def test_state_kept_for_an_object_goes_with_it():
    class Owner:
        pass

    kept: PerObject[str] = PerObject()
    first, second = Owner(), Owner()
    kept.set(first, "first")
    kept.setdefault(second, lambda: "second")
    assert (kept.get(first), kept.get(second)) == ("first", "second")
    del first
    gc.collect()
    assert len(kept) == 1 and kept.get(second) == "second"
