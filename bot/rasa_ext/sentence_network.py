"""DIET's prediction for a model that reads only the sentence, computed with numpy.

Without transformer layers or entity recognition, DIET and the ResponseSelector
(both Rasa `DIET` models) compute each position of a message apart, and an
intent or answer prediction reads only the sentence's position. That position
is a short chain: the sentence's sparse features through their dense layer,
the feed-forward layers, the text embedding, its similarity to every label's
embedding (computed once by Rasa when the model is loaded) and a softmax.

Run through TensorFlow, a prediction also builds the message's padded
token-level arrays (`_create_model_data`) and pays a compiled function's
call, for outputs nothing reads. `SentenceNetwork` holds the chain's trained
weights as numpy arrays, read from the loaded model, and computes the same
`i_scores` from the messages' sentence features alone, in float32 as
TensorFlow does (tests/unit/rasa_ext/test_sentence_network.py compares them
with the model's own predictions).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse
import scipy.special

from bot.rasa_ext.patches.object_state import PerObject

if TYPE_CHECKING:
    from rasa.shared.nlu.training_data.message import Message
    from rasa.utils.tensorflow.models import RasaModel

# The output Rasa's DIET gives for intent (or answer) confidences.
SCORES = "i_scores"


def gelu(x: np.ndarray) -> np.ndarray:
    """TensorFlow's exact GELU (`tf.nn.gelu`, not the tanh approximation), in the input's precision."""
    return (0.5 * x * (1.0 + scipy.special.erf(x / np.float32(math.sqrt(2.0))))).astype(x.dtype, copy=False)


def softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the maximum as TensorFlow's is."""
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


class SentenceNetwork:
    """The trained weights of a sentence-only DIET model's prediction, and the prediction itself."""

    def __init__(
        self,
        sparse_kernel: np.ndarray,
        sparse_bias: Optional[np.ndarray],
        hidden: Sequence[tuple],
        embed_kernel: np.ndarray,
        embed_bias: Optional[np.ndarray],
        label_embeddings: np.ndarray,
        cosine: bool,
    ) -> None:
        self.sparse_kernel = sparse_kernel
        self.sparse_bias = sparse_bias
        self.hidden = list(hidden)  # (kernel, bias) of each GELU layer
        self.embed_kernel = embed_kernel
        self.embed_bias = embed_bias
        self.cosine = cosine
        self.label_embeddings = self._normalized(label_embeddings) if cosine else label_embeddings

    @property
    def input_size(self) -> int:
        """The width of the sentence features the model was trained on."""
        return self.sparse_kernel.shape[0]

    @staticmethod
    def _normalized(x: np.ndarray) -> np.ndarray:
        # tf.nn.l2_normalize: x / sqrt(max(sum(x²), 1e-12))
        return x / np.sqrt(np.maximum((x * x).sum(axis=-1, keepdims=True), np.float32(1e-12)))

    def scores(self, sentences: scipy.sparse.spmatrix) -> np.ndarray:
        """Each sentence's confidence for every label, a row per sentence (Rasa's `i_scores`)."""
        x = np.asarray(sentences.astype(np.float32, copy=False) @ self.sparse_kernel)
        if self.sparse_bias is not None:
            x = x + self.sparse_bias
        for kernel, bias in self.hidden:
            x = x @ kernel
            if bias is not None:
                x = x + bias
            x = gelu(x)
        x = x @ self.embed_kernel
        if self.embed_bias is not None:
            x = x + self.embed_bias
        if self.cosine:
            x = self._normalized(x)
        return softmax(x @ self.label_embeddings.T).astype(np.float32, copy=False)

    def outputs(self, messages: List["Message"], featurizers: Optional[List[str]]) -> Dict[int, Dict[str, np.ndarray]]:
        """Rasa's prediction outputs for each message, by `id(message)`, with a batch dimension of one.

        A message without sentence features of the model's width is left out.
        """
        rows, sentences = sentence_matrix(messages, featurizers, self.input_size)
        if not rows:
            return {}
        scores = self.scores(sentences)
        return {id(message): {SCORES: scores[index : index + 1]} for index, message in enumerate(rows)}


def sentence_matrix(
    messages: List["Message"], featurizers: Optional[List[str]], width: int
) -> Tuple[List["Message"], scipy.sparse.csr_matrix]:
    """The messages that have sparse sentence features of the text `width` wide, and those features, a row each.

    Rasa's `Message.get_sparse_features` joins the featurizers' matrices, in the
    order the message holds them, for the sequence and the sentence alike, copying
    the first; only the sentence's row is needed here, so the featurizers' rows are
    laid side by side directly.
    """
    from rasa.shared.nlu.constants import TEXT

    rows: List["Message"] = []
    data: List[np.ndarray] = []
    columns: List[np.ndarray] = []
    row_ends = [0]
    for message in messages:
        parts = [features.features.tocoo() for features in message._filter_sparse_features(TEXT, featurizers or [])[1]]
        if not parts or any(part.shape[0] != 1 for part in parts) or sum(part.shape[1] for part in parts) != width:
            continue
        offset = 0
        for part in parts:
            data.append(part.data.astype(np.float32, copy=False))
            columns.append(part.col + offset)
            offset += part.shape[1]
        rows.append(message)
        row_ends.append(row_ends[-1] + sum(part.nnz for part in parts))
    matrix = scipy.sparse.csr_matrix(
        (
            np.concatenate(data) if data else np.zeros(0, np.float32),
            np.concatenate(columns) if columns else np.zeros(0, np.int32),
            np.asarray(row_ends),
        ),
        shape=(len(rows), width),
    )
    return rows, matrix


def _values(variable: Any) -> np.ndarray:
    """A TensorFlow variable's values as a numpy array on the same memory (no copy), read-only."""
    values = np.asarray(variable.value())
    values.flags.writeable = False
    return values


def _dense_weights(layer: Any) -> tuple:
    """A Keras dense layer's (kernel, bias), the kernel masked as a RandomlyConnectedDense masks it."""
    kernel = _values(layer.kernel)
    if getattr(layer, "density", 1.0) < 1.0:  # masked before every call (RandomlyConnectedDense.call)
        kernel = kernel * _values(layer.kernel_mask)
    return kernel, _values(layer.bias) if layer.use_bias else None


def from_model(model: "RasaModel") -> Optional[SentenceNetwork]:
    """The model's sentence network, or None when its predictions read more than the sentence.

    Only a DIET model (Rasa's intent classifier and ResponseSelector) without
    transformer layers, entity recognition or masked-language training, whose
    text has sparse sentence features only, prepared for predictions, with
    softmax confidences. Any other model keeps TensorFlow.
    """
    import tensorflow as tf
    from rasa.nlu.classifiers.diet_classifier import DIET
    from rasa.shared.nlu.constants import TEXT
    from rasa.utils.tensorflow.constants import (
        COSINE,
        ENTITY_RECOGNITION,
        INTENT_CLASSIFICATION,
        MASKED_LM,
        MODEL_CONFIDENCE,
        SENTENCE,
        SEQUENCE,
        SOFTMAX,
    )
    from rasa.utils.tensorflow.layers import RandomlyConnectedDense

    if not isinstance(model, DIET) or getattr(model, "all_labels_embed", None) is None:
        return None
    config = model.config
    if config.get(ENTITY_RECOGNITION) or not config.get(INTENT_CLASSIFICATION) or config.get(MASKED_LM):
        return None
    if config.get(MODEL_CONFIDENCE) != SOFTMAX:
        return None
    sequence_layer = model._tf_layers.get(f"sequence_layer.{TEXT}")
    if sequence_layer is None or sequence_layer._has_transformer:
        return None
    combining = sequence_layer._tf_layers[sequence_layer.FEATURE_COMBINING]
    if any(name.startswith("unify_dims") for name in combining._tf_layers):
        return None
    signature = model.predict_data_signature.get(TEXT, {}).get(SENTENCE, [])
    if len(signature) != 1 or not signature[0].is_sparse or SEQUENCE not in model.predict_data_signature[TEXT]:
        return None
    concat = combining._tf_layers[f"sparse_dense.{SENTENCE}"]
    if set(concat._tf_layers) - {concat.SPARSE_DROPOUT, concat.SPARSE_TO_DENSE, concat.DENSE_DROPOUT}:
        return None
    sparse_to_dense = concat._tf_layers[concat.SPARSE_TO_DENSE]
    if sparse_to_dense.activation not in (None, tf.keras.activations.linear):
        return None
    sparse_kernel, sparse_bias = _dense_weights(sparse_to_dense)
    hidden = []
    for layer in sequence_layer._tf_layers[sequence_layer.FFNN]._ffn_layers:
        if isinstance(layer, tf.keras.layers.Dropout):
            continue
        if not isinstance(layer, RandomlyConnectedDense) or layer.activation is not tf.nn.gelu:
            return None
        hidden.append(_dense_weights(layer))
    embed = model._tf_layers[f"embed.{TEXT}"]._dense
    if embed.activation is not tf.keras.activations.linear:
        return None
    embed_kernel, embed_bias = _dense_weights(embed)
    loss = model._tf_layers[f"loss.{model.label_name}"]
    return SentenceNetwork(
        sparse_kernel,
        sparse_bias,
        hidden,
        embed_kernel,
        embed_bias,
        np.asarray(model.all_labels_embed, dtype=np.float32),
        cosine=loss.similarity_type == COSINE,
    )


# Each loaded model's network, made at its first prediction (None: the model keeps TensorFlow).
_NETWORKS: PerObject[Optional[SentenceNetwork]] = PerObject()


def for_model(model: "RasaModel") -> Optional[SentenceNetwork]:
    """The model's sentence network, made once per loaded model prepared for predictions."""
    if getattr(model, "all_labels_embed", None) is None:  # not prepared yet: nothing to decide on
        return None
    return _NETWORKS.setdefault(model, lambda: from_model(model))
