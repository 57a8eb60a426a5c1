"""The graph IR: Variable, Constant, Apply, Op, Type, FunctionGraph, traversal, export."""

from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply, Constant, Variable
from symgraph.graph.op import Op, Type
from symgraph.graph.traversal import ancestors, clone_replace, graph_inputs, toposort


def to_networkx(obj):  # type: ignore[no-untyped-def]
    """A networkx.DiGraph of a variable, list of variables, FunctionGraph or compiled function."""
    from symgraph.graph.export import to_networkx as _to_networkx

    return _to_networkx(obj)


__all__ = [
    "Apply", "Constant", "FunctionGraph", "Op", "Type", "Variable", "ancestors", "clone_replace",
    "graph_inputs", "to_networkx", "toposort",
]
