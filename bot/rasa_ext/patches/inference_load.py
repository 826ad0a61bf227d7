"""Patch: a trained TensorFlow model loaded for predictions only, without its training state.

To give a loaded model its weights, Rasa compiles it with an Adam optimizer and
trains it on one example, then loads the checkpoint over it. That builds what
only training needs and keeps it for the life of the server: the optimizer's
two moving averages of every weight (restored from the checkpoint as well), the
traced training step and its gradients. For the sparse input layers of DIET and
the ResponseSelector that is twice the weights again (docs/performance.md).

Here a model loaded for predictions builds its weights by predicting the example
Rasa keeps for that purpose, loads only the weights from the checkpoint, and
then prepares for predictions again, so the label embeddings and the traced
prediction step are those of the trained weights, exactly as after Rasa's load.
Loading for fine-tuning, or without a prediction example, is Rasa's own.

Nor does it build weights no prediction reads. Without transformer layers or
entity recognition, the text's sequence layer handles each token and the
sentence apart, and a prediction reads only the sentence's position (its last
token); the tokens' sparse input layer, as large as the sentence's, is left
without a kernel and gives zeros.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Text

from bot.rasa_ext.patches.registry import Patch

if TYPE_CHECKING:
    from rasa.utils.tensorflow.model_data import RasaModelData
    from rasa.utils.tensorflow.models import RasaModel

TARGET = "rasa.utils.tensorflow.models.RasaModel.load"
TARGETS = (TARGET,)


def load_for_predictions(
    model_class: "type[RasaModel]", model_file_name: Text, predict_data_example: "RasaModelData", **kwargs: Any
) -> "RasaModel":
    """A model of the class with the checkpoint's weights and none of its optimizer state, ready to predict."""
    model = model_class(**kwargs)
    skip_unread_token_input(model)
    model.run_inference(predict_data_example)  # creates every weight the predictions use
    model.load_weights(model_file_name).expect_partial()  # the optimizer's slots are left in the file
    # The label embeddings and the traced step were made with the initial weights: made again.
    model.prepared_for_prediction = False
    model._tf_predict_step = None
    model.run_inference(predict_data_example)
    return model


# The text's token-level sparse input layer of DIET and the ResponseSelector, by its Rasa name.
TEXT_TOKEN_INPUT = "sparse_to_dense.text_sequence"


def reads_text_tokens(config: Dict[str, Any]) -> bool:
    """Whether a model of this configuration reads the text's tokens in a prediction, not just its sentence.

    Transformer layers mix the tokens into the sentence's position, and entity
    recognition reads each token; without both, each position is computed apart.
    """
    from rasa.utils.tensorflow.constants import ENTITY_RECOGNITION, NUM_TRANSFORMER_LAYERS

    layers = config.get(NUM_TRANSFORMER_LAYERS) or 0
    text_layers = layers.get("text", 0) if isinstance(layers, dict) else layers
    return bool(text_layers) or bool(config.get(ENTITY_RECOGNITION))


def skip_unread_token_input(model: "RasaModel") -> None:
    """Leave the text's token-level input layer unbuilt, giving zeros, when predictions never read it.

    Called before the model's weights are built, so the layer's kernel is never
    made (and the checkpoint's copy is not loaded: `expect_partial`).
    """
    import tensorflow as tf
    from rasa.utils.tensorflow.layers import DenseForSparse

    if reads_text_tokens(getattr(model, "config", {})):
        return
    for layer in model._flatten_layers():
        if isinstance(layer, DenseForSparse) and layer.name == TEXT_TOKEN_INPUT:

            def zeros(inputs: "tf.SparseTensor", units: int = layer.units, dtype: Any = layer.compute_dtype) -> Any:
                shape = tf.concat([tf.cast(inputs.dense_shape[:-1], tf.int32), [units]], axis=0)
                return tf.zeros(shape, dtype=dtype)

            layer.call = zeros
            layer.built = True


def replacements() -> Dict[str, Any]:
    """RasaModel.load that skips the optimizer and the training step when loading for predictions."""
    from rasa.utils.tensorflow.models import RasaModel

    rasa_load = RasaModel.load.__func__

    def load(
        cls: "type[RasaModel]",
        model_file_name: Text,
        model_data_example: "RasaModelData",
        predict_data_example: Optional["RasaModelData"] = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> "RasaModel":
        if finetune_mode or predict_data_example is None or args:
            return rasa_load(
                cls, model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs
            )
        return load_for_predictions(cls, model_file_name, predict_data_example, **kwargs)

    return {TARGET: classmethod(load)}


PATCH = Patch(
    name="inference_load",
    targets=TARGETS,
    why=(
        "Rasa loads a model for predictions by training it on one example first, which keeps the optimizer's\n"
        "state (twice the weights) and the training step in memory. Weights only, built by a prediction."
    ),
    replacements=replacements,
)
