"""Specialization to BLAS-shaped ops: ``alpha * dot(x, y) + beta * z`` -> Gemm / Gemv / Ger.

A sum (after canonicalization: one flat ``+``/``-`` node) holding a scaled product of
matrices and another term of the result's exact shape becomes one ``Gemm`` (matrix-vector
products: ``Gemv``; outer products ``dot(x[:, None], y[None, :])`` added to a matrix:
``Ger``). The scale factors must be scalars (0-d, or single elements broadcast). A plain
``dot`` with nothing to accumulate stays ``Dot``, which backends already hand to BLAS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# the py implementations and pullbacks of the BLAS ops register themselves on import; the
# pipeline imports this module, so graphs that contain the ops can run and be differentiated
import symgraph.backends.py.impls.blas  # noqa: F401
import symgraph.gradient.rules.blas  # noqa: F401
from symgraph import scalar as ps
from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply, Constant, Variable
from symgraph.rewrite.engine import LocalRewrite, Replacement
from symgraph.rewrite.match import elemwise_node, single_client
from symgraph.rewrite.pattern import RuleSet
from symgraph.rewrite.rules.algebra import SumTerms, build_sum, sum_terms
from symgraph.tensor import math as tm
from symgraph.tensor.blas import BLAS_DTYPES, Gemm, Gemv, Ger
from symgraph.tensor.elemwise import DimShuffle, dimshuffle
from symgraph.tensor.linalg import Dot
from symgraph.tensor.variable import constant


@dataclass
class _Scaled:
    """A term ``scale * core`` with scalar factors ``scale`` (possibly none)."""

    core: Variable
    scale: list[Variable]


def _as_scalar(var: Variable) -> Variable | None:
    """``var`` as a 0-d variable if it holds a single element (static shape all 1)."""
    if var.type.ndim == 0:  # type: ignore[attr-defined]
        return var
    if all(s == 1 for s in var.type.shape):  # type: ignore[attr-defined]
        return dimshuffle(var, ())
    return None


def _split_scale(fgraph: FunctionGraph, term: Variable, core_ok: Any) -> _Scaled | None:
    """Split ``term`` into scalar factors and one core accepted by ``core_ok``."""
    node = elemwise_node(term, ps.Mul)
    if node is not None and single_client(fgraph, term):
        cores = [v for v in node.inputs if core_ok(v)]
        scale = [_as_scalar(v) for v in node.inputs if not any(v is c for c in cores)]
        if len(cores) == 1 and all(s is not None for s in scale):
            return _Scaled(cores[0], scale)  # type: ignore[arg-type]
    if core_ok(term):
        return _Scaled(term, [])
    return None


def _scalar_product(factors: Sequence[Variable], sign: int, dtype: str) -> Variable:
    """sign * prod(factors) as a 0-d variable of ``dtype``."""
    values = [np.asarray(f.data).reshape(()) for f in factors if isinstance(f, Constant)]
    symbolic = [tm.cast(f, dtype) for f in factors if not isinstance(f, Constant)]
    number = sign * np.prod(values) if values else sign
    known = constant(np.asarray(number, dtype=dtype), dtype=dtype)
    if not symbolic:
        return known
    product = symbolic[0] if len(symbolic) == 1 else tm.mul(*symbolic)
    return product if number == 1 else tm.mul(known, product)


def _dot_of(var: Variable, ranks: tuple[int, int]) -> Apply | None:
    node = var.owner
    if node is None or not isinstance(node.op, Dot):
        return None
    a, b = node.inputs
    if (a.type.ndim, b.type.ndim) != ranks:  # type: ignore[attr-defined]
        return None
    return node


def _outer_of(var: Variable) -> tuple[Variable, Variable] | None:
    """(x, y) if var is dot(x[:, None], y[None, :]), the outer product T.outer builds."""
    node = _dot_of(var, (2, 2))
    if node is None:
        return None
    col, row = node.inputs
    col_node, row_node = col.owner, row.owner
    if (
        col_node is None or row_node is None or not isinstance(col_node.op, DimShuffle)
        or not isinstance(row_node.op, DimShuffle) or col_node.op.new_order != (0, "x")
        or row_node.op.new_order != ("x", 0)
    ):
        return None
    return col_node.inputs[0], row_node.inputs[0]


def _signed_terms(terms: SumTerms) -> list[tuple[Variable, int]]:
    return [(v, 1) for v in terms.pos] + [(v, -1) for v in terms.neg]


def _rebuild(terms: SumTerms, used: Sequence[int], new: Variable, dtype: str) -> Variable:
    """The sum without the terms at positions ``used`` (of _signed_terms), plus ``new``."""
    n_pos = len(terms.pos)
    rest = SumTerms(
        pos=[v for k, v in enumerate(terms.pos) if k not in used] + [new],
        neg=[v for k, v in enumerate(terms.neg) if k + n_pos not in used],
        const=terms.const,
    )
    return build_sum(rest, dtype)


def _blas_from_sum(fgraph: FunctionGraph, node: Apply, kind: str) -> Replacement:
    out = node.outputs[0]
    dtype = out.type.dtype  # type: ignore[attr-defined]
    ndim = out.type.ndim  # type: ignore[attr-defined]
    if dtype not in BLAS_DTYPES or ndim != (1 if kind == "gemv" else 2):
        return None
    terms = sum_terms(fgraph, node)
    signed = _signed_terms(terms)
    if len(signed) < 2:
        return None

    def is_product(v: Variable) -> bool:
        if v.type.dtype != dtype:  # type: ignore[attr-defined]
            return False
        if kind == "ger":
            return _outer_of(v) is not None
        found = _dot_of(v, (2, 1) if kind == "gemv" else (2, 2))
        return found is not None and all(i.type.dtype == dtype for i in found.inputs)  # type: ignore[attr-defined]

    def fits(v: Variable) -> bool:
        # the result's dtype and broadcast pattern; static lengths may be known on one
        # side only (a constant operand, a shared variable of unknown shape)
        return v.type.dtype == dtype and v.type.broadcastable == out.type.broadcastable  # type: ignore[attr-defined]

    def is_accumulator(v: Variable) -> bool:
        return fits(v)

    for i, (term, sign) in enumerate(signed):
        product = _split_scale(fgraph, term, is_product)
        if product is None or not fits(product.core):
            continue
        for j, (other, other_sign) in enumerate(signed):
            if j == i:
                continue
            acc = _split_scale(fgraph, other, is_accumulator)
            if acc is None:
                continue
            alpha = _scalar_product(product.scale, sign, dtype)
            if kind == "ger":
                if acc.scale or other_sign != 1:
                    continue  # Ger has no beta
                x, y = _outer_of(product.core)  # type: ignore[misc]
                if x.type.dtype != dtype or y.type.dtype != dtype:  # type: ignore[attr-defined]
                    continue
                new = Ger()(acc.core, alpha, x, y)
            else:
                beta = _scalar_product(acc.scale, other_sign, dtype)
                a, b = product.core.owner.inputs  # type: ignore[union-attr]
                new = (Gemv() if kind == "gemv" else Gemm())(acc.core, alpha, a, b, beta)
            return [_rebuild(terms, [i, j], new, dtype)]
    return None


def _gemm(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # alpha * dot(X, Y) + beta * Z -> gemm(Z, alpha, X, Y, beta) for matrices
    return _blas_from_sum(fgraph, node, "gemm")


def _gemv(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # alpha * dot(A, x) + beta * z -> gemv(z, alpha, A, x, beta)
    return _blas_from_sum(fgraph, node, "gemv")


def _ger(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # A + alpha * outer(x, y) -> ger(A, alpha, x, y)
    return _blas_from_sum(fgraph, node, "ger")


BLAS_SPECIALIZE = RuleSet("blas", [
    LocalRewrite("ger_from_outer_update", _ger, (ps.Add, ps.Sub), "A + alpha * outer(x, y) = ger"),
    LocalRewrite("gemm_from_scaled_dot_sum", _gemm, (ps.Add, ps.Sub),
                 "alpha * dot(X, Y) + beta * Z = gemm"),
    LocalRewrite("gemv_from_scaled_dot_sum", _gemv, (ps.Add, ps.Sub),
                 "alpha * dot(A, x) + beta * z = gemv"),
])
