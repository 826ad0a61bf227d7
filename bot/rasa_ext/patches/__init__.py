"""The patches of Rasa 3.6, one module each, and the two ways to put them in place.

`apply_all()` is for the Rasa server (bot/rasa_ext/server.py), before Rasa
starts; `patched()` is for tests: it applies patches and, on leaving, puts back
exactly what it found, including whatever `apply_all()` applied inside it.
All keep Rasa's behaviour but four, on purpose: `handoff_waiting`, `resident_language`,
`published_answers` and `survey_scores`.
"""

from __future__ import annotations

import contextlib
from typing import Dict, Iterator, Tuple

from bot.rasa_ext.patches import (
    action_results,
    api_auth,
    applied_events,
    count_features,
    debug_snapshots,
    direct_predictions,
    domain_emptiness,
    endpoint_sessions,
    event_types,
    graph_runner,
    handoff_waiting,
    in_process_actions,
    inference_load,
    parse_together,
    predict_together,
    published_answers,
    recent_events,
    resident_language,
    response_variations,
    serving_main,
    sparse_features,
    survey_scores,
    tracker_copy,
)
from bot.rasa_ext.patches.registry import Patch, apply, in_force, undo

# In the order they are applied.
ALL: Tuple[Patch, ...] = (
    serving_main.PATCH,
    api_auth.PATCH,
    graph_runner.PATCH,
    inference_load.PATCH,
    sparse_features.PATCH,
    direct_predictions.PATCH,
    count_features.PATCH,
    predict_together.PATCH,
    parse_together.PATCH,
    action_results.PATCH,
    in_process_actions.PATCH,
    event_types.PATCH,
    domain_emptiness.PATCH,
    response_variations.PATCH,
    tracker_copy.PATCH,
    debug_snapshots.PATCH,
    applied_events.PATCH,
    recent_events.PATCH,
    endpoint_sessions.PATCH,
    handoff_waiting.PATCH,
    resident_language.PATCH,
    published_answers.PATCH,
    survey_scores.PATCH,
)
BY_NAME: Dict[str, Patch] = {patch.name: patch for patch in ALL}


def apply_all() -> None:
    """Every patch, each once however often this is called."""
    for patch in ALL:
        apply(patch)


@contextlib.contextmanager
def patched(*patches: Patch) -> Iterator[None]:
    """The given patches (all when none is given) in force inside; leaving puts back every target as found."""
    before = set(in_force())
    try:
        for patch in patches or ALL:
            apply(patch)
        yield
    finally:
        for name in reversed(in_force()):
            if name not in before:
                undo(name)
