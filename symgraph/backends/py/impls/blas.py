"""NumPy implementations: BLAS-shaped ops (Gemm, Gemv, Ger), computed as the graphs they
replace (``beta * z + alpha * (x @ y)``), with run-time shape checks."""

from __future__ import annotations

import numpy as np

from symgraph.backends.py.dispatch import perform
from symgraph.graph.node import Apply
from symgraph.tensor.blas import Gemm, Gemv, Ger


def _aligned(what: str, first: np.ndarray, second: np.ndarray, k_first: int, k_second: int) -> None:
    if k_first != k_second:
        raise ValueError(
            f"{what}: shapes {first.shape} and {second.shape} are not aligned: "
            f"{k_first} != {k_second}"
        )


@perform.register(Gemm)
def py_gemm(op: Gemm, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    z, alpha, x, y, beta = inputs
    _aligned("Gemm", x, y, x.shape[1], y.shape[0])
    if z.shape != (x.shape[0], y.shape[1]):
        expected = (x.shape[0], y.shape[1])
        raise ValueError(f"Gemm: z has shape {z.shape}, dot(x, y) has shape {expected}")
    with np.errstate(all="ignore"):
        return [beta * z + alpha * np.matmul(x, y)]  # matmul: nan * 0 stays NaN (see py_dot)


@perform.register(Gemv)
def py_gemv(op: Gemv, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    z, alpha, a, x, beta = inputs
    _aligned("Gemv", a, x, a.shape[1], x.shape[0])
    if z.shape != (a.shape[0],):
        raise ValueError(f"Gemv: z has shape {z.shape}, dot(a, x) has shape {(a.shape[0],)}")
    with np.errstate(all="ignore"):
        return [beta * z + alpha * np.matmul(a, x)]  # matmul: nan * 0 stays NaN (see py_dot)


@perform.register(Ger)
def py_ger(op: Ger, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    a, alpha, x, y = inputs
    if a.shape != (x.shape[0], y.shape[0]):
        expected = (x.shape[0], y.shape[0])
        raise ValueError(f"Ger: a has shape {a.shape}, outer(x, y) has shape {expected}")
    with np.errstate(all="ignore"):
        return [a + alpha * np.outer(x, y)]
