"""Messages that arrive together are understood together: one NLU run for all of them.

Under load, messages of many conversations wait on the Rasa server's event loop
at the same moment, yet Rasa 3.6 parses each with a graph run of its own, and
its classifiers (DIETClassifier, ResponseSelector) call their neural network
once per message even when given several. Profiling the server at 10 and 50
conversations put a third of its event loop's time in the intent classifier,
most of it the cost of a network call rather than of the message.

- `ParseBatcher`: `MessageProcessor.parse_message` hands its message to the
  batcher, which parses every message handed in before the event loop comes
  round to it with one run of the NLU graph (every NLU component takes a list
  of messages). A message alone is parsed at once: with one resident nothing
  waits.
- `predict_in_one_call`: the classifiers predict all the messages of a run with
  one network call (one batch), then each message's outputs are picked out of
  it and used exactly as Rasa uses a single message's.

Each message's result is Rasa's own (tests/test_nlu_batching.py compares them
with one-by-one parsing). Applied by bot/rasa_server.py before Rasa starts.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

if TYPE_CHECKING:
    from rasa.core.channels.channel import UserMessage
    from rasa.core.processor import MessageProcessor
    from rasa.shared.nlu.training_data.message import Message

logger = logging.getLogger(__name__)

# The most messages parsed in one run; more wait for the next run.
MAX_BATCH = 64

Outputs = Dict[str, Any]


class ParseBatcher:
    """Gathers the messages a processor is asked to parse and parses them in one NLU graph run."""

    def __init__(self, processor: "MessageProcessor", max_batch: int = MAX_BATCH) -> None:
        self.processor = processor
        self.max_batch = max_batch
        self._waiting: List[Tuple["UserMessage", bool, asyncio.Future]] = []
        self._scheduled = False

    async def parse(self, message: "UserMessage", only_output_properties: bool = True) -> Dict[str, Any]:
        """The message's parse data, as `MessageProcessor._parse_message_with_graph` gives it."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiting.append((message, only_output_properties, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._run)
        return await future

    def _run(self) -> None:
        batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
        self._scheduled = bool(self._waiting)
        if self._waiting:
            asyncio.get_running_loop().call_soon(self._run)
        if len(batch) > 1:
            try:
                parsed = self.parse_now([message for message, _, _ in batch], [only for _, only, _ in batch])
            except Exception:  # noqa: BLE001 - one bad message must not fail the others: each alone
                logger.debug("A batch of %d messages failed to parse; parsing them one by one.", len(batch))
            else:
                for (_, _, future), parse_data in zip(batch, parsed):
                    _settle(future, lambda: parse_data)
                return
        for message, only, future in batch:
            _settle(future, lambda: self.parse_now([message], [only])[0])

    def parse_now(self, messages: List["UserMessage"], only_output_properties: List[bool]) -> List[Dict[str, Any]]:
        """One NLU graph run for the messages; each message's parse data."""
        from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
        from rasa.shared.core.trackers import DialogueStateTracker
        from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT

        processor = self.processor
        target = processor.model_metadata.nlu_target
        results = processor.graph_runner.run(
            # The NLU graph does not read the tracker (`needs_tracker` is checked first).
            inputs={PLACEHOLDER_MESSAGE: list(messages), PLACEHOLDER_TRACKER: DialogueStateTracker("", [])},
            targets=[target],
        )
        parsed = []
        for message, only in zip(results[target], only_output_properties):
            parse_data = {TEXT: "", INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, ENTITIES: []}
            parse_data.update(message.as_dict(only_output_properties=only))
            parsed.append(parse_data)
        return parsed


def _settle(future: asyncio.Future, result: Callable[[], Any]) -> None:
    if future.cancelled():
        return
    try:
        future.set_result(result())
    except Exception as error:  # noqa: BLE001 - the waiting handler gets the error, as without batching
        future.set_exception(error)


def needs_tracker(processor: "MessageProcessor") -> bool:
    """Whether any node the NLU target depends on reads the tracker input."""
    from rasa.engine.constants import PLACEHOLDER_TRACKER

    from bot.graph_runner import node_order

    schema = processor.graph_runner._graph_schema
    nodes = node_order(schema, [processor.model_metadata.nlu_target])
    return any(PLACEHOLDER_TRACKER in schema.nodes[name].needs.values() for name in nodes)


def batcher_of(processor: "MessageProcessor") -> Optional[ParseBatcher]:
    """The processor's batcher, or None when its messages must be parsed one at a time."""
    if "_citybot_batcher" not in processor.__dict__:
        usable = processor.http_interpreter is None and not needs_tracker(processor)
        processor.__dict__["_citybot_batcher"] = ParseBatcher(processor) if usable else None
    return processor.__dict__["_citybot_batcher"]


def parse_messages_together() -> None:
    """MessageProcessor.parse_message through the processor's `ParseBatcher`."""
    import copy

    from rasa.core.processor import MessageProcessor, structlogger
    from rasa.shared.core.trackers import DialogueStateTracker

    parse_message = MessageProcessor.parse_message

    async def parse_message_in_batch(
        self: MessageProcessor,
        message: "UserMessage",
        tracker: Optional[DialogueStateTracker] = None,
        only_output_properties: bool = True,
    ) -> Dict[str, Any]:
        batcher = batcher_of(self)
        if batcher is None:
            return await parse_message(self, message, tracker, only_output_properties)
        parse_data = await batcher.parse(message, only_output_properties)
        # The rest of Rasa 3.6's parse_message.
        self._update_full_retrieval_intent(parse_data)
        structlogger.debug(
            "processor.message.parse",
            parse_data_text=copy.deepcopy(parse_data["text"]),
            parse_data_intent=parse_data["intent"],
            parse_data_entities=copy.deepcopy(parse_data["entities"]),
        )
        self._check_for_unseen_features(parse_data)
        return parse_data

    MessageProcessor.parse_message = parse_message_in_batch  # type: ignore[assignment]


# --- one network call for several messages ---------------------------------------

PREDICTED = "_citybot_predicted"


def predict_many(classifier: Any, messages: List["Message"]) -> Dict[int, Outputs]:
    """`_predict`'s outputs for the messages, by `id(message)`, from one network call.

    Rasa's outputs for one message have a batch dimension of one; here each
    message gets its row of the batch's outputs. Left out (and so predicted one
    by one, as Rasa does): messages without features, and every message when
    the outputs would not be one row per message (entities and diagnostic data
    are per token, padded to the batch's longest message).
    """
    import numpy as np
    from rasa.nlu.classifiers.diet_classifier import ENTITY_RECOGNITION, FEATURIZERS
    from rasa.shared.constants import DIAGNOSTIC_DATA
    from rasa.shared.nlu.constants import TEXT

    if classifier.model is None:
        return {}
    if classifier.component_config.get(ENTITY_RECOGNITION) or classifier._execution_context.should_add_diagnostic_data:
        return {}
    featurizers = classifier.component_config.get(FEATURIZERS)
    featurized = [message for message in messages if message.features_present(attribute=TEXT, featurizers=featurizers)]
    if len(featurized) < 2:
        return {}
    model_data = classifier._create_model_data(featurized, training=False)
    if model_data.number_of_examples() != len(featurized):
        return {}
    outputs = classifier.model.run_inference(model_data, batch_size=len(featurized))
    # Diagnostic data (a dict) is read only when asked for, which was ruled out above.
    rows = {key: value for key, value in outputs.items() if key != DIAGNOSTIC_DATA}
    if not all(isinstance(value, np.ndarray) and len(value) == len(featurized) for value in rows.values()):
        return {}
    return {
        id(message): {key: value[index : index + 1] for key, value in rows.items()}
        for index, message in enumerate(featurized)
    }


def predict_in_one_call(cls: type) -> None:
    """`cls.process` predicting its messages in one network call first (see `use_predicted_first`)."""
    process = cls.__dict__["process"]

    def process_together(self: Any, messages: List["Message"]) -> List["Message"]:
        predicted = predict_many(self, messages) if len(messages) > 1 else {}
        if not predicted:
            return process(self, messages)
        self.__dict__[PREDICTED] = predicted
        try:
            return process(self, messages)
        finally:
            self.__dict__.pop(PREDICTED, None)

    cls.process = process_together


def use_predicted_first() -> None:
    """DIETClassifier._predict (ResponseSelector's too) returning the outputs `process` predicted already."""
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier

    predict = DIETClassifier._predict

    def _predict(self: Any, message: "Message") -> Optional[Outputs]:
        predicted = self.__dict__.get(PREDICTED)
        if predicted is not None and id(message) in predicted:
            return predicted[id(message)]
        return predict(self, message)

    DIETClassifier._predict = _predict  # type: ignore[assignment]


def apply() -> None:
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier
    from rasa.nlu.selectors.response_selector import ResponseSelector

    use_predicted_first()
    predict_in_one_call(DIETClassifier)
    predict_in_one_call(ResponseSelector)
    parse_messages_together()
