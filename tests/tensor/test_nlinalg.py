"""Numerical linear algebra (T.nlinalg) against numpy.linalg: values, dtypes, errors, grads."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import verify_grad
from symgraph.tensor import nlinalg
from symgraph.tensor.nlinalg import AllocDiag, Det, Eigh, ExtractDiag, MatrixInverse, Solve


def _well_conditioned(n: int, dtype: str = "float64", seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, n)) + n * np.eye(n)).astype(dtype)


def _sample(shape: tuple[int, ...], dtype: str = "float64", seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def _run(fn: Any, *values: np.ndarray) -> np.ndarray:
    inputs = [T.tensor(v.dtype.name, shape=(None,) * v.ndim) for v in values]
    return sg.compile_function(inputs, fn(*inputs), mode="py")(*values)


def _assert_close(got: np.ndarray, expected: Any) -> None:
    expected = np.asarray(expected)
    assert got.dtype == expected.dtype, f"dtype {got.dtype}, NumPy gives {expected.dtype}"
    assert got.shape == expected.shape, f"shape {got.shape}, NumPy gives {expected.shape}"
    rtol = 1e-4 if expected.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)


def test_inv_is_not_exported_at_top_level() -> None:
    assert not hasattr(T, "inv")
    assert T.nlinalg.inv is nlinalg.inv


# -- inverse, determinant -------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("n", [1, 3, 5])
def test_matrix_inverse_and_det_match_numpy(dtype: str, n: int) -> None:
    a = _well_conditioned(n, dtype)
    _assert_close(_run(nlinalg.matrix_inverse, a), np.linalg.inv(a))
    _assert_close(_run(nlinalg.inv, a), np.linalg.inv(a))
    _assert_close(_run(nlinalg.det, a), np.linalg.det(a))


def test_integer_matrices_give_float64_like_numpy() -> None:
    a = np.array([[2, 1], [1, 3]], dtype="int32")
    _assert_close(_run(nlinalg.inv, a), np.linalg.inv(a))
    _assert_close(_run(nlinalg.det, a), np.linalg.det(a))
    assert nlinalg.inv(T.imatrix()).dtype == "float64"


def test_static_types() -> None:
    square = T.tensor("float32", shape=(3, None))
    assert nlinalg.inv(square).type == T.TensorType("float32", (3, 3))
    assert nlinalg.det(square).type == T.TensorType("float32", ())
    assert nlinalg.pinv(T.tensor("float64", shape=(2, 5))).type.shape == (5, 2)
    assert nlinalg.solve(square, T.fvector()).type == T.TensorType("float32", (3,))
    mixed = nlinalg.solve(T.dmatrix(), T.tensor("float32", shape=(None, 4)))
    assert mixed.type == T.TensorType("float64", (None, 4))
    assert isinstance(nlinalg.inv(square).owner.op, MatrixInverse)
    assert isinstance(nlinalg.det(square).owner.op, Det)


def test_non_square_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"inverse: expected a square matrix, got shape \(2, 3\)"):
        nlinalg.inv(T.tensor("float64", shape=(2, 3)))
    with pytest.raises(TypeError, match="det: expected a matrix"):
        nlinalg.det(T.dvector())
    f = sg.compile_function([x := T.dmatrix("x")], nlinalg.det(x), mode="py")
    with pytest.raises(ValueError, match=r"det: expected a square matrix, got shape \(2, 3\)"):
        f(np.ones((2, 3)))


def test_singular_matrix_raises_value_error() -> None:
    x = T.dmatrix("x")
    f = sg.compile_function([x], nlinalg.inv(x), mode="py")
    with pytest.raises(ValueError, match="Singular matrix"):
        f(np.ones((3, 3)))


@pytest.mark.parametrize("n", [1, 3])
def test_matrix_inverse_gradient(n: int) -> None:
    verify_grad(nlinalg.matrix_inverse, [_well_conditioned(n)], mode="py")


@pytest.mark.parametrize("n", [1, 3])
def test_det_gradient(n: int) -> None:
    verify_grad(nlinalg.det, [_well_conditioned(n)], mode="py")


def test_det_gradient_float32() -> None:
    verify_grad(nlinalg.det, [_well_conditioned(3, "float32")], mode="py")


def test_det_gradient_is_det_times_inverse_transpose() -> None:
    x = T.dmatrix("x")
    a = _well_conditioned(4)
    got = sg.compile_function([x], T.grad(nlinalg.det(x), x), mode="py")(a)
    np.testing.assert_allclose(got, np.linalg.det(a) * np.linalg.inv(a).T, rtol=1e-10)


# -- solve ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("b_shape", [(4,), (4, 1), (4, 3)])
def test_solve_matches_numpy(dtype: str, b_shape: tuple) -> None:
    a, b = _well_conditioned(4, dtype), _sample(b_shape, dtype)
    _assert_close(_run(nlinalg.solve, a, b), np.linalg.solve(a, b))


def test_solve_with_mixed_and_integer_dtypes() -> None:
    a = np.array([[3, 1], [1, 2]], dtype="int64")
    b = np.array([9.0, 8.0], dtype="float32")
    _assert_close(_run(nlinalg.solve, a, b), np.linalg.solve(a, b))


def test_solve_shape_errors() -> None:
    with pytest.raises(ValueError, match=r"\(3, 3\) and \(4,\) are not aligned: a has 3 rows, b has 4"):
        nlinalg.solve(T.tensor("float64", shape=(3, 3)), T.tensor("float64", shape=(4,)))
    with pytest.raises(TypeError, match="solve: b must be a vector or a matrix"):
        nlinalg.solve(T.dmatrix(), T.dtensor3())
    a, b = T.dmatrix("a"), T.dvector("b")
    f = sg.compile_function([a, b], nlinalg.solve(a, b), mode="py")
    with pytest.raises(ValueError, match=r"solve: shapes \(3, 3\) and \(4,\) are not aligned"):
        f(np.eye(3), np.ones(4))
    with pytest.raises(ValueError, match=r"solve: expected a square matrix, got shape \(3, 4\)"):
        f(np.ones((3, 4)), np.ones(3))
    with pytest.raises(ValueError, match="Singular matrix"):
        f(np.zeros((3, 3)), np.ones(3))


def test_solve_infer_shape() -> None:
    node = nlinalg.solve(T.dmatrix(), T.dmatrix()).owner
    assert isinstance(node.op, Solve)
    assert node.op.infer_shape(node, [(3, 3), (3, 2)]) == [(3, 2)]


@pytest.mark.parametrize("b_shape", [(4,), (4, 2)])
def test_solve_gradient(b_shape: tuple) -> None:
    verify_grad(nlinalg.solve, [_well_conditioned(4), _sample(b_shape)], mode="py")


# -- pinv -----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 5)])
def test_pinv_matches_numpy(shape: tuple) -> None:
    a = _sample(shape)
    _assert_close(_run(nlinalg.pinv, a), np.linalg.pinv(a))


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4)])
def test_pinv_gradient(shape: tuple) -> None:
    verify_grad(nlinalg.pinv, [_sample(shape)], mode="py")


# -- eigh ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_matches_numpy(dtype: str, uplo: str) -> None:
    a = _sample((4, 4), dtype)
    x = T.tensor(dtype, shape=(None, None))
    w, v = nlinalg.eigh(x, uplo)
    got_w, got_v = sg.compile_function([x], [w, v], mode="py")(a)
    expected_w, expected_v = np.linalg.eigh(a, UPLO=uplo)
    _assert_close(got_w, expected_w)
    _assert_close(got_v, expected_v)


def test_eigh_types() -> None:
    w, v = nlinalg.eigh(T.tensor("float32", shape=(3, None)))
    assert isinstance(w.owner.op, Eigh) and w.owner is v.owner
    assert w.type == T.TensorType("float32", (3,)) and v.type == T.TensorType("float32", (3, 3))
    assert nlinalg.eigh(T.zmatrix())[0].dtype == "float64"
    with pytest.raises(ValueError, match="UPLO must be 'L' or 'U'"):
        nlinalg.eigh(T.dmatrix(), "X")


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_gradient_reads_one_triangle(uplo: str) -> None:
    a = _sample((4, 4))
    verify_grad(lambda x: nlinalg.eigh(x, uplo)[0], [a], mode="py")
    verify_grad(lambda x: nlinalg.eigh(x, uplo)[1], [a], mode="py")


def test_eigh_gradient_of_a_symmetrised_input() -> None:
    verify_grad(lambda x: nlinalg.eigh(x + x.T)[1], [_sample((3, 3))], mode="py")


# -- diagonals and trace ----------------------------------------------------------------------
@pytest.mark.parametrize("offset", [-2, -1, 0, 1, 3])
@pytest.mark.parametrize("shape", [(3, 3), (3, 5), (5, 2)])
def test_extract_diag_and_trace_match_numpy(offset: int, shape: tuple) -> None:
    a = _sample(shape)
    _assert_close(_run(lambda x: nlinalg.extract_diag(x, offset), a), np.diagonal(a, offset))
    _assert_close(_run(lambda x: nlinalg.diag(x, offset), a), np.diag(a, offset))
    _assert_close(_run(lambda x: nlinalg.trace(x, offset), a), np.trace(a, offset))


def test_trace_of_integers_matches_numpy_dtype() -> None:
    a = np.arange(9, dtype="int32").reshape(3, 3)
    got = _run(nlinalg.trace, a)
    assert got == np.trace(a) and got.dtype == np.trace(a).dtype


@pytest.mark.parametrize("offset", [-2, 0, 1])
@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_alloc_diag_matches_numpy(offset: int, dtype: str) -> None:
    v = np.arange(1, 4).astype(dtype)
    got = _run(lambda x: nlinalg.alloc_diag(x, offset), v)
    np.testing.assert_array_equal(got, np.diag(v, offset))
    assert got.dtype == v.dtype
    np.testing.assert_array_equal(_run(lambda x: nlinalg.diag(x, offset), v), np.diag(v, offset))


def test_diagonal_static_shapes() -> None:
    assert nlinalg.extract_diag(T.tensor("float64", shape=(3, 5)), 1).type.shape == (3,)
    assert nlinalg.extract_diag(T.tensor("float64", shape=(3, 5)), -1).type.shape == (2,)
    assert nlinalg.extract_diag(T.tensor("float64", shape=(3, 5)), 7).type.shape == (0,)
    assert nlinalg.extract_diag(T.tensor("float64", shape=(3, None))).type.shape == (None,)
    assert nlinalg.alloc_diag(T.tensor("float64", shape=(3,)), -2).type.shape == (5, 5)
    assert isinstance(nlinalg.diag(T.dvector()).owner.op, AllocDiag)
    assert isinstance(nlinalg.diag(T.dmatrix()).owner.op, ExtractDiag)
    with pytest.raises(ValueError, match="diag: expected a vector or a matrix"):
        nlinalg.diag(T.dtensor3())


def test_extract_diag_infer_shape_is_symbolic_for_unknown_lengths() -> None:
    node = nlinalg.extract_diag(T.dmatrix(), 1).owner
    assert node.op.infer_shape(node, [(3, 5)]) == [(3,)]
    m, n = T.lscalars("m", "n")
    (length,) = node.op.infer_shape(node, [(m, n)])[0]
    assert sg.compile_function([m, n], length, mode="py")(4, 2) == 1


def test_alloc_diag_rejects_a_wrong_length_at_run_time() -> None:
    v, rows, cols = T.dvector("v"), T.lscalar("rows"), T.lscalar("cols")
    f = sg.compile_function([v, rows, cols], AllocDiag(1)(v, rows, cols), mode="py")
    np.testing.assert_array_equal(f(np.ones(2), 2, 4), np.eye(2, 4, 1))
    with pytest.raises(ValueError, match=r"diagonal 1 of a \(2, 4\) matrix has 2 entries, got .* 3"):
        f(np.ones(3), 2, 4)
    with pytest.raises(ValueError, match=r"diagonal 0 of a \(2, 2\) matrix has 2 entries, got .* 3"):
        AllocDiag(0)(T.tensor("float64", shape=(3,)), 2, 2)


@pytest.mark.parametrize("offset", [-1, 0, 2])
def test_diagonal_gradients(offset: int) -> None:
    verify_grad(lambda x: nlinalg.extract_diag(x, offset), [_sample((3, 4))], mode="py")
    verify_grad(lambda x: nlinalg.trace(x, offset), [_sample((4, 3))], mode="py")
    verify_grad(lambda v: nlinalg.alloc_diag(v, offset), [_sample((3,))], mode="py")
