"""Pullbacks: linalg family (Dot, BatchedDot, MatMul) and nlinalg (inverse, det, solve, ...).

Notation: ``g`` is the gradient of the op's output, ``z`` the output itself, ``A^T`` a
transpose. Complex inputs are not handled (costs are real, and these rules do not
conjugate).
"""

from __future__ import annotations

from typing import Any

from symgraph.gradient.rules import pullback
from symgraph.graph.node import Apply
from symgraph.tensor import math as tm
from symgraph.tensor.elemwise import dimshuffle
from symgraph.tensor.linalg import BatchedDot, Dot, MatMul, matmul
from symgraph.tensor.nlinalg import (
    AllocDiag, Det, Eigh, ExtractDiag, MatrixInverse, MatrixPinv, Solve,
)
from symgraph.tensor.variable import TensorVariable

V = TensorVariable


def _t(x: V) -> V:
    """Transpose of a matrix."""
    return dimshuffle(x, (1, 0))


def _swap_last(x: V) -> V:
    """Swap the last two axes (a transpose of every matrix in a stack)."""
    order = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return dimshuffle(x, order)


def _col(x: V) -> V:
    return dimshuffle(x, (0, "x"))


def _row(x: V) -> V:
    return dimshuffle(x, ("x", 0))


@pullback.register(Dot)
def _dot_pullback(op: Dot, node: Apply, output_grads: list[Any]) -> list[Any]:
    a, b = node.inputs
    (g,) = output_grads
    dot = Dot()
    if a.ndim == 1 and b.ndim == 1:  # z = sum_k a[k] b[k]
        return [tm.mul(g, b), tm.mul(g, a)]
    if a.ndim == 2 and b.ndim == 1:  # z[i] = sum_k a[i, k] b[k]
        return [dot(_col(g), _row(b)), dot(_t(a), g)]
    if a.ndim == 1 and b.ndim == 2:  # z[j] = sum_k a[k] b[k, j]
        return [dot(b, g), dot(_col(a), _row(g))]
    return [dot(g, _t(b)), dot(_t(a), g)]  # z = a b


@pullback.register(BatchedDot)
def _batched_dot_pullback(op: BatchedDot, node: Apply, output_grads: list[Any]) -> list[Any]:
    a, b = node.inputs
    (g,) = output_grads
    batched = BatchedDot()
    if a.ndim == 2 and b.ndim == 2:  # z[n] = sum_k a[n, k] b[n, k]
        return [tm.mul(_col(g), b), tm.mul(_col(g), a)]
    if a.ndim == 3 and b.ndim == 2:  # z[n, i] = sum_k a[n, i, k] b[n, k]
        ga = tm.mul(dimshuffle(g, (0, 1, "x")), dimshuffle(b, (0, "x", 1)))
        return [ga, batched(_swap_last(a), g)]
    if a.ndim == 2 and b.ndim == 3:  # z[n, j] = sum_k a[n, k] b[n, k, j]
        gb = tm.mul(dimshuffle(a, (0, 1, "x")), dimshuffle(g, (0, "x", 1)))
        return [batched(b, g), gb]
    return [batched(g, _swap_last(b)), batched(_swap_last(a), g)]  # z[n] = a[n] b[n]


def _sum_to_operand(grad: V, operand: V) -> V:
    """Sum a gradient over the batch axes along which ``operand`` was broadcast."""
    from symgraph.tensor.reduce import sum as _sum

    extra = grad.ndim - operand.ndim
    if extra:
        grad = _sum(grad, axis=tuple(range(extra)))
    broadcast = tuple(
        axis for axis in range(operand.ndim - 2)
        if operand.type.shape[axis] == 1 and grad.type.shape[axis] != 1
    )
    if broadcast:
        grad = _sum(grad, axis=broadcast, keepdims=True)
    return grad


@pullback.register(MatMul)
def _matmul_pullback(op: MatMul, node: Apply, output_grads: list[Any]) -> list[Any]:
    a, b = node.inputs
    (g,) = output_grads
    # work with numpy.matmul's promoted operands: a (.., M, K), b (.., K, N), g (.., M, N)
    a2 = a if a.ndim >= 2 else _row(a)
    b2 = b if b.ndim >= 2 else _col(b)
    n_batch = g.ndim - (a.ndim >= 2) - (b.ndim >= 2)
    pattern: list[int | str] = list(range(n_batch))
    next_axis = n_batch
    for promoted in (a.ndim < 2, b.ndim < 2):
        if promoted:
            pattern.append("x")
        else:
            pattern.append(next_axis)
            next_axis += 1
    g2 = dimshuffle(g, pattern)
    ga = _sum_to_operand(matmul(g2, _swap_last(b2)), a2)
    gb = _sum_to_operand(matmul(_swap_last(a2), g2), b2)
    if a.ndim == 1:
        ga = dimshuffle(ga, (1,))
    if b.ndim == 1:
        gb = dimshuffle(gb, (0,))
    return [ga, gb]


@pullback.register(MatrixInverse)
def _matrix_inverse_pullback(op: MatrixInverse, node: Apply, output_grads: list[Any]) -> list[Any]:
    # d(X^-1) = -X^-1 dX X^-1, so the gradient is -(X^-1)^T g (X^-1)^T
    (g,) = output_grads
    z_t = _t(node.outputs[0])
    return [tm.neg(Dot()(Dot()(z_t, g), z_t))]


@pullback.register(Det)
def _det_pullback(op: Det, node: Apply, output_grads: list[Any]) -> list[Any]:
    # Jacobi's formula: d det(X) = det(X) tr(X^-1 dX)
    (x,) = node.inputs
    (g,) = output_grads
    return [tm.mul(g, node.outputs[0], _t(MatrixInverse()(x)))]


@pullback.register(Solve)
def _solve_pullback(op: Solve, node: Apply, output_grads: list[Any]) -> list[Any]:
    # x = A^-1 b: grad_b = A^-T g, grad_A = -grad_b x^T
    a, b = node.inputs
    (g,) = output_grads
    x = node.outputs[0]
    grad_b = Solve()(_t(a), g)
    if b.ndim == 1:
        grad_a = tm.neg(Dot()(_col(grad_b), _row(x)))
    else:
        grad_a = tm.neg(Dot()(grad_b, _t(x)))
    return [grad_a, grad_b]


@pullback.register(MatrixPinv)
def _matrix_pinv_pullback(op: MatrixPinv, node: Apply, output_grads: list[Any]) -> list[Any]:
    # Golub & Pereyra (1973), for perturbations that keep the rank of A (Z = pinv(A)):
    #   dZ = -Z dA Z + Z Z^T dA^T (I - A Z) + (I - Z A) dA^T Z^T Z
    # whose adjoint is -Z^T g Z^T + (I - A Z) g^T Z Z^T + Z^T Z g^T (I - Z A); the identities
    # are multiplied out so that no eye() is needed.
    (a,) = node.inputs
    (g,) = output_grads
    z = node.outputs[0]
    dot = Dot()
    z_t, g_t = _t(z), _t(g)
    first = tm.neg(dot(dot(z_t, g), z_t))
    g_t_z_z_t = dot(dot(g_t, z), z_t)
    second = tm.sub(g_t_z_z_t, dot(dot(a, z), g_t_z_z_t))
    z_t_z_g_t = dot(dot(z_t, z), g_t)
    third = tm.sub(z_t_z_g_t, dot(dot(z_t_z_g_t, z), a))
    return [tm.add(first, second, third)]


@pullback.register(Eigh)
def _eigh_pullback(op: Eigh, node: Apply, output_grads: list[Any]) -> list[Any]:
    # For A = V diag(w) V^T: dw_i = v_i^T dA v_i and dv_i = sum_{j != i} v_j (v_j^T dA v_i) /
    # (w_i - w_j). The adjoint is V (diag(g_w) + F * (V^T g_v)) V^T with
    # F[r, c] = 1 / (w[c] - w[r]) off the diagonal and 0 on it (distinct eigenvalues assumed).
    from symgraph.tensor.shape import arange, shape_i

    (x,) = node.inputs
    g_w, g_v = output_grads
    w, v = node.outputs
    index = arange(shape_i(x, 0))
    rows, cols = _col(index), _row(index)
    on_diagonal = tm.eq(rows, cols)
    gap = tm.sub(_row(w), _col(w))
    # the diagonal's 0 gap is replaced by 1 before dividing, then masked out
    f = tm.switch(on_diagonal, 0, tm.true_div(1, tm.switch(on_diagonal, 1, gap)))
    inner = tm.add(tm.mul(on_diagonal, _row(g_w)), tm.mul(f, Dot()(_t(v), g_v)))
    full = Dot()(Dot()(v, inner), _t(v))
    # eigh reads one triangle: an entry there stands for itself and its mirror image
    in_triangle = tm.gt(rows, cols) if op.UPLO == "L" else tm.lt(rows, cols)
    return [tm.switch(in_triangle, tm.add(full, _t(full)), tm.switch(on_diagonal, full, 0))]


@pullback.register(ExtractDiag)
def _extract_diag_pullback(op: ExtractDiag, node: Apply, output_grads: list[Any]) -> list[Any]:
    from symgraph.tensor.shape import shape_i

    (x,) = node.inputs
    (g,) = output_grads
    return [AllocDiag(op.offset)(g, shape_i(x, 0), shape_i(x, 1))]


@pullback.register(AllocDiag)
def _alloc_diag_pullback(op: AllocDiag, node: Apply, output_grads: list[Any]) -> list[Any]:
    (g,) = output_grads
    return [ExtractDiag(op.offset)(g), None, None]

