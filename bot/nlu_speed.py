"""Two costs of Rasa 3.6's NLU that are overhead, not the model: removed, same results.

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

Both are applied by bot/rasa_server.py before Rasa starts; tests/test_nlu_speed.py
checks that the features and the predictions are exactly Rasa's own.
"""
from __future__ import annotations

from typing import Any, Dict

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


def apply() -> None:
    join_sparse_features_directly()
    call_predictions_directly()
