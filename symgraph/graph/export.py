"""Export a graph to networkx for analysis and drawing."""

from __future__ import annotations

from typing import Any

import networkx as nx

from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Constant, Variable
from symgraph.graph.traversal import toposort


def _roots(obj: Any) -> list[Variable]:
    if isinstance(obj, FunctionGraph):
        return list(obj.outputs)
    maker = getattr(obj, "maker", None)
    if maker is not None and hasattr(maker, "fgraph"):
        return list(maker.fgraph.outputs)
    if isinstance(obj, (list, tuple)):
        return list(obj)
    if isinstance(obj, Variable):
        return [obj]
    raise TypeError(f"to_networkx needs a variable, list of variables, FunctionGraph or Function, got {type(obj).__name__}")


def to_networkx(obj: Any) -> nx.DiGraph:
    """A bipartite ``networkx.DiGraph``: variable nodes and apply nodes, edges along data flow.

    Node attributes: ``kind`` ('variable' or 'apply'), ``label`` (printable), for variables
    ``type``, ``name``, ``is_input``, ``is_constant``, ``is_output``; for apply nodes ``op``
    (the Op object) and ``source`` (the user line that built it). Apply-to-variable edges
    have ``index`` (output position); variable-to-apply edges ``index`` (input position).
    """
    roots = _roots(obj)
    graph = nx.DiGraph()
    ids: dict[int, str] = {}

    def var_id(var: Variable) -> str:
        key = ids.get(id(var))
        if key is None:
            key = ids[id(var)] = f"v{len(ids)}"
            graph.add_node(
                key, kind="variable", label=var.name or (repr(var) if isinstance(var, Constant) else str(var.type)),
                type=var.type, name=var.name, is_input=var.owner is None and not isinstance(var, Constant),
                is_constant=isinstance(var, Constant), is_output=False, variable=var,
            )
        return key

    for n, node in enumerate(toposort(roots)):
        key = f"a{n}"
        graph.add_node(key, kind="apply", label=str(node.op), op=node.op,
                       source=str(node.source) if node.source else None, apply=node)
        for i, inp in enumerate(node.inputs):
            graph.add_edge(var_id(inp), key, index=i)
        for i, out in enumerate(node.outputs):
            graph.add_edge(key, var_id(out), index=i)
    for r in roots:
        graph.nodes[var_id(r)]["is_output"] = True
    return graph
