"""BLAS-shaped ops: what the specialize phase turns ``a * dot(x, y) + b * z`` into.

``Gemm`` (matrix-matrix), ``Gemv`` (matrix-vector) and ``Ger`` (rank-one update) compute
exactly the graphs they replace, in one call to the BLAS routine of the same name in the
C and CUDA backends. Users do not build them; ``symgraph.rewrite.rules.blas`` does.

Unlike BLAS itself, ``beta = 0`` does not skip reading ``z``: ``0 * nan`` is ``nan``, as in
the graph that was replaced (a backend may use BLAS's ``beta = 0`` shortcut only where
``z`` is known finite).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from symgraph.graph.node import Apply
from symgraph.graph.op import Op
from symgraph.tensor.linalg import _check_aligned
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import TensorVariable, as_tensor_variable

__all__: list[str] = []

#: dtypes BLAS computes in
BLAS_DTYPES = ("float32", "float64", "complex64", "complex128")


def _merge(what: str, a: int | None, b: int | None) -> int | None:
    if a is not None and b is not None and a != b:
        raise ValueError(f"{what}: lengths {a} and {b} do not match")
    return a if a is not None else b


def _check(what: str, variables: Sequence[tuple[str, TensorVariable, int]]) -> str:
    """Validate ranks and a common BLAS dtype; returns the dtype."""
    dtype = variables[0][1].dtype
    for name, var, ndim in variables:
        if var.ndim != ndim:
            kind = {0: "a scalar", 1: "a vector", 2: "a matrix"}[ndim]
            raise TypeError(f"{what}: {name} must be {kind}, got {var.type.describe()} {var!r}")
        if var.dtype != dtype:
            raise TypeError(
                f"{what}: all inputs must have one dtype, got {dtype} and {var.dtype} ({name}); "
                "cast them first"
            )
    if dtype not in BLAS_DTYPES:
        raise TypeError(f"{what}: BLAS computes in {', '.join(BLAS_DTYPES)}, got {dtype}")
    return dtype


@dataclass(frozen=True)
class Gemm(Op):
    """``beta * z + alpha * dot(x, y)`` for matrices ``z``, ``x``, ``y`` and scalars."""

    def make_node(self, z: Any, alpha: Any, x: Any, y: Any, beta: Any) -> Apply:
        z, alpha, x, y, beta = (as_tensor_variable(v) for v in (z, alpha, x, y, beta))
        dtype = _check(
            "Gemm", [("z", z, 2), ("alpha", alpha, 0), ("x", x, 2), ("y", y, 2), ("beta", beta, 0)]
        )
        _check_aligned("Gemm", x.type.shape, y.type.shape, x.type.shape[1], y.type.shape[0])
        rows = _merge("Gemm (rows of z and x)", z.type.shape[0], x.type.shape[0])
        cols = _merge("Gemm (columns of z and y)", z.type.shape[1], y.type.shape[1])
        out = TensorType(dtype, (rows, cols)).make_variable()
        return Apply(self, [z, alpha, x, y, beta], [out])

    def infer_shape(
        self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]
    ) -> list[tuple[Any, ...]]:
        static = node.outputs[0].type.shape  # type: ignore[attr-defined]
        return [tuple(s if s is not None else input_shapes[0][i] for i, s in enumerate(static))]


@dataclass(frozen=True)
class Gemv(Op):
    """``beta * z + alpha * dot(a, x)`` for a matrix ``a``, vectors ``z``, ``x`` and scalars."""

    def make_node(self, z: Any, alpha: Any, a: Any, x: Any, beta: Any) -> Apply:
        z, alpha, a, x, beta = (as_tensor_variable(v) for v in (z, alpha, a, x, beta))
        dtype = _check(
            "Gemv", [("z", z, 1), ("alpha", alpha, 0), ("a", a, 2), ("x", x, 1), ("beta", beta, 0)]
        )
        _check_aligned("Gemv", a.type.shape, x.type.shape, a.type.shape[1], x.type.shape[0])
        rows = _merge("Gemv (length of z and rows of a)", z.type.shape[0], a.type.shape[0])
        return Apply(self, [z, alpha, a, x, beta], [TensorType(dtype, (rows,)).make_variable()])

    def infer_shape(
        self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]
    ) -> list[tuple[Any, ...]]:
        static = node.outputs[0].type.shape[0]  # type: ignore[attr-defined]
        return [(static if static is not None else input_shapes[0][0],)]


@dataclass(frozen=True)
class Ger(Op):
    """``a + alpha * outer(x, y)``: a rank-one update of the matrix ``a``."""

    def make_node(self, a: Any, alpha: Any, x: Any, y: Any) -> Apply:
        a, alpha, x, y = (as_tensor_variable(v) for v in (a, alpha, x, y))
        dtype = _check("Ger", [("a", a, 2), ("alpha", alpha, 0), ("x", x, 1), ("y", y, 1)])
        rows = _merge("Ger (rows of a and length of x)", a.type.shape[0], x.type.shape[0])
        cols = _merge("Ger (columns of a and length of y)", a.type.shape[1], y.type.shape[0])
        return Apply(self, [a, alpha, x, y], [TensorType(dtype, (rows, cols)).make_variable()])

    def infer_shape(
        self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]
    ) -> list[tuple[Any, ...]]:
        static = node.outputs[0].type.shape  # type: ignore[attr-defined]
        return [tuple(s if s is not None else input_shapes[0][i] for i, s in enumerate(static))]

