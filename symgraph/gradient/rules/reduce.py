"""Pullbacks: reduce family.

Each reduction's output gradient ``g`` has the reduced shape; it is first given back the
reduced axes as length-1 axes (``restore_reduced_axes``) so that it broadcasts against
the input.
"""

from __future__ import annotations

from typing import Any

from symgraph.gradient.rules import mark_non_differentiable, pullback
from symgraph.graph.node import Apply
from symgraph.scalar import dtypes as _dt
from symgraph.tensor import math as tm
from symgraph.tensor import reduce as tr
from symgraph.tensor.variable import TensorVariable


def _expanded(var: TensorVariable, op: tr.Reduce, node: Apply) -> TensorVariable:
    return tr.restore_reduced_axes(var, op.axis, node.inputs[0].ndim)


@pullback.register(tr.Sum)
def _sum_pullback(op: tr.Sum, node: Apply, output_grads: list[Any]) -> list[Any]:
    (x,), (g,) = node.inputs, output_grads
    if _dt.is_discrete(x.dtype):
        return [None]
    # every input element contributes once: broadcast g back over the summed axes
    return [tm.fill(x, _expanded(g, op, node))]


@pullback.register(tr.Prod)
def _prod_pullback(op: tr.Prod, node: Apply, output_grads: list[Any]) -> list[Any]:
    """d prod / d x_i is the product of the other elements, even where elements are 0.

    ``prod / x_i`` is that only when no element is 0. With zeros: where exactly one
    element of a reduced group is 0, that element's gradient is the product of the
    nonzero ones and every other element's is 0; with two or more zeros all are 0.
    Zeros are replaced by 1 before dividing so no inf or NaN appears in the graph (or
    in its own gradient). That gradient (the second derivative) is exact where no element
    is 0; at zeros the switches make it piecewise, as in Theano and PyTensor.
    """
    (x,), (g,) = node.inputs, output_grads
    if _dt.is_discrete(x.dtype):
        return [None]
    is_zero = tm.eq(x, 0)
    n_zeros = tr.sum(is_zero, axis=op.axis, keepdims=True)
    x_nonzero = tm.switch(is_zero, 1, x)
    prod_nonzero = tr.prod(x_nonzero, axis=op.axis, keepdims=True, dtype=node.outputs[0].dtype)
    at_zero = tm.switch(tm.eq(n_zeros, 1), prod_nonzero, 0)
    elsewhere = tm.switch(tm.eq(n_zeros, 0), tm.true_div(prod_nonzero, x_nonzero), 0)
    return [tm.mul(_expanded(g, op, node), tm.switch(is_zero, at_zero, elsewhere))]


def _extreme_pullback(op: tr.Reduce, node: Apply, output_grads: list[Any]) -> list[Any]:
    """Max and Min: the gradient goes to the elements equal to the result.

    Ties share it evenly (each of k tied elements gets g / k), so the gradient sums to g
    like the directional derivative of a small uniform shift. An element that is NaN
    never equals the result and gets 0.
    """
    (x,), (g,) = node.inputs, output_grads
    if _dt.is_discrete(x.dtype):
        return [None]
    g_wide = _expanded(g, op, node)
    hits = tm.eq(x, _expanded(node.outputs[0], op, node))
    # at least 1, so that rows with no hit (NaN) divide by 1, not 0
    count = tm.maximum(tr.sum(hits, axis=op.axis, keepdims=True), 1)
    share = tm.true_div(g_wide, tm.cast(count, g_wide.dtype))
    return [tm.switch(hits, share, 0)]


pullback.register(tr.Max)(_extreme_pullback)
pullback.register(tr.Min)(_extreme_pullback)

mark_non_differentiable(tr.Argmax, tr.Argmin, reason="integer result (an index)")
mark_non_differentiable(tr.All, tr.Any, reason="boolean result")
mark_non_differentiable(
    tr.ElemwiseReduce,
    reason="made by the fuse phase, after gradients are taken (differentiate the graph as written)",
)
