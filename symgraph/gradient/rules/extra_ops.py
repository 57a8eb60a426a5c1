"""Pullbacks: the extra_ops family (cumulative sums and products).

The other extra_ops functions are built from indexing and elementwise ops, whose own
pullbacks differentiate them.
"""

from __future__ import annotations

from typing import Any

from symgraph.gradient.rules import mark_non_differentiable, pullback
from symgraph.graph.node import Apply
from symgraph.tensor import math as tm
from symgraph.tensor.extra_ops import CumOp, Sort, SortGrad, cumprod, cumsum


def _reverse_cumsum(g: Any, axis: int) -> Any:
    """``out[i] = sum(g[i:])`` along ``axis``: a cumulative sum run backwards."""
    backwards = (slice(None),) * axis + (slice(None, None, -1),)
    return cumsum(g[backwards], axis=axis)[backwards]


@pullback.register(CumOp)
def _cumop_pullback(op: CumOp, node: Apply, output_grads: list[Any]) -> list[Any]:
    (g,), (x,), (out,) = output_grads, node.inputs, node.outputs
    if op.mode == "add":
        # out[j] = sum(x[:j+1]), so grad x[i] = sum(g[i:])
        return [_reverse_cumsum(g, op.axis)]
    # out[j] = prod(x[:j+1]), so grad x[i] = sum_{j >= i} g[j] * prod_{k <= j, k != i} x[k].
    # Before the first zero along the axis that is sum_{j >= i} g[j] * out[j] / x[i]. At the
    # first zero z it is the same sum with x[z] taken as 1 (no division by zero), and after
    # z every term holds the factor x[z] = 0.
    is_zero = tm.eq(x, 0)
    zeros_so_far = cumsum(is_zero, axis=op.axis)  # inclusive count, int64
    before_zero = tm.eq(zeros_so_far, 0)
    first_zero = tm.and_(is_zero, tm.eq(zeros_so_far, 1))
    safe_x = tm.switch(before_zero, x, 1)
    regular = _reverse_cumsum(g * out, op.axis) / safe_x
    out_skipping_zero = cumprod(tm.switch(first_zero, 1, x), axis=op.axis)
    at_zero = _reverse_cumsum(g * out_skipping_zero, op.axis)
    return [tm.switch(before_zero, regular, tm.switch(first_zero, at_zero, 0))]


@pullback.register(Sort)
def _sort_pullback(op: Sort, node: Apply, output_grads: list[Any]) -> list[Any]:
    if op.argsort:  # integer indices: piecewise constant in x
        return [tm.zeros_like(node.inputs[0])]
    return [SortGrad(op.axis)(node.inputs[0], output_grads[0])]


# second derivatives through a sort are not supported
mark_non_differentiable(SortGrad, reason="the gradient of sort (second derivatives through sort are not supported)")
