"""Small helpers that rules use to recognise subgraphs."""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.graph.node import Apply, Constant, Variable
from symgraph.tensor.elemwise import DimShuffle, Elemwise


def elemwise_node(var: Variable, *scalar_classes: type) -> Apply | None:
    """The node computing ``var`` if it is an Elemwise of one of ``scalar_classes``."""
    node = var.owner
    if node is not None and isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, scalar_classes):
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
