"""bot/nlu_speed.py: the same features and the same predictions as Rasa's own code."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest
import scipy.sparse
from rasa.shared.nlu.training_data.features import Features
from rasa.utils.tensorflow.models import RasaModel

from bot import nlu_speed

SENTENCES = [
    "I need to report a pothole",
    "yes",
    "no, it's 12 Elm Street",
    "when is my trash picked up",
    "whats the status of request 1042",
    "there's grafitti on the bridge",
    "the street light on my block is out",
    "can i talk to a person",
    "thx",
    "how do i pay a parking ticket",
    "gas smell in my basement",
    "what's the weather on mars",
]


@pytest.mark.parametrize("left_format,right_format", [("coo", "coo"), ("csr", "coo"), ("coo", "csc")])
@pytest.mark.parametrize("left_dtype,right_dtype", [(np.float32, np.float32), (np.int64, np.float64)])
def test_joined_matrices_are_scipys_hstack(left_format, right_format, left_dtype, right_dtype):
    rng = np.random.default_rng(311)
    for rows, left_cols, right_cols in [(1, 5, 3), (7, 40, 120), (3, 0, 4), (4, 6, 0)]:
        left = scipy.sparse.random(rows, left_cols, density=0.3, format=left_format, random_state=rng, dtype=np.float64)
        right = scipy.sparse.random(rows, right_cols, density=0.3, format=right_format, random_state=rng)
        left, right = left.astype(left_dtype), right.astype(right_dtype)
        expected = scipy.sparse.hstack([left, right])
        joined = nlu_speed.join_sparse(left, right)
        assert joined.format == expected.format == "coo"
        assert joined.dtype == expected.dtype and joined.shape == expected.shape
        assert np.array_equal(joined.toarray(), expected.toarray())


def parse_all(agent: Any) -> List[Dict[str, Any]]:
    async def parse() -> List[Dict[str, Any]]:
        return [await agent.parse_message(text) for text in SENTENCES * 2]

    return asyncio.run(parse())


def test_the_model_predicts_exactly_as_with_rasas_code(trained_model: Path, monkeypatch: pytest.MonkeyPatch):
    from rasa.core.agent import Agent

    expected = parse_all(Agent.load(str(trained_model)))
    monkeypatch.setattr(Features, "_combine_sparse_features", Features._combine_sparse_features)
    monkeypatch.setattr(RasaModel, "_rasa_predict", RasaModel._rasa_predict)
    nlu_speed.apply()
    agent = Agent.load(str(trained_model))
    got = parse_all(agent)
    steps = [
        node._component.model._tf_predict_step
        for node in agent.processor.graph_runner._instantiated_nodes.values()
        if getattr(getattr(node, "_component", None), "model", None) is not None
    ]
    assert steps and all(isinstance(step, nlu_speed.DirectCall) for step in steps if step is not None)
    assert got == expected
