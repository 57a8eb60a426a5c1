"""Reductions: merge nested ones, drop trivial ones, pull factors and signs out of sums."""

from __future__ import annotations

from typing import Any

from symgraph import scalar as ps
from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply
from symgraph.rewrite.engine import LocalRewrite, Replacement
from symgraph.rewrite.match import elemwise_node, like, single_client
from symgraph.rewrite.pattern import RuleSet
from symgraph.tensor import math as tm
from symgraph.tensor.elemwise import DimShuffle, Elemwise, dimshuffle
from symgraph.tensor.reduce import Max, Min, Prod, Reduce, Sum


def _default_params(op: Reduce) -> bool:
    """True when a Sum/Prod has NumPy's default dtypes (no explicit dtype/acc_dtype)."""
    return getattr(op, "dtype", None) is None and getattr(op, "acc_dtype", None) is None


def _merge_nested(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # sum(sum(x, a), b) -> sum(x, a and b): one pass (also prod, max, min, all, any)
    inner = node.inputs[0].owner
    op = node.op
    if inner is None or type(inner.op) is not type(op) or not single_client(fgraph, node.inputs[0]):
        return None
    if not (_default_params(op) and _default_params(inner.op)):  # type: ignore[arg-type]
        return None
    if node.inputs[0].type.dtype != node.outputs[0].type.dtype:  # type: ignore[attr-defined]
        return None  # e.g. an int8 sum widened to int64 before the outer one
    kept = [a for a in range(inner.inputs[0].type.ndim) if a not in inner.op.axis]  # type: ignore[attr-defined]
    combined = tuple(sorted(inner.op.axis + tuple(kept[a] for a in op.axis)))  # type: ignore[attr-defined]
    return [type(op)(combined)(inner.inputs[0])]


def _sum_over_broadcast_axes(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # sum over axes that a DimShuffle only inserted (length 1) is the identity on them
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, DimShuffle):
        return None
    order = inner.op.new_order
    if not node.op.axis or any(order[a] != "x" for a in node.op.axis):  # type: ignore[attr-defined]
        return None
    kept = [o for k, o in enumerate(order) if k not in node.op.axis]  # type: ignore[attr-defined]
    out = node.outputs[0]
    new = dimshuffle(inner.inputs[0], kept)
    if new.dtype != out.type.dtype and not out.type.dtype.startswith("float"):  # type: ignore[attr-defined]
        return None
    return [like(new, out)]


def _reduce_over_length_one(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # sum/prod/max/min over axes of static length 1 only drops those axes
    x = node.inputs[0]
    axis = node.op.axis  # type: ignore[attr-defined]
    if not axis or any(x.type.shape[a] != 1 for a in axis):  # type: ignore[attr-defined]
        return None
    if isinstance(node.op, (Sum, Prod)) and not _default_params(node.op):  # type: ignore[arg-type]
        return None
    kept = [a for a in range(x.type.ndim) if a not in axis]  # type: ignore[attr-defined]
    return [like(dimshuffle(x, kept), node.outputs[0])]


def _reduce_over_no_axes(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # a reduction over no axis is the identity (with the result dtype)
    if node.op.axis:  # type: ignore[attr-defined]
        return None
    if isinstance(node.op, (Sum, Prod)) and not _default_params(node.op):  # type: ignore[arg-type]
        return None
    return [like(node.inputs[0], node.outputs[0])]


def _sum_of_neg(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # sum(-x) -> -sum(x): one negation of the (smaller) result
    inner = elemwise_node(node.inputs[0], ps.Neg)
    out = node.outputs[0]
    if inner is None or not _default_params(node.op) or not single_client(fgraph, node.inputs[0]):  # type: ignore[arg-type]
        return None
    if node.inputs[0].type.dtype != out.type.dtype or out.type.dtype.startswith(("uint", "bool")):  # type: ignore[attr-defined]
        return None
    return [tm.neg(type(node.op)(node.op.axis)(inner.inputs[0]))]  # type: ignore[attr-defined]


def _sum_of_scaled(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # sum(a * X, axis) -> a * sum(X, axis) for factors a broadcast along every summed axis
    # (also X / a): the multiplication then runs on the reduced result only
    mul_in = node.inputs[0]
    inner = mul_in.owner
    out = node.outputs[0]
    axis = node.op.axis  # type: ignore[attr-defined]
    if (
        inner is None or not isinstance(inner.op, Elemwise) or not _default_params(node.op)  # type: ignore[arg-type]
        or not single_client(fgraph, mul_in) or not axis
        or not out.type.dtype.startswith(("float", "complex"))  # type: ignore[attr-defined]
        or mul_in.type.dtype != out.type.dtype  # type: ignore[attr-defined]
    ):
        return None
    sop = inner.op.scalar_op
    if isinstance(sop, ps.Mul):
        candidates = list(inner.inputs)
    elif isinstance(sop, ps.TrueDiv):
        candidates = [inner.inputs[1]]
    else:
        return None

    def broadcast_on_axes(v: object) -> bool:
        return all(v.type.shape[a] == 1 for a in axis)  # type: ignore[attr-defined]

    outside = [v for v in candidates if broadcast_on_axes(v)]
    if not outside:
        return None
    kept_axes = [a for a in range(mul_in.type.ndim) if a not in axis]  # type: ignore[attr-defined]
    reduced = [dimshuffle(v, kept_axes) for v in outside]

    def in_product_dtype(v: Any) -> Any:
        # sum what the product summed: an integer X in float a * X must be summed as float
        # (an integer sum wraps around where the float sum does not)
        return v if v.type.dtype == mul_in.type.dtype else tm.cast(v, mul_in.type.dtype)

    if isinstance(sop, ps.Mul):
        inside = [v for v in inner.inputs if not any(v is o for o in outside)]
        if not inside:
            return None  # every factor is broadcast: the sum is a count times them
        summed = type(node.op)(axis)(in_product_dtype(inside[0] if len(inside) == 1 else tm.mul(*inside)))
        return [tm.mul(*reduced, summed)]
    summed = type(node.op)(axis)(in_product_dtype(inner.inputs[0]))
    return [tm.true_div(summed, reduced[0])]


REDUCE_CANONICALIZE = RuleSet("reduce", [
    LocalRewrite("sum_over_broadcast_axes", _sum_over_broadcast_axes, (Sum,),
                 "sum over inserted length-1 axes"),
    LocalRewrite("reduce_over_length_one_axes", _reduce_over_length_one, (Sum, Prod, Max, Min),
                 "reduction over static length-1 axes"),
    LocalRewrite("reduce_over_no_axes", _reduce_over_no_axes, (Sum, Prod, Max, Min),
                 "reduction over no axis"),
    LocalRewrite("merge_nested_reductions", _merge_nested, (Reduce,),
                 "sum(sum(x, a), b) = sum(x, a + b)"),
    LocalRewrite("sum_of_neg", _sum_of_neg, (Sum,), "sum(-x) = -sum(x)"),
    LocalRewrite("sum_of_scaled_pulls_out_factor", _sum_of_scaled, (Sum,),
                 "sum(a * X) = a * sum(X) for a broadcast along the summed axes"),
])
