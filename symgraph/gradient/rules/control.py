"""Pullbacks of ops that contain graphs (Map)."""

from __future__ import annotations

from typing import Any

from symgraph.control.map import Map, build_map
from symgraph.gradient.rules import pullback
from symgraph.graph.node import Apply
from symgraph.graph.traversal import clone_replace
from symgraph.scalar import dtypes as _dt
from symgraph.tensor.type import TensorType


@pullback.register(Map)
def _map_pullback(op: Map, node: Apply, output_grads: list[Any]) -> list[Any]:
    # Output k is stack_i f_k(i, args); its pullback at G_k sums, over i, the inner
    # pullback of f_k at row G_k[i]. That sum is itself a Map (over i) followed by sum(axis=0).
    from symgraph.gradient.reverse import grad
    from symgraph.tensor.reduce import sum as _sum

    n, *args = node.inputs
    inner = op.inner
    index = TensorType("int64", ()).make_variable("i")
    arg_vars = [a.type.make_variable(a.name) for a in inner.inputs[1:]]
    grad_vars = [TensorType(g.dtype, g.type.shape).make_variable("g") for g in output_grads]
    mapping = {inner.inputs[0]: index, **dict(zip(inner.inputs[1:], arg_vars))}
    outs, _ = clone_replace(inner.outputs, mapping)
    diff = [v for v in arg_vars if _dt.is_float(v.dtype)]
    if not diff:
        return [None] * len(node.inputs)
    known = {out: g[index] for out, g in zip(outs, grad_vars) if _dt.is_float(out.dtype)}
    row_grads = grad(None, diff, known_grads=known, disconnected_inputs="ignore")
    stacked = build_map(f"{op.label}_grad", n, index, arg_vars + grad_vars, row_grads,
                        outer_args=list(args) + list(output_grads))
    result: list[Any] = [None]
    rows = iter(stacked)
    for v in arg_vars:
        result.append(_sum(next(rows), axis=0) if _dt.is_float(v.dtype) else None)
    return result
