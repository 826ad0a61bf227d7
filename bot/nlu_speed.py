"""Costs of Rasa 3.6's NLU that are overhead, not the model: removed, same results.

Timed on one parsed message (DIETClassifier, two cores): the classifier took
about 9 ms, of which the network itself about 0.7 ms.

- Joining two featurizers' sparse matrices went through scipy's general
  block-matrix builder (`hstack` -> `bmat`), checking and converting every
  block: about 3 ms a message. Here two COO matrices are joined directly.
- Each prediction called the compiled TensorFlow function through its Python
  front door, which re-checks and re-casts the inputs against the signature on
  every call: about 3 ms of the 3.8 ms. The function has one signature (every
  dimension that varies is `None`), so its single concrete function is called
  directly with the batch's tensors.

- The count-vector featurizers build each count matrix through sklearn's
  `transform` (a CSR matrix, its indices sorted, converted to COO), four
  times a message, each with its checks. Here the same COO matrix is built
  directly from the vectorizer's own analyzer and vocabulary.

All are applied by bot/rasa_server.py before Rasa starts; tests/test_nlu_speed.py
checks that the features and the predictions are exactly Rasa's own.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np
import scipy.sparse


def join_sparse(left: scipy.sparse.spmatrix, right: scipy.sparse.spmatrix) -> scipy.sparse.coo_matrix:
    """`scipy.sparse.hstack([left, right])` for two matrices with the same rows, without `bmat`."""
    left, right = left.tocoo(), right.tocoo()
    dtype = np.result_type(left.dtype, right.dtype)
    return scipy.sparse.coo_matrix(
        (
            np.concatenate([left.data.astype(dtype, copy=False), right.data.astype(dtype, copy=False)]),
            (np.concatenate([left.row, right.row]), np.concatenate([left.col, right.col + left.shape[1]])),
        ),
        shape=(left.shape[0], left.shape[1] + right.shape[1]),
    )


def join_sparse_features_directly() -> None:
    """Features._combine_sparse_features with `join_sparse`."""
    from rasa.shared.nlu.training_data.features import Features

    def _combine_sparse_features(self: Features, additional_features: Features) -> None:
        if self.features.shape[0] != additional_features.features.shape[0]:
            raise ValueError(
                f"Cannot combine sparse features as sequence dimensions do not "
                f"match: {self.features.shape[0]} != {additional_features.features.shape[0]}."
            )
        self.features = join_sparse(self.features, additional_features.features)
        self._cached_fingerprint = None

    Features._combine_sparse_features = _combine_sparse_features  # type: ignore[assignment]


class DirectCall:
    """Calls a `tf.function` with a fixed input signature through its one concrete function."""

    def __init__(self, function: Any) -> None:
        import tensorflow as tf

        self.concrete = function.get_concrete_function()
        self._tf = tf

    def __call__(self, batch_in: Any) -> Dict[str, Any]:
        tf = self._tf
        flat = [tf.convert_to_tensor(value) for value in tf.nest.flatten(batch_in, expand_composites=True)]
        return self.concrete._call_flat(flat, self.concrete.captured_inputs)


def call_predictions_directly() -> None:
    """RasaModel._rasa_predict through `DirectCall` once Rasa has built the prediction function."""
    from rasa.utils.tensorflow.models import RasaModel

    rasa_predict = RasaModel._rasa_predict

    def _rasa_predict(self: RasaModel, batch_in: Any) -> Dict[str, Any]:
        step = self._tf_predict_step
        if step is not None and not self._run_eagerly and not isinstance(step, DirectCall):
            self._tf_predict_step = DirectCall(step)
        return rasa_predict(self, batch_in)

    RasaModel._rasa_predict = _rasa_predict  # type: ignore[assignment]


_ANALYZERS: "weakref.WeakKeyDictionary[Any, Callable[[str], List[str]]]" = weakref.WeakKeyDictionary()


def count_matrix(vectorizer: Any, documents: Sequence[str]) -> scipy.sparse.coo_matrix:
    """`vectorizer.transform(documents)` with sorted indices, as COO, built directly.

    As sklearn's CountVectorizer: each document's features by its analyzer,
    those in the vocabulary counted (or marked, when binary), a row per
    document with its columns in order, 32-bit indices, the vectorizer's dtype.
    """
    analyze = _ANALYZERS.get(vectorizer)
    if analyze is None:
        analyze = _ANALYZERS[vectorizer] = vectorizer.build_analyzer()
    vocabulary = vectorizer.vocabulary_
    rows: List[int] = []
    columns: List[int] = []
    values: List[int] = []
    for row, document in enumerate(documents):
        counts: Dict[int, int] = {}
        for feature in analyze(document):
            column = vocabulary.get(feature)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        for column in sorted(counts):
            rows.append(row)
            columns.append(column)
            values.append(1 if vectorizer.binary else counts[column])
    return scipy.sparse.coo_matrix(
        (np.asarray(values, dtype=vectorizer.dtype), (np.asarray(rows, dtype=np.int32), np.asarray(columns, dtype=np.int32))),
        shape=(len(documents), len(vocabulary)),
        dtype=vectorizer.dtype,
    )


def count_features_directly() -> None:
    """CountVectorsFeaturizer._create_features with `count_matrix`, for fitted vectorizers."""
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
    from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES

    create_features = CountVectorsFeaturizer._create_features

    def _create_features(self: CountVectorsFeaturizer, attribute: str, all_tokens: List[List[str]]) -> Any:
        vectorizer = self.vectorizers.get(attribute)
        if not vectorizer or getattr(vectorizer, "vocabulary_", None) is None:
            return create_features(self, attribute, all_tokens)  # Rasa's answer (or sklearn's error)
        sequence_features: List[Optional[scipy.sparse.spmatrix]] = []
        sentence_features: List[Optional[scipy.sparse.spmatrix]] = []
        for tokens in all_tokens:
            if not tokens:
                sequence_features.append(None)
                sentence_features.append(None)
                continue
            sequence_features.append(count_matrix(vectorizer, tokens))
            sentence_features.append(
                count_matrix(vectorizer, [" ".join(tokens)]) if attribute in DENSE_FEATURIZABLE_ATTRIBUTES else None
            )
        return sequence_features, sentence_features

    CountVectorsFeaturizer._create_features = _create_features  # type: ignore[assignment]


def apply() -> None:
    join_sparse_features_directly()
    call_predictions_directly()
    count_features_directly()
