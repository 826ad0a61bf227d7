"""bot/rasa_ext/patches/parse_together.py, predict_together.py.

Messages parsed together get the parse each gets alone from Rasa: exactly
through TensorFlow, and to float32's rounding through the sentence networks.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Dict, Iterator, List

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.models import RasaModel

from bot.rasa_ext import sentence_network
from bot.rasa_ext.patches import parse_together, patched, predict_together
from tests.support.sentences import SENTENCES

# Both classifiers at work (city questions go to the ResponseSelector), fallbacks,
# entities, answers to a report's questions.
TEXTS = SENTENCES + [
    "when is city hall open?",
    "can I recycle pizza boxes?",
    "12 Elm Street",
    "bike lane",
    "skip",
    "ABC 1234",
    "",
]


@pytest.fixture
def batching(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], List[int]]]:
    """Applies both batching patches for one test, when asked; gives the sizes of the NLU runs it made."""
    with contextlib.ExitStack() as stack:

        def apply() -> List[int]:
            stack.enter_context(patched(predict_together.PATCH, parse_together.PATCH))
            sizes: List[int] = []
            parse_now = parse_together.ParseBatcher.parse_now

            def recorded(
                self: parse_together.ParseBatcher, messages: List[Any], only: List[bool]
            ) -> List[Dict[str, Any]]:
                sizes.append(len(messages))
                return parse_now(self, messages, only)

            monkeypatch.setattr(parse_together.ParseBatcher, "parse_now", recorded)
            return sizes

        yield apply


def confidences(parse: Dict[str, Any]) -> List[float]:
    """Every confidence of a parse: the intents' and the selected answers'."""
    answers = [
        ranked["confidence"]
        for selector in parse.get("response_selector", {}).values()
        if isinstance(selector, dict)
        for ranked in selector.get("ranking", [])
    ]
    return [parse["intent"]["confidence"], *(ranked["confidence"] for ranked in parse["intent_ranking"]), *answers]


def without_confidences(value: Any) -> Any:
    """The parse with every confidence taken out, to compare the rest exactly."""
    if isinstance(value, dict):
        return {key: without_confidences(item) for key, item in value.items() if key != "confidence"}
    if isinstance(value, list):
        return [without_confidences(item) for item in value]
    return value


@pytest.mark.parametrize("with_networks", [True, False], ids=["sentence networks", "tensorflow"])
def test_messages_parsed_together_are_parsed_as_each_alone(
    trained_model: Path, batching: Callable[[], List[int]], monkeypatch: pytest.MonkeyPatch, with_networks: bool
):
    from rasa.core.agent import Agent

    async def one_by_one(agent: Any) -> List[Dict[str, Any]]:
        return [await agent.parse_message(text) for text in TEXTS]

    async def together(agent: Any) -> List[Dict[str, Any]]:
        return list(await asyncio.gather(*(agent.parse_message(text) for text in TEXTS)))

    expected = asyncio.run(one_by_one(Agent.load(str(trained_model))))  # Rasa's own code
    sizes = batching()
    tensorflow_calls: List[int] = []
    network_calls: List[int] = []
    run_inference = RasaModel.run_inference
    scores = sentence_network.SentenceNetwork.scores

    def counted(self: RasaModel, model_data: Any, *args: Any, **kwargs: Any) -> Any:
        tensorflow_calls.append(model_data.number_of_examples())
        return run_inference(self, model_data, *args, **kwargs)

    def counted_scores(self: sentence_network.SentenceNetwork, sentences: Any) -> Any:
        network_calls.append(sentences.shape[0])
        return scores(self, sentences)

    agent = Agent.load(str(trained_model))
    monkeypatch.setattr(RasaModel, "run_inference", counted)
    monkeypatch.setattr(sentence_network.SentenceNetwork, "scores", counted_scores)
    if not with_networks:  # as for a model that reads more than the sentence
        monkeypatch.setattr(sentence_network, "for_model", lambda model: None)
    got = asyncio.run(together(agent))
    assert sizes == [len(TEXTS)]  # all of them in one NLU run,
    calls = network_calls if with_networks else tensorflow_calls
    assert len(calls) == 2 and min(calls) > 1  # one call per classifier
    if with_networks:
        # The empty message's, narrower than the model's input (no regex row): Rasa's own.
        assert tensorflow_calls == [1]
        # numpy's sums in another order than TensorFlow's: the same parse, to float32's rounding
        assert [without_confidences(parse) for parse in got] == [without_confidences(parse) for parse in expected]
        for parse, rasas in zip(got, expected, strict=True):
            assert confidences(parse) == pytest.approx(confidences(rasas), abs=2e-6)
    else:
        assert not network_calls
        assert got == expected


def fake_runner(runs: List[List[str]]) -> Any:
    """A graph runner whose NLU graph parses text to its upper case, and fails on 'boom'."""

    def run(inputs: Dict[str, Any], targets: List[str]) -> Dict[str, Any]:
        texts = [message.text for message in inputs["__message__"]]
        runs.append(texts)
        if "boom" in texts:
            raise ValueError("cannot parse boom")
        return {targets[0]: [Message(data={"text": text.upper()}) for text in texts]}

    return SimpleNamespace(run=run)


def test_a_message_that_fails_fails_alone():
    runs: List[List[str]] = []
    batcher = parse_together.ParseBatcher(fake_runner(runs), "nlu")

    async def parse_all() -> List[Any]:
        texts = ["one", "boom", "two"]
        return await asyncio.gather(*(batcher.parse(UserMessage(text)) for text in texts), return_exceptions=True)

    one, boom, two = asyncio.run(parse_all())
    assert one["text"] == "ONE" and two["text"] == "TWO"
    assert isinstance(boom, ValueError)
    assert runs == [["one", "boom", "two"], ["one"], ["boom"], ["two"]]


def test_a_lone_message_is_parsed_at_once_and_big_crowds_in_turns():
    runs: List[List[str]] = []
    batcher = parse_together.ParseBatcher(fake_runner(runs), "nlu", max_batch=4)

    async def parse(texts: List[str]) -> List[str]:
        return [parsed["text"] for parsed in await asyncio.gather(*(batcher.parse(UserMessage(t)) for t in texts))]

    assert asyncio.run(parse(["alone"])) == ["ALONE"]
    crowd = [f"m{index}" for index in range(10)]
    assert asyncio.run(parse(crowd)) == [text.upper() for text in crowd]
    assert [len(run) for run in runs] == [1, 4, 4, 2]
