"""bot/rasa_ext/patches/graph_runner.py: Rasa's graphs give the same results run in order as through dask."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, List, Tuple

import pytest
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_ext.patches import graph_runner, patched

SENTENCES = [
    "hello",
    "I need to report a pothole",
    "yes",
    "12 Elm Street",
    "when is city hall open?",
    "status of request 1042",
    "talk to a person",
    "there's a gas smell",
    "cancel",
    "asdf qwerty",
]


def predictions(agent: Any) -> List[Tuple[Any, ...]]:
    """What the NLU graph and the dialogue graph give for each sentence, as a fresh conversation."""

    async def predict() -> List[Tuple[Any, ...]]:
        found = []
        for index, text in enumerate(SENTENCES):
            parsed = await agent.parse_message(text)
            tracker = DialogueStateTracker.from_events(
                f"graph-{index}",
                [ActionExecuted("action_listen"), UserUttered(text, parsed["intent"], parsed["entities"])],
                agent.domain.slots,
            )
            prediction = agent.processor._predict_next_with_tracker(tracker)
            found.append((parsed, prediction.max_confidence_index, prediction.probabilities, prediction.policy_name))
        return found

    return asyncio.run(predict())


def test_the_assistants_graphs_give_dasks_results(trained_model: Path):
    from rasa.core.agent import Agent

    agent = Agent.load(str(trained_model))
    expected = predictions(agent)
    with patched(graph_runner.PATCH):
        assert predictions(agent) == expected
    assert graph_runner.ORDERS.get(agent.processor.graph_runner)  # the new path ran


def schema(needs: dict) -> GraphSchema:
    return GraphSchema(
        {
            name: SchemaNode(needs=node_needs, uses=DaskGraphRunner, constructor_name="create", fn="run", config={})
            for name, node_needs in needs.items()
        }
    )


def test_nodes_come_after_what_they_need():
    graph = schema({"c": {"x": "b", "y": "a"}, "b": {"x": "a", "i": "__input__"}, "a": {}, "unused": {"x": "a"}})
    order = graph_runner.node_order(graph, ["c"])
    assert set(order) == {"a", "b", "c"} and order.index("a") < order.index("b") < order.index("c")
    assert graph_runner.node_order(graph, ["unused", "c"])[:2] == ["a", "unused"]
    with pytest.raises(GraphRunError):
        graph_runner.node_order(schema({"a": {"x": "b"}, "b": {"x": "a"}}), ["a"])
