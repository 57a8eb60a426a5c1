"""The C reductions (Sum, Prod, Max, Min, All, Any, Argmax, Argmin) agree with the py backend.

Each test compiles one function holding many reductions (one gcc run) in mode 'c' and in
mode 'py', calls both on the same values (contiguous, transposed, sliced, reversed and
broadcast layouts) and compares values, dtypes and shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.errors import ShapeMismatchError
from symgraph.tensor.reduce import ArgReduce, Reduce
from symgraph.tensor.type import TensorType
from tests.differential.harness import assert_same

pytestmark = pytest.mark.needs_gcc

AXES: list[Any] = [None, 0, -1, (0, 2), ()]
SIMPLE: list[Callable[..., Any]] = [T.sum, T.prod, T.max, T.min, T.all, T.any]
ARGS: list[Callable[..., Any]] = [T.argmax, T.argmin]


def _compile_both(inputs: list[Any], outputs: list[Any]) -> tuple[Any, Any]:
    fc = sg.compile_function(inputs, outputs, mode="c")
    fp = sg.compile_function(inputs, outputs, mode="py")
    return fc, fp


def _assert_reductions_ran_in_c(fc: Any) -> None:
    reductions = [n for n in fc.maker.fgraph.toposort() if isinstance(n.op, (Reduce, ArgReduce))]
    assert reductions, "the compiled graph holds no reduction"
    fallen = [
        str(n.op) for n in fc.maker.runner.python_nodes if isinstance(n.op, (Reduce, ArgReduce))
    ]
    assert not fallen, f"reductions ran in Python: {fallen}"


def _assert_agree(fc: Any, fp: Any, values: Sequence[np.ndarray], rtol: float = 1e-12,
                  atol: float = 0.0) -> None:
    got, expected = fc(*values), fp(*values)
    for k, (a, b) in enumerate(zip(got, expected)):
        assert_same(a, b, rtol, atol, f"output {k} ({fc.maker.fgraph.outputs[k]})")


def _layouts(base: np.ndarray) -> list[np.ndarray]:
    """The same (3, 4, 5)-shaped values in several memory layouts."""
    transposed = np.ascontiguousarray(base.transpose(2, 1, 0)).transpose(2, 1, 0)
    sliced = np.concatenate([base, base], axis=0)[::2]
    reversed_ = np.ascontiguousarray(base[:, ::-1, ::-1])[:, ::-1, ::-1]
    return [base, transposed, sliced, reversed_, np.broadcast_to(base[:1], base.shape)]


def _values(rng: np.random.Generator, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    if dtype == "bool":
        return rng.random(shape) < 0.7
    if dtype.startswith(("int", "uint")):
        return rng.integers(-3 if dtype.startswith("int") else 0, 4, size=shape).astype(dtype)
    return rng.normal(size=shape).astype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "int8", "uint8", "bool"])
def test_reductions_over_every_axis_agree_with_py_in_every_layout(
    dtype: str, rng: np.random.Generator
) -> None:
    x = T.tensor(dtype, shape=(None, None, None), name="x")
    outputs = [fn(x, axis=axis) for fn in SIMPLE for axis in AXES]
    outputs += [fn(x, axis=axis) for fn in ARGS for axis in AXES if axis != ()]
    outputs += [T.sum(x, axis=1, keepdims=True), T.max(x, axis=(0, 2), keepdims=True),
                T.argmin(x, axis=-1, keepdims=True)]
    fc, fp = _compile_both([x], outputs)
    _assert_reductions_ran_in_c(fc)
    for values in _layouts(_values(rng, dtype, (3, 4, 5))):
        # float32 sums are accumulated in double in C, in float32 (pairwise) by NumPy
        tol = 1e-5 if dtype == "float32" else 1e-12
        _assert_agree(fc, fp, [values], rtol=tol, atol=tol)


def test_transposed_and_strided_matrices_reduce_like_numpy(rng: np.random.Generator) -> None:
    x = T.dmatrix("x")
    outputs = [T.sum(x, axis=0), T.sum(x, axis=1), T.sum(x), T.max(x, axis=0), T.argmax(x, axis=0),
               T.argmax(x), T.argmin(x, axis=1), T.prod(x, axis=0), T.any(x > 1, axis=1)]
    fc, fp = _compile_both([x], outputs)
    _assert_reductions_ran_in_c(fc)
    base = rng.normal(size=(37, 300))
    for values in [base, base.T, base[::2], base[:, ::3], base[::-1], base.T[::-2, 5:]]:
        _assert_agree(fc, fp, [values])
    np.testing.assert_allclose(fc(base.T)[0], base.T.sum(axis=0), rtol=1e-13)


def test_accumulator_dtypes_follow_numpy(rng: np.random.Generator) -> None:
    b, i8 = T.tensor("bool", (None, None), "b"), T.tensor("int8", (None, None), "i8")
    f32 = T.fmatrix("f")
    u = T.tensor("uint16", (None,), "u")
    outputs = [
        T.sum(b), T.sum(b, axis=0), T.prod(b, axis=1),           # bool -> int64
        T.sum(i8, axis=0), T.prod(i8),                            # int8 -> int64
        T.sum(i8, axis=1, dtype="int8"),                          # wraps around in int8
        T.prod(i8, dtype="int16"),                                # wraps around in int16
        T.sum(i8, dtype="float32"), T.sum(i8, axis=0, acc_dtype="int32", dtype="float64"),
        T.sum(f32, axis=1), T.sum(f32, acc_dtype="float64"), T.sum(f32, dtype="float64"),
        T.sum(u), T.prod(u, axis=0),                             # uint16 -> uint64
        T.mean(i8, axis=0), T.sum(f32, axis=()), T.sum(i8, axis=()),
    ]
    fc, fp = _compile_both([b, i8, f32, u], outputs)
    _assert_reductions_ran_in_c(fc)
    values = [rng.random((6, 7)) < 0.5, rng.integers(-128, 128, size=(6, 7)).astype("int8"),
              rng.normal(size=(6, 7)).astype("float32"),
              rng.integers(0, 65536, size=50).astype("uint16")]
    _assert_agree(fc, fp, values, rtol=1e-5, atol=1e-5)
    assert [o.dtype for o in fc(*values)[:3]] == [np.int64] * 3


def test_integer_sums_wrap_around_like_numpy() -> None:
    x = T.tensor("int64", (None,), "x")
    fc, fp = _compile_both([x], [T.sum(x), T.prod(x)])
    values = np.array([2**62, 2**62, 2**62, 3], dtype="int64")
    _assert_agree(fc, fp, [values])


def test_float32_products_overflow_to_inf_like_numpy() -> None:
    x = T.fvector("x")
    fc, fp = _compile_both([x], [T.prod(x)])
    values = np.array([1e30, 1e30, 1e-30, 1e-30], dtype="float32")
    _assert_agree(fc, fp, [values])
    assert np.isinf(fc(values)[0])


def test_max_min_propagate_nan_and_arg_finds_the_first_nan() -> None:
    x = T.dmatrix("x")
    outputs = [T.max(x, axis=0), T.max(x, axis=1), T.min(x), T.min(x, axis=0),
               T.argmax(x, axis=0), T.argmax(x, axis=1), T.argmin(x), T.argmin(x, axis=1)]
    fc, fp = _compile_both([x], outputs)
    values = np.arange(60.0).reshape(6, 10) % 7
    values[1, 3] = values[4, 3] = values[2, 8] = values[5, 0] = np.nan
    for layout in [values, np.asfortranarray(values), values[::-1], values[:, ::-1]]:
        _assert_agree(fc, fp, [layout])
    got = fc(values)
    assert np.isnan(got[0][3]) and np.isnan(got[1][1]) and not np.isnan(got[1][0])
    assert got[5][1] == 3 and got[4][3] == 1


def test_argmax_and_argmin_return_the_first_of_equal_extremes() -> None:
    x = T.dtensor3("x")
    outputs = [T.argmax(x), T.argmax(x, axis=(0, 2)), T.argmin(x, axis=(0, 1)), T.argmax(x, axis=1)]
    fc, fp = _compile_both([x], outputs)
    values = np.zeros((3, 4, 5))
    values[1, 2, 3] = values[2, 0, 1] = values[0, 3, 4] = 1.0
    moved = values.transpose(2, 0, 1).copy().transpose(1, 2, 0)
    for layout in [values, moved, values[::-1, :, ::-1]]:
        _assert_agree(fc, fp, [layout])


def test_long_runs_match_numpy_including_float32_accuracy(rng: np.random.Generator) -> None:
    v, m = T.fvector("v"), T.fmatrix("m")
    outputs = [T.sum(v), T.max(v), T.argmin(v), T.sum(m, axis=0), T.sum(m, axis=1)]
    fc, fp = _compile_both([v, m], outputs)
    big = rng.random(1_000_003).astype("float32")
    mat = rng.random((1000, 1000)).astype("float32")
    got, expected = fc(big, mat), fp(big, mat)
    # the pairwise float32 sum of NumPy and the C double accumulator agree to 1e-5
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-5)
    np.testing.assert_allclose(got[0], big.astype("float64").sum(), rtol=1e-6)
    assert got[0].dtype == np.float32
    assert got[1] == expected[1] and got[2] == expected[2]
    np.testing.assert_allclose(got[3], expected[3], rtol=1e-5)
    np.testing.assert_allclose(got[4], expected[4], rtol=1e-5)


def test_empty_reductions_give_the_identity(rng: np.random.Generator) -> None:
    x = T.dmatrix("x")
    outputs = [T.sum(x), T.sum(x, axis=1), T.prod(x, axis=1), T.all(x, axis=1), T.any(x),
               T.max(x, axis=0), T.argmin(x, axis=0), T.sum(x, axis=()), T.min(x, axis=())]
    fc, fp = _compile_both([x], outputs)
    _assert_reductions_ran_in_c(fc)
    # max/argmin over axis 0 of a (2, 0) matrix reduce 2 elements into each of 0 outputs
    _assert_agree(fc, fp, [np.zeros((2, 0))])
    got = fc(np.zeros((2, 0)))
    assert got[0] == 0.0 and got[1].tolist() == [0.0, 0.0] and got[2].tolist() == [1.0, 1.0]
    assert got[3].tolist() == [True, True] and got[4].dtype == np.bool_ and not got[4]


@pytest.mark.parametrize(("fn", "message"), [
    (T.max, "zero-size array to reduction operation maximum which has no identity"),
    (T.min, "zero-size array to reduction operation minimum which has no identity"),
    (T.argmax, r"argmax of an empty axis: axes \(1,\) of an array of shape \(3, 0\)"),
    (T.argmin, r"argmin of an empty axis: axes \(1,\) of an array of shape \(3, 0\)"),
])
def test_extremes_of_an_empty_axis_fail_with_numpys_message(
    fn: Callable[..., Any], message: str
) -> None:
    x = T.dmatrix("x")
    fc = sg.compile_function([x], fn(x, axis=1), mode="c")
    _assert_reductions_ran_in_c(fc)
    with pytest.raises(ShapeMismatchError, match=message):
        fc(np.zeros((3, 0)))
    with pytest.raises(ShapeMismatchError, match=message):
        sg.compile_function([x], fn(x, axis=1), mode="py")(np.zeros((3, 0)))


def test_scalars_and_length_one_axes_reduce_to_themselves() -> None:
    s, r = T.dscalar("s"), T.tensor("float64", (1, None), "r")
    outputs = [T.sum(s), T.max(s), T.argmax(s), T.prod(r, axis=0), T.argmin(r, axis=0), T.sum(r)]
    fc, fp = _compile_both([s, r], outputs)
    _assert_reductions_ran_in_c(fc)
    _assert_agree(fc, fp, [np.array(-0.5), np.array([[3.0, -1.0, 2.0]])])


def test_reduced_graph_output_types_are_unchanged_by_the_c_backend() -> None:
    x = T.tensor("int16", (2, None, 4), "x")
    out = T.sum(x, axis=(0, 2))
    fc = sg.compile_function([x], out, mode="c")
    assert out.type == TensorType("int64", (None,))
    result = fc(np.ones((2, 3, 4), dtype="int16"))
    assert result.dtype == np.int64 and result.tolist() == [8, 8, 8]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sums_of_negative_zeros_are_positive_zero_as_in_numpy(dtype: str) -> None:
    # NumPy starts every float sum at +0.0, so a sum of negative zeros is +0.0; the C
    # backend used to start at -0.0 and return -0.0, a different number from mode='py'
    x = T.matrix("x", dtype=dtype)
    outs = [x.sum(), x.sum(axis=0), x.sum(axis=1), (x * 2).sum(axis=1), (x * 2).sum(axis=0),
            x.T.sum(axis=1), x.mean(axis=0)]
    for shape in [(1, 1), (3, 5), (700, 700)]:  # the last takes the threaded paths
        value = -np.zeros(shape, dtype=dtype)
        want = [np.asarray(v) for v in sg.compile_function([x], outs, mode="py")(value)]
        got = sg.compile_function([x], outs, mode="c")(value)
        for k, (g, w) in enumerate(zip(got, want)):
            assert np.array_equal(np.signbit(g), np.signbit(w)), (shape, k)
            assert not np.any(np.signbit(w)), (shape, k)
