"""Small helpers that rules use to recognise subgraphs."""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph.node import Apply, Constant, Variable
from symgraph.tensor.elemwise import DimShuffle, Elemwise


def elemwise_node(var: Variable, *scalar_classes: type) -> Apply | None:
    """The node computing ``var`` if it is an Elemwise of one of ``scalar_classes``."""
    node = var.owner
    if node is None or not isinstance(node.op, Elemwise):
        return None
    if isinstance(node.op.scalar_op, scalar_classes):
        return node
    return None


def scalar_constant(var: Variable) -> Any:
    """The value of ``var`` if it is a constant with a single element (seen through
    DimShuffles that only add broadcastable axes), else None."""
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    if isinstance(var, Constant):
        data = np.asarray(var.data)
        if data.size == 1:
            return data.reshape(()).item()
    return None


def is_constant_value(var: Variable, value: float) -> bool:
    found = scalar_constant(var)
    return found is not None and found == value


def like(new: Any, old: Variable) -> Any:
    """``new`` cast to ``old``'s dtype, so a replacement keeps the type of what it replaces."""
    from symgraph.tensor.math import cast

    return cast(new, old.type.dtype) if new.dtype != old.type.dtype else new  # type: ignore[attr-defined]


def same_shape(a: Variable, b: Variable) -> bool:
    """True if ``a`` and ``b`` have identical static shapes.

    Rules call this after checking that what they remove is a single-element
    constant, so equal static shapes mean equal run-time shapes; it stops a
    replacement that would be broadcast-smaller than what it replaces.
    """
    return a.type.shape == b.type.shape  # type: ignore[attr-defined, no-any-return]


def negated(var: Variable) -> Any:
    """A graph for ``-var`` if one is visible without new arithmetic on large arrays:
    -(-y) = y, -(c * y) = (-c) * y, -((-a) - b) = a + b, -(constant) = its negation."""
    from symgraph import scalar as ps
    from symgraph.tensor import math as tm
    from symgraph.tensor.variable import constant

    node = elemwise_node(var, ps.Neg)
    if node is not None:
        return node.inputs[0]
    node = elemwise_node(var, ps.Sub)
    if node is not None:
        a, b = node.inputs
        inner = elemwise_node(a, ps.Neg)
        if inner is not None:
            return tm.add(inner.inputs[0], b)
    node = elemwise_node(var, ps.Mul)
    if node is not None and len(node.inputs) == 2:
        for i, j in ((0, 1), (1, 0)):
            c = scalar_constant(node.inputs[i])
            if c == -1:
                return node.inputs[j]
    value = scalar_constant(var)
    if value is not None and isinstance(var, Constant):
        return constant(-np.asarray(var.data), dtype=var.type.dtype)  # type: ignore[attr-defined]
    return None


def is_real(var: Variable) -> bool:
    """True for bool, integer and real floating dtypes (not complex)."""
    return not var.type.dtype.startswith("complex")  # type: ignore[attr-defined, no-any-return]


def is_float(var: Variable) -> bool:
    return var.type.dtype.startswith("float")  # type: ignore[attr-defined, no-any-return]


def n_clients(fgraph: Any, var: Variable) -> int:
    """How many uses ``var`` has in ``fgraph`` (graph outputs count as uses)."""
    return len(fgraph.clients.get(var, ()))


def single_client(fgraph: Any, var: Variable) -> bool:
    """True if ``var`` is used once: rewriting through it then duplicates no work."""
    return n_clients(fgraph, var) == 1


def known_nonnegative(var: Variable, depth: int = 4) -> bool:
    """True if every value ``var`` can take is >= 0 or NaN (a sufficient, syntactic test).

    Knows abs, sqr, sqrt, exp, softplus, sigmoid, unsigned and bool dtypes, constants,
    and sums, products and quotients of such values.
    """
    from symgraph import scalar as ps

    dtype = var.type.dtype  # type: ignore[attr-defined]
    if dtype == "bool" or dtype.startswith("uint"):
        return True
    if isinstance(var, Constant):
        data = np.asarray(var.data)
        if data.dtype.kind in "iuf":
            return bool(np.all((data >= 0) | np.isnan(data)))
        return data.dtype.kind == "b"
    node = var.owner
    if node is None or depth == 0:
        return False
    if isinstance(node.op, DimShuffle):
        return known_nonnegative(node.inputs[0], depth)
    if not isinstance(node.op, Elemwise):
        return False
    sop = node.op.scalar_op
    nonnegative = (ps.Abs, ps.Sqr, ps.Sqrt, ps.Exp, ps.Exp2, ps.Softplus, ps.Sigmoid, ps.Erfc)
    if isinstance(sop, nonnegative):
        return True
    if isinstance(sop, ps.Maximum):
        return any(known_nonnegative(v, depth - 1) for v in node.inputs)
    if isinstance(sop, (ps.Add, ps.Mul, ps.TrueDiv, ps.Minimum)):
        return all(known_nonnegative(v, depth - 1) for v in node.inputs)
    if isinstance(sop, ps.Cast):
        return known_nonnegative(node.inputs[0], depth - 1)
    return False


def keepdims_axes(var: Variable) -> tuple[Variable, tuple[int, ...]] | None:
    """If ``var`` is ``DimShuffle(r)`` that only puts back reduced axes (keepdims),
    return ``(r, axes)`` with the inserted axes' positions, else None."""
    node = var.owner
    if node is None or not isinstance(node.op, DimShuffle):
        return None
    order = node.op.new_order
    kept = [o for o in order if o != "x"]
    if kept != list(range(node.op.input_ndim)):
        return None
    return node.inputs[0], tuple(i for i, o in enumerate(order) if o == "x")
