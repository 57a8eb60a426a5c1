"""Symbolic shapes for rewrites: a variable's shape from its node's inputs, without its value.

Rules use these to keep a replacement exactly as large as what it replaces. An elementwise
identity such as ``x * y / x -> y`` is only an identity of values: when ``y`` is
broadcast (static length 1) and ``x`` is not, the replacement must be broadcast back to the
shape the node had, which ``infer_shape`` states in terms of the node's inputs.
"""

from __future__ import annotations

from typing import Any

from symgraph.graph.node import Variable
from symgraph.graph.op import ShapeInferenceError

#: a symbolic length: a Python int when static, else an int64 scalar variable
Length = Any


def symbolic_shape(var: Variable) -> tuple[Length, ...] | None:
    """The shape of ``var`` as ints and int64 scalars computed from its node's inputs.

    Static lengths come back as ints. Returns None when the op cannot say (its
    ``infer_shape`` raises). For an input or a constant, the lengths are ``shape_i(var)``.

    >>> x = T.dmatrix('x'); symbolic_shape(T.exp(x))   # (shape_i(x, 0), shape_i(x, 1))
    """
    from symgraph.tensor.shape import shape_i

    static = var.type.shape  # type: ignore[attr-defined]
    if all(s is not None for s in static):
        return tuple(static)
    node = var.owner
    if node is None:
        return tuple(s if s is not None else shape_i(var, k) for k, s in enumerate(static))
    from symgraph.tensor.elemwise import Elemwise

    if isinstance(node.op, Elemwise):
        # an axis where every input is broadcastable has length 1, even when the output's
        # type (made before a rewrite refined the inputs) does not say so
        lengths: list[Length] = []
        for axis, s in enumerate(static):
            found = s
            for inp in node.inputs:
                if found is None and inp.type.shape[axis] != 1:  # type: ignore[attr-defined]
                    found = shape_i(inp, axis)
            lengths.append(1 if found is None else found)
        return tuple(lengths)
    input_shapes = [
        tuple(shape_i(inp, k) for k in range(inp.type.ndim))  # type: ignore[attr-defined]
        for inp in node.inputs
    ]
    try:
        shapes = node.op.infer_shape(node, input_shapes)
    except ShapeInferenceError:
        return None
    entries = shapes[var.index or 0]
    if len(entries) != len(static):
        return None
    return tuple(s if s is not None else entry for s, entry in zip(static, entries))


def fit_to(new: Any, old: Variable) -> Variable | None:
    """``new`` made to have exactly ``old``'s type: dtype, ndim and run-time shape.

    - a lower-rank ``new`` gets broadcastable axes on the left (as Elemwise would);
    - the dtype is cast to ``old``'s;
    - where ``new`` is broadcastable (static length 1) but ``old`` is not, it is
      broadcast with ``alloc`` to ``old``'s symbolic shape;
    - where ``old`` has a static length ``new`` lacks, ``specify_shape`` states it.

    Returns None when that is impossible (more axes than ``old``, or ``old``'s shape
    cannot be stated symbolically): the rewrite must then not be applied.
    """
    from symgraph.tensor import math as tm
    from symgraph.tensor.elemwise import pad_left
    from symgraph.tensor.shape import alloc, specify_shape
    from symgraph.tensor.variable import as_tensor_variable

    new = as_tensor_variable(new)
    old_type = old.type
    if new.ndim > old_type.ndim:  # type: ignore[attr-defined]
        return None
    new = pad_left(new, old_type.ndim)  # type: ignore[attr-defined]
    if new.dtype != old_type.dtype:  # type: ignore[attr-defined]
        if new.dtype.startswith("complex") and not old_type.dtype.startswith("complex"):  # type: ignore[attr-defined]
            return None
        new = tm.cast(new, old_type.dtype)  # type: ignore[attr-defined]
    widen = [
        axis for axis, (a, b) in enumerate(zip(new.type.shape, old_type.shape))  # type: ignore[attr-defined]
        if a == 1 and b != 1
    ]
    if widen:
        target = symbolic_shape(old)
        if target is None:
            return None
        if not all(isinstance(target[axis], int) and target[axis] == 1 for axis in widen):
            new = alloc(new, *target)
    if any(b is not None and a is None for a, b in zip(new.type.shape, old_type.shape)):  # type: ignore[attr-defined]
        new = specify_shape(new, old_type.shape)  # type: ignore[attr-defined]
    if not old_type.is_compatible(new.type):
        return None
    return new
