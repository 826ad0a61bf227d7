"""bot/rasa_ext/patches/sparse_features.py, direct_predictions.py, count_features.py: the same features and
the same predictions as Rasa's own code."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest
import scipy.sparse
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer

from bot.rasa_ext.patches import count_features, direct_predictions, patched, sparse_features
from tests.support.sentences import SENTENCES

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("left_format,right_format", [("coo", "coo"), ("csr", "coo"), ("coo", "csc")])
@pytest.mark.parametrize("left_dtype,right_dtype", [(np.float32, np.float32), (np.int64, np.float64)])
def test_joined_matrices_are_scipys_hstack(left_format, right_format, left_dtype, right_dtype):
    rng = np.random.default_rng(311)
    for rows, left_cols, right_cols in [(1, 5, 3), (7, 40, 120), (3, 0, 4), (4, 6, 0)]:
        left = scipy.sparse.random(rows, left_cols, density=0.3, format=left_format, random_state=rng, dtype=np.float64)
        right = scipy.sparse.random(rows, right_cols, density=0.3, format=right_format, random_state=rng)
        left, right = left.astype(left_dtype), right.astype(right_dtype)
        expected = scipy.sparse.hstack([left, right])
        joined = sparse_features.join_sparse(left, right)
        assert joined.format == expected.format == "coo"
        assert joined.dtype == expected.dtype and joined.shape == expected.shape
        assert np.array_equal(joined.toarray(), expected.toarray())


def parse_all(agent: Any) -> List[Dict[str, Any]]:
    async def parse() -> List[Dict[str, Any]]:
        return [await agent.parse_message(text) for text in SENTENCES * 2]

    return asyncio.run(parse())


def test_the_model_predicts_exactly_as_with_rasas_code(trained_model: Path):
    from rasa.core.agent import Agent

    expected = parse_all(Agent.load(str(trained_model)))
    with patched(sparse_features.PATCH, direct_predictions.PATCH, count_features.PATCH):
        agent = Agent.load(str(trained_model))
        got = parse_all(agent)
    steps = [
        node._component.model._tf_predict_step
        for node in agent.processor.graph_runner._instantiated_nodes.values()
        if getattr(getattr(node, "_component", None), "model", None) is not None
    ]
    assert steps and all(isinstance(step, direct_predictions.DirectCall) for step in steps if step is not None)
    assert got == expected


def test_count_features_are_sklearns_to_the_index(trained_model: Path):
    """Each count-vector featurizer of the model gives the same COO matrices for every training sentence."""
    from rasa.core.agent import Agent
    from rasa.nlu.tokenizers.tokenizer import Tokenizer
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.message import Message

    components = [
        getattr(node, "_component", None)
        for node in Agent.load(str(trained_model)).processor.graph_runner._instantiated_nodes.values()
    ]
    tokenizer = next(c for c in components if isinstance(c, Tokenizer))
    featurizers = [c for c in components if isinstance(c, CountVectorsFeaturizer)]
    assert {f.vectorizers["text"].analyzer for f in featurizers} == {"word", "char_wb"}
    examples = [
        example
        for path in sorted((ROOT / "data" / "nlu").glob("*.yml"))
        for example in load_data(str(path)).training_examples
    ]
    texts = sorted({example.get("text") for example in examples}) + SENTENCES
    messages = tokenizer.process([Message(data={"text": text}) for text in texts + ["", "zzzz qqqq"]])
    rasas = CountVectorsFeaturizer._create_features
    compared = 0
    with patched(count_features.PATCH):
        for featurizer in featurizers:
            for message in messages:
                tokens = featurizer._get_processed_message_tokens_by_attribute(message, "text")
                expected = rasas(featurizer, "text", [tokens])
                got = featurizer._create_features("text", [tokens])
                for want, have in zip(expected[0] + expected[1], got[0] + got[1], strict=True):
                    if want is None:
                        assert have is None
                        continue
                    compared += 1
                    assert have.format == want.format == "coo" and have.shape == want.shape
                    assert (
                        have.dtype == want.dtype
                        and have.row.dtype == want.row.dtype
                        and have.col.dtype == want.col.dtype
                    )
                    assert np.array_equal(have.row, want.row) and np.array_equal(have.col, want.col)
                    assert np.array_equal(have.data, want.data)
    assert compared > 2 * len(texts)
