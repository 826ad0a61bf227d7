"""Patch: the model's compiled prediction function called through its one concrete function.

Each prediction called the compiled TensorFlow function through its Python
front door, which re-checks and re-casts the inputs against the signature on
every call: most of a prediction's time. The function has one signature
(every dimension that varies is `None`), so its single concrete function is
called directly with the batch's tensors (tests/unit/rasa_ext/test_nlu_speed.py checks the
predictions are Rasa's own).
"""

from __future__ import annotations

from typing import Any, Dict

from bot.rasa_ext.patches.registry import Patch

TARGET = "rasa.utils.tensorflow.models.RasaModel._rasa_predict"


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


def replacements() -> Dict[str, Any]:
    """RasaModel._rasa_predict through `DirectCall` once Rasa has built the prediction function."""
    from rasa.utils.tensorflow.models import RasaModel

    rasa_predict = RasaModel._rasa_predict

    def _rasa_predict(self: RasaModel, batch_in: Any) -> Dict[str, Any]:
        step = self._tf_predict_step
        if step is not None and not self._run_eagerly and not isinstance(step, DirectCall):
            self._tf_predict_step = DirectCall(step)
        return rasa_predict(self, batch_in)

    return {TARGET: _rasa_predict}


PATCH = Patch(
    name="direct_predictions",
    targets=(TARGET,),
    why=(
        "TensorFlow re-checks and re-casts a compiled function's inputs on every call through its front door.\n"
        "The prediction function has one signature, so its one concrete function is called directly."
    ),
    replacements=replacements,
)
