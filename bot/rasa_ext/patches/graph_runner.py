"""Patch: Rasa's prediction graphs run node after node, without dask's scheduler.

Every message runs Rasa's NLU graph once and its dialogue graph two or three
times. `DaskGraphRunner` rebuilds the minimal graph for the targets and hands
it to dask's synchronous scheduler each time: bookkeeping that profiling the
Rasa server under load found around nodes that simply run one after the other
in one thread anyway.

`run` works out each target set's order once (a topological order of the
nodes the targets need) and then calls the same nodes with the same inputs, in
that order. tests/unit/rasa_ext/test_graph_runner.py checks the results against dask's.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner

from bot.rasa_ext.patches.object_state import PerObject
from bot.rasa_ext.patches.registry import Patch

# Each runner's node orders, by target set.
ORDERS: PerObject[Dict[Tuple[str, ...], List[str]]] = PerObject()


def node_order(schema: GraphSchema, targets: Sequence[str]) -> List[str]:
    """The nodes the targets need, each after every node it needs (inputs are not nodes)."""
    order: List[str] = []
    placed = set()

    def place(name: str, path: Tuple[str, ...]) -> None:
        if name in placed or name not in schema.nodes:
            return
        if name in path:
            raise GraphRunError(f"The graph has a cycle through '{name}'.")
        for needed in schema.nodes[name].needs.values():
            place(needed, path + (name,))
        placed.add(name)
        order.append(name)

    for target in targets:
        place(target, ())
    return order


def run(
    self: DaskGraphRunner,
    inputs: Optional[Dict[str, Any]] = None,
    targets: Optional[List[str]] = None,
) -> Dict[str, Any]:
    """DaskGraphRunner.run, the nodes called in a remembered order."""
    run_targets = list(targets if targets else self._graph_schema.target_names)
    orders = ORDERS.setdefault(self, dict)
    key = tuple(run_targets)
    if key not in orders:
        orders[key] = node_order(self._graph_schema, run_targets)
    # As in the dask graph, an input reaches a node as (input name, value) and a
    # node's output as (node name, value).
    results: Dict[str, Tuple[str, Any]] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and value in self._graph_schema.nodes:
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure that none of the input names "
                f"passed to the `run` method are the same as node names in the graph schema."
            )
        results[name] = (name, value)
    for name in orders[key]:
        needs = self._graph_schema.nodes[name].needs.values()
        results[name] = self._instantiated_nodes[name](*(results[needed] for needed in needs))
    return dict(results[target] for target in run_targets)


PATCH = Patch(
    name="graph_runner",
    targets=("rasa.engine.runner.dask.DaskGraphRunner.run",),
    why=(
        "Rasa hands each graph run to dask's scheduler, rebuilding the graph every time,\n"
        "for nodes that run one after another anyway. Here each target set's node order is worked out once."
    ),
    replacements=lambda: {"rasa.engine.runner.dask.DaskGraphRunner.run": run},
)
