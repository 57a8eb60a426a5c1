"""Pullbacks: gradient modifiers (zero_grad, disconnected_grad, grad_clip).

``DisconnectedGrad`` needs more than a pullback: the walker stops at its outputs, so that
what lies behind it is not connected to the cost (see ``backpropagate``). Its pullback
(no gradient) is there for callers that walk without the walker.
"""

from __future__ import annotations

from typing import Any

from symgraph.gradient.modifiers import DisconnectedGrad, GradClip, ZeroGrad
from symgraph.gradient.rules import pullback
from symgraph.graph.node import Apply
from symgraph.printing.print_op import Print
from symgraph.tensor import math as tm


@pullback.register(ZeroGrad)
def _zero_grad_pullback(op: ZeroGrad, node: Apply, output_grads: list[Any]) -> list[Any]:
    return [tm.zeros_like(output_grads[0])]


@pullback.register(DisconnectedGrad)
def _disconnected_grad_pullback(op: DisconnectedGrad, node: Apply, output_grads: list[Any]) -> list[Any]:
    return [None]


@pullback.register(GradClip)
def _grad_clip_pullback(op: GradClip, node: Apply, output_grads: list[Any]) -> list[Any]:
    return [tm.clip(output_grads[0], op.lower, op.upper)]


@pullback.register(Print)
def _print_pullback(op: Print, node: Apply, output_grads: list[Any]) -> list[Any]:
    return [output_grads[0]]  # printing changes nothing that flows back
