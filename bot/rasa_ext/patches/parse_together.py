"""Patch: messages that arrive together are understood together, in one NLU graph run.

Under load, messages of many conversations wait on the Rasa server's event loop
at the same moment, yet Rasa 3.6 parses each with a graph run of its own.
`MessageProcessor.parse_message` hands its message to the processor's
`ParseBatcher`, which parses every message handed in before the event loop
comes round to it with one run of the NLU graph (every NLU component takes a
list of messages). A message alone is parsed at once: with one resident
nothing waits. The classifiers then predict such a batch in one network call
(bot/rasa_ext/patches/predict_together.py).

Each message's result is Rasa's own (tests/unit/rasa_ext/test_nlu_batching.py compares them
with one-by-one parsing).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from bot.rasa_ext.patches.object_state import PerObject
from bot.rasa_ext.patches.registry import Patch

if TYPE_CHECKING:
    from rasa.core.channels.channel import UserMessage
    from rasa.core.processor import MessageProcessor

logger = logging.getLogger(__name__)

# The most messages parsed in one run; more wait for the next run.
MAX_BATCH = 64


class ParseBatcher:
    """Gathers the messages a processor is asked to parse and parses them in one NLU graph run.

    It holds the processor's graph runner, not the processor: kept for the
    processor in `BATCHERS`, it must not keep the processor alive.
    """

    def __init__(self, graph_runner: Any, nlu_target: str, max_batch: int = MAX_BATCH) -> None:
        self.graph_runner = graph_runner
        self.nlu_target = nlu_target
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
            except Exception:
                logger.debug("A batch of %d messages failed to parse; parsing them one by one.", len(batch))
            else:
                for (_, _, future), parse_data in zip(batch, parsed, strict=True):
                    _settle(future, lambda given: given, parse_data)
                return
        for message, only, future in batch:
            _settle(future, self._parse_one, message, only)

    def _parse_one(self, message: "UserMessage", only_output_properties: bool) -> Dict[str, Any]:
        return self.parse_now([message], [only_output_properties])[0]

    def parse_now(self, messages: List["UserMessage"], only_output_properties: List[bool]) -> List[Dict[str, Any]]:
        """One NLU graph run for the messages; each message's parse data."""
        from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
        from rasa.shared.core.trackers import DialogueStateTracker
        from rasa.shared.nlu.constants import (
            ENTITIES,
            INTENT,
            INTENT_NAME_KEY,
            PREDICTED_CONFIDENCE_KEY,
            TEXT,
        )

        target = self.nlu_target
        results = self.graph_runner.run(
            # The NLU graph does not read the tracker (`needs_tracker` is checked first).
            inputs={PLACEHOLDER_MESSAGE: list(messages), PLACEHOLDER_TRACKER: DialogueStateTracker("", [])},
            targets=[target],
        )
        parsed = []
        for message, only in zip(results[target], only_output_properties, strict=True):
            parse_data = {TEXT: "", INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, ENTITIES: []}
            parse_data.update(message.as_dict(only_output_properties=only))
            parsed.append(parse_data)
        return parsed


def _settle(future: asyncio.Future, compute: Callable[..., Any], *args: Any) -> None:
    """Resolve the future with `compute(*args)` (or its exception), unless it was cancelled."""
    if future.cancelled():
        return
    try:
        future.set_result(compute(*args))
    except Exception as error:
        future.set_exception(error)


def needs_tracker(processor: "MessageProcessor") -> bool:
    """Whether any node the NLU target depends on reads the tracker input."""
    from rasa.engine.constants import PLACEHOLDER_TRACKER

    from bot.rasa_ext.patches.graph_runner import node_order

    schema = processor.graph_runner._graph_schema
    nodes = node_order(schema, [processor.model_metadata.nlu_target])
    return any(PLACEHOLDER_TRACKER in schema.nodes[name].needs.values() for name in nodes)


# Each processor's batcher (None: its messages are parsed one at a time).
BATCHERS: PerObject[Optional[ParseBatcher]] = PerObject()


def batcher_of(processor: "MessageProcessor") -> Optional[ParseBatcher]:
    """The processor's batcher, or None when its messages must be parsed one at a time."""

    def make() -> Optional[ParseBatcher]:
        usable = processor.http_interpreter is None and not needs_tracker(processor)
        return ParseBatcher(processor.graph_runner, processor.model_metadata.nlu_target) if usable else None

    return BATCHERS.setdefault(processor, make)


def replacements() -> Dict[str, Any]:
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

    return {TARGET: parse_message_in_batch}


TARGET = "rasa.core.processor.MessageProcessor.parse_message"
PATCH = Patch(
    name="parse_together",
    targets=(TARGET,),
    why=(
        "Rasa 3.6 runs the NLU graph once per message, even when dozens wait on the event loop together.\n"
        "Messages handed in before the loop comes round are parsed in one run, each getting Rasa's own parse."
    ),
    replacements=replacements,
)
