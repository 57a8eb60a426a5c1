"""The C emitters of the shape family agree with the py backend: values, dtype, shape, errors."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.tensor.shape import (
    Alloc, ARange, Eye, Join, Repeat, Reshape, Shape, ShapeI, SpecifyShape, Split, Tile, Unbroadcast,
)
from tests.differential.harness import assert_same

pytestmark = pytest.mark.needs_gcc


def _compile(inputs: Sequence[Any], outputs: Any, mode: str, optimizer: str) -> Any:
    return sg.compile_function(list(inputs), outputs, mode=mode, optimizer=optimizer,
                               on_unused_input="ignore")


def agree(inputs: Sequence[Any], outputs: Any, values: Sequence[Any], op_types: tuple[type, ...],
          optimizer: str = "none", rtol: float = 0.0, atol: float = 0.0) -> list[np.ndarray]:
    """Run the graph in 'c' and 'py'; compare; check the ops under test exist and ran in C.

    Shape ops move values without arithmetic, so results must be identical (rtol=0).
    """
    c_fn = _compile(inputs, outputs, "c", optimizer)
    py_fn = _compile(inputs, outputs, "py", optimizer)
    got, expected = c_fn(*values), py_fn(*values)
    got_list = got if isinstance(got, list) else [got]
    expected_list = expected if isinstance(expected, list) else [expected]
    for k, (a, b) in enumerate(zip(got_list, expected_list)):
        assert_same(a, b, rtol=rtol, atol=atol, what=f"output {k}")
    present = {type(n.op) for n in c_fn.maker.fgraph.toposort()}
    assert present & set(op_types), f"none of {op_types} in the compiled graph: {present}"
    in_python = [n for n in c_fn.maker.runner.python_nodes if isinstance(n.op, op_types)]
    assert not in_python, f"ran in Python instead of C: {in_python}"
    return got_list


def fails_alike(inputs: Sequence[Any], outputs: Any, values: Sequence[Any], match: str) -> str:
    """Both backends raise a ValueError matching ``match``; C's names this file's line."""
    with pytest.raises(ValueError, match=match):
        _compile(inputs, outputs, "py", "none")(*values)
    with pytest.raises(ValueError, match=match) as info:
        _compile(inputs, outputs, "c", "none")(*values)
    message = str(info.value)
    assert "The node was created at" in message and "test_shape_c.py" in message
    return message


rng = np.random.default_rng(42)


# ---------------------------------------------------------------------------------------
# Shape, ShapeI
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "bool", "float16"])
def test_shape_and_shape_i_give_int64_lengths(dtype: str) -> None:
    # float16 has no C type, but reading a shape never touches the data
    for shape in [(), (0,), (2, 3, 4)]:
        x = T.tensor(dtype=dtype, shape=(None,) * len(shape), name="x")
        outputs = [Shape()(x)] + [ShapeI(i)(x) for i in range(len(shape))]
        got = agree([x], outputs, [np.zeros(shape, dtype=dtype)], (Shape, ShapeI))
        assert got[0].tolist() == list(shape)


# ---------------------------------------------------------------------------------------
# Reshape
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32", "int8", "uint16", "bool"])
def test_reshape_of_input_matches_py(dtype: str) -> None:
    x = T.tensor(dtype=dtype, shape=(None, None), name="x")
    v = T.lvector("v")
    value = (rng.normal(size=(4, 6)) * 10).astype(dtype)
    for shape in ([3, -1], [-1, 2], [24, 1], [2, 12]):
        agree([x, v], Reshape(2)(x, v), [value, np.array(shape)], (Reshape,))


def test_reshape_of_strided_input_copies_in_c_order() -> None:
    x = T.dmatrix("x")
    value = rng.normal(size=(4, 6))
    got = agree([x], x.reshape((3, -1)), [value.T], (Reshape,))
    np.testing.assert_array_equal(got[0], value.T.reshape(3, 8))
    agree([x], x.reshape((-1,)), [value[::-2, 1::2]], (Reshape,))


def test_reshape_of_segment_result_is_a_view_with_the_same_values() -> None:
    x = T.dtensor3("x")
    out = (x * 2.0).reshape((x.shape[0], -1)) + 1.0
    got = agree([x], out, [rng.normal(size=(2, 3, 4))], (Reshape,))
    assert got[0].shape == (2, 12)


def test_reshape_reads_any_integer_dtype_and_zero_sizes() -> None:
    x = T.dmatrix("x")
    v = T.ivector("v")
    agree([x, v], Reshape(3)(x, v), [np.zeros((0, 4)), np.array([2, 0, 3], "int32")], (Reshape,))
    agree([x, v], Reshape(2)(x, v), [np.zeros((0, 4)), np.array([-1, 4], "int32")], (Reshape,))
    # NumPy reads any negative entry as the unknown one
    agree([x, v], Reshape(2)(x, v), [np.ones((2, 3)), np.array([-2, 3], "int32")], (Reshape,))


def test_reshape_to_a_scalar_and_back() -> None:
    x = T.dvector("x")
    scalar = Reshape(0)(x, T.constant(np.zeros(0, dtype="int64")))
    agree([x], [scalar, scalar.reshape((1, 1))], [np.array([2.5])], (Reshape,))


def test_reshape_to_a_bad_size_fails_like_py() -> None:
    x = T.dmatrix("x")
    v = T.lvector("v")
    fails_alike([x, v], Reshape(2)(x, v), [np.ones((4, 5)), np.array([3, -1])],
                re.escape("Reshape{ndim=2} failed: cannot reshape an array of shape (4, 5) (size 20) "
                          "into the requested shape (3, -1)"))
    fails_alike([x, v], Reshape(2)(x, v), [np.ones((4, 5)), np.array([-1, -1])],
                re.escape("into the requested shape (-1, -1)"))
    fails_alike([x, v], Reshape(2)(x, v), [np.ones((0, 5)), np.array([0, -1])],
                re.escape("cannot reshape an array of shape (0, 5) (size 0)"))
    fails_alike([x, v], Reshape(2)(x, v), [np.ones((2, 2)), np.array([3, 2, 1])],
                "the shape vector has 3 entries, expected 2")


# ---------------------------------------------------------------------------------------
# SpecifyShape, Unbroadcast
# ---------------------------------------------------------------------------------------
def test_specify_shape_checks_static_and_symbolic_lengths() -> None:
    x = T.dtensor3("x")
    n = T.iscalar("n")
    out = T.specify_shape(x, (None, 3, n))
    value = rng.normal(size=(2, 3, 4))
    got = agree([x, n], out * 1.0, [value, 4], (SpecifyShape,))
    np.testing.assert_array_equal(got[0], value)
    fails_alike([x, n], out, [value, 5],
                re.escape("failed: expected shape (?, 3, 5), got an array of shape (2, 3, 4)"))
    fails_alike([x, n], out, [rng.normal(size=(2, 2, 4)), 4],
                re.escape("expected shape (?, 3, 4), got an array of shape (2, 2, 4)"))


def test_specify_shape_of_strided_input_is_a_view() -> None:
    x = T.dmatrix("x")
    value = rng.normal(size=(5, 4))
    agree([x], T.specify_shape(x, (4, 5)), [value.T], (SpecifyShape,))


def test_unbroadcast_keeps_values() -> None:
    r = T.row("r")
    m = T.dmatrix("m")
    out = T.unbroadcast(r, 0)
    agree([r, m], [out, out + m[:1]], [rng.normal(size=(1, 3)), rng.normal(size=(2, 3))], (Unbroadcast,))


# ---------------------------------------------------------------------------------------
# Join, Split
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_join_upcasts_dtypes_like_py(axis: int) -> None:
    a = T.tensor(dtype="int16", shape=(None, None, None), name="a")
    b = T.tensor(dtype="float32", shape=(None, None, None), name="b")
    c = T.tensor(dtype="bool", shape=(None, None, None), name="c")
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for k, length in enumerate((1, 0, 3)):
        shapes[k][axis] = length
    values = [(rng.normal(size=shapes[0]) * 100).astype("int16"),
              rng.normal(size=shapes[1]).astype("float32"),
              rng.random(size=shapes[2]) < 0.5]
    got = agree([a, b, c], Join(axis)(a, b, c), values, (Join,))
    assert got[0].dtype == np.float32


def test_join_of_strided_and_broadcast_inputs() -> None:
    x = T.dmatrix("x")
    r = T.row("r")
    value = rng.normal(size=(3, 4))
    agree([x, r], T.concatenate([x, r, x[::-1]], axis=0), [value.T[:, :3], rng.normal(size=(1, 3))],
          (Join,))
    agree([x], T.stack([x[0], x[1], x[2]], axis=1), [value], (Join,))


def test_join_with_mismatched_lengths_fails_like_py() -> None:
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    message = fails_alike([x, y], T.join(0, x, y), [np.ones((2, 3)), np.ones((2, 4))],
                          re.escape("input 1 has shape (2, 4) but input 0 has shape (2, 3); all lengths "
                                    "must match except on the join axis 0 (input shapes: (2, 3), (2, 4))"))
    assert message.startswith("Join{axis=0} failed")


def test_split_gives_views_with_py_values() -> None:
    x = T.dtensor3("x")
    sizes = T.lvector("sizes")
    value = rng.normal(size=(2, 6, 3))
    parts = T.split(x, sizes, 3, axis=1)
    got = agree([x, sizes], parts, [value, np.array([1, 0, 5])], (Split,))
    assert [p.shape for p in got] == [(2, 1, 3), (2, 0, 3), (2, 5, 3)]
    agree([x, sizes], T.split(x, sizes, 3, axis=1), [value.transpose(0, 1, 2)[:, ::-1], np.array([2, 2, 2])],
          (Split,))
    small = T.ivector("small")
    agree([x, small], [p * 2.0 for p in T.split(x, small, 2, axis=2)],
          [value, np.array([3, 0], "int32")], (Split,))


def test_split_with_bad_sizes_fails_like_py() -> None:
    x = T.dmatrix("x")
    sizes = T.lvector("sizes")
    parts = T.split(x, sizes, 2, axis=0)
    fails_alike([x, sizes], parts, [np.ones((4, 2)), np.array([1, 2])],
                re.escape("the split sizes [1, 2] add up to 3, but axis 0 of the input (shape (4, 2)) "
                          "has length 4"))
    fails_alike([x, sizes], parts, [np.ones((4, 2)), np.array([5, -1])],
                re.escape("split sizes must be >= 0, got [5, -1]"))
    fails_alike([x, sizes], parts, [np.ones((4, 2)), np.array([4])],
                re.escape("1 split sizes given for 2 splits"))


# ---------------------------------------------------------------------------------------
# Alloc, ARange, Eye
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "uint8", "bool"])
def test_alloc_broadcasts_values_like_py(dtype: str) -> None:
    n = T.lscalar("n")
    m = T.bscalar("m")
    vec = T.tensor(dtype=dtype, shape=(None,), name="vec")
    col = T.tensor(dtype=dtype, shape=(None, 1), name="col")
    scalar = T.tensor(dtype=dtype, shape=(), name="s")
    values = [3, 4, (rng.normal(size=4) * 5).astype(dtype), (rng.normal(size=(3, 1)) * 5).astype(dtype),
              np.asarray(7, dtype=dtype)]
    outputs = [T.alloc(vec, n, m), T.alloc(col, 2, n, m), T.alloc(scalar, n, m), T.alloc(scalar),
               T.alloc(vec, 0, m)]
    agree([n, m, vec, col, scalar], outputs, values, (Alloc,))


def test_zeros_and_ones_of_symbolic_shape() -> None:
    n = T.lscalar("n")
    got = agree([n], [T.zeros((n, 3)), T.ones(n, dtype="int32")], [2], (Alloc,), optimizer="fast_run")
    assert got[1].dtype == np.int32


def test_alloc_with_bad_lengths_fails_like_py() -> None:
    n = T.lscalar("n")
    vec = T.dvector("vec")
    fails_alike([n, vec], T.alloc(vec, n, 3), [-2, np.ones(3)],
                re.escape("lengths must be >= 0, got (-2, 3)"))
    fails_alike([n, vec], T.alloc(vec, 2, n), [3, np.ones(4)],
                re.escape("cannot broadcast a value of shape (4,) to shape (2, 3) (axis 1 has length 4, "
                          "requested 3); only axes of static length 1 broadcast"))


@pytest.mark.parametrize(("dtype", "bounds"), [
    ("int64", (0, 10, 3)), ("int64", (10, -3, -3)), ("int64", (5, 5, 1)), ("int64", (5, 0, 1)),
    ("int64", (3, 5, 1)), ("float64", (0.5, 1.0, 1.0)),
    ("int8", (0, 300, 37)), ("int32", (-7, 7, 2)), ("uint16", (1, 9, 2)),
    ("float64", (0.1, 1.0, 0.1)), ("float64", (1.0, -2.0, -0.3)), ("float32", (0.1, 1.0, 0.1)),
    ("float32", (-1.5, 2.0, 0.25)),
])
def test_arange_fills_like_numpy(dtype: str, bounds: tuple[float, float, float]) -> None:
    in_dtype = "float64" if isinstance(bounds[0], float) else "int64"
    start, stop, step = (T.tensor(dtype=in_dtype, shape=(), name=n) for n in ("start", "stop", "step"))
    agree([start, stop, step], T.arange(start, stop, step, dtype=dtype), list(bounds), (ARange,))


def test_arange_of_a_length_for_indexing() -> None:
    y = T.lvector("y")
    got = agree([y], T.arange(y.shape[0]), [np.array([4, 5, 6])], (ARange,))
    assert got[0].tolist() == [0, 1, 2]


def test_arange_with_zero_step_fails_like_py() -> None:
    start, stop, step = T.lscalars("start", "stop", "step")
    fails_alike([start, stop, step], T.arange(start, stop, step), [0, 4, 0], "step must not be zero")


@pytest.mark.parametrize("dtype", ["float64", "int8", "bool"])
def test_eye_matches_numpy(dtype: str) -> None:
    n, m, k = T.lscalars("n", "m", "k")
    out = T.eye(n, m, k, dtype=dtype)
    for shape in ([3, 3, 0], [3, 5, 2], [4, 2, -1], [2, 3, 7], [2, 3, -9], [0, 3, 0]):
        agree([n, m, k], out, shape, (Eye,))
    fails_alike([n, m, k], out, [-1, 2, 0], re.escape("n and m must be >= 0, got n=-1, m=2"))


# ---------------------------------------------------------------------------------------
# Tile, Repeat
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("reps", [(2, 3), (1, 1, 2), (3,), (0, 2)])
def test_tile_matches_numpy(reps: tuple[int, ...]) -> None:
    x = T.imatrix("x")
    value = rng.integers(-9, 9, size=(3, 4)).astype("int32")
    agree([x], T.tile(x, reps), [value], (Tile,))
    agree([x], T.tile(x, reps), [value.T[::-1]], (Tile,))


def test_repeat_with_scalar_and_vector_counts() -> None:
    x = T.dtensor3("x")
    n = T.iscalar("n")
    counts = T.lvector("counts")
    value = rng.normal(size=(2, 3, 4))
    agree([x, n], [T.repeat(x, n, axis=1), T.repeat(x, n)], [value, 2], (Repeat,))
    agree([x, counts], T.repeat(x, counts, axis=2), [value, np.array([0, 2, 1, 3])], (Repeat,))
    agree([x, counts], T.repeat(x, counts, axis=0), [value[:, ::-1], np.array([3])], (Repeat,))


def test_repeat_with_bad_counts_fails_like_py() -> None:
    x = T.dmatrix("x")
    counts = T.lvector("counts")
    out = T.repeat(x, counts, axis=1)
    fails_alike([x, counts], out, [np.ones((2, 3)), np.array([1, 2])],
                re.escape("2 repeat counts for axis 1 of length 3 (input shape (2, 3)); give one count "
                          "per element, or a single count"))
    fails_alike([x, counts], out, [np.ones((2, 3)), np.array([1, -2, 0])],
                re.escape("repeats must be >= 0, got [1, -2, 0]"))


# ---------------------------------------------------------------------------------------
# Whole graphs
# ---------------------------------------------------------------------------------------
def test_mlp_style_flatten_and_gradient_run_in_c() -> None:
    images = T.dtensor4("images")
    w = T.dmatrix("w")
    flat = T.flatten(images, 2)
    cost = T.sum(T.tanh(T.dot(flat, w)) ** 2)
    grads = T.grad(cost, [images, w])
    values = [rng.normal(size=(5, 2, 3, 3)), rng.normal(size=(18, 4))]
    got = agree([images, w], [cost, *grads], values, (Reshape,), optimizer="fast_run",
                rtol=1e-9, atol=1e-12)
    assert got[1].shape == (5, 2, 3, 3)
