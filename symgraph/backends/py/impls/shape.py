"""NumPy implementations: shape family."""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.backends.py.dispatch import perform
from symgraph.gradient.modifiers import DisconnectedGrad, GradClip, GradientModifier, ZeroGrad
from symgraph.graph.node import Apply
from symgraph.printing.print_op import Print
from symgraph.tensor.shape import (
    Alloc,
    ARange,
    Eye,
    Join,
    Repeat,
    Reshape,
    Shape,
    ShapeI,
    SpecifyShape,
    Split,
    Tile,
    Unbroadcast,
)


@perform.register(Shape)
def py_shape(op: Shape, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    return [np.asarray(inputs[0].shape, dtype="int64")]


@perform.register(ShapeI)
def py_shape_i(op: ShapeI, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    return [np.asarray(inputs[0].shape[op.i], dtype="int64")]


# Every implementation returns a fresh array, never a view of an input: later in-place
# operations may write to outputs. Error messages leave out the op's name: the runner
# adds it, with the inputs' shapes and the user's line that built the node.


def _show(shape: Any) -> str:
    return str(tuple(int(s) for s in shape))


@perform.register(Reshape)
def py_reshape(op: Reshape, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    x, shp = inputs
    requested = tuple(int(s) for s in shp)
    if len(requested) != op.ndim:
        raise ValueError(f"the shape vector has {len(requested)} entries, expected {op.ndim}")
    try:
        result = np.reshape(x, requested)
    except ValueError:
        raise ValueError(
            f"cannot reshape an array of shape {_show(x.shape)} (size {x.size}) "
            f"into the requested shape {requested}"
        ) from None
    return [np.array(result)]


@perform.register(SpecifyShape)
def py_specify_shape(op: SpecifyShape, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    x, *lengths = inputs
    expected: list[int | None] = list(op.shape)
    for axis, length in zip(op.symbolic_axes, lengths):
        expected[axis] = int(length)
    if any(e is not None and e != n for e, n in zip(expected, x.shape)):
        shown = ", ".join("?" if e is None else str(e) for e in expected)
        shown = f"({shown}{',' if len(expected) == 1 else ''})"
        raise ValueError(f"expected shape {shown}, got an array of shape {_show(x.shape)}")
    return [np.array(x)]


@perform.register(Unbroadcast)
def py_unbroadcast(op: Unbroadcast, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    return [np.array(inputs[0])]


@perform.register(Join)
def py_join(op: Join, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    first = inputs[0]
    for i, x in enumerate(inputs):
        mismatch = x.ndim != first.ndim or any(
            a != op.axis and x.shape[a] != first.shape[a] for a in range(first.ndim)
        )
        if mismatch:
            shapes = ", ".join(_show(v.shape) for v in inputs)
            raise ValueError(
                f"input {i} has shape {_show(x.shape)} but input 0 has shape "
                f"{_show(first.shape)}; all lengths must match except on the join axis "
                f"{op.axis} (input shapes: {shapes})"
            )
    return [np.concatenate(inputs, axis=op.axis).astype(node.outputs[0].type.dtype, copy=False)]


@perform.register(Split)
def py_split(op: Split, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    x, splits = inputs
    sizes = [int(s) for s in splits]
    if len(sizes) != op.n_splits:
        raise ValueError(f"{len(sizes)} split sizes given for {op.n_splits} splits")
    if any(s < 0 for s in sizes):
        raise ValueError(f"split sizes must be >= 0, got {sizes}")
    if sum(sizes) != x.shape[op.axis]:
        raise ValueError(
            f"the split sizes {sizes} add up to {sum(sizes)}, but axis {op.axis} of the "
            f"input (shape {_show(x.shape)}) has length {x.shape[op.axis]}"
        )
    bounds = np.cumsum(sizes)[:-1]
    return [np.array(piece) for piece in np.split(x, bounds, axis=op.axis)]


@perform.register(Tile)
def py_tile(op: Tile, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    (x,) = inputs
    return [np.tile(x, op.reps)]


@perform.register(Repeat)
def py_repeat(op: Repeat, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    x, repeats = inputs
    n = x.shape[op.axis]
    if repeats.ndim == 1 and repeats.shape[0] not in (1, n):
        raise ValueError(
            f"{repeats.shape[0]} repeat counts for axis {op.axis} of length {n} "
            f"(input shape {_show(x.shape)}); give one count per element, or a single count"
        )
    if np.any(repeats < 0):
        raise ValueError(f"repeats must be >= 0, got {repeats.tolist()}")
    return [np.repeat(x, repeats, axis=op.axis)]


@perform.register(Alloc)
def py_alloc(op: Alloc, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    value, *lengths = inputs
    shape = tuple(int(n) for n in lengths)
    if any(n < 0 for n in shape):
        raise ValueError(f"lengths must be >= 0, got {shape}")
    value_type = node.inputs[0].type
    pad = len(shape) - value.ndim
    for axis in range(value.ndim):
        # as in Elemwise, only axes declared broadcastable (static length 1) broadcast
        if value_type.shape[axis] != 1 and value.shape[axis] != shape[pad + axis]:
            raise ValueError(
                f"cannot broadcast a value of shape {_show(value.shape)} to shape {shape} "
                f"(axis {pad + axis} has length {value.shape[axis]}, "
                f"requested {shape[pad + axis]}); "
                "only axes of static length 1 broadcast (see T.addbroadcast)"
            )
    return [np.array(np.broadcast_to(value, shape))]


@perform.register(ARange)
def py_arange(op: ARange, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    start, stop, step = (v.item() for v in inputs)
    if step == 0:
        raise ValueError("step must not be zero")
    return [np.arange(start, stop, step, dtype=op.dtype)]


@perform.register(Eye)
def py_eye(op: Eye, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    n, m, k = (int(v) for v in inputs)
    if n < 0 or m < 0:
        raise ValueError(f"n and m must be >= 0, got n={n}, m={m}")
    return [np.eye(n, m, k, dtype=op.dtype)]


# Gradient modifiers (symgraph.gradient.modifiers): identities in the forward pass. The
# rewrite pipeline removes them; they reach a backend only with optimizer='none'.
@perform.register(ZeroGrad)
@perform.register(DisconnectedGrad)
@perform.register(GradClip)
def py_gradient_modifier(op: GradientModifier, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    return [np.array(inputs[0])]


# Theano's debugging op (symgraph.printing.Print): prints, then passes its input through
@perform.register(Print)
def py_print(op: Print, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    value = np.asarray(inputs[0])
    print(op.show(value), flush=True)
    return [np.array(value)]
