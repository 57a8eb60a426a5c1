"""Pullback tables: for each op class, how output gradients become input gradients.

A pullback is ``fn(op, node, output_grads) -> list`` with one entry per input of
``node``: a gradient graph (same shape as the input) or ``None`` when no gradient flows
to that input (it is then treated as zero). ``output_grads`` holds one graph per
output (zeros where the cost does not depend on that output).

Ops that have no derivative worth the name (integer results, argmax, comparisons,
rounding) are marked with ``mark_non_differentiable`` so that the choice is explicit.
"""

from __future__ import annotations

import functools
from typing import Any

from symgraph.graph.node import Apply
from symgraph.graph.op import Op

NON_DIFFERENTIABLE: dict[type, str] = {}


class NoPullbackError(TypeError):
    pass


@functools.singledispatch
def pullback(op: Op, node: Apply, output_grads: list[Any]) -> list[Any]:
    raise NoPullbackError(
        f"{op} ({type(op).__name__}) has no gradient rule; it cannot be differentiated. "
        "Use consider_constant or disconnect it from the cost"
    )


def mark_non_differentiable(*op_classes: type, reason: str = "piecewise constant or integer-valued") -> None:
    """Declare that no gradient flows through these ops (their input gradients are zero)."""
    for cls in op_classes:
        NON_DIFFERENTIABLE[cls] = reason


def has_pullback(op_class: type) -> bool:
    return op_class in NON_DIFFERENTIABLE or pullback.dispatch(op_class) is not pullback.dispatch(object)


def _load_rules() -> None:
    # Each family module registers its rules in `pullback`; import them all here.
    from symgraph.gradient.rules import (  # noqa: F401
        blas,
        control,
        conv,
        elemwise,
        extra_ops,
        linalg,
        modifiers,
        nnet,
        random,
        reduce,
        shape,
        subtensor,
    )
