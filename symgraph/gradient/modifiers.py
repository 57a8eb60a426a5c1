"""Gradient modifiers (Theano's ``theano.gradient``): ops that pass their input through
unchanged but change the gradient that flows back through them.

* ``zero_grad(x)``: the gradient through ``x`` is zero (``x`` still counts as connected);
* ``disconnected_grad(x)``: no gradient flows, and ``x``'s inputs are not connected to
  the cost through it (``grad`` raises DisconnectedInputError as for an unused input);
* ``grad_clip(x, lower, upper)``: the gradient through ``x`` is clipped to ``[lower, upper]``.

Their pullbacks are in ``gradient/rules/modifiers.py``; the walker (``reverse.py``) stops
at ``DisconnectedGrad`` outputs. Once gradients are taken they are plain copies: the
canonicalize phase removes them (``remove_gradient_modifiers``), so backends never see
them in an optimized graph.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from symgraph.graph.node import Apply, Constant
from symgraph.graph.op import Op
from symgraph.tensor.variable import TensorVariable, as_tensor_variable

__all__ = [
    "DisconnectedGrad",
    "GradClip",
    "GradientModifier",
    "ZeroGrad",
    "disconnected_grad",
    "grad_clip",
    "zero_grad",
]


class GradientModifier(Op):
    """Base of the forward-identity ops: ``x`` unchanged, same type."""

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type.make_variable()])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [tuple(input_shapes[0])]


@dataclass(frozen=True)
class ZeroGrad(GradientModifier):
    """``x`` in the forward pass; a zero gradient in the backward pass."""


@dataclass(frozen=True)
class DisconnectedGrad(GradientModifier):
    """``x`` in the forward pass; disconnected (no gradient at all) in the backward pass."""


@dataclass(frozen=True)
class GradClip(GradientModifier):
    """``x`` in the forward pass; the gradient clipped to ``[lower, upper]`` going back."""

    lower: float
    upper: float

    def __post_init__(self) -> None:
        if math.isnan(self.lower) or math.isnan(self.upper) or self.lower > self.upper:
            raise ValueError(f"grad_clip: need lower <= upper, got lower={self.lower}, upper={self.upper}")


def zero_grad(x: Any) -> TensorVariable:
    """``x``, with a zero gradient: the cost still depends on ``x``'s inputs, but no gradient
    flows back through this use of ``x``.

    >>> T.grad((zero_grad(x) * x), x)   # x (not 2 * x)
    """
    return ZeroGrad()(x)  # type: ignore[no-any-return]


def disconnected_grad(x: Any) -> TensorVariable:
    """``x``, seen by ``grad`` as a constant: no gradient flows back through it, and a
    variable reached only through it is disconnected from the cost.

    >>> T.grad(disconnected_grad(x) * y, y)   # x
    """
    return DisconnectedGrad()(x)  # type: ignore[no-any-return]


def grad_clip(x: Any, lower_bound: float, upper_bound: float) -> TensorVariable:
    """``x``, with the gradient flowing back through it clipped to ``[lower_bound, upper_bound]``.

    Parameters
    ----------
    x : tensor-like
    lower_bound, upper_bound : numbers, ``lower_bound <= upper_bound``

    >>> T.grad(grad_clip(x, -1.0, 1.0) ** 2, x)   # clip(2 * x, -1, 1)
    """
    bounds = []
    for name, bound in (("lower_bound", lower_bound), ("upper_bound", upper_bound)):
        if isinstance(bound, Constant):
            bound = bound.data  # a symbolic constant is a number known now
        try:
            bounds.append(float(bound))
        except (TypeError, ValueError):
            raise TypeError(
                f"grad_clip: {name} must be a number (Theano's bounds are constants), got "
                f"{type(bound).__name__} {bound!r:.60}"
            ) from None
    return GradClip(bounds[0], bounds[1])(x)  # type: ignore[no-any-return]
