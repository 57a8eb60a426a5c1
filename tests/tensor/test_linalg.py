"""Products (symgraph.tensor.linalg) against NumPy: values, dtypes, static shapes, errors, grads."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import verify_grad
from symgraph.tensor.linalg import BatchedDot, Dot, MatMul


def _sample(shape: tuple[int, ...], dtype: str = "float64", seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith("int"):
        return rng.integers(-4, 5, shape).astype(dtype)
    return rng.normal(size=shape).astype(dtype)


def _input_like(value: np.ndarray, name: str) -> Any:
    return T.tensor(dtype=value.dtype.name, shape=(None,) * value.ndim, name=name)


def _run(fn: Any, *values: np.ndarray) -> np.ndarray:
    """Build ``fn`` on symbolic inputs shaped like ``values`` (unknown lengths) and run it."""
    inputs = [_input_like(v, f"in{i}") for i, v in enumerate(values)]
    return sg.compile_function(inputs, fn(*inputs), mode="py")(*values)


def _assert_matches(got: np.ndarray, expected: Any) -> None:
    expected = np.asarray(expected)
    assert got.dtype == expected.dtype, f"dtype {got.dtype}, NumPy gives {expected.dtype}"
    assert got.shape == expected.shape, f"shape {got.shape}, NumPy gives {expected.shape}"
    if expected.dtype.kind == "f":
        rtol = 1e-5 if expected.dtype.itemsize <= 4 else 1e-12
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)
    else:
        np.testing.assert_array_equal(got, expected)


RANK_CASES = [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)), ((3, 4), (4, 2))]


# -- dot ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("shape_a", "shape_b"), RANK_CASES)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "int64"])
def test_dot_matches_numpy_for_vectors_and_matrices(
    shape_a: tuple, shape_b: tuple, dtype: str
) -> None:
    a, b = _sample(shape_a, dtype, 1), _sample(shape_b, dtype, 2)
    _assert_matches(_run(T.dot, a, b), np.dot(a, b))


@pytest.mark.parametrize(
    ("dtype_a", "dtype_b"),
    [("float32", "float64"), ("int32", "float32"), ("int8", "int64"), ("bool", "bool")],
)
def test_dot_upcasts_mixed_dtypes_like_numpy(dtype_a: str, dtype_b: str) -> None:
    a, b = _sample((3, 4), dtype_a, 1), _sample((4,), dtype_b, 2)
    out = _run(T.dot, a, b)
    _assert_matches(out, np.dot(a, b))


def test_dot_with_a_scalar_multiplies_elementwise() -> None:
    x = T.fmatrix("x")
    assert T.dot(x, 2.0).dtype == "float32"
    s = T.dscalar("s")
    value = _sample((2, 3))
    out = sg.compile_function([x, s], T.dot(s, x), mode="py")(value.astype("float32"), 3.0)
    np.testing.assert_allclose(out, np.dot(3.0, value.astype("float32")), rtol=1e-6)


@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [((2, 3, 4), (4,)), ((2, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((3, 4), (2, 4, 5))],
)
def test_dot_of_higher_ranks_sums_last_axis_against_second_to_last(
    shape_a: tuple, shape_b: tuple
) -> None:
    a, b = _sample(shape_a, seed=1), _sample(shape_b, seed=2)
    _assert_matches(_run(T.dot, a, b), np.dot(a, b))


def test_dot_static_output_types() -> None:
    a = T.tensor("float32", shape=(3, 4))
    b = T.tensor("float64", shape=(4, None))
    assert T.dot(a, b).type == T.TensorType("float64", (3, None))
    assert T.dot(a, T.tensor("float32", shape=(None,))).type == T.TensorType("float32", (3,))
    assert T.dot(T.dvector(), T.dvector()).type == T.TensorType("float64", ())
    assert T.dot(T.lvector(), T.imatrix()).type == T.TensorType("int64", (None,))
    assert isinstance(T.dot(a, b).owner.op, Dot)


def test_dot_method_and_matmul_operator() -> None:
    a, b = T.dmatrices("a", "b")
    va, vb = _sample((2, 3), seed=1), _sample((3, 2), seed=2)
    f = sg.compile_function([a, b], [a.dot(b), a @ b], mode="py")
    for out in f(va, vb):
        np.testing.assert_allclose(out, va @ vb)
    np.testing.assert_allclose(sg.compile_function([b], vb.T @ b, mode="py")(vb), vb.T @ vb)


MISALIGNED = r"dot: shapes \(3, 4\) and \(5, 2\) are not aligned: 4 != 5"


def test_dot_static_misalignment_raises_when_built() -> None:
    a = T.tensor("float64", shape=(3, 4))
    b = T.tensor("float64", shape=(5, 2))
    with pytest.raises(ValueError, match=MISALIGNED):
        T.dot(a, b)


def test_dot_runtime_misalignment_names_the_shapes() -> None:
    a, b = T.dmatrices("a", "b")
    f = sg.compile_function([a, b], T.dot(a, b), mode="py")
    with pytest.raises(ValueError, match=MISALIGNED):
        f(np.ones((3, 4)), np.ones((5, 2)))


def test_dot_op_rejects_higher_ranks_with_a_clear_message() -> None:
    with pytest.raises(TypeError, match="Dot: the first input must be a vector or a matrix"):
        Dot()(T.dtensor3(), T.dmatrix())


def test_dot_infer_shape() -> None:
    node = Dot()(T.dmatrix(), T.dmatrix()).owner
    assert node.op.infer_shape(node, [(3, 4), (4, 7)]) == [(3, 7)]
    node = Dot()(T.tensor("float64", shape=(2, None)), T.dvector()).owner
    assert node.op.infer_shape(node, [(5, 4), (4,)]) == [(2,)]
    node = Dot()(T.dvector(), T.dvector()).owner
    assert node.op.infer_shape(node, [(4,), (4,)]) == [()]


@pytest.mark.parametrize(("shape_a", "shape_b"), RANK_CASES)
def test_dot_gradient_in_every_rank_case(shape_a: tuple, shape_b: tuple) -> None:
    verify_grad(T.dot, [_sample(shape_a, seed=1), _sample(shape_b, seed=2)], mode="py")


def test_dot_gradient_float32() -> None:
    verify_grad(T.dot, [_sample((3, 4), "float32", 1), _sample((4, 2), "float32", 2)], mode="py")


def test_dot_gradient_of_higher_ranks() -> None:
    verify_grad(T.dot, [_sample((2, 3, 4), seed=1), _sample((2, 4, 3), seed=2)], mode="py")


# -- matmul -------------------------------------------------------------------------------
MATMUL_CASES = [
    ((2, 3, 4), (2, 4, 5)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((4,), (2, 4, 5)),
    ((2, 3, 4), (4,)),
    ((2, 2, 3, 4), (2, 4, 5)),
]


@pytest.mark.parametrize(("shape_a", "shape_b"), MATMUL_CASES + RANK_CASES)
def test_matmul_matches_numpy(shape_a: tuple, shape_b: tuple) -> None:
    a, b = _sample(shape_a, seed=1), _sample(shape_b, seed=2)
    _assert_matches(_run(T.matmul, a, b), np.matmul(a, b))


def test_matmul_float32_and_int() -> None:
    a, b = _sample((2, 3, 4), "float32", 1), _sample((2, 4, 2), "float32", 2)
    _assert_matches(_run(T.matmul, a, b), np.matmul(a, b))
    a, b = _sample((2, 3, 4), "int32", 1), _sample((4, 2), "int64", 2)
    _assert_matches(_run(T.matmul, a, b), np.matmul(a, b))


def test_matmul_broadcasts_batch_axes_of_static_length_one() -> None:
    a = T.tensor("float64", shape=(1, None, None), name="a")
    b = T.tensor("float64", shape=(None, None, None), name="b")
    out = a @ b
    assert out.type.shape == (None, None, None)
    va, vb = _sample((1, 3, 4), seed=1), _sample((5, 4, 2), seed=2)
    got = sg.compile_function([a, b], out, mode="py")(va, vb)
    np.testing.assert_allclose(got, np.matmul(va, vb))


def test_matmul_static_output_types() -> None:
    a = T.tensor("float32", shape=(5, 1, 3, 4))
    b = T.tensor("float32", shape=(7, 4, None))
    out = T.matmul(a, b)
    assert isinstance(out.owner.op, MatMul)
    assert out.type == T.TensorType("float32", (5, 7, 3, None))
    vector, stack = T.tensor("float64", shape=(4,)), T.tensor("float64", shape=(2, 4, 6))
    assert T.matmul(vector, stack).type.shape == (2, 6)
    assert T.matmul(T.tensor("float64", shape=(2, 3, 4)), T.dvector()).type.shape == (2, 3)


def test_matmul_of_matrices_is_a_dot() -> None:
    assert isinstance(T.matmul(T.dmatrix(), T.dvector()).owner.op, Dot)


def test_matmul_errors() -> None:
    with pytest.raises(ValueError, match="matmul: the first input .* is a scalar"):
        T.matmul(T.dscalar(), T.dtensor3())
    with pytest.raises(ValueError, match=r"shapes \(2, 3, 4\) and \(2, 5, 6\) are not aligned: 4 != 5"):
        T.matmul(T.tensor("float64", shape=(2, 3, 4)), T.tensor("float64", shape=(2, 5, 6)))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        T.matmul(T.tensor("float64", shape=(2, 3, 4)), T.tensor("float64", shape=(3, 4, 6)))
    a, b = T.dtensor3("a"), T.dtensor3("b")
    f = sg.compile_function([a, b], a @ b, mode="py")
    with pytest.raises(ValueError, match=r"shapes \(2, 3, 4\) and \(2, 3, 6\) are not aligned: 4 != 3"):
        f(np.ones((2, 3, 4)), np.ones((2, 3, 6)))
    with pytest.raises(ValueError, match="do not match on batch axis 0: 2 != 3"):
        f(np.ones((2, 3, 4)), np.ones((3, 4, 6)))


def test_matmul_infer_shape() -> None:
    node = T.matmul(T.tensor("float64", shape=(1, None, None)), T.dtensor3()).owner
    assert node.op.infer_shape(node, [(1, 3, 4), (6, 4, 2)]) == [(6, 3, 2)]
    node = T.matmul(T.dvector(), T.dtensor3()).owner
    assert node.op.infer_shape(node, [(4,), (6, 4, 2)]) == [(6, 2)]
    node = T.matmul(T.dtensor4(), T.dvector()).owner
    assert node.op.infer_shape(node, [(5, 6, 3, 4), (4,)]) == [(5, 6, 3)]


@pytest.mark.parametrize(("shape_a", "shape_b"), MATMUL_CASES)
def test_matmul_gradient(shape_a: tuple, shape_b: tuple) -> None:
    verify_grad(T.matmul, [_sample(shape_a, seed=1), _sample(shape_b, seed=2)], mode="py")


def test_matmul_gradient_sums_over_broadcast_batch_axes() -> None:
    a = T.tensor("float64", shape=(1, None, None), name="a")
    b = T.dtensor3("b")
    va, vb = _sample((1, 2, 3), seed=1), _sample((4, 3, 2), seed=2)
    ga, gb = T.grad((a @ b).sum(), [a, b])
    got_a, got_b = sg.compile_function([a, b], [ga, gb], mode="py")(va, vb)
    ones = np.ones((4, 2, 2))
    expected_a = np.matmul(ones, vb.transpose(0, 2, 1)).sum(axis=0, keepdims=True)
    np.testing.assert_allclose(got_a, expected_a)
    np.testing.assert_allclose(got_b, np.matmul(va.transpose(0, 2, 1), ones))


# -- outer --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
def test_outer_matches_numpy(dtype: str) -> None:
    x, y = _sample((3,), dtype, 1), _sample((4,), dtype, 2)
    _assert_matches(_run(T.outer, x, y), np.outer(x, y))


def test_outer_flattens_other_ranks() -> None:
    x, y = _sample((2, 3), seed=1), _sample((4,), seed=2)
    _assert_matches(_run(T.outer, x, y), np.outer(x, y))


def test_outer_static_shape_and_gradient() -> None:
    assert T.outer(T.tensor("float64", shape=(3,)), T.dvector()).type.shape == (3, None)
    verify_grad(T.outer, [_sample((3,), seed=1), _sample((4,), seed=2)], mode="py")


# -- tensordot ----------------------------------------------------------------------------
TENSORDOT_CASES: list[tuple[tuple, tuple, Any]] = [
    ((2, 3, 4), (3, 4, 5), 2),
    ((2, 3, 4), (4, 5), 1),
    ((2, 3, 4), (5, 6), 0),
    ((3, 4), (3, 4), 2),
    ((2, 3, 4), (4, 3, 2), [[1, 2], [1, 0]]),
    ((2, 3, 4), (5, 3), [[1], [1]]),
    ((2, 3, 4), (4, 2, 6), ([2, 0], [0, 1])),
    ((2, 3, 4), (3,), (1, 0)),
    ((2, 3, 4), (2, 3, 4), [[-3, -2, -1], [0, 1, 2]]),
]


@pytest.mark.parametrize(("shape_a", "shape_b", "axes"), TENSORDOT_CASES)
def test_tensordot_matches_numpy(shape_a: tuple, shape_b: tuple, axes: Any) -> None:
    a, b = _sample(shape_a, seed=1), _sample(shape_b, seed=2)
    _assert_matches(_run(lambda x, y: T.tensordot(x, y, axes), a, b), np.tensordot(a, b, axes))


def test_tensordot_float32_and_int_dtypes() -> None:
    a, b = _sample((2, 3, 4), "float32", 1), _sample((3, 4), "float32", 2)
    _assert_matches(_run(T.tensordot, a, b), np.tensordot(a, b))
    a, b = _sample((2, 3, 4), "int32", 1), _sample((4, 2), "int64", 2)
    _assert_matches(_run(lambda x, y: T.tensordot(x, y, 1), a, b), np.tensordot(a, b, 1))


def test_tensordot_static_output_shape() -> None:
    a = T.tensor("float64", shape=(2, 3, 4))
    b = T.tensor("float64", shape=(4, 3, 5))
    assert T.tensordot(a, b, [[1, 2], [1, 0]]).type.shape == (2, 5)
    assert T.tensordot(a, b, 0).type.shape == (2, 3, 4, 4, 3, 5)


def test_tensordot_errors() -> None:
    a = T.tensor("float64", shape=(2, 3, 4))
    b = T.tensor("float64", shape=(5, 3))
    with pytest.raises(ValueError, match="axis 2 of a .* length 4, axis 0 of b .* length 5"):
        T.tensordot(a, b, [[2], [0]])
    with pytest.raises(ValueError, match="must have the same length"):
        T.tensordot(a, b, [[1, 2], [1]])
    with pytest.raises(ValueError, match="axis 3 is out of range for a"):
        T.tensordot(a, b, [[3], [0]])
    with pytest.raises(ValueError, match="cannot sum over 3 axes"):
        T.tensordot(a, b, 3)


@pytest.mark.parametrize(("shape_a", "shape_b", "axes"), [TENSORDOT_CASES[i] for i in (0, 2, 4, 7)])
def test_tensordot_gradient(shape_a: tuple, shape_b: tuple, axes: Any) -> None:
    points = [_sample(shape_a, seed=1), _sample(shape_b, seed=2)]
    verify_grad(lambda x, y: T.tensordot(x, y, axes), points, mode="py")


# -- batched_dot --------------------------------------------------------------------------
def _np_batched_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.stack([np.dot(a[i], b[i]) for i in range(a.shape[0])])


BATCHED_CASES = [((3, 4), (3, 4)), ((3, 2, 4), (3, 4)), ((3, 4), (3, 4, 5)), ((3, 2, 4), (3, 4, 5))]


@pytest.mark.parametrize(("shape_a", "shape_b"), BATCHED_CASES)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_batched_dot_matches_numpy(shape_a: tuple, shape_b: tuple, dtype: str) -> None:
    a, b = _sample(shape_a, dtype, 1), _sample(shape_b, dtype, 2)
    out = _run(T.batched_dot, a, b)
    _assert_matches(out, _np_batched_dot(a, b))


def test_batched_dot_with_a_vector_scales_each_entry() -> None:
    a, b = _sample((3,), seed=1), _sample((3, 2, 4), seed=2)
    _assert_matches(_run(T.batched_dot, a, b), a[:, None, None] * b)
    _assert_matches(_run(T.batched_dot, b, a), b * a[:, None, None])


def test_batched_dot_of_higher_ranks_uses_batched_tensordot() -> None:
    a, b = _sample((2, 3, 4, 5), seed=1), _sample((2, 5, 6), seed=2)
    expected = np.stack([np.tensordot(a[i], b[i], [[2], [0]]) for i in range(2)])
    _assert_matches(_run(T.batched_dot, a, b), expected)


def test_batched_dot_static_types_and_errors() -> None:
    a = T.tensor("float32", shape=(3, 2, 4))
    b = T.tensor("float32", shape=(None, 4, 5))
    out = T.batched_dot(a, b)
    assert isinstance(out.owner.op, BatchedDot)
    assert out.type == T.TensorType("float32", (3, 2, 5))
    with pytest.raises(ValueError, match="batched_dot: batch sizes differ: 3 != 4"):
        T.batched_dot(a, T.tensor("float32", shape=(4, 4, 5)))
    with pytest.raises(ValueError, match="not aligned: 4 != 6"):
        T.batched_dot(a, T.tensor("float32", shape=(3, 6, 5)))
    x, y = T.dtensor3("x"), T.dtensor3("y")
    f = sg.compile_function([x, y], T.batched_dot(x, y), mode="py")
    with pytest.raises(ValueError, match="batched_dot: batch sizes differ: 3 != 2"):
        f(np.ones((3, 2, 4)), np.ones((2, 4, 5)))


def test_batched_dot_infer_shape() -> None:
    node = T.batched_dot(T.dtensor3(), T.dmatrix()).owner
    assert node.op.infer_shape(node, [(3, 2, 4), (3, 4)]) == [(3, 2)]


@pytest.mark.parametrize(("shape_a", "shape_b"), BATCHED_CASES)
def test_batched_dot_gradient(shape_a: tuple, shape_b: tuple) -> None:
    verify_grad(T.batched_dot, [_sample(shape_a, seed=1), _sample(shape_b, seed=2)], mode="py")


def test_batched_tensordot_matches_numpy() -> None:
    a, b = _sample((2, 3, 4, 5), seed=1), _sample((2, 5, 4, 6), seed=2)
    out = _run(lambda x, y: T.batched_tensordot(x, y, [[2, 3], [2, 1]]), a, b)
    expected = np.stack([np.tensordot(a[i], b[i], [[1, 2], [1, 0]]) for i in range(2)])
    _assert_matches(out, expected)
    a2, b2 = _sample((2, 3, 4), seed=3), _sample((2, 4, 5), seed=4)
    out = _run(lambda x, y: T.batched_tensordot(x, y, 1), a2, b2)
    _assert_matches(out, np.matmul(a2, b2))


def test_batched_tensordot_rejects_the_batch_axis() -> None:
    with pytest.raises(ValueError, match="axis 0 is the batch axis"):
        T.batched_tensordot(T.dtensor3(), T.dtensor3(), [[0], [0]])


def test_batched_tensordot_gradient() -> None:
    verify_grad(
        lambda x, y: T.batched_tensordot(x, y, [[2, 3], [2, 1]]),
        [_sample((2, 3, 2, 4), seed=1), _sample((2, 4, 2, 3), seed=2)],
        mode="py",
    )
