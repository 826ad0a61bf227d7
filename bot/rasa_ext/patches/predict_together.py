"""Patch: the classifiers predict the messages of one NLU run with one network call.

Rasa 3.6's DIETClassifier and ResponseSelector call their neural network once
per message even when given several: under load, most of the intent
classifier's time was the cost of a network call rather than of the message.
`process` predicts all the messages of a run in one call (one batch) first;
each message's outputs are picked out of it and `_predict` returns them, used
exactly as Rasa uses a single message's (tests/unit/rasa_ext/test_nlu_batching.py).

A model whose predictions read only the sentence (no transformer layers, no
entity recognition: this project's) predicts through its `SentenceNetwork`,
the same computation in numpy from the sentence features alone, one message
or many (bot/rasa_ext/sentence_network.py); any other model through
TensorFlow, in one call for two messages or more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from bot.rasa_ext import sentence_network
from bot.rasa_ext.patches.registry import Patch

if TYPE_CHECKING:
    from rasa.shared.nlu.training_data.message import Message

Outputs = Dict[str, Any]

# While a classifier's `process` runs: its outputs predicted for the messages, by id(classifier).
PREDICTED: Dict[int, Dict[int, Outputs]] = {}


def predict_many(classifier: Any, messages: List["Message"]) -> Dict[int, Outputs]:
    """`_predict`'s outputs for the messages, by `id(message)`, from one network call.

    Through the model's sentence network when it has one, else TensorFlow.

    Rasa's outputs for one message have a batch dimension of one; here each
    message gets its row of the batch's outputs. Left out (and so predicted one
    by one, as Rasa does): messages without features, and every message when
    the outputs would not be one row per message (entities and diagnostic data
    are per token, padded to the batch's longest message); with a sentence
    network, messages without its sentence features.
    """
    from rasa.nlu.classifiers.diet_classifier import ENTITY_RECOGNITION, FEATURIZERS
    from rasa.shared.constants import DIAGNOSTIC_DATA
    from rasa.shared.nlu.constants import TEXT

    if classifier.model is None:
        return {}
    if classifier.component_config.get(ENTITY_RECOGNITION) or classifier._execution_context.should_add_diagnostic_data:
        return {}
    featurizers = classifier.component_config.get(FEATURIZERS)
    featurized = [message for message in messages if message.features_present(attribute=TEXT, featurizers=featurizers)]
    if not featurized:
        return {}
    network = sentence_network.for_model(classifier.model)
    if network is not None:
        return network.outputs(featurized, featurizers)
    if len(featurized) < 2:
        return {}
    model_data = classifier._create_model_data(featurized, training=False)
    if model_data.number_of_examples() != len(featurized):
        return {}
    outputs = classifier.model.run_inference(model_data, batch_size=len(featurized))
    # Diagnostic data (a dict) is read only when asked for, which was ruled out above.
    return _rows({key: value for key, value in outputs.items() if key != DIAGNOSTIC_DATA}, featurized)


def _rows(outputs: Outputs, messages: List["Message"]) -> Dict[int, Outputs]:
    """Each message's row of a batch's outputs, by `id(message)`; none unless every output has a row each."""
    import numpy as np

    if not all(isinstance(value, np.ndarray) and len(value) == len(messages) for value in outputs.values()):
        return {}
    return {
        id(message): {key: value[index : index + 1] for key, value in outputs.items()}
        for index, message in enumerate(messages)
    }


def process_predicting_first(process: Any) -> Any:
    """A classifier's `process` that predicts its messages in one network call first (see `predict_with_outputs`)."""

    def process_together(self: Any, messages: List["Message"]) -> List["Message"]:
        predicted = predict_many(self, messages)
        if not predicted:
            return process(self, messages)
        PREDICTED[id(self)] = predicted
        try:
            return process(self, messages)
        finally:
            PREDICTED.pop(id(self), None)

    return process_together


def predict_with_outputs(predict: Any) -> Any:
    """DIETClassifier._predict (ResponseSelector's too) returning the outputs `process` predicted already."""

    def _predict(self: Any, message: "Message") -> Optional[Outputs]:
        predicted = PREDICTED.get(id(self))
        if predicted is not None and id(message) in predicted:
            return predicted[id(message)]
        return predict(self, message)

    return _predict


DIET = "rasa.nlu.classifiers.diet_classifier.DIETClassifier"
SELECTOR = "rasa.nlu.selectors.response_selector.ResponseSelector"


def replacements() -> Dict[str, Any]:
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier
    from rasa.nlu.selectors.response_selector import ResponseSelector

    return {
        f"{DIET}._predict": predict_with_outputs(DIETClassifier._predict),
        f"{DIET}.process": process_predicting_first(DIETClassifier.__dict__["process"]),
        f"{SELECTOR}.process": process_predicting_first(ResponseSelector.__dict__["process"]),
    }


PATCH = Patch(
    name="predict_together",
    targets=(f"{DIET}._predict", f"{DIET}.process", f"{SELECTOR}.process"),
    why=(
        "Rasa 3.6's classifiers call their network once per message, even for a batch of messages.\n"
        "A batch is predicted in one call and each message's row used as Rasa uses a single message's."
    ),
    replacements=replacements,
)
