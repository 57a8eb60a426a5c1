"""Shape ops (symgraph.tensor.shape) against NumPy: values, dtypes, static types, errors, grads."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import verify_grad
from symgraph.tensor.shape import Alloc, Join, Repeat, Reshape, SpecifyShape, Split, Tile


def _compile(inputs: list[Any], outputs: Any) -> Any:
    return sg.compile_function(inputs, outputs, mode="py", on_unused_input="ignore")


def _input_like(value: np.ndarray, name: str = "x") -> Any:
    return T.tensor(dtype=value.dtype.name, shape=(None,) * value.ndim, name=name)


def _sample(shape: tuple[int, ...], dtype: str = "float64", seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith("int"):
        return rng.integers(-5, 6, shape).astype(dtype)
    return rng.normal(size=shape).astype(dtype)


def _assert_matches(got: Any, expected: Any) -> None:
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype, f"dtype {got.dtype}, NumPy gives {expected.dtype}"
    assert got.shape == expected.shape, f"shape {got.shape}, NumPy gives {expected.shape}"
    np.testing.assert_array_equal(got, expected)


def _assert_infer_shape(out: Any, inputs: list[Any], values: list[Any]) -> None:
    """The op's symbolic infer_shape evaluates to the shape the output really has."""
    node = out.owner
    input_shapes = [tuple(T.shape_i(v, k) for k in range(v.ndim)) for v in node.inputs]
    inferred = node.op.infer_shape(node, input_shapes)[out.index]
    symbolic = [T.as_tensor_variable(s) for s in inferred]
    actual = _compile(inputs, out)(*values)
    lengths = _compile(inputs, symbolic)(*values) if symbolic else []
    assert tuple(int(n) for n in lengths) == np.shape(actual)


# -- reshape ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("in_shape", "new_shape"),
    [((2, 6), (3, 4)), ((2, 6), (-1,)), ((2, 3, 4), (4, -1)), ((2, 3, 4), (-1, 2, 3)),
     ((6,), (1, 6, 1)), ((0, 3), (3, 0)), ((0, 3), (-1,)), ((1,), ()), ((), (1, 1))],
)
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "bool"])
def test_reshape_matches_numpy(in_shape: tuple[int, ...], new_shape: tuple[int, ...], dtype: str) -> None:
    value = _sample(in_shape, dtype)
    x = _input_like(value)
    _assert_matches(_compile([x], T.reshape(x, new_shape))(value), value.reshape(new_shape))


def test_reshape_static_type_from_constant_shape() -> None:
    assert T.reshape(T.dmatrix(), (3, -1)).type.shape == (3, None)
    static = T.tensor("float32", shape=(2, 6))
    out = T.reshape(static, (3, -1))
    assert out.type == T.TensorType("float32", (3, 4))
    assert T.reshape(static, (-1,)).type.shape == (12,)


def test_reshape_with_symbolic_entries() -> None:
    x, n = T.dmatrix("x"), T.lscalar("n")
    out = T.reshape(x, (n, -1))
    assert out.type.shape == (None, None)
    value = _sample((4, 3))
    np.testing.assert_array_equal(_compile([x, n], out)(value, 2), value.reshape(2, 6))
    _assert_infer_shape(out, [x, n], [value, 2])
    # a symbolic entry may itself be -1 at run time
    _assert_infer_shape(T.reshape(x, (n, 6)), [x, n], [value, -1])


def test_reshape_to_another_variables_shape() -> None:
    x, y = T.dvector("x"), T.dmatrix("y")
    out = T.reshape(x, y.shape)
    assert out.ndim == 2
    value = _sample((6,))
    np.testing.assert_array_equal(_compile([x, y], out)(value, np.zeros((2, 3))), value.reshape(2, 3))


def test_reshape_with_symbolic_vector_needs_static_length_or_ndim() -> None:
    x, shp = T.dvector("x"), T.lvector("shp")
    with pytest.raises(ValueError, match="pass ndim="):
        T.reshape(x, shp)
    out = T.reshape(x, shp, ndim=2)
    value = _sample((6,))
    np.testing.assert_array_equal(_compile([x, shp], out)(value, [3, 2]), value.reshape(3, 2))
    _assert_infer_shape(out, [x, shp], [value, np.array([-1, 2])])


def test_reshape_method_accepts_tuple_and_separate_ints() -> None:
    x = T.tensor("float64", shape=(2, 3))
    assert x.reshape((3, 2)).type.shape == (3, 2)
    assert x.reshape(6).type.shape == (6,)
    assert x.reshape(3, 2).type.shape == (3, 2)
    assert isinstance(x.reshape([1, -1]).owner.op, Reshape)


def test_reshape_to_wrong_size_raises_at_run_time() -> None:
    x = T.dmatrix("x")
    f = _compile([x], T.reshape(x, (4, 2)))
    with pytest.raises(ValueError, match=r"Reshape\{ndim=2\}.*shape \(2, 3\).*requested shape \(4, 2\)"):
        f(np.zeros((2, 3)))


def test_reshape_of_static_input_to_wrong_size_raises_when_built() -> None:
    with pytest.raises(ValueError, match=r"cannot reshape .* \(2, 3\) .* \(4, 2\)"):
        T.reshape(T.tensor("float64", shape=(2, 3)), (4, 2))


def test_reshape_rejects_two_unknown_dimensions() -> None:
    with pytest.raises(ValueError, match="one unknown dimension"):
        T.reshape(T.dmatrix(), (-1, -1))


def test_reshape_infer_shape() -> None:
    x = T.dtensor3("x")
    value = _sample((2, 3, 4))
    _assert_infer_shape(T.reshape(x, (4, -1)), [x], [value])
    _assert_infer_shape(T.reshape(x, (-1, 2, 3)), [x], [value])


# -- flatten ------------------------------------------------------------------------------
@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("shape", [(2, 3, 4), (0, 3, 2), (2, 0, 5)])
def test_flatten_keeps_leading_axes(ndim: int, shape: tuple[int, ...]) -> None:
    value = _sample(shape, "int16")
    x = _input_like(value)
    expected = value.reshape(shape[: ndim - 1] + (int(np.prod(shape[ndim - 1:])),))
    _assert_matches(_compile([x], T.flatten(x, ndim))(value), expected)


def test_flatten_static_types_and_method() -> None:
    x = T.tensor("float64", shape=(2, 3, 4))
    assert T.flatten(x).type.shape == (24,)
    assert x.flatten(2).type.shape == (2, 12)
    assert T.flatten(T.dtensor3(), 2).type.shape == (None, None)
    assert T.flatten(T.dscalar()).type.shape == (1,)
    with pytest.raises(ValueError, match="flatten: ndim must be between 1 and 3"):
        T.flatten(x, 4)


# -- transpose, squeeze, expand_dims, padding ----------------------------------------------
@pytest.mark.parametrize("axes", [None, (1, 0, 2), (2, 0, 1), (-1, 0, -2)])
def test_transpose_matches_numpy(axes: Any) -> None:
    value = _sample((2, 3, 4), "float32")
    x = _input_like(value)
    _assert_matches(_compile([x], T.transpose(x, axes))(value), np.transpose(value, axes))


def test_transpose_method_and_T_property() -> None:
    x = T.tensor("float64", shape=(2, 3, 4))
    assert x.T.type.shape == (4, 3, 2)
    assert x.transpose(1, 0, 2).type.shape == (3, 2, 4)
    with pytest.raises(ValueError, match="transpose: axes"):
        T.transpose(x, (0, 1))
    with pytest.raises(ValueError, match="repeated axis"):
        T.transpose(x, (0, 0, 1))


def test_squeeze_without_axis_drops_static_length_one_axes() -> None:
    x = T.tensor("float64", shape=(1, None, 1, 3))
    out = T.squeeze(x)
    assert out.type.shape == (None, 3)
    value = _sample((1, 2, 1, 3))
    _assert_matches(_compile([x], out)(value), np.squeeze(value))


def test_squeeze_named_axis_of_unknown_length_is_checked_at_run_time() -> None:
    x = T.dmatrix("x")
    out = T.squeeze(x, axis=-1)
    assert out.type.shape == (None,)
    f = _compile([x], out)
    value = _sample((3, 1))
    _assert_matches(f(value), np.squeeze(value, axis=-1))
    with pytest.raises(ValueError, match=r"SpecifyShape.*expected shape \(\?, 1\), got an array of shape \(3, 2\)"):
        f(np.zeros((3, 2)))


def test_squeeze_of_static_axis_longer_than_one_is_rejected() -> None:
    with pytest.raises(ValueError, match="squeeze: cannot remove axis 1"):
        T.squeeze(T.tensor("float64", shape=(1, 3)), axis=1)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3, (0, 2), (0, -1), (1, 3)])
def test_expand_dims_matches_numpy(axis: Any) -> None:
    value = _sample((2, 3), "int64")
    x = _input_like(value)
    out = T.expand_dims(x, axis)
    expected = np.expand_dims(value, axis)
    assert out.type.shape == tuple(1 if n == 1 else None for n in expected.shape)
    _assert_matches(_compile([x], out)(value), expected)


def test_expand_dims_rejects_out_of_range_axis() -> None:
    with pytest.raises(ValueError, match="expand_dims: axis 3 is out of bounds"):
        T.expand_dims(T.dmatrix(), 3)


def test_shape_padding_functions() -> None:
    x = T.tensor("float64", shape=(2, 3))
    assert T.shape_padleft(x).type.shape == (1, 2, 3)
    assert T.shape_padleft(x, 2).type.shape == (1, 1, 2, 3)
    assert T.shape_padright(x).type.shape == (2, 3, 1)
    assert T.shape_padright(x, 2).type.shape == (2, 3, 1, 1)
    assert T.shape_padaxis(x, 1).type.shape == (2, 1, 3)
    assert T.shape_padaxis(x, -1).type.shape == (2, 3, 1)
    value = _sample((2, 3))
    _assert_matches(_compile([x], T.shape_padaxis(x, 1))(value), value[:, None, :])


# -- specify_shape, addbroadcast, unbroadcast ----------------------------------------------
def test_specify_shape_sets_static_type_and_checks_at_run_time() -> None:
    x = T.dmatrix("x")
    out = T.specify_shape(x, (None, 3))
    assert isinstance(out.owner.op, SpecifyShape)
    assert out.type.shape == (None, 3)
    f = _compile([x], out)
    value = _sample((5, 3))
    _assert_matches(f(value), value)
    with pytest.raises(ValueError, match=r"SpecifyShape.*expected shape \(\?, 3\), got an array of shape \(5, 4\)"):
        f(np.zeros((5, 4)))


def test_specify_shape_from_another_variables_shape() -> None:
    x, y = T.dmatrix("x"), T.dmatrix("y")
    out = T.specify_shape(x, y.shape)
    f = _compile([x, y], out)
    _assert_matches(f(np.ones((2, 3)), np.zeros((2, 3))), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"expected shape \(2, 4\), got an array of shape \(2, 3\)"):
        f(np.ones((2, 3)), np.zeros((2, 4)))
    _assert_infer_shape(out, [x, y], [np.ones((2, 3)), np.zeros((2, 3))])


def test_specify_shape_conflicting_with_static_type_is_rejected() -> None:
    with pytest.raises(ValueError, match="axis 1 cannot have length 4"):
        T.specify_shape(T.tensor("float64", shape=(None, 3)), (None, 4))
    with pytest.raises(ValueError, match="has 3 entries, but"):
        T.specify_shape(T.dmatrix(), (1, 2, 3))


def test_specify_shape_with_nothing_new_returns_the_input() -> None:
    x = T.tensor("float64", shape=(None, 3))
    assert T.specify_shape(x, (None, 3)) is x


def test_addbroadcast_makes_axes_broadcastable_and_checks_them() -> None:
    x = T.dmatrix("x")
    row = T.addbroadcast(x, 0)
    assert row.broadcastable == (True, False)
    f = _compile([x], row)
    _assert_matches(f(np.ones((1, 4))), np.ones((1, 4)))
    with pytest.raises(ValueError, match=r"expected shape \(1, \?\)"):
        f(np.ones((2, 4)))


def test_unbroadcast_forgets_static_lengths_and_keeps_values() -> None:
    r = T.row("r")
    out = T.unbroadcast(r, 0)
    assert out.type.shape == (None, None)
    assert T.unbroadcast(T.dmatrix(), 0).type.shape == (None, None)
    value = _sample((1, 3))
    _assert_matches(_compile([r], out)(value), value)
    _assert_infer_shape(out, [r], [value])


# -- concatenate, join, stack --------------------------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_concatenate_matches_numpy(axis: int) -> None:
    a, b = _sample((2, 3, 4)), _sample((2, 3, 4), seed=1)
    shape_b = list(b.shape)
    shape_b[axis] = 1
    b = b[tuple(slice(0, n) for n in shape_b)]
    x, y = _input_like(a, "x"), _input_like(b, "y")
    out = T.concatenate([x, y], axis=axis)
    _assert_matches(_compile([x, y], out)(a, b), np.concatenate([a, b], axis=axis))
    _assert_infer_shape(out, [x, y], [a, b])


def test_join_uses_theano_argument_order_and_upcasts_dtypes() -> None:
    a = _sample((2, 3), "int8")
    b = _sample((4, 3), "float32")
    c = _sample((0, 3), "int32")
    x, y, z = _input_like(a, "x"), _input_like(b, "y"), _input_like(c, "z")
    out = T.join(0, x, y, z)
    assert out.dtype == "float64"  # int32 + float32 -> float64, as NumPy
    _assert_matches(_compile([x, y, z], out)(a, b, c), np.concatenate([a, b, c]))
    assert T.join(0, x, y).dtype == "float32"


def test_join_static_shape_sums_the_join_axis() -> None:
    a = T.tensor("float64", shape=(2, 3))
    b = T.tensor("float64", shape=(4, None))
    assert T.join(0, a, b).type.shape == (6, 3)
    assert T.join(1, a, T.tensor("float64", shape=(2, 5))).type.shape == (2, 8)
    assert T.join(0, a, T.dmatrix()).type.shape == (None, 3)
    assert isinstance(T.join(0, a, b).owner.op, Join)


def test_join_of_one_tensor_is_that_tensor() -> None:
    x = T.dmatrix()
    assert T.concatenate([x]) is x


def test_join_static_shape_mismatch_is_rejected_when_built() -> None:
    with pytest.raises(ValueError, match="differ on axis 1"):
        T.concatenate([T.tensor("float64", shape=(2, 3)), T.tensor("float64", shape=(2, 4))])
    with pytest.raises(ValueError, match="same ndim"):
        T.concatenate([T.dmatrix(), T.dvector()])
    with pytest.raises(ValueError, match="zero-dimensional"):
        T.concatenate([T.dscalar(), T.dscalar()])


def test_join_shape_mismatch_raises_at_run_time() -> None:
    x, y = T.dmatrices("x", "y")
    f = _compile([x, y], T.concatenate([x, y]))
    with pytest.raises(ValueError, match=r"Join\{axis=0\}.*input 1 has shape \(2, 4\) but input 0 has shape \(2, 3\)"):
        f(np.zeros((2, 3)), np.zeros((2, 4)))


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_stack_matches_numpy(axis: int) -> None:
    a, b, c = (_sample((2, 3), "int32", seed=s) for s in range(3))
    xs = [_input_like(v, f"x{i}") for i, v in enumerate((a, b, c))]
    out = T.stack(xs, axis=axis)
    _assert_matches(_compile(xs, out)(a, b, c), np.stack([a, b, c], axis=axis))


def test_stack_of_scalars_makes_a_vector() -> None:
    a, b = T.fscalar("a"), T.fscalar("b")
    out = T.stack([a, b, 2.5])
    assert out.type == T.TensorType("float32", (3,))  # Python numbers take the tensors' dtype
    _assert_matches(_compile([a, b], out)(1, 2), np.array([1, 2, 2.5], dtype="float32"))
    # Theano's older form, and lists of variables converted to tensors
    assert T.stack(a, b).type.shape == (2,)
    assert T.as_tensor_variable([a, b]).type.shape == (2,)


# -- split -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sizes", "axis"), [([1, 2, 3], 0), ([4, 0, 2], 0), ([2, 1], 1), ([1, 2], -1), ([6], 0)]
)
def test_split_matches_numpy(sizes: list[int], axis: int) -> None:
    value = _sample((6, 3), "float32")
    x = _input_like(value)
    outs = T.split(x, sizes, len(sizes), axis=axis)
    assert isinstance(outs, list) and len(outs) == len(sizes)
    got = _compile([x], outs)(value)
    expected = np.split(value, np.cumsum(sizes)[:-1], axis=axis)
    for g, e in zip(got, expected):
        _assert_matches(g, e)


def test_split_static_types_and_infer_shape() -> None:
    x = T.tensor("float64", shape=(None, 3))
    a, b = T.split(x, [2, 4], 2)
    assert a.type.shape == (2, 3) and b.type.shape == (4, 3)
    assert isinstance(a.owner.op, Split)
    n = T.lscalar("n")
    c, d = T.split(x, [n, 1], 2)
    assert c.type.shape == (None, 3) and d.type.shape == (1, 3)
    _assert_infer_shape(c, [x, n], [np.zeros((5, 3)), 4])
    sizes = T.lvector("sizes")
    e, f = T.split(x, sizes, 2)
    _assert_infer_shape(f, [x, sizes], [np.zeros((5, 3)), np.array([3, 2])])


def test_split_sizes_that_do_not_add_up_raise_at_run_time() -> None:
    x = T.dvector("x")
    f = _compile([x], T.split(x, [2, 2], 2))
    with pytest.raises(ValueError, match=r"Split.*split sizes \[2, 2\] add up to 4, but axis 0 .* has length 5"):
        f(np.zeros(5))


def test_split_sizes_that_do_not_add_up_are_rejected_when_built() -> None:
    with pytest.raises(ValueError, match="add up to 3"):
        T.split(T.tensor("float64", shape=(4,)), [1, 2], 2)
    with pytest.raises(ValueError, match="2 split sizes given for n_splits=3"):
        T.split(T.dvector(), [1, 2], 3)


# -- tile, repeat ---------------------------------------------------------------------------
@pytest.mark.parametrize("reps", [(2, 3), (1, 1), (3,), (2, 1, 2), (0, 2), 2])
def test_tile_matches_numpy(reps: Any) -> None:
    value = _sample((2, 3), "int64")
    x = _input_like(value)
    out = T.tile(x, reps)
    _assert_matches(_compile([x], out)(value), np.tile(value, reps))


def test_tile_static_type_and_infer_shape() -> None:
    x = T.tensor("float64", shape=(None, 3))
    out = T.tile(x, (2, 3))
    assert out.type.shape == (None, 9)
    assert isinstance(out.owner.op, Tile)
    _assert_infer_shape(out, [x], [np.zeros((4, 3))])
    with pytest.raises(ValueError, match="reps must be >= 0"):
        T.tile(x, (-1, 2))


@pytest.mark.parametrize(
    ("repeats", "axis"),
    [(2, None), (3, 0), (2, 1), (0, 1), ([1, 0, 2], 1), ([2], 0), ([1, 2], -2), (np.array([3, 1, 1]), -1)],
)
@pytest.mark.parametrize("dtype", ["float64", "int8"])
def test_repeat_matches_numpy(repeats: Any, axis: Any, dtype: str) -> None:
    value = _sample((2, 3), dtype)
    x = _input_like(value)
    out = T.repeat(x, repeats, axis=axis)
    _assert_matches(_compile([x], out)(value), np.repeat(value, repeats, axis=axis))
    _assert_infer_shape(out, [x], [value])


def test_repeat_with_symbolic_counts() -> None:
    x, r, counts = T.dmatrix("x"), T.lscalar("r"), T.ivector("counts")
    value = _sample((2, 3))
    out = T.repeat(x, r, axis=0)
    _assert_matches(_compile([x, r], out)(value, 3), np.repeat(value, 3, axis=0))
    _assert_infer_shape(out, [x, r], [value, 3])
    out = T.repeat(x, counts, axis=1)
    assert isinstance(out.owner.op, Repeat)
    counts_value = np.array([2, 0, 1], dtype="int32")
    _assert_matches(_compile([x, counts], out)(value, counts_value), np.repeat(value, counts_value, axis=1))
    _assert_infer_shape(out, [x, counts], [value, counts_value])
    _assert_infer_shape(out, [x, counts], [value, np.array([2], dtype="int32")])


def test_repeat_static_types() -> None:
    x = T.tensor("float64", shape=(2, None))
    assert T.repeat(x, 3, axis=0).type.shape == (6, None)
    assert T.repeat(x, [1, 4], axis=0).type.shape == (5, None)
    assert T.repeat(x, [1, 2, 3], axis=1).type.shape == (2, 6)
    assert T.repeat(T.tensor("float64", shape=(2, 3)), 2).type.shape == (12,)


def test_repeat_with_wrong_number_of_counts_raises() -> None:
    with pytest.raises(ValueError, match="3 repeat counts for axis 0 of length 2"):
        T.repeat(T.tensor("float64", shape=(2,)), [1, 2, 3])
    x = T.dvector("x")
    f = _compile([x], T.repeat(x, [1, 2, 3]))
    with pytest.raises(ValueError, match="3 repeat counts for axis 0 of length 2"):
        f(np.zeros(2))


# -- zeros, ones, alloc, arange, eye ------------------------------------------------------------
def test_zeros_and_ones_default_to_floatx_and_accept_dtypes() -> None:
    n = T.lscalar("n")
    out = T.zeros((n, 3))
    assert out.type == T.TensorType(sg.config.floatX, (None, 3))
    _assert_matches(_compile([n], out)(2), np.zeros((2, 3), dtype=sg.config.floatX))
    _assert_matches(_compile([], T.ones(4, dtype="int32"))(), np.ones(4, dtype="int32"))
    _assert_matches(_compile([], T.zeros((), dtype="bool"))(), np.zeros((), dtype="bool"))
    _assert_matches(_compile([], T.ones((0, 2)))(), np.ones((0, 2)))
    assert T.ones((2, 3)).type.shape == (2, 3)


def test_zeros_like_another_variables_shape() -> None:
    x = T.tensor("float32", shape=(None, 4))
    out = T.zeros(x.shape, dtype=x.dtype)
    assert out.type == T.TensorType("float32", (None, 4))
    _assert_matches(_compile([x], out)(np.ones((3, 4), dtype="float32")), np.zeros((3, 4), dtype="float32"))
    _assert_infer_shape(out, [x], [np.ones((3, 4), dtype="float32")])


def test_alloc_broadcasts_the_value() -> None:
    v, n = T.dvector("v"), T.lscalar("n")
    out = T.alloc(v, n, 3)
    assert isinstance(out.owner.op, Alloc)
    assert out.type.shape == (None, 3)
    value = _sample((3,))
    _assert_matches(_compile([v, n], out)(value, 2), np.broadcast_to(value, (2, 3)))
    _assert_infer_shape(out, [v, n], [value, 2])
    c = T.col("c")
    _assert_matches(_compile([c], T.alloc(c, 2, 4))(np.ones((2, 1))), np.ones((2, 4)))
    assert T.alloc(T.constant(1, dtype="int16"), 2).type == T.TensorType("int16", (2,))


def test_alloc_shape_mismatch_raises() -> None:
    v = T.dvector("v")
    f = _compile([v], T.alloc(v, 2, 3))
    with pytest.raises(ValueError, match=r"Alloc.*cannot broadcast a value of shape \(4,\) to shape \(2, 3\)"):
        f(np.zeros(4))
    with pytest.raises(ValueError, match="Alloc: cannot broadcast"):
        T.alloc(T.tensor("float64", shape=(4,)), 2, 3)


@pytest.mark.parametrize(
    "args", [(5,), (2, 9), (2, 9, 3), (9, 2, -2), (3, 3), (5, 2), (0.0, 1.0, 0.25), (1, 2.5, 0.5)]
)
def test_arange_matches_numpy(args: tuple[Any, ...]) -> None:
    _assert_matches(_compile([], T.arange(*args))(), np.arange(*args))
    assert T.arange(*args).type.shape == (len(np.arange(*args)),)


def test_arange_with_symbolic_arguments() -> None:
    start, stop, step = T.lscalar("start"), T.iscalar("stop"), T.lscalar("step")
    out = T.arange(start, stop, step)
    assert out.type == T.TensorType("int64", (None,))
    f = _compile([start, stop, step], out)
    for values in [(0, 7, 2), (7, 0, -3), (3, 3, 1), (5, 2, 1)]:
        _assert_matches(f(*values), np.arange(*values))
        _assert_infer_shape(out, [start, stop, step], list(values))
    x = T.fscalar("x")
    assert T.arange(x).dtype == "float32"
    assert T.arange(5, dtype="float32").dtype == "float32"
    _assert_infer_shape(T.arange(x, 3.0, 0.4), [x], [np.float32(0.5)])


def test_arange_with_zero_step_raises() -> None:
    step = T.lscalar("step")
    f = _compile([step], T.arange(0, 5, step))
    with pytest.raises(ValueError, match="step must not be zero"):
        f(0)
    with pytest.raises(ValueError, match="step must not be zero"):
        T.arange(0, 5, 0)


@pytest.mark.parametrize(("n", "m", "k"), [(3, None, 0), (2, 4, 1), (4, 2, -1), (3, 3, 5), (0, 2, 0)])
def test_eye_matches_numpy(n: int, m: int | None, k: int) -> None:
    out = T.eye(n, m, k)
    assert out.type == T.TensorType(sg.config.floatX, (n, n if m is None else m))
    _assert_matches(_compile([], out)(), np.eye(n, m, k, dtype=sg.config.floatX))


def test_eye_with_symbolic_size_and_dtype() -> None:
    n, k = T.lscalar("n"), T.lscalar("k")
    out = T.eye(n, k=k, dtype="int32")
    assert out.type == T.TensorType("int32", (None, None))
    _assert_matches(_compile([n, k], out)(3, 1), np.eye(3, k=1, dtype="int32"))
    _assert_infer_shape(out, [n, k], [3, 1])


def test_identity_like_takes_shape_and_dtype_of_a_matrix() -> None:
    x = T.fmatrix("x")
    out = T.identity_like(x)
    assert out.dtype == "float32"
    _assert_matches(_compile([x], out)(np.zeros((2, 3), dtype="float32")), np.eye(2, 3, dtype="float32"))
    with pytest.raises(ValueError, match="expects a matrix"):
        T.identity_like(T.dvector())


# -- gradients ---------------------------------------------------------------------------
def test_reshape_and_flatten_gradients() -> None:
    verify_grad(lambda x: T.reshape(x, (3, -1)), [_sample((2, 6))], mode="py")
    verify_grad(lambda x: T.flatten(x, 2), [_sample((2, 3, 2))], mode="py")


def test_transpose_squeeze_expand_dims_gradients() -> None:
    verify_grad(lambda x: T.transpose(x, (2, 0, 1)), [_sample((2, 3, 2))], mode="py")
    verify_grad(lambda x: T.squeeze(x, 1) * np.arange(3.0), [_sample((3, 1))], mode="py")
    verify_grad(lambda x: T.expand_dims(x, (0, -1)), [_sample((2, 3))], mode="py")


def test_specify_shape_and_unbroadcast_gradients() -> None:
    verify_grad(lambda x: T.specify_shape(x, (2, None)) ** 2, [_sample((2, 3))], mode="py")
    verify_grad(lambda x: T.unbroadcast(T.addbroadcast(x, 0), 0) * 3.0, [_sample((1, 3))], mode="py")


def test_join_and_stack_gradients() -> None:
    a, b = _sample((2, 3)), _sample((2, 1), seed=1)
    verify_grad(lambda x, y: T.concatenate([x, y], axis=-1) ** 2, [a, b], mode="py")
    verify_grad(lambda x, y: T.join(0, x, x * 2.0, y.T), [a, _sample((3, 1))], mode="py")
    verify_grad(lambda x, y: T.stack([x, y * 3.0], axis=1), [a, a + 1], mode="py")


def test_join_gradient_skips_integer_inputs() -> None:
    x, i = T.dvector("x"), T.lvector("i")
    g = T.grad(T.concatenate([x, i]).sum(), x)
    np.testing.assert_array_equal(_compile([x, i], g)(np.zeros(2), np.zeros(3, dtype="int64")), np.ones(2))


def test_split_gradient_with_all_and_some_outputs_used() -> None:
    value = _sample((5, 2))
    verify_grad(lambda x: T.concatenate(T.split(x, [2, 3], 2)[::-1]) ** 2, [value], mode="py")
    verify_grad(lambda x: T.split(x, [1, 1], 2, axis=1)[1], [value], mode="py")


def test_tile_and_repeat_gradients() -> None:
    value = _sample((2, 3))
    verify_grad(lambda x: T.tile(x, (2, 3)), [value], mode="py")
    verify_grad(lambda x: T.tile(x, (2, 1, 2)), [value], mode="py")
    verify_grad(lambda x: T.repeat(x, 3, axis=1), [value], mode="py")
    verify_grad(lambda x: T.repeat(x, 2), [value], mode="py")
    verify_grad(lambda x: T.repeat(x, [2, 0, 3], axis=-1), [value], mode="py")


def test_alloc_gradient_sums_over_broadcast_axes() -> None:
    verify_grad(lambda v: T.alloc(v, 4, 3), [_sample((3,))], mode="py")
    verify_grad(lambda v: T.alloc(T.addbroadcast(v, 0), 2, 4, 3), [_sample((1, 3))], mode="py")
    verify_grad(lambda v: T.alloc(v, 2, 3) * np.arange(6.0).reshape(2, 3), [_sample(())], mode="py")


def test_arange_and_eye_are_not_differentiable() -> None:
    x = T.dscalar("x")
    cost = (T.arange(3).astype("float64") * x).sum() + (T.eye(2) * x).sum()
    assert _compile([x], T.grad(cost, x))(1.0) == pytest.approx(3.0 + 2.0)


def test_second_derivative_through_reshape_and_join() -> None:
    x = T.dvector("x")
    y = T.concatenate([T.reshape(x, (2, 2)), T.reshape(x ** 3, (2, 2))]).sum()
    (g,) = T.grad(y, [x])
    h = T.grad(g.sum(), x)
    value = np.array([0.5, 1.0, -1.0, 2.0])
    np.testing.assert_allclose(_compile([x], h)(value), 6 * value)


def test_unbroadcast_gradient_keeps_the_inputs_static_shape() -> None:
    r = T.row("r")
    g = T.grad((T.unbroadcast(r, 0) * 2.0).sum(), r)
    assert g.type.shape[0] == 1
    np.testing.assert_array_equal(_compile([r], g)(np.ones((1, 3))), np.full((1, 3), 2.0))
