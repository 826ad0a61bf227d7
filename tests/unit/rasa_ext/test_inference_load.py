"""bot/rasa_ext/patches/inference_load.py.

A model loaded for predictions parses every message exactly as after Rasa's own
load, and holds no optimizer (none of the training state Rasa's load builds) and
no weight its predictions never read.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
from rasa.utils.tensorflow.models import RasaModel

from bot.rasa_ext.patches import inference_load, patched
from tests.support.sentences import SENTENCES

# Both classifiers at work (city questions go to the ResponseSelector), both languages, fallbacks.
TEXTS = SENTENCES + [
    "when is city hall open?",
    "¿cuándo pasa la basura?",
    "can you tell me how to pay my water bill",
    "how do I jump start my car",
    "12 Elm Street",
    "",
]


def loaded(model_path: Path) -> Tuple[List[Dict[str, Any]], List[RasaModel]]:
    """Each text's parse by a newly loaded agent, and the TensorFlow models that load built."""
    from rasa.core.agent import Agent

    built: List[RasaModel] = []
    run_inference = RasaModel.run_inference

    def recorded(self: RasaModel, *args: Any, **kwargs: Any) -> Any:
        if not any(model is self for model in built):
            built.append(self)
        return run_inference(self, *args, **kwargs)

    RasaModel.run_inference = recorded  # type: ignore[method-assign]
    try:
        agent = Agent.load(str(model_path))
    finally:
        RasaModel.run_inference = run_inference  # type: ignore[method-assign]

    async def parse_all() -> List[Dict[str, Any]]:
        return [await agent.parse_message(text) for text in TEXTS]

    return asyncio.run(parse_all()), built


def test_a_model_loaded_for_predictions_parses_as_after_rasas_load(trained_model: Path):
    expected, rasa_models = loaded(trained_model)  # Rasa's own code
    with patched(inference_load.PATCH):
        got, models = loaded(trained_model)
    assert got == expected
    assert {type(model).__name__ for model in models} == {"DIET", "DIET2BOW"}  # the classifier and the selector
    assert all(model.optimizer is not None for model in rasa_models)
    assert all(model.optimizer is None for model in models)  # nothing kept for training
    # Every weight but the text tokens' input layer's, which no prediction reads (no transformer, no entities).
    for model, rasas in zip(models, rasa_models, strict=True):
        names = {weight.name for weight in model.weights}
        unread = sorted("/".join(weight.name.split("/")[-2:]) for weight in rasas.weights if weight.name not in names)
        assert unread == [f"{inference_load.TEXT_TOKEN_INPUT}/bias:0", f"{inference_load.TEXT_TOKEN_INPUT}/kernel:0"]


@pytest.mark.parametrize(
    "config, reads",
    [
        ({"number_of_transformer_layers": 0, "entity_recognition": False}, False),
        ({"number_of_transformer_layers": {"text": 0, "label": 0}}, False),
        ({"number_of_transformer_layers": 2, "entity_recognition": False}, True),
        ({"number_of_transformer_layers": {"text": 1, "label": 0}}, True),
        ({"number_of_transformer_layers": 0, "entity_recognition": True}, True),
    ],
)
def test_the_text_tokens_are_read_with_transformer_layers_or_entity_recognition(config: Dict[str, Any], reads: bool):
    assert inference_load.reads_text_tokens(config) is reads


def test_loading_for_fine_tuning_or_without_an_example_is_rasas_own(monkeypatch: pytest.MonkeyPatch):
    calls: List[Tuple[Any, bool]] = []

    def rasa_load(
        cls: Any,
        model_file_name: str,
        model_data_example: Any,
        predict_data_example: Any = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> str:
        calls.append((predict_data_example, finetune_mode))
        return "rasa's"

    monkeypatch.setattr(RasaModel, "load", classmethod(rasa_load))  # what the patch finds and keeps
    with patched(inference_load.PATCH):
        assert RasaModel.load("weights", "data", "example", True) == "rasa's"
        assert RasaModel.load("weights", "data", None, False) == "rasa's"
    assert calls == [("example", True), (None, False)]
