"""bot/rasa_ext/sentence_network.py.

The numpy sentence network of each of the project's classifiers gives the
confidences its TensorFlow model gives, for messages of every kind, and a
model whose predictions read more than the sentence keeps TensorFlow.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Tuple

import numpy as np
import scipy.sparse
import tensorflow as tf
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_ext import sentence_network
from bot.rasa_ext.patches import inference_load, patched
from tests.support.sentences import SENTENCES

# Intents of every kind, city questions (the ResponseSelector), both languages, fallbacks, odd input.
TEXTS = SENTENCES + [
    "when is city hall open?",
    "¿cuándo pasa la basura?",
    "hay un bache enorme frente a mi casa",
    "quiero hablar con una persona",
    "can you tell me how to pay my water bill",
    "how do I jump start my car",
    "12 Elm Street",
    "R-KVJ88H",
    "!!!",
    "a" * 300,
]
# No token, so no regex featurizer's sentence row: Rasa's model data is narrower than the model's input.
EMPTY = ""


def predictions_by_rasa(model_path: Path) -> List[Tuple[Any, Message, np.ndarray]]:
    """Each classifier's TensorFlow scores for each text, with the message it scored (Rasa's own prediction)."""
    from rasa.core.agent import Agent

    seen: List[Tuple[Any, Message, np.ndarray]] = []
    rasa_predict = DIETClassifier._predict

    def recorded(self: DIETClassifier, message: Message) -> Any:
        out = rasa_predict(self, message)
        if out is not None:
            seen.append((self, message, out[sentence_network.SCORES]))
        return out

    with patched(inference_load.PATCH):
        agent = Agent.load(str(model_path))
        DIETClassifier._predict = recorded  # type: ignore[method-assign]
        try:

            async def parse_all() -> None:
                for text in TEXTS:
                    await agent.parse_message(text)

            asyncio.run(parse_all())
            asyncio.run(agent.parse_message(EMPTY))
        finally:
            DIETClassifier._predict = rasa_predict  # type: ignore[method-assign]
    return seen


def test_the_network_scores_as_the_tensorflow_model(trained_model: Path):
    seen = predictions_by_rasa(trained_model)
    empty = [(classifier, message) for classifier, message, _ in seen if message.get("text") == EMPTY]
    assert len(empty) == 1  # the intent classifier's; it is not a city question
    classifier, message = empty[0]
    assert sentence_network.for_model(classifier.model).outputs([message], None) == {}  # left to TensorFlow
    seen = [item for item in seen if item[1].get("text") != EMPTY]
    classifiers = {type(classifier).__name__ for classifier, _, _ in seen}
    assert classifiers == {"DIETClassifier", "IntentGatedResponseSelector"}
    for classifier, message, expected in seen:
        network = sentence_network.for_model(classifier.model)
        assert network is not None
        featurizers = classifier.component_config.get("featurizers")
        got = network.outputs([message], featurizers)[id(message)][sentence_network.SCORES]
        assert got.dtype == np.float32 and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=0, atol=2e-6)
        assert np.argmax(got) == np.argmax(expected)
    # Many messages at once: each its own row.
    by_classifier: Dict[int, List[Tuple[Any, Message, np.ndarray]]] = {}
    for item in seen:
        by_classifier.setdefault(id(item[0]), []).append(item)
    for items in by_classifier.values():
        classifier = items[0][0]
        network = sentence_network.for_model(classifier.model)
        together = network.outputs([message for _, message, _ in items], classifier.component_config.get("featurizers"))
        assert len(together) == len(items)
        for _, message, expected in items:
            np.testing.assert_allclose(together[id(message)][sentence_network.SCORES], expected, rtol=0, atol=2e-6)


def test_a_message_without_sentence_features_of_the_models_width_is_left_to_tensorflow():
    network = sentence_network.SentenceNetwork(
        np.ones((4, 3), np.float32), None, [], np.ones((3, 2), np.float32), None, np.eye(2, dtype=np.float32), False
    )
    no_features = Message(data={"text": "hello"})
    assert network.outputs([no_features], None) == {}


def test_scores_are_a_softmax_over_the_labels_similarities():
    kernel = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], np.float32)
    network = sentence_network.SentenceNetwork(
        kernel, np.zeros(2, np.float32), [], np.eye(2, dtype=np.float32), None, np.eye(2, dtype=np.float32), False
    )
    scores = network.scores(scipy.sparse.csr_matrix(np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 1.0]], np.float32)))
    np.testing.assert_allclose(scores, [[np.exp(2) / (np.exp(2) + 1), 1 / (np.exp(2) + 1)], [0.5, 0.5]], rtol=1e-6)


def test_gelu_and_softmax_are_tensorflows():
    x = np.linspace(-6, 6, 97, dtype=np.float32).reshape(1, -1)
    np.testing.assert_allclose(sentence_network.gelu(x), tf.nn.gelu(x, approximate=False).numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(sentence_network.softmax(x), tf.nn.softmax(x).numpy(), rtol=0, atol=1e-7)


class NotDiet:
    """A model of another kind, prepared for predictions."""

    all_labels_embed = np.zeros((2, 2), np.float32)


def test_a_model_that_is_not_a_sentence_only_diet_has_no_network():
    assert sentence_network.for_model(NotDiet()) is None
    assert sentence_network.for_model(SimpleNamespace(all_labels_embed=None)) is None  # not prepared yet
