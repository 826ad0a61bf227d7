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
    model.run_inference(predict_data_example)  # creates every weight the predictions use
    model.load_weights(model_file_name).expect_partial()  # the optimizer's slots are left in the file
    # The label embeddings and the traced step were made with the initial weights: made again.
    model.prepared_for_prediction = False
    model._tf_predict_step = None
    model.run_inference(predict_data_example)
    return model


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
