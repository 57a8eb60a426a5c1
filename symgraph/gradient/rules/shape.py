"""Pullbacks: shape family.

Gradients are built only from shape ops (reshape, join, split, alloc), elementwise math
and ``sum``, never from indexing, so this family stands on its own.
"""

from __future__ import annotations

from typing import Any

from symgraph.gradient.rules import mark_non_differentiable, pullback
from symgraph.graph.node import Apply
from symgraph.scalar import dtypes as _dt
from symgraph.tensor import math as tm
from symgraph.tensor.elemwise import dimshuffle
from symgraph.tensor.shape import (
    Alloc, ARange, Eye, Join, Repeat, Reshape, Shape, ShapeI, SpecifyShape, Split, Tile, Unbroadcast,
    arange, join, repeat, reshape, shape, shape_i, specify_shape, split,
)

mark_non_differentiable(Shape, ShapeI, reason="integer result (a shape)")
mark_non_differentiable(ARange, Eye, reason="the values depend only on integer arguments")


@pullback.register(Reshape)
def _reshape_pullback(op: Reshape, node: Apply, output_grads: list[Any]) -> list[Any]:
    (g,) = output_grads
    x = node.inputs[0]
    return [reshape(g, shape(x), ndim=x.ndim), None]


@pullback.register(SpecifyShape)
def _specify_shape_pullback(op: SpecifyShape, node: Apply, output_grads: list[Any]) -> list[Any]:
    return [output_grads[0]] + [None] * (len(node.inputs) - 1)


@pullback.register(Unbroadcast)
def _unbroadcast_pullback(op: Unbroadcast, node: Apply, output_grads: list[Any]) -> list[Any]:
    # give the gradient back the static lengths the input had
    return [specify_shape(output_grads[0], node.inputs[0].type.shape)]


@pullback.register(Join)
def _join_pullback(op: Join, node: Apply, output_grads: list[Any]) -> list[Any]:
    # each input's gradient is its own slice of g along the join axis
    (g,) = output_grads
    sizes = [shape_i(x, op.axis) for x in node.inputs]
    pieces = split(g, sizes, len(sizes), axis=op.axis)
    return [None if _dt.is_discrete(x.dtype) else piece for x, piece in zip(node.inputs, pieces)]


@pullback.register(Split)
def _split_pullback(op: Split, node: Apply, output_grads: list[Any]) -> list[Any]:
    pieces = [tm.zeros_like(out) if g is None else g for out, g in zip(node.outputs, output_grads)]
    return [join(op.axis, *pieces), None]


@pullback.register(Tile)
def _tile_pullback(op: Tile, node: Apply, output_grads: list[Any]) -> list[Any]:
    from symgraph.tensor.reduce import sum as _sum

    (g,) = output_grads
    x = node.inputs[0]
    # g has shape (r0 * n0, r1 * n1, ...); seen as (r0, n0, r1, n1, ...), the copies of
    # x lie along the even axes, and x's gradient is their sum
    interleaved: list[Any] = []
    for axis, r in enumerate(op.reps):
        interleaved += [r, shape_i(x, axis)]
    copies = reshape(g, interleaved)
    return [_sum(copies, axis=tuple(range(0, 2 * x.ndim, 2)))]


@pullback.register(Repeat)
def _repeat_pullback(op: Repeat, node: Apply, output_grads: list[Any]) -> list[Any]:
    from symgraph.tensor.reduce import sum as _sum

    (g,) = output_grads
    x, repeats = node.inputs
    axis = op.axis
    n = shape_i(x, axis)
    before = [shape_i(x, a) for a in range(axis)]
    after = [shape_i(x, a) for a in range(axis + 1, x.ndim)]
    if repeats.ndim == 0:
        # the copies of element i are a contiguous block: (.., n * r, ..) -> (.., n, r, ..)
        blocks = reshape(g, [*before, n, repeats, *after])
        return [_sum(blocks, axis=axis + 1), None]
    # counts differ per element: element j of g came from source[j]; sum g where
    # source == i, with a (n, total) mask broadcast against g
    source = repeat(arange(n), repeats, axis=0)
    mask = tm.eq(dimshuffle(source, ("x", 0)), dimshuffle(arange(n), (0, "x")))
    pattern_mask = ["x"] * axis + [0, 1] + ["x"] * (x.ndim - axis - 1)
    pattern_g = list(range(axis)) + ["x"] + list(range(axis, x.ndim))
    selected = tm.switch(dimshuffle(mask, pattern_mask), dimshuffle(g, pattern_g), 0)
    return [_sum(selected, axis=axis + 1), None]


@pullback.register(Alloc)
def _alloc_pullback(op: Alloc, node: Apply, output_grads: list[Any]) -> list[Any]:
    from symgraph.tensor.reduce import sum as _sum

    (g,) = output_grads
    value = node.inputs[0]
    out = node.outputs[0]
    pad = out.ndim - value.ndim
    # sum over the axes added on the left, then (keeping them) over broadcast axes
    if pad:
        g = _sum(g, axis=tuple(range(pad)))
    broadcast = tuple(
        a for a in range(value.ndim) if value.type.shape[a] == 1 and out.type.shape[pad + a] != 1
    )
    if broadcast:
        g = _sum(g, axis=broadcast, keepdims=True)
    return [g] + [None] * (len(node.inputs) - 1)
