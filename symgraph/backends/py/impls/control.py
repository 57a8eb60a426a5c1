"""NumPy implementations: ops that contain graphs (Map, Scan, IfElse)."""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from symgraph.backends.py.dispatch import perform
from symgraph.control.ifelse import IfElse
from symgraph.control.inner import PREPARERS, backend_of, build_runner
from symgraph.control.map import Map
from symgraph.control.scan_loop import run_scan
from symgraph.control.scan_op import Scan
from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply, Constant

_RUNNERS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
#: IfElse branch graph -> {backend: (runner, constants)}
_BRANCHES: weakref.WeakKeyDictionary[FunctionGraph, dict[str, Any]] = weakref.WeakKeyDictionary()


@perform.register(Map)
def py_map(op: Map, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    from symgraph.backends.py.runner import PyRunner

    runner = _RUNNERS.get(op.inner)
    if runner is None:
        runner = _RUNNERS[op.inner] = PyRunner(op.inner)
    n = int(inputs[0])
    args = inputs[1:]
    rows: list[list[np.ndarray]] = [runner([np.asarray(i, dtype="int64"), *args]) for i in range(n)]
    results = []
    for k, out in enumerate(node.outputs):
        if rows:
            results.append(np.stack([row[k] for row in rows]))
        else:
            inner_shape = tuple(0 if s is None else s for s in op.inner.outputs[k].type.shape)
            results.append(np.zeros((0,) + inner_shape, dtype=out.type.dtype))
    return results


@perform.register(Scan)
def py_scan(op: Scan, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    return run_scan(op, node, inputs)


def _branch_runner(graph: FunctionGraph, backend: str) -> tuple[Any, list[Any]]:
    """A runner for one branch of an IfElse on ``backend`` (the graph rewritten and built,
    on a copy, the first time that branch is taken there) and the constants its outputs
    may be."""
    by_backend = _BRANCHES.get(graph)
    if by_backend is None:
        by_backend = _BRANCHES[graph] = {}
    found = by_backend.get(backend)
    if found is None:
        optimized, _ = graph.clone()
        runner = build_runner(optimized, backend)
        constants = [v.data for v in optimized.outputs if isinstance(v, Constant)]
        found = by_backend[backend] = (runner, constants)
    return found


def _prepare_ifelse(node: Apply, backend: str) -> None:
    for graph in (node.op.then_graph, node.op.else_graph):  # type: ignore[attr-defined]
        _branch_runner(graph, backend)


PREPARERS[IfElse] = _prepare_ifelse


@perform.register(IfElse)
def py_ifelse(op: IfElse, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    # lazy: only the chosen branch's graph runs; the other one is never evaluated
    graph = op.then_graph if bool(np.asarray(inputs[0])) else op.else_graph
    runner, constants = _branch_runner(graph, backend_of(node))
    args = inputs[1:]
    results = runner(args)
    # a branch may give back an argument (ifelse(c, w - g, w)), a view of one or a constant:
    # the node's outputs are arrays of their own, as every other node's are
    held = args + constants
    return [np.array(r) if any(np.may_share_memory(r, h) for h in held) else r for r in results]
