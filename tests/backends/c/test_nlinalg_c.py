"""The C emitters of ``T.nlinalg`` (LAPACK from the pip OpenBLAS, and the diagonal ops) agree
with the py backend: values, dtype, shape, errors and gradients, and really run in C."""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import symgraph as sg
import symgraph.backends.c.emit.nlinalg  # registers the emitters under test
import symgraph.tensor as T
from symgraph.errors import ShapeMismatchError
from symgraph.gradient import verify_grad
from symgraph.tensor.nlinalg import (
    AllocDiag,
    Det,
    Eigh,
    ExtractDiag,
    MatrixInverse,
    MatrixPinv,
    Solve,
)
from tests.differential.harness import assert_same

pytestmark = pytest.mark.needs_gcc

NLINALG = (MatrixInverse, Det, Solve, MatrixPinv, Eigh, ExtractDiag, AllocDiag)

#: how an input array is laid out in memory when it is passed in
LAYOUTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "contiguous": lambda a: np.ascontiguousarray(a),
    "fortran": lambda a: np.asfortranarray(a),
    "strided": lambda a: np.repeat(np.repeat(a, 2, axis=0), 3, axis=-1)[::2, ::3],
    "reversed": lambda a: np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1],
}

rng = np.random.default_rng(11)


def _compile(inputs: Sequence[Any], outputs: Any, mode: str, optimizer: str = "none") -> Any:
    return sg.compile_function(list(inputs), outputs, mode=mode, optimizer=optimizer,
                               on_unused_input="ignore")


def ran_in_c(fn: Any, op_types: tuple[type, ...] = NLINALG) -> None:
    """The ops under test are in the compiled graph, and none of them fell back to Python."""
    present = {type(n.op) for n in fn.maker.fgraph.toposort()}
    assert present & set(op_types), f"none of {op_types} in the compiled graph: {present}"
    in_python = [n for n in fn.maker.runner.python_nodes if isinstance(n.op, op_types)]
    assert not in_python, f"ran in Python instead of C: {in_python}"


def agree(inputs: Sequence[Any], outputs: Any, values: Sequence[Any], rtol: float,
          atol: float = 0.0, optimizer: str = "none") -> list[np.ndarray]:
    """Run the graph in 'c' and 'py'; values, dtypes and shapes agree and nothing ran in Python."""
    c_fn = _compile(inputs, outputs, "c", optimizer)
    py_fn = _compile(inputs, outputs, "py", optimizer)
    got, expected = c_fn(*values), py_fn(*values)
    got_list = got if isinstance(got, list) else [got]
    expected_list = expected if isinstance(expected, list) else [expected]
    for k, (a, b) in enumerate(zip(got_list, expected_list)):
        assert_same(a, b, rtol=rtol, atol=atol, what=f"output {k}")
    ran_in_c(c_fn)
    return got_list


def fails_alike(inputs: Sequence[Any], outputs: Any, values: Sequence[Any], match: str) -> str:
    """Both backends raise ShapeMismatchError (a ValueError) matching ``match``; C's message
    names the line of this file that built the node."""
    with pytest.raises(ShapeMismatchError, match=match):
        _compile(inputs, outputs, "py")(*values)
    c_fn = _compile(inputs, outputs, "c")
    ran_in_c(c_fn)
    with pytest.raises(ShapeMismatchError, match=match) as info:
        c_fn(*values)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "test_nlinalg_c.py" in message
    return message


def _tolerance(dtype: str) -> float:
    return 2e-4 if dtype == "float32" else 1e-9


def _well_conditioned(n: int, dtype: str) -> np.ndarray:
    """A random (n, n) matrix far from singular, in ``dtype``."""
    if np.dtype(dtype).kind in "iu":
        return (rng.integers(-3, 4, size=(n, n)) + 8 * np.eye(n, dtype=int)).astype(dtype)
    return (rng.normal(size=(n, n)) + n * np.eye(n)).astype(dtype)


def _matrix(dtype: str) -> Any:
    return T.tensor(dtype, shape=(None, None), name="a")


# ---------------------------------------------------------------------------------------
# inv, det, solve
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_inverse_matches_py_for_every_layout_and_dtype(dtype: str, layout: str) -> None:
    a = _matrix(dtype)
    for n in (1, 2, 5):
        value = LAYOUTS[layout](_well_conditioned(n, dtype))
        (got,) = agree([a], T.nlinalg.inv(a), [value], rtol=_tolerance(dtype), atol=1e-12)
        expected_dtype = "float32" if dtype == "float32" else "float64"
        assert got.dtype == expected_dtype
        np.testing.assert_allclose(got @ value.astype(got.dtype), np.eye(n),
                                   atol=1e-4 if dtype == "float32" else 1e-10)


def test_inverse_of_an_empty_matrix_is_empty() -> None:
    a = T.dmatrix("a")
    (got,) = agree([a], T.nlinalg.matrix_inverse(a), [np.zeros((0, 0))], rtol=0)
    assert got.shape == (0, 0)


def test_inverse_of_nan_is_nan_as_in_numpy() -> None:
    # LAPACKE's NaN scan would reject this input; the emitter calls LAPACK as NumPy does
    a = T.dmatrix("a")
    (got,) = agree([a], T.nlinalg.inv(a), [np.full((2, 2), np.nan)], rtol=0)
    assert np.isnan(got).all()


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "bool"])
@pytest.mark.parametrize("layout", ["contiguous", "fortran", "strided"])
def test_determinant_matches_py(dtype: str, layout: str) -> None:
    a = _matrix(dtype)
    for n in (1, 3, 6):
        if dtype == "bool":
            value = rng.random((n, n)) < 0.6
        else:
            value = _well_conditioned(n, dtype)
        agree([a], T.nlinalg.det(a), [LAYOUTS[layout](value)], rtol=_tolerance(dtype), atol=1e-12)


def test_determinant_sign_follows_row_swaps() -> None:
    a = T.dmatrix("a")
    swapped = np.eye(4)[[1, 0, 3, 2]] * 2.0  # two swaps: +16
    odd = np.eye(3)[[2, 0, 1]]  # a 3-cycle: +1
    negative = np.diag([-1.0, 2.0, 3.0])
    one_swap = np.eye(3)[[1, 0, 2]]
    for value, expected in ((swapped, 16.0), (odd, 1.0), (negative, -6.0), (one_swap, -1.0)):
        (got,) = agree([a], T.nlinalg.det(a), [value], rtol=1e-12)
        assert got == pytest.approx(expected)


def test_determinant_of_singular_and_empty_matrices() -> None:
    a = T.dmatrix("a")
    (got,) = agree([a], T.nlinalg.det(a), [np.zeros((3, 3))], rtol=0)
    assert got == 0.0
    (got,) = agree([a], T.nlinalg.det(a), [np.array([[1.0, 2.0], [2.0, 4.0]])], rtol=0, atol=1e-15)
    (got,) = agree([a], T.nlinalg.det(a), [np.zeros((0, 0))], rtol=0)
    assert got == 1.0


def test_determinant_uses_logs_so_intermediate_products_do_not_overflow() -> None:
    # 1e200 * 1e200 overflows a running product; NumPy sums logs, and so does the C
    a = T.dmatrix("a")
    (got,) = agree([a], T.nlinalg.det(a), [np.diag([1e200, 1e200, 1e-300])], rtol=1e-12)
    assert got == pytest.approx(1e100, rel=1e-10)


@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("float32", "float32"),
                                    ("float32", "float64"), ("int32", "float32"),
                                    ("int64", "int64")])
@pytest.mark.parametrize("layout", ["contiguous", "fortran", "strided", "reversed"])
def test_solve_matches_py_for_vector_and_matrix_right_hand_sides(dtypes: tuple[str, str],
                                                                  layout: str) -> None:
    a = _matrix(dtypes[0])
    b_vec = T.tensor(dtypes[1], shape=(None,), name="b")
    b_mat = T.tensor(dtypes[1], shape=(None, None), name="B")
    tolerance = max(_tolerance(dtypes[0]), _tolerance(dtypes[1]))
    if "float32" in dtypes and dtypes != ("float32", "float32") and "int" not in dtypes[0]:
        tolerance = _tolerance("float64")
    # solutions are O(1): a float32 element near zero is off by float32 rounding of the
    # others, not by rtol of itself (seed 20 gave 8.3595e-05 against 8.3561e-05)
    atol = 1e-5 if tolerance > 1e-6 else 1e-10
    for n, k in ((1, 1), (4, 3), (6, 1)):
        a_value = LAYOUTS[layout](_well_conditioned(n, dtypes[0]))
        b_value = (rng.normal(size=(n, k)) * 3).astype(dtypes[1])
        agree([a, b_mat], T.nlinalg.solve(a, b_mat), [a_value, LAYOUTS[layout](b_value)],
              rtol=tolerance, atol=atol)
        agree([a, b_vec], T.nlinalg.solve(a, b_vec), [a_value, b_value[:, 0]], rtol=tolerance,
              atol=atol)
        # a strided vector
        agree([a, b_vec], T.nlinalg.solve(a, b_vec), [a_value, b_value[::-1, 0]], rtol=tolerance,
              atol=atol)


def test_solve_with_empty_operands() -> None:
    a, b = T.dmatrices("a", "b")
    (got,) = agree([a, b], T.nlinalg.solve(a, b), [np.eye(3), np.zeros((3, 0))], rtol=0)
    assert got.shape == (3, 0)
    (got,) = agree([a, b], T.nlinalg.solve(a, b), [np.zeros((0, 0)), np.zeros((0, 4))], rtol=0)
    assert got.shape == (0, 4)


# ---------------------------------------------------------------------------------------
# pinv, eigh
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4), (1, 1), (1, 6), (0, 3), (3, 0)])
@pytest.mark.parametrize("layout", ["contiguous", "fortran", "strided"])
def test_pseudo_inverse_matches_py(shape: tuple[int, int], layout: str) -> None:
    a = T.dmatrix("a")
    value = LAYOUTS[layout](rng.normal(size=shape)) if 0 not in shape else np.zeros(shape)
    (got,) = agree([a], T.nlinalg.pinv(a), [value], rtol=1e-9, atol=1e-12)
    assert got.shape == shape[::-1]


def test_pseudo_inverse_float32_and_int() -> None:
    a32 = T.fmatrix("a")
    agree([a32], T.nlinalg.pinv(a32), [rng.normal(size=(4, 3)).astype("float32")], rtol=2e-4,
          atol=1e-5)
    ai = T.imatrix("a")
    agree([ai], T.nlinalg.pinv(ai), [rng.integers(-4, 5, size=(3, 4)).astype("int32")], rtol=1e-9,
          atol=1e-12)


def test_pseudo_inverse_drops_zero_singular_values() -> None:
    # rank 1: the second singular value is round-off, below NumPy's cutoff 1e-15 * max(s)
    a = T.dmatrix("a")
    u, v = rng.normal(size=3), rng.normal(size=4)
    (got,) = agree([a], T.nlinalg.pinv(a), [np.outer(u, v)], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(got, np.linalg.pinv(np.outer(u, v)), rtol=1e-8, atol=1e-12)
    (got,) = agree([a], T.nlinalg.pinv(a), [np.zeros((2, 3))], rtol=0)
    assert not got.any()


def _fix_signs(v: np.ndarray) -> np.ndarray:
    """Eigenvectors with each column's largest entry made positive (the sign is arbitrary)."""
    if v.size == 0:
        return v
    largest = v[np.argmax(np.abs(v), axis=0), np.arange(v.shape[1])]
    return v * np.where(largest < 0, -1, 1).astype(v.dtype)


@pytest.mark.parametrize("uplo", ["L", "U"])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
@pytest.mark.parametrize("layout", ["contiguous", "fortran", "strided"])
def test_eigh_matches_py_reading_one_triangle(uplo: str, dtype: str, layout: str) -> None:
    # An eigenvector's sign is arbitrary: NumPy's OpenBLAS (another version) may round one
    # step differently and flip a column, so eigenvectors are compared up to their signs.
    a = _matrix(dtype)
    w, v = T.nlinalg.eigh(a, uplo)
    c_fn, py_fn = _compile([a], [w, v], "c"), _compile([a], [w, v], "py")
    ran_in_c(c_fn)
    atol = 1e-4 if dtype == "float32" else 1e-10
    for n in (1, 2, 5):
        # not symmetric: only the triangle UPLO names is read, by both backends
        value = LAYOUTS[layout](_well_conditioned(n, dtype) * 3)
        (got_w, got_v), (expected_w, expected_v) = c_fn(value), py_fn(value)
        assert_same(got_w, expected_w, rtol=_tolerance(dtype), atol=atol, what="eigenvalues")
        assert_same(_fix_signs(got_v), _fix_signs(expected_v), rtol=10 * _tolerance(dtype),
                    atol=atol, what="eigenvectors")
        assert got_w.shape == (n,) and got_v.shape == (n, n)
        triangle = np.tril(value) if uplo == "L" else np.triu(value)
        symmetric = (triangle + triangle.T - np.diag(np.diag(value))).astype(got_v.dtype)
        np.testing.assert_allclose(symmetric @ got_v, got_v * got_w,
                                   atol=1e-3 if dtype == "float32" else 1e-9)


def test_eigh_of_an_empty_matrix() -> None:
    a = T.dmatrix("a")
    got_w, got_v = agree([a], T.nlinalg.eigh(a), [np.zeros((0, 0))], rtol=0)
    assert got_w.shape == (0,) and got_v.shape == (0, 0)


# ---------------------------------------------------------------------------------------
# Diagonals
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "int32", "bool"])
@pytest.mark.parametrize("offset", [-4, -1, 0, 2, 5])
def test_extract_and_alloc_diag_match_py(dtype: str, offset: int) -> None:
    x = T.tensor(dtype, shape=(None, None), name="x")
    value = np.trunc(rng.normal(size=(3, 5)) * 2).astype(dtype)  # (some zeros: False for bool)
    for layout in ("contiguous", "fortran", "strided", "reversed"):
        agree([x], T.nlinalg.extract_diag(x, offset), [LAYOUTS[layout](value)], rtol=0)
        agree([x], T.nlinalg.extract_diag(x, offset), [LAYOUTS[layout](value.T)], rtol=0)
    v = T.tensor(dtype, shape=(None,), name="v")
    agree([v], T.nlinalg.alloc_diag(v, offset), [value[0]], rtol=0)
    agree([v], T.nlinalg.diag(v, offset), [value[1, ::-2]], rtol=0)
    agree([v], T.nlinalg.diag(v, offset), [value[0, :0]], rtol=0)


def test_trace_runs_in_c() -> None:
    x = T.lmatrix("x")
    value = rng.integers(-9, 9, size=(4, 6))
    for offset in (-2, 0, 3, 9):
        agree([x], T.nlinalg.trace(x, offset), [value], rtol=0, optimizer="fast_run")


def test_alloc_diag_with_a_wrong_length_fails_like_py() -> None:
    v = T.dvector("v")
    rows, cols = T.lscalars("rows", "cols")
    out = AllocDiag(1)(v, rows, cols)
    fails_alike([v, rows, cols], out, [np.ones(3), 3, 3],
                re.escape("alloc_diag: diagonal 1 of a (3, 3) matrix has 2 entries, got a vector "
                          "of length 3"))
    fails_alike([v, rows, cols], out, [np.ones(3), -1, 3],
                re.escape("alloc_diag: negative matrix shape (-1, 3)"))
    agree([v, rows, cols], out, [np.arange(2.0), 2, 4], rtol=0)


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------
def test_singular_matrices_fail_like_py() -> None:
    a, b = T.dmatrices("a", "b")
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    message = fails_alike([a], T.nlinalg.inv(a), [singular],
                          "MatrixInverse failed: Singular matrix")
    assert "input shapes: (2, 2) float64" in message
    fails_alike([a, b], T.nlinalg.solve(a, b), [np.zeros((3, 3)), np.ones((3, 2))],
                "Solve failed: Singular matrix")
    # NumPy factors a even when b has no columns
    fails_alike([a, b], T.nlinalg.solve(a, b), [np.zeros((3, 3)), np.ones((3, 0))],
                "Solve failed: Singular matrix")
    a32 = T.fmatrix("a")
    fails_alike([a32], T.nlinalg.inv(a32), [singular.astype("float32")], "Singular matrix")


def test_non_square_inputs_fail_naming_the_op_and_shape() -> None:
    a = T.dmatrix("a")
    b = T.dvector("b")
    fails_alike([a], T.nlinalg.inv(a), [np.ones((2, 3))],
                re.escape("matrix_inverse: expected a square matrix, got shape (2, 3)"))
    fails_alike([a], T.nlinalg.det(a), [np.ones((4, 1))],
                re.escape("det: expected a square matrix, got shape (4, 1)"))
    fails_alike([a], T.nlinalg.eigh(a)[0], [np.ones((0, 2))],
                re.escape("eigh: expected a square matrix, got shape (0, 2)"))
    fails_alike([a, b], T.nlinalg.solve(a, b), [np.ones((2, 3)), np.ones(2)],
                re.escape("solve: expected a square matrix, got shape (2, 3)"))
    fails_alike([a, b], T.nlinalg.solve(a, b), [np.eye(3), np.ones(2)],
                re.escape("solve: shapes (3, 3) and (2,) are not aligned: a has 3 rows, b has 2"))


def test_svd_failure_on_nan_fails_like_py() -> None:
    a = T.dmatrix("a")
    fails_alike([a], T.nlinalg.pinv(a), [np.full((2, 2), np.nan)], "SVD did not converge")


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"),
                    reason="reads RSS from /proc/self/statm")
@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="RSS is not meaningful under ASan's quarantine")
def test_scratch_buffers_are_freed_on_success_and_on_failure() -> None:
    # the failing calls allocate copies of the singular 96 x 96 matrix (72 KiB each) and fail
    # after LAPACK has run: 300 rounds leaking one of them grow the process by some 21 MiB.
    # (The working calls' buffers, for 24 x 24, are smaller: a leak there shows less.)
    a, b = T.dmatrices("a", "b")
    failing = _compile([a, b], [T.nlinalg.inv(a), T.nlinalg.solve(a, b)], "c")
    working = _compile([a], [T.nlinalg.pinv(a), *T.nlinalg.eigh(a), T.nlinalg.det(a)], "c")
    singular, rhs, regular = np.zeros((96, 96)), np.ones((96, 8)), _spd(24)

    def calls() -> None:
        for _ in range(300):
            with pytest.raises(ShapeMismatchError, match="Singular matrix"):
                failing(singular, rhs)
            working(regular)

    calls()  # warm up: the allocator's own pools and the workspace
    gc.collect()
    before = _rss()
    calls()
    gc.collect()
    growth = _rss() - before
    assert growth < 8 * 2**20, f"RSS grew by {growth / 2**20:.1f} MiB"


# ---------------------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------------------
def _spd(n: int) -> np.ndarray:
    m = rng.normal(size=(n, n))
    return m @ m.T + n * np.eye(n)


def test_gradients_verify_in_c() -> None:
    a0, b0 = _spd(3), rng.normal(size=(3, 2))
    verify_grad(lambda a: T.nlinalg.inv(a), [a0], mode="c")
    verify_grad(lambda a: T.nlinalg.det(a), [a0], mode="c")
    verify_grad(lambda a, b: T.nlinalg.solve(a, b), [a0, b0], mode="c")
    verify_grad(lambda a, b: T.nlinalg.solve(a, b), [a0, b0[:, 0]], mode="c")


def test_gradient_graphs_agree_with_py_and_run_in_c() -> None:
    a, b = T.dmatrix("a"), T.dvector("b")
    cost = (T.nlinalg.det(a) + T.nlinalg.inv(a).sum() + (T.nlinalg.solve(a, b) ** 2).sum()
            + T.nlinalg.pinv(a).sum() + T.nlinalg.trace(a @ a))
    grads = T.grad(cost, [a, b])
    values = [_spd(4), rng.normal(size=4)]
    agree([a, b], grads, values, rtol=1e-8, atol=1e-10, optimizer="fast_run")
    c_fn = _compile([a, b], grads, "c", optimizer="fast_run")
    assert not c_fn.maker.runner.python_nodes, c_fn.maker.runner.python_nodes
