"""Pullbacks: BLAS-shaped ops (Gemm, Gemv, Ger), from the expressions they compute."""

from __future__ import annotations

from typing import Any

from symgraph.gradient.rules import pullback
from symgraph.graph.node import Apply
from symgraph.tensor import math as tm
from symgraph.tensor.blas import Gemm, Gemv, Ger
from symgraph.tensor.elemwise import dimshuffle
from symgraph.tensor.linalg import Dot


def _sum_all(x: Any) -> Any:
    from symgraph.tensor.reduce import sum as _sum

    return _sum(x)


@pullback.register(Gemm)
def _gemm_pullback(op: Gemm, node: Apply, output_grads: list[Any]) -> list[Any]:
    # out = beta z + alpha x y
    z, alpha, x, y, beta = node.inputs
    (g,) = output_grads
    dot = Dot()
    xy = dot(x, y)
    return [
        tm.mul(beta, g),
        _sum_all(tm.mul(g, xy)),
        tm.mul(alpha, dot(g, dimshuffle(y, (1, 0)))),
        tm.mul(alpha, dot(dimshuffle(x, (1, 0)), g)),
        _sum_all(tm.mul(g, z)),
    ]


@pullback.register(Gemv)
def _gemv_pullback(op: Gemv, node: Apply, output_grads: list[Any]) -> list[Any]:
    # out = beta z + alpha a x
    z, alpha, a, x, beta = node.inputs
    (g,) = output_grads
    dot = Dot()
    return [
        tm.mul(beta, g),
        dot(g, dot(a, x)),
        tm.mul(alpha, dot(dimshuffle(g, (0, "x")), dimshuffle(x, ("x", 0)))),
        tm.mul(alpha, dot(dimshuffle(a, (1, 0)), g)),
        dot(g, z),
    ]


@pullback.register(Ger)
def _ger_pullback(op: Ger, node: Apply, output_grads: list[Any]) -> list[Any]:
    # out = a + alpha x y^T
    a, alpha, x, y = node.inputs
    (g,) = output_grads
    dot = Dot()
    return [
        g,
        dot(x, dot(g, y)),
        tm.mul(alpha, dot(g, y)),
        tm.mul(alpha, dot(dimshuffle(g, (1, 0)), x)),
    ]
