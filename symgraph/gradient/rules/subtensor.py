"""Pullbacks: subtensor family.

Indexing scatters its gradient back into a zero tensor shaped like ``x``; writing into
an indexed region passes the gradient through everywhere else (and into the region too
for an increment), while the written value gets the gradient of the region it landed in.
Index inputs (integers, slice bounds, index arrays, masks) get no gradient.
"""

from __future__ import annotations

from typing import Any

from symgraph.gradient.rules import mark_non_differentiable, pullback
from symgraph.graph.node import Apply
from symgraph.tensor import math as tm
from symgraph.tensor.subtensor import (
    AdvancedIncSubtensor,
    AdvancedSubtensor,
    IncSubtensor,
    Nonzero,
    Subtensor,
)
from symgraph.tensor.variable import TensorVariable, as_tensor_variable

mark_non_differentiable(Nonzero, reason="integer result (indices)")


def sum_to_shape_of(grad: TensorVariable, target: TensorVariable) -> TensorVariable:
    """Sum ``grad`` (shaped like an indexed region) back to the shape of the value written there.

    The value broadcast over the leading axes it lacks and over its static length-1 axes.
    """
    from symgraph.tensor.reduce import sum as _sum

    leading = grad.ndim - target.ndim
    if leading:
        grad = _sum(grad, axis=tuple(range(leading)))
    stretched = tuple(
        axis
        for axis, (t, g) in enumerate(zip(target.type.shape, grad.type.shape))
        if t == 1 and g != 1
    )
    if stretched:
        grad = _sum(grad, axis=stretched, keepdims=True)
    return grad


def _zero_region(g: TensorVariable, op: Any, indices: list[Any]) -> TensorVariable:
    """``g`` with the indexed region set to zero (what a set leaves of the gradient of x)."""
    zero = as_tensor_variable(0, dtype=g.dtype)
    set_op: Any
    if isinstance(op, IncSubtensor):
        set_op = IncSubtensor(op.idx_list, True)
    else:
        set_op = AdvancedIncSubtensor(op.idx_list, True)
    return set_op(g, zero, *indices)


@pullback.register(Subtensor)
def _subtensor_pullback(op: Subtensor, node: Apply, output_grads: list[Any]) -> list[Any]:
    x, *indices = node.inputs
    (g,) = output_grads
    gx = IncSubtensor(op.idx_list, False)(tm.zeros_like(x, dtype=g.dtype), g, *indices)
    return [gx] + [None] * len(indices)


@pullback.register(AdvancedSubtensor)
def _advanced_subtensor_pullback(
    op: AdvancedSubtensor, node: Apply, output_grads: list[Any]
) -> list[Any]:
    x, *indices = node.inputs
    (g,) = output_grads
    # an element picked several times receives the sum of its gradients (np.add.at)
    gx = AdvancedIncSubtensor(op.idx_list, False)(tm.zeros_like(x, dtype=g.dtype), g, *indices)
    return [gx] + [None] * len(indices)


@pullback.register(IncSubtensor)
def _inc_subtensor_pullback(
    op: IncSubtensor, node: Apply, output_grads: list[Any]
) -> list[Any]:
    x, y, *indices = node.inputs
    (g,) = output_grads
    gx = _zero_region(g, op, indices) if op.set_instead_of_inc else g
    gy = sum_to_shape_of(Subtensor(op.idx_list)(g, *indices), y)
    return [gx, gy] + [None] * len(indices)


@pullback.register(AdvancedIncSubtensor)
def _advanced_inc_subtensor_pullback(
    op: AdvancedIncSubtensor, node: Apply, output_grads: list[Any]
) -> list[Any]:
    # For a set with repeated indices only the last write survives; like Theano, every
    # copy of y still receives the gradient of its position.
    x, y, *indices = node.inputs
    (g,) = output_grads
    gx = _zero_region(g, op, indices) if op.set_instead_of_inc else g
    gy = sum_to_shape_of(AdvancedSubtensor(op.idx_list)(g, *indices), y)
    return [gx, gy] + [None] * len(indices)
