"""Pullbacks of ops that contain graphs (Map, Scan, IfElse)."""

from __future__ import annotations

from typing import Any

from symgraph.control.ifelse import IfElse, build_ifelse, copy_branch
from symgraph.control.map import Map, build_map
from symgraph.control.scan_grad import scan_pullback
from symgraph.control.scan_op import Scan
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


@pullback.register(Scan)
def _scan_pullback(op: Scan, node: Apply, output_grads: list[Any]) -> list[Any]:
    return scan_pullback(op, node, output_grads)  # backpropagation through time: scan_grad.py


@pullback.register(IfElse)
def _ifelse_pullback(op: IfElse, node: Apply, output_grads: list[Any]) -> list[Any]:
    # d/dx ifelse(c, a(x), b(x)) = ifelse(c, da/dx, db/dx): the gradient is an IfElse too, so
    # it runs only the branch the forward pass took. The condition gets no gradient.
    from symgraph.gradient.reverse import grad
    from symgraph.tensor import math as tm

    cond, *args = node.inputs
    diff = [k for k, a in enumerate(args) if _dt.is_float(a.dtype)]
    seeded = [k for k, out in enumerate(node.outputs) if _dt.is_float(out.dtype)]
    if not diff or not seeded:
        return [None] * len(node.inputs)
    arg_vars = [a.type.make_variable(a.name) for a in args]
    grad_vars = [TensorType(output_grads[k].dtype, output_grads[k].type.shape).make_variable("g") for k in seeded]
    branch_grads = []
    for graph in (op.then_graph, op.else_graph):
        outs = copy_branch(graph, arg_vars)
        known: dict[Any, Any] = {}
        for k, g in zip(seeded, grad_vars):
            known[outs[k]] = known[outs[k]] + g if outs[k] in known else g  # an output given twice
        branch_grads.append(grad(None, [arg_vars[k] for k in diff], known_grads=known,
                                 disconnected_inputs="ignore", return_disconnected="none"))
    then_grads, else_grads, kept = [], [], []
    for k, then_g, else_g in zip(diff, *branch_grads):
        if then_g is None and else_g is None:
            continue  # neither branch depends on this argument
        zero = tm.zeros_like(arg_vars[k])
        then_grads.append(zero if then_g is None else tm.cast(then_g, args[k].dtype))
        else_grads.append(zero if else_g is None else tm.cast(else_g, args[k].dtype))
        kept.append(k)
    result: list[Any] = [None] * len(node.inputs)
    if not kept:
        return result
    label = f"{op.name}_grad" if op.name else "grad"
    grads = build_ifelse(cond, then_grads, else_grads, arg_vars + grad_vars,
                         list(args) + [output_grads[k] for k in seeded], label)
    for k, g in zip(kept, grads):
        result[1 + k] = g
    return result
