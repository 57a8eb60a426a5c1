"""NumPy implementations: linalg family (products) and nlinalg (inverse, det, solve, ...)."""

from __future__ import annotations

import numpy as np

from symgraph.backends.py.dispatch import perform
from symgraph.graph.node import Apply
from symgraph.tensor.linalg import BatchedDot, Dot, MatMul, matmul_batch_shapes
from symgraph.tensor.nlinalg import (
    AllocDiag, Det, Eigh, ExtractDiag, MatrixInverse, MatrixPinv, Solve, diagonal_length,
)


def _out(node: Apply, value: object, index: int = 0) -> np.ndarray:
    """``value`` as a fresh array with the dtype of output ``index``."""
    return np.asarray(value, dtype=node.outputs[index].type.dtype)


def _check_aligned(what: str, a: np.ndarray, b: np.ndarray, k_a: int, k_b: int) -> None:
    if k_a != k_b:
        raise ValueError(f"{what}: shapes {a.shape} and {b.shape} are not aligned: {k_a} != {k_b}")


def _check_square(what: str, x: np.ndarray) -> None:
    if x.shape[0] != x.shape[1]:
        raise ValueError(f"{what}: expected a square matrix, got shape {x.shape}")


@perform.register(Dot)
def py_dot(op: Dot, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    a, b = inputs
    _check_aligned("dot", a, b, a.shape[-1], b.shape[0])
    if 1 <= a.ndim <= 2 and 1 <= b.ndim <= 2:
        # np.dot goes to BLAS gemv, which skips zero entries of the vector, so nan * 0 gave
        # 0 (e.g. an outer product); np.matmul keeps IEEE NaN propagation, like the C backend
        return [_out(node, np.matmul(a, b))]
    return [_out(node, np.dot(a, b))]


# (a.ndim, b.ndim) -> einsum subscripts of out[i] = dot(a[i], b[i]); 3-d by 3-d uses matmul
_BATCHED_SUBSCRIPTS = {(2, 2): "bi,bi->b", (3, 2): "bij,bj->bi", (2, 3): "bi,bij->bj"}


@perform.register(BatchedDot)
def py_batched_dot(op: BatchedDot, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    a, b = inputs
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"batched_dot: batch sizes differ: {a.shape[0]} != {b.shape[0]} "
            f"(shapes {a.shape} and {b.shape})"
        )
    _check_aligned("batched_dot", a, b, a.shape[-1], b.shape[1])
    if a.ndim == 3 and b.ndim == 3:
        return [_out(node, np.matmul(a, b))]
    return [_out(node, np.einsum(_BATCHED_SUBSCRIPTS[(a.ndim, b.ndim)], a, b))]


@perform.register(MatMul)
def py_matmul(op: MatMul, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    a, b = inputs
    var_a, var_b = node.inputs
    _check_aligned("matmul", a, b, a.shape[-1], b.shape[-2] if b.ndim >= 2 else b.shape[0])
    batch_a, batch_b = matmul_batch_shapes(a.ndim, b.ndim, a.shape, b.shape)
    static_a, static_b = matmul_batch_shapes(a.ndim, b.ndim, var_a.type.shape, var_b.type.shape)
    for axis, (len_a, len_b, st_a, st_b) in enumerate(zip(batch_a, batch_b, static_a, static_b)):
        # as for elementwise ops, only axes declared broadcastable (static length 1) broadcast
        if len_a != len_b and st_a != 1 and st_b != 1:
            raise ValueError(
                f"matmul: batch axes of shapes {a.shape} and {b.shape} do not match on batch axis "
                f"{axis}: {len_a} != {len_b}. Only axes of static length 1 broadcast"
            )
    return [_out(node, np.matmul(a, b))]


@perform.register(MatrixInverse)
def py_matrix_inverse(op: MatrixInverse, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    (x,) = inputs
    _check_square("matrix_inverse", x)
    return [_out(node, np.linalg.inv(x))]


@perform.register(Det)
def py_det(op: Det, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    (x,) = inputs
    _check_square("det", x)
    return [_out(node, np.linalg.det(x))]


@perform.register(Solve)
def py_solve(op: Solve, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    a, b = inputs
    _check_square("solve", a)
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"solve: shapes {a.shape} and {b.shape} are not aligned: a has {a.shape[0]} rows, "
            f"b has {b.shape[0]}"
        )
    return [_out(node, np.linalg.solve(a, b))]


@perform.register(MatrixPinv)
def py_matrix_pinv(op: MatrixPinv, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    (x,) = inputs
    return [_out(node, np.linalg.pinv(x))]


@perform.register(Eigh)
def py_eigh(op: Eigh, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    (x,) = inputs
    _check_square("eigh", x)
    w, v = np.linalg.eigh(x, UPLO=op.UPLO)
    return [_out(node, w, 0), _out(node, v, 1)]


@perform.register(ExtractDiag)
def py_extract_diag(op: ExtractDiag, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    (x,) = inputs
    # np.diagonal returns a read-only view; hand out a copy
    return [np.array(np.diagonal(x, op.offset), dtype=node.outputs[0].type.dtype)]


@perform.register(AllocDiag)
def py_alloc_diag(op: AllocDiag, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    v, rows, cols = inputs
    rows, cols = int(rows), int(cols)
    if rows < 0 or cols < 0:
        raise ValueError(f"alloc_diag: negative matrix shape ({rows}, {cols})")
    length = diagonal_length(rows, cols, op.offset)
    if v.shape[0] != length:
        raise ValueError(
            f"alloc_diag: diagonal {op.offset} of a ({rows}, {cols}) matrix has {length} entries, "
            f"got a vector of length {v.shape[0]}"
        )
    out = np.zeros((rows, cols), dtype=node.outputs[0].type.dtype)
    index = np.arange(length)
    out[index + max(-op.offset, 0), index + max(op.offset, 0)] = v
    return [out]
