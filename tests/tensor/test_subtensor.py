"""Indexing (Subtensor, AdvancedSubtensor), set/inc_subtensor, take and nonzero, against NumPy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import verify_grad
from symgraph.tensor.shape import shape_i
from symgraph.tensor.subtensor import (
    AdvancedIncSubtensor,
    AdvancedSubtensor,
    IncSubtensor,
    Nonzero,
    Subtensor,
)


def run(inputs: list[Any], outputs: Any, *values: Any) -> Any:
    return sg.compile_function(inputs, outputs, mode="py", on_unused_input="ignore")(*values)


def assert_same(result: Any, expected: Any) -> None:
    expected = np.asarray(expected)
    assert result.dtype == expected.dtype, (result.dtype, expected.dtype)
    assert result.shape == expected.shape, (result.shape, expected.shape)
    np.testing.assert_array_equal(result, expected)


def inferred_shape(out: Any, inputs: list[Any], *values: Any) -> tuple[int, ...]:
    """Evaluate the op's infer_shape on symbolic input shapes."""
    node = out.owner
    input_shapes = [tuple(shape_i(v, k) for k in range(v.ndim)) for v in node.inputs]
    shape = node.op.infer_shape(node, input_shapes)[out.index]
    entries = [T.as_tensor_variable(s) for s in shape]
    if not entries:
        return ()
    return tuple(int(v) for v in run(inputs, entries, *values))


X3 = np.arange(60, dtype="float64").reshape(3, 4, 5) * 0.5 - 7.0

BASIC_INDICES = [
    1,
    -1,
    (0, 2),
    (-3, -4, -5),
    slice(1, None),
    slice(None, -1),
    slice(None, None, 2),
    slice(None, None, -1),
    slice(-1, 0, -2),
    slice(10, -10, -1),
    slice(-100, 100),
    slice(2, 1),
    (slice(None), slice(1, 3), 2),
    (slice(None), -2),
    (None, 1),
    (1, None, slice(None, None, -2), None),
    (Ellipsis, 1),
    (1, Ellipsis),
    (Ellipsis, None),
    (0, Ellipsis, slice(1, 4), None),
    (),
    Ellipsis,
    (np.int32(2), np.int64(-1)),
]


@pytest.mark.parametrize("index", BASIC_INDICES, ids=repr)
def test_basic_indexing_matches_numpy(index: Any) -> None:
    x = T.dtensor3("x")
    out = x[index]
    assert isinstance(out.owner.op, Subtensor)
    expected = X3[index]
    assert_same(run([x], out, X3), expected)
    assert out.ndim == expected.ndim
    assert inferred_shape(out, [x], X3) == expected.shape


@pytest.mark.parametrize("dtype", ["int32", "float32", "bool", "uint8", "complex128"])
def test_basic_indexing_keeps_dtype(dtype: str) -> None:
    x = T.tensor(dtype, shape=(None, None), name="x")
    value = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    out = x[1:, ::-2]
    assert out.dtype == dtype
    assert_same(run([x], out, value), value[1:, ::-2])


def test_symbolic_slice_bounds_and_int_indices_match_numpy() -> None:
    x = T.dmatrix("x")
    start, stop, step = T.lscalar("start"), T.iscalar("stop"), T.lscalar("step")
    i = T.bscalar("i")
    inputs = [x, start, stop, step, i]
    out = x[start:stop:step, i]
    fn = sg.compile_function(inputs, out, mode="py")
    value = np.arange(42.0).reshape(7, 6)
    cases = [
        (0, 7, 1, 0), (-3, 6, 1, -1), (5, -8, -1, 2), (6, 0, -2, -6), (-100, 100, 3, 5),
        (3, 3, 1, 1), (100, -100, -3, 0), (-1, -9, -1, 1),
    ]
    for a, b, c, k in cases:
        expected = value[a:b:c, k]
        assert_same(fn(value, a, b, c, k), expected)
        assert inferred_shape(out, inputs, value, a, b, c, k) == expected.shape


def test_symbolic_start_with_negative_and_positive_values() -> None:
    x = T.dvector("x")
    n = T.lscalar("n")
    value = np.arange(5.0)
    head, tail, back = x[:n], x[n:], x[n::-1]
    fn = sg.compile_function([x, n], [head, tail, back], mode="py")
    for k in range(-7, 8):
        got = fn(value, k)
        for g, e in zip(got, [value[:k], value[k:], value[k::-1]]):
            assert_same(g, e)
        assert inferred_shape(back, [x, n], value, k) == value[k::-1].shape


def test_static_output_shapes_of_basic_indexing() -> None:
    x = T.tensor("float64", shape=(5, 4, 3), name="x")
    assert x[1:3].type.shape == (2, 4, 3)
    assert x[::-1].type.shape == (5, 4, 3)
    assert x[-2:, ::2].type.shape == (2, 2, 3)
    assert x[None, 0].type.shape == (1, 4, 3)
    assert x[..., 1].type.shape == (5, 4)
    assert x[0, 0, 0].type.shape == ()
    assert x[10:].type.shape == (0, 4, 3)
    n = T.lscalar("n")
    assert x[n].type.shape == (4, 3)
    assert x[:n].type.shape == (None, 4, 3)
    y = T.dmatrix("y")
    assert y[:].type.shape == (None, None)
    assert y[::-1, None].type.shape == (None, 1, None)
    assert y[1:3].type.shape == (None, None)


def test_equal_indexing_gives_equal_ops() -> None:
    x = T.dmatrix("x")
    assert x[1:3].owner.op == x[1:3].owner.op
    assert hash(x[1:3].owner.op) == hash(x[1:3].owner.op)
    assert x[0].owner.op == x[0, :].owner.op == x[0, ...].owner.op
    assert x[0].owner.op != x[:, 0].owner.op
    assert str(x[1:, 0].owner.op) == "Subtensor{?:, i}"


def test_subtensor_result_is_a_copy() -> None:
    import symgraph.backends.py.impls.subtensor  # noqa: F401 - registers the implementations
    from symgraph.backends.py.dispatch import perform

    x = T.dmatrix("x")
    out = x[0]
    value = np.zeros((2, 3))
    (result,) = perform(out.owner.op, out.owner, [value, np.asarray(0)])
    result[:] = 5
    assert not value.any()


def test_shape_index_is_shape_i() -> None:
    x = T.tensor("float64", shape=(None, 4), name="x")
    assert isinstance(x.shape[1], T.TensorConstant) and int(x.shape[1].data) == 4
    assert isinstance(x.shape[-1], T.TensorConstant)
    assert_same(run([x], x.shape[0], np.zeros((3, 4))), np.asarray(3, dtype="int64"))


# ---------------------------------------------------------------------------------------
# Advanced indexing
# ---------------------------------------------------------------------------------------
MASK_01 = (X3[:, :, 0] > -2.0)
ADVANCED_INDICES = [
    [0, 2],
    [2, -1, 0, 0],
    np.array([[0, 1], [2, 2]]),
    (slice(1, None), [0, 2]),
    ([0, 1], slice(None), [1, 2]),
    ([0, 1], Ellipsis, [1, 2]),
    (slice(None), [0, 1], None, [0, 1]),
    (0, slice(None), [1, 2]),
    (slice(None), 1, [1, 2]),
    ([[0], [2]], slice(None), [1, 3]),
    (Ellipsis, [4, 0]),
    (None, [1, 0], slice(None, None, -1)),
    np.array([True, False, True]),
    MASK_01,
    (slice(None), np.array([True, False, True, True])),
    (np.array([False, True, True]), slice(None), [0, 4]),
    True,
    [],
]


@pytest.mark.parametrize("index", ADVANCED_INDICES, ids=lambda i: repr(i).replace("\n", ""))
def test_advanced_indexing_matches_numpy(index: Any) -> None:
    x = T.dtensor3("x")
    out = x[index]
    assert isinstance(out.owner.op, AdvancedSubtensor)
    expected = X3[index]
    assert_same(run([x], out, X3), expected)
    assert inferred_shape(out, [x], X3) == expected.shape


def test_advanced_indexing_with_symbolic_index_arrays() -> None:
    x = T.dtensor3("x")
    vec, mat = T.lvector("vec"), T.imatrix("mat")
    mask = T.tensor("bool", shape=(None, None), name="mask")
    i = T.lscalar("i")
    outs = [x[vec], x[:, mat], x[vec, i], x[mask], x[1:, mask[0]], x[vec, :, vec[::-1]]]
    values = [
        np.array([2, 0, -1, 2]),
        np.array([[0, 3], [1, 1], [2, 0]], dtype="int32"),
        np.int64(-2),
        X3[:, :, 1] > 0,
    ]
    got = run([x, vec, mat, i, mask], outs, X3, *values)
    v, m, k, b = values
    expected = [X3[v], X3[:, m], X3[v, k], X3[b], X3[1:, b[0]], X3[v, :, v[::-1]]]
    for g, e in zip(got, expected):
        assert_same(g, e)
    for out, e in zip(outs, expected):
        assert inferred_shape(out, [x, vec, mat, i, mask], X3, *values) == e.shape


def test_advanced_indexing_dtypes() -> None:
    for dtype in ["int64", "float32", "bool"]:
        x = T.tensor(dtype, shape=(None, None), name="x")
        value = (np.arange(12).reshape(4, 3) % 5).astype(dtype)
        out = x[[3, 0, 3], [0, 1, 2]]
        assert out.dtype == dtype
        assert_same(run([x], out, value), value[[3, 0, 3], [0, 1, 2]])


def test_static_output_shapes_of_advanced_indexing() -> None:
    x = T.tensor("float64", shape=(5, 4, 3), name="x")
    assert x[[0, 1, 1]].type.shape == (3, 4, 3)
    assert x[:, [[0], [1]], [0, 2]].type.shape == (5, 2, 2)
    assert x[[0, 1], :, [0, 2]].type.shape == (2, 4)
    assert x[np.array([True, False, True, False, True])].type.shape == (3, 4, 3)
    mask = T.tensor("bool", shape=(5, 4), name="mask")
    assert x[mask].type.shape == (None, 3)
    idx = T.lvector("idx")
    assert x[idx, 1:3].type.shape == (None, 2, 3)
    assert x[idx, 1:3, idx].type.shape == (None, 2)
    assert x[T.lmatrix("m"), None].type.shape == (None, None, 1, 4, 3)


def test_nll_row_label_indexing() -> None:
    # the classic Theano coursework expression: -log(p_y_given_x)[arange(n), y]
    p = T.dmatrix("p")
    y = T.lvector("y")
    picked = T.log(p)[T.arange(y.shape[0]), y]
    nll = -picked.mean()
    rng = np.random.default_rng(0)
    probs = rng.random((6, 4)) + 0.1
    labels = np.array([0, 3, 1, 1, 2, 0])
    got = run([p, y], [picked, nll], probs, labels)
    assert_same(got[0], np.log(probs)[np.arange(6), labels])
    np.testing.assert_allclose(got[1], -np.log(probs)[np.arange(6), labels].mean())
    assert picked.ndim == 1
    gp = sg.grad(nll, p)
    expected = np.zeros_like(probs)
    np.add.at(expected, (np.arange(6), labels), -1.0 / (6 * probs[np.arange(6), labels]))
    np.testing.assert_allclose(run([p, y], gp, probs, labels), expected)


def test_index_given_as_a_list_with_a_variable() -> None:
    x = T.dvector("x")
    i = T.lscalar("i")
    out = x[[i, 0, i]]
    assert_same(run([x, i], out, np.arange(4.0), 3), np.array([3.0, 0.0, 3.0]))


# ---------------------------------------------------------------------------------------
# set_subtensor / inc_subtensor
# ---------------------------------------------------------------------------------------
def _numpy_set(x: np.ndarray, index: Any, y: Any) -> np.ndarray:
    out = x.copy()
    out[index] = y
    return out


def _numpy_inc(x: np.ndarray, index: Any, y: Any) -> np.ndarray:
    out = x.copy()
    np.add.at(out, index, y)
    return out


SET_CASES = [
    (1, np.arange(5.0)),
    (slice(None, None, -2), 3.5),
    ((slice(1, None), 2), np.array([[7.0], [8.0]])),
    ((None, 0, slice(1, 3)), np.ones((1, 2, 5))),
    ((Ellipsis, -1), np.arange(4.0)),
    ([0, 2], np.arange(20.0).reshape(4, 5)),
    (([0, 2, 0], slice(None), [1, 1, 3]), np.array([[1.0], [2.0], [3.0]])),
    (([2, 2, 2],), 1.5),
    ((slice(None), [3, 0, 3]), np.arange(15.0).reshape(3, 1, 5)),
    (MASK_01, 9.0),
    (MASK_01, np.arange(5.0)),
    (([0, 1], Ellipsis, [1, 1]), np.arange(4.0)),
    ((slice(None), [0, 1], None, [0, 1]), np.ones((2, 3, 1))),
]


@pytest.mark.parametrize("index,y", SET_CASES, ids=lambda v: repr(v).replace("\n", "")[:40])
def test_set_and_inc_subtensor_match_numpy(index: Any, y: Any) -> None:
    x = T.dtensor3("x")
    yv = T.tensor("float64", shape=np.shape(y), name="y")
    set_out = T.set_subtensor(x[index], yv)
    inc_out = T.inc_subtensor(x[index], yv)
    assert set_out.type == x.type and inc_out.type == x.type
    got_set, got_inc = run([x, yv], [set_out, inc_out], X3, np.asarray(y, dtype="float64"))
    assert_same(got_set, _numpy_set(X3, index, y))
    assert_same(got_inc, _numpy_inc(X3, index, y))


def test_inc_subtensor_accumulates_repeated_indices() -> None:
    x = T.dvector("x")
    idx = T.lvector("idx")
    out = T.inc_subtensor(x[idx], 1.0)
    assert isinstance(out.owner.op, AdvancedIncSubtensor)
    got = run([x, idx], out, np.zeros(4), np.array([0, 0, 2, 0, -1]))
    assert_same(got, np.array([3.0, 0.0, 1.0, 1.0]))
    m = T.dmatrix("m")
    rows = T.lvector("rows")
    out2 = T.inc_subtensor(m[rows, rows], T.dvector("v"))
    fn = sg.compile_function([m, rows, out2.owner.inputs[1]], out2, mode="py")
    got = fn(np.zeros((2, 2)), [1, 1, 0], [1.0, 2.0, 4.0])
    assert_same(got, np.array([[4.0, 0.0], [0.0, 3.0]]))


def test_set_subtensor_repeated_indices_last_write_wins() -> None:
    x = T.dvector("x")
    out = T.set_subtensor(x[[1, 1, 1]], [5.0, 6.0, 7.0])
    assert_same(run([x], out, np.zeros(3)), _numpy_set(np.zeros(3), [1, 1, 1], [5.0, 6.0, 7.0]))


def test_set_subtensor_with_symbolic_slice_and_python_number() -> None:
    x = T.fmatrix("x")
    k = T.lscalar("k")
    out = T.set_subtensor(x[k:, ::-1], 2)
    assert out.dtype == "float32"
    assert isinstance(out.owner.op, IncSubtensor) and out.owner.op.set_instead_of_inc
    value = np.arange(12, dtype="float32").reshape(3, 4)
    expected = _numpy_set(value, (slice(-2, None), slice(None, None, -1)), 2)
    assert_same(run([x, k], out, value, -2), expected)


def test_set_subtensor_returns_a_new_tensor() -> None:
    x = T.dvector("x")
    out = T.set_subtensor(x[0], 1.0)
    value = np.zeros(3)
    run([x], out, value)
    assert not value.any()


def test_inc_subtensor_casts_safe_values_and_exact_constants() -> None:
    x = T.dvector("x")
    out = T.inc_subtensor(x[1:], T.ivector("y"))
    assert out.dtype == "float64"
    ints = T.ivector("ints")
    out2 = T.set_subtensor(ints[:2], [7, 8])
    assert_same(run([ints], out2, np.zeros(3, dtype="int32")), np.array([7, 8, 0], dtype="int32"))


def test_set_subtensor_float_list_into_float32_tensor() -> None:
    x = T.fvector("x")
    out = T.set_subtensor(x[[0, 2]], [0.1, 0.2])
    assert out.dtype == "float32"
    expected = _numpy_set(np.zeros(3, dtype="float32"), [0, 2], [0.1, 0.2])
    assert_same(run([x], out, np.zeros(3, dtype="float32")), expected)


def test_indexing_a_scalar_with_an_empty_index() -> None:
    s = T.dscalar("s")
    assert_same(run([s], s[()], 2.5), np.asarray(2.5))
    assert_same(run([s], s[...], 2.5), np.asarray(2.5))
    assert_same(run([s], s[None], 2.5), np.array([2.5]))


def test_unsigned_and_narrow_index_arrays() -> None:
    x = T.dvector("x")
    idx = T.tensor("uint8", shape=(None,), name="idx")
    j = T.wscalar("j")
    value = np.arange(5.0)
    idx_value = np.array([4, 0, 4], dtype="uint8")
    got = run([x, idx, j], [x[idx], x[j:], x[idx[j]]], value, idx_value, -2)
    assert_same(got[0], value[[4, 0, 4]])
    assert_same(got[1], value[-2:])
    assert_same(got[2], np.asarray(value[0]))


def test_ops_built_directly_take_lists_and_python_ints() -> None:
    from symgraph.tensor.subtensor import INT, SliceSpec

    op = Subtensor([INT, SliceSpec(start=True)])
    same = Subtensor((INT, SliceSpec(True, False, False)))
    assert op == same and hash(op) == hash(same)
    x = T.dmatrix("x")
    out = op(x, 1, -2)
    value = np.arange(12.0).reshape(3, 4)
    assert_same(run([x], out, value), value[1, -2:])
    with pytest.raises(TypeError, match=r"takes 2 inputs, got 1"):
        op(x, 1)
    with pytest.raises(TypeError, match=r"slice start at index position 1 must be an integer"):
        op(x, 1, T.dscalar("f"))


def test_inc_subtensor_with_column_value_broadcasts() -> None:
    x = T.dmatrix("x")
    col = T.dcol("col")
    out = T.inc_subtensor(x[:, 1:], col)
    xv = np.zeros((3, 4))
    cv = np.arange(3.0).reshape(3, 1)
    assert_same(run([x, col], out, xv, cv), _numpy_inc(xv, (slice(None), slice(1, None)), cv))


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------
def test_out_of_range_integer_index_at_run_time() -> None:
    x = T.dmatrix("x")
    i = T.lscalar("i")
    fn = sg.compile_function([x, i], x[1, i], mode="py")
    with pytest.raises((IndexError, ValueError), match=r"index 4 is out of bounds for axis 1 "):
        fn(np.zeros((2, 3)), 4)
    with pytest.raises((IndexError, ValueError), match=r"index -4 .* \(valid indices: -3 to 2\)"):
        fn(np.zeros((2, 3)), -4)
    fn_const = sg.compile_function([x], x[5], mode="py")
    with pytest.raises((IndexError, ValueError), match=r"index 5 is out of bounds for axis 0"):
        fn_const(np.zeros((2, 3)))


def test_out_of_range_index_array_at_run_time() -> None:
    x = T.dvector("x")
    idx = T.lvector("idx")
    fn = sg.compile_function([x, idx], x[idx], mode="py")
    with pytest.raises((IndexError, ValueError), match=r"index 7 is out of bounds"):
        fn(np.zeros(3), [0, 7])
    fn_inc = sg.compile_function([x, idx], T.inc_subtensor(x[idx], 1.0), mode="py")
    with pytest.raises((IndexError, ValueError), match=r"out of bounds"):
        fn_inc(np.zeros(3), [0, -4])


def test_out_of_range_constant_index_on_static_length_fails_when_built() -> None:
    x = T.tensor("float64", shape=(3, None), name="x")
    with pytest.raises(IndexError, match=r"index 3 is out of bounds for axis 0 of x, which"):
        x[3]
    with pytest.raises(IndexError, match=r"index -5 is out of bounds"):
        x[[0, -5]]
    with pytest.raises(IndexError, match=r"boolean index did not match .* axis 0"):
        x[np.array([True, False])]


def test_too_many_indices() -> None:
    x = T.dmatrix("x")
    with pytest.raises(IndexError, match=r"too many indices for x: it has 2 axes, but 3 were"):
        x[0, 1, 2]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., 0, ...]


def test_invalid_index_types() -> None:
    x = T.dmatrix("x")
    with pytest.raises(IndexError, match="only integers, slices"):
        x[1.5]
    with pytest.raises(IndexError, match="integers or booleans"):
        x[T.dvector("f")]
    with pytest.raises(TypeError, match="slice start must be an integer"):
        x[T.dscalar("s"):]
    with pytest.raises(TypeError, match="slice stop must be an integer"):
        x[:"a"]
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        x[::0]


def test_set_subtensor_on_a_non_indexing_result_is_a_type_error() -> None:
    x = T.dmatrix("x")
    with pytest.raises(TypeError, match=r"set_subtensor: the first argument must be the result of"):
        T.set_subtensor(x, 1.0)
    with pytest.raises(TypeError, match=r"inc_subtensor: .* got .*the output of Elemwise"):
        T.inc_subtensor(x * 2, 1.0)


def test_set_subtensor_value_errors() -> None:
    x = T.tensor("float32", shape=(4, 3), name="x")
    with pytest.raises(TypeError, match=r"cannot write float64 values into the float32 tensor x"):
        T.set_subtensor(x[0], T.dvector("y"))
    with pytest.raises(ValueError, match=r"the value has 3 axes, more than the 2"):
        T.set_subtensor(x[1:], T.ftensor3("y"))
    with pytest.raises(ValueError, match=r"shape \(2,\) cannot be broadcast to .* of shape \(3,\)"):
        T.set_subtensor(x[0], np.ones(2, dtype="float32"))


def test_set_subtensor_runtime_shape_mismatch() -> None:
    x = T.dmatrix("x")
    y = T.dvector("y")
    fn = sg.compile_function([x, y], T.set_subtensor(x[0], y), mode="py")
    with pytest.raises(ValueError, match=r"does not fit the indexed region .*broadcastable"):
        fn(np.zeros((2, 3)), np.ones(1))
    with pytest.raises(ValueError):
        fn(np.zeros((2, 3)), np.ones(4))


# ---------------------------------------------------------------------------------------
# take, nonzero
# ---------------------------------------------------------------------------------------
def test_take_matches_numpy() -> None:
    x = T.dtensor3("x")
    idx = T.lvector("idx")
    outs = [
        T.take(x, [5, 0, 59]),
        T.take(x, idx, axis=1),
        T.take(x, 2, axis=-1),
        T.take(x, np.array([[0, 1], [2, 0]]), axis=0),
        T.take(x, [7, -9], axis=2, mode="wrap"),
        T.take(x, [7, -9], axis=1, mode="clip"),
    ]
    iv = np.array([3, 0, -1])
    got = run([x, idx], outs, X3, iv)
    expected = [
        np.take(X3, [5, 0, 59]), np.take(X3, iv, axis=1), np.take(X3, 2, axis=-1),
        np.take(X3, np.array([[0, 1], [2, 0]]), axis=0), np.take(X3, [7, -9], axis=2, mode="wrap"),
        np.take(X3, [7, -9], axis=1, mode="clip"),
    ]
    for g, e in zip(got, expected):
        assert_same(g, e)
    with pytest.raises(np.exceptions.AxisError, match="axis 3 is out of bounds"):
        T.take(x, [0], axis=3)
    with pytest.raises(TypeError, match="take: indices must be integers"):
        T.take(x, T.dvector("f"), axis=0)


def test_nonzero_matches_numpy() -> None:
    m = T.dmatrix("m")
    v = T.ivector("v")
    mv = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    vv = np.array([0, 3, 0, 4], dtype="int32")
    rows, cols = T.nonzero(m)
    (where,) = v.nonzero()
    assert isinstance(rows.owner.op, Nonzero)
    assert rows.dtype == "int64" and rows.type.shape == (None,)
    got = run([m, v], [rows, cols, where, m[T.nonzero(m)]], mv, vv)
    for g, e in zip(got, [*np.nonzero(mv), np.nonzero(vv)[0], mv[np.nonzero(mv)]]):
        assert_same(g, np.asarray(e, dtype=g.dtype) if g.dtype == "int64" else e)
    assert inferred_shape(rows, [m], mv) == (3,)
    with pytest.raises(TypeError, match="nonzero needs at least one axis"):
        T.nonzero(T.dscalar("s"))


# ---------------------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------------------
POINT = np.random.default_rng(7).normal(size=(3, 4, 5))


def test_grad_of_basic_indexing() -> None:
    verify_grad(lambda x: x[1:, ::-2, 3], [POINT], mode="py")
    verify_grad(lambda x: x[None, -1, :, 1:4:2], [POINT], mode="py")
    verify_grad(lambda x: x[..., 0] * x[0, 0, 0], [POINT], mode="py")


def test_grad_of_advanced_indexing_with_repeated_indices() -> None:
    verify_grad(lambda x: x[[0, 2, 0, 0]], [POINT], mode="py")
    verify_grad(lambda x: x[[1, 1], :, [4, 4]] ** 2, [POINT], mode="py")
    verify_grad(lambda x: x[1:, [0, 3, 0]], [POINT], mode="py")
    verify_grad(lambda x: x[POINT[:, :, 0] > 0] * 3.0, [POINT], mode="py")


def test_grad_of_advanced_indexing_with_symbolic_indices() -> None:
    x = T.dmatrix("x")
    idx = T.lvector("idx")
    cost = (x[idx, 1:] ** 2).sum()
    gx = sg.grad(cost, x)
    xv = np.arange(12.0).reshape(3, 4)
    iv = np.array([2, 0, 2])
    expected = np.zeros_like(xv)
    np.add.at(expected, (iv, slice(1, None)), 2 * xv[iv, 1:])
    np.testing.assert_allclose(run([x, idx], gx, xv, iv), expected)


def test_grad_of_set_subtensor_wrt_x_and_y() -> None:
    y_point = np.random.default_rng(3).normal(size=(4,))
    verify_grad(lambda x, y: T.set_subtensor(x[1, :, 2], y) ** 2, [POINT, y_point], mode="py")
    verify_grad(lambda x, y: T.set_subtensor(x[::2, 1:], y[0]) * x, [POINT, y_point], mode="py")
    verify_grad(lambda x, y: T.set_subtensor(x[[0, 2], 1], y[1:3].dimshuffle(0, "x")) ** 2,
                [POINT, y_point], mode="py")


def test_grad_in_float32() -> None:
    point = np.random.default_rng(5).normal(size=(4, 3)).astype("float32")
    y_point = np.ones(3, dtype="float32")
    verify_grad(
        lambda x, y: T.inc_subtensor(x[[0, 0, 3]], y) * x[::-1], [point, y_point], mode="py"
    )


def test_grad_of_inc_subtensor_wrt_x_and_y() -> None:
    y_point = np.random.default_rng(4).normal(size=(5,))
    verify_grad(lambda x, y: T.inc_subtensor(x[0, 1:3], y) ** 2, [POINT, y_point], mode="py")
    verify_grad(
        lambda x, y: T.inc_subtensor(x[:, 0], y.dimshuffle("x", 0)) * x, [POINT, y_point], mode="py"
    )
    verify_grad(lambda x, y: T.inc_subtensor(x[[1, 1, 0], 2], y) ** 2, [POINT, y_point], mode="py")
    verify_grad(
        lambda x, y: T.inc_subtensor(x[[0, 0], :, [4, 4]], y[:4]) ** 2, [POINT, y_point], mode="py"
    )


def test_second_derivative_through_indexing() -> None:
    x = T.dvector("x")
    cost = (x[[0, 0, 1]] ** 3).sum() + (x[1:] ** 2).sum()
    hessian = run([x], T.hessian(cost, x), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(hessian, np.diag([12.0, 14.0, 2.0]))
