"""The C emitters of the indexing family agree with the py backend: values, dtype, shape, errors."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.tensor.subtensor import (
    AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor, Nonzero, Subtensor,
)
from tests.differential.harness import assert_same

pytestmark = pytest.mark.needs_gcc

INDEXING = (Subtensor, AdvancedSubtensor, IncSubtensor, AdvancedIncSubtensor, Nonzero)


def _compile(inputs: Sequence[Any], outputs: Any, mode: str, optimizer: str = "none") -> Any:
    return sg.compile_function(list(inputs), outputs, mode=mode, optimizer=optimizer,
                               on_unused_input="ignore")


def ran_in_c(fn: Any, op_types: tuple[type, ...]) -> None:
    """The ops under test are in the compiled graph, and none of them fell back to Python."""
    present = {type(n.op) for n in fn.maker.fgraph.toposort()}
    assert present & set(op_types), f"none of {op_types} in the compiled graph: {present}"
    in_python = [n for n in fn.maker.runner.python_nodes if isinstance(n.op, op_types)]
    assert not in_python, f"ran in Python instead of C: {in_python}"


def agree(inputs: Sequence[Any], outputs: Any, values: Sequence[Any],
          op_types: tuple[type, ...] = INDEXING, optimizer: str = "none",
          rtol: float = 0.0) -> list[np.ndarray]:
    """Run the graph in 'c' and 'py' and compare (exactly: indexing does no arithmetic)."""
    c_fn = _compile(inputs, outputs, "c", optimizer)
    py_fn = _compile(inputs, outputs, "py", optimizer)
    got, expected = c_fn(*values), py_fn(*values)
    got_list = got if isinstance(got, list) else [got]
    expected_list = expected if isinstance(expected, list) else [expected]
    for k, (a, b) in enumerate(zip(got_list, expected_list)):
        assert_same(a, b, rtol=rtol, atol=0, what=f"output {k}")
    ran_in_c(c_fn, op_types)
    return got_list


def fails_alike(inputs: Sequence[Any], outputs: Any, values: Sequence[Any], match: str) -> str:
    """Both backends raise a ValueError matching ``match``; C's names this file's line."""
    with pytest.raises(ValueError, match=match):
        _compile(inputs, outputs, "py")(*values)
    with pytest.raises(ValueError, match=match) as info:
        _compile(inputs, outputs, "c")(*values)
    message = str(info.value)
    assert "The node was created at" in message and "test_subtensor_c.py" in message
    return message


rng = np.random.default_rng(7)


# ---------------------------------------------------------------------------------------
# Subtensor: basic indexing as a view
# ---------------------------------------------------------------------------------------
def test_every_slice_of_a_short_axis_matches_python_slicing() -> None:
    # one compiled function, called over a grid of bounds that covers clamping on both ends,
    # negative bounds and steps, and empty results
    x = T.lvector("x")
    start, stop, step = T.lscalars("start", "stop", "step")
    c_fn = _compile([x, start, stop, step], x[start:stop:step], "c")
    ran_in_c(c_fn, (Subtensor,))
    value = np.arange(5, dtype="int64") * 10
    for a in range(-8, 9):
        for b in range(-8, 9):
            for c in (-7, -3, -2, -1, 1, 2, 3, 7):
                got = c_fn(value, a, b, c)
                assert got.tolist() == value[a:b:c].tolist(), (a, b, c)


def test_absent_slice_bounds_with_negative_steps() -> None:
    x = T.dvector("x")
    step = T.lscalar("step")
    value = rng.normal(size=7)
    outputs = [x[::step], x[2::step], x[:2:step], x[::-1], x[-2::-2], x[:-9:-1]]
    for s in (-3, -1, 1, 2):
        agree([x, step], outputs, [value, s])


@pytest.mark.parametrize("dtype", ["float64", "float32", "int16", "uint8", "bool"])
def test_basic_indexing_matches_py(dtype: str) -> None:
    x = T.tensor(dtype=dtype, shape=(None, None, None), name="x")
    i, j = T.lscalars("i", "j")
    value = (rng.normal(size=(4, 5, 6)) * 10).astype(dtype)
    outputs = [
        x[1], x[i], x[:, i], x[-1, 1:i, ::j], x[i:, None, j], x[None, ..., i, None],
        x[i:j], x[::-1, ::j, 1::2], x[..., 0], x[-i],
    ]
    for a, b in ((2, 3), (1, -1), (3, -2)):
        agree([x, i, j], outputs, [value, a, b])


def test_basic_indexing_of_strided_and_broadcast_inputs() -> None:
    x = T.dtensor3("x")
    i = T.lscalar("i")
    value = rng.normal(size=(4, 5, 6))
    outputs = [x[i, ::-2], x[:, 1:i, -1], x[::2, None, i:]]
    agree([x, i], outputs, [value.transpose(2, 0, 1), 2])
    agree([x, i], outputs, [value[::-1, 1:, ::3], 1])
    agree([x, i], outputs, [np.broadcast_to(value[:1], (4, 5, 6)), 3])


@pytest.mark.parametrize("index_dtype", ["int8", "uint8", "int32", "uint64"])
def test_index_scalars_of_every_integer_dtype(index_dtype: str) -> None:
    x = T.dmatrix("x")
    i = T.tensor(dtype=index_dtype, shape=(), name="i")
    value = rng.normal(size=(4, 5))
    outputs = [x[i], x[:, i:], x[::i], x[i:0:-1]]
    for v in (1, 2, 3):
        agree([x, i], outputs, [value, v])
    if index_dtype == "uint64":
        # past int64: every bound clamps to the end of the axis, as in Python
        agree([x, i], [x[:, i:], x[:, :i]], [value, np.uint64(2**64 - 1)])


def test_chained_views_and_results_do_not_alias_inputs() -> None:
    x = T.dmatrix("x")
    i = T.lscalar("i")
    view = x[1:][:, ::-1][i]
    fn = _compile([x, i], [view, x * 2.0, x[0]], "c")
    ran_in_c(fn, (Subtensor,))
    value = rng.normal(size=(3, 4))
    before = value.copy()
    got = fn(value, 1)
    np.testing.assert_array_equal(got[0], value[1:][:, ::-1][1])
    got[0][...] = 0.0
    got[2][...] = 0.0
    np.testing.assert_array_equal(value, before)


def test_integer_index_out_of_range_fails_like_py() -> None:
    x = T.dmatrix("x")
    i = T.lscalar("i")
    message = fails_alike([x, i], x[:, i], [np.ones((2, 3)), 4],
                          re.escape("index 4 is out of bounds for axis 1 with length 3 "
                                    "(valid indices: -3 to 2)"))
    assert message.startswith("Subtensor{:, i} failed")
    fails_alike([x, i], x[i], [np.ones((2, 3)), -3],
                re.escape("index -3 is out of bounds for axis 0 with length 2"))
    fails_alike([x, i], x[i], [np.ones((0, 3)), 0],
                re.escape("index 0 is out of bounds for axis 0 with length 0"))


def test_zero_slice_step_fails_like_py() -> None:
    x = T.dmatrix("x")
    step = T.lscalar("step")
    fails_alike([x, step], x[1:, ::step], [np.ones((2, 3)), 0],
                re.escape("slice step cannot be zero (axis 1)"))


# ---------------------------------------------------------------------------------------
# AdvancedSubtensor: integer arrays
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("index_dtype", ["int64", "int32", "int8", "uint8", "uint64"])
def test_single_index_array_on_one_axis(index_dtype: str) -> None:
    x = T.dtensor3("x")
    idx = T.tensor(dtype=index_dtype, shape=(None,), name="idx")
    value = rng.normal(size=(4, 5, 6))
    positions = np.array([0, 3, 2, 2, 1], dtype=index_dtype)
    agree([x, idx], [x[idx], x[:, idx], x[..., idx], x[1:, idx, ::-2]], [value, positions])
    if index_dtype.startswith("int"):
        agree([x, idx], [x[idx], x[:, idx]], [value, np.array([-1, -4, 0], dtype=index_dtype)])


def test_coursework_form_picks_one_entry_per_row() -> None:
    probs = T.dmatrix("probs")
    labels = T.lvector("labels")
    picked = probs[T.arange(labels.shape[0]), labels]
    nll = -T.mean(T.log(picked))
    value = rng.random(size=(6, 4)) + 0.1
    y = np.array([0, 3, 1, 1, 2, 0])
    got = agree([probs, labels], picked, [value, y])
    np.testing.assert_array_equal(got[0], value[np.arange(6), y])
    agree([probs, labels], [nll, *T.grad(nll, [probs])], [value, y], optimizer="fast_run", rtol=1e-12)


def test_index_arrays_broadcast_and_place_like_numpy() -> None:
    x = T.dtensor3("x")
    v = T.lvector("v")
    w = T.ivector("w")
    m = T.lmatrix("m")
    i = T.lscalar("i")
    value = rng.normal(size=(4, 5, 6))
    outputs = [
        x[v, w],            # adjacent arrays: the result replaces the two axes in place
        x[v, :, w],         # separated by a slice: the result goes first
        x[1:, v, m],        # a vector and a matrix broadcast together
        x[v, i, m],         # an integer between arrays counts as one of them
        x[:, i, v],         # adjacent integer and array: in place
        x[v, ..., 1],       # an ellipsis and an integer apart from the array
        x[::-1, None, v],
        x[m],
    ]
    values = [value, np.array([0, 3, -1]), np.array([4, 0, 2], "int32"),
              np.array([[1], [0]]), 2]
    agree([x, v, w, m, i], outputs, values)
    agree([x, v, w, m, i], outputs, [value.transpose(0, 2, 1).copy().transpose(0, 2, 1)[:, :, :],
                                     np.array([1, 1, 1]), np.array([4, 4, 4], "int32"),
                                     np.array([[3, 2, -1]]), -1])


def test_empty_index_arrays_and_empty_axes() -> None:
    x = T.dmatrix("x")
    v = T.lvector("v")
    w = T.lvector("w")
    value = rng.normal(size=(3, 4))
    agree([x, v], [x[v], x[:, v]], [value, np.zeros(0, "int64")])
    # an empty broadcast index skips the bounds check, as in NumPy
    agree([x, v, w], x[v, w], [value, np.array([9]), np.zeros(0, "int64")])
    agree([x, v], x[v, 1:1], [value, np.array([2, 0])])


def test_index_array_out_of_bounds_fails_like_numpy() -> None:
    x = T.dmatrix("x")
    v = T.lvector("v")
    w = T.lvector("w")
    message = fails_alike([x, v], x[:, v], [np.ones((2, 3)), np.array([0, 5])],
                          re.escape("index 5 is out of bounds for axis 1 with size 3"))
    assert message.startswith("AdvancedSubtensor{:, array} failed")
    fails_alike([x, v], x[v], [np.ones((2, 3)), np.array([-3])],
                re.escape("index -3 is out of bounds for axis 0 with size 2"))
    fails_alike([x, v, w], x[v, w], [np.ones((2, 3)), np.array([0, 1]), np.array([1, 2, 0])],
                re.escape("shape mismatch: indexing arrays could not be broadcast together with "
                          "shapes (2,) (3,)"))


def test_boolean_masks_run_in_c_and_stay_correct() -> None:
    x = T.dmatrix("x")
    mask = T.tensor(dtype="bool", shape=(None,), name="mask")
    out = x[mask]
    c_fn = _compile([x, mask], out, "c")
    assert not any(isinstance(n.op, AdvancedSubtensor) for n in c_fn.maker.runner.python_nodes)
    value = rng.normal(size=(3, 2))
    chosen = np.array([True, False, True])
    np.testing.assert_array_equal(c_fn(value, chosen), value[chosen])


def test_nonzero_matches_numpy() -> None:
    x = T.dtensor3("x")
    value = rng.normal(size=(3, 4, 5))
    value[value < 0.4] = 0.0
    agree([x], list(T.nonzero(x)), [value])
    agree([x], list(T.nonzero(x)), [value.transpose(2, 0, 1)])
    agree([x], list(T.nonzero(x)), [np.zeros((2, 0, 3))])


# ---------------------------------------------------------------------------------------
# IncSubtensor, AdvancedIncSubtensor
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "uint8", "bool"])
def test_set_and_inc_of_basic_regions(dtype: str) -> None:
    x = T.tensor(dtype=dtype, shape=(None, None, None), name="x")
    y = T.tensor(dtype=dtype, shape=(None, None), name="y")
    r = T.tensor(dtype=dtype, shape=(1, None), name="r")
    i, j = T.lscalars("i", "j")
    outputs = [
        T.set_subtensor(x[i], y),
        T.inc_subtensor(x[i], y),
        T.inc_subtensor(x[:, i, ::j], y[:4, :3]),
        T.set_subtensor(x[::-1, j, 1:5], r),    # a static-1 row stretches
        T.inc_subtensor(x[1:1], y[0]),          # an empty region
        T.inc_subtensor(x[None, 2, 1:, 0], y[:1, 2:]),
    ]
    value = (rng.normal(size=(4, 5, 6)) * 10).astype(dtype)
    update = (rng.normal(size=(5, 6)) * 10).astype(dtype)
    row = (rng.normal(size=(1, 4)) * 10).astype(dtype)
    agree([x, y, i, j, r], outputs, [value, update, 1, -2, row])
    strided = value.transpose(1, 0, 2).copy().transpose(1, 0, 2)
    agree([x, y, i, j, r], outputs, [strided, update.T.copy().T, -3, 2, row])
    agree([x, y, i, j, r], outputs, [value[:, ::-1], update[::-1], 0, 2, row])


def test_inc_of_a_strided_input_leaves_it_unchanged() -> None:
    x = T.dmatrix("x")
    y = T.dvector("y")
    out = T.inc_subtensor(x[1, ::-1], y)
    value = rng.normal(size=(4, 3))
    before = value.copy()
    agree([x, y], out, [value.T, rng.normal(size=4)])
    np.testing.assert_array_equal(value, before)


def test_value_that_does_not_fit_the_region_fails_like_py() -> None:
    x = T.dtensor3("x")
    y = T.dvector("y")
    i = T.lscalar("i")
    inc = T.inc_subtensor(x[i, ::-1], y)
    value = np.ones((2, 3, 4))
    fails_alike([x, y, i], inc, [value, np.ones(5), 0],
                re.escape("operands could not be broadcast together with shapes (3,4) (5,) (3,4)"))
    fails_alike([x, y, i], T.set_subtensor(x[i, ::-1], y), [value, np.ones(5), 0],
                re.escape("could not broadcast input array from shape (5,) into shape (3,4)"))
    # a length of 1 on an axis not declared broadcastable: the py backend's own words
    fails_alike([x, y, i], inc, [value, np.ones(1), 1],
                re.escape("the value of shape (1,) does not fit the indexed region of shape (3, 4): "
                          "axis 0 has length 1, expected 4. Only axes declared broadcastable"))
    fails_alike([x, y, i], inc, [value, np.ones(4), 2],
                re.escape("index 2 is out of bounds for axis 0 with length 2"))


def test_inc_with_repeated_indices_accumulates_and_set_keeps_the_last() -> None:
    x = T.dmatrix("x")
    idx = T.ivector("idx")
    y = T.dmatrix("y")
    value = rng.normal(size=(4, 3))
    positions = np.array([0, 2, 0, -4, 3], "int32")
    update = rng.normal(size=(5, 3))
    got = agree([x, idx, y], [T.inc_subtensor(x[idx], y), T.set_subtensor(x[idx], y)],
                [value, positions, update])
    expected = value.copy()
    np.add.at(expected, positions, update)
    np.testing.assert_allclose(got[0], expected, rtol=1e-15)


@pytest.mark.parametrize("dtype", ["float32", "int8", "bool"])
def test_advanced_inc_of_rows_columns_and_pairs(dtype: str) -> None:
    x = T.tensor(dtype=dtype, shape=(None, None), name="x")
    v = T.lvector("v")
    w = T.bvector("w")
    y = T.tensor(dtype=dtype, shape=(None,), name="y")
    row = T.tensor(dtype=dtype, shape=(1, None), name="row")
    value = (rng.normal(size=(4, 3)) * 50).astype(dtype)
    outputs = [
        T.inc_subtensor(x[v], row),                        # a static-1 row stretches over v
        T.inc_subtensor(x[:, w], y[0]),
        T.set_subtensor(x[v, w], y[:3]),
        T.inc_subtensor(x[T.arange(v.shape[0]), v], y[:3]),
    ]
    values = [value, np.array([1, 1, 2]), np.array([0, -1, 0], "int8"),
              (rng.normal(size=5) * 50).astype(dtype), (rng.normal(size=(1, 3)) * 50).astype(dtype)]
    agree([x, v, w, y, row], outputs, values)


def test_advanced_inc_errors_match_py() -> None:
    x = T.dmatrix("x")
    v = T.lvector("v")
    y = T.dvector("y")
    fails_alike([x, v, y], T.inc_subtensor(x[v], y), [np.ones((3, 2)), np.array([0, 3]), np.ones(2)],
                re.escape("index 3 is out of bounds for axis 0 with size 3"))
    fails_alike([x, v, y], T.inc_subtensor(x[:, v], y), [np.ones((3, 2)), np.array([0, 1]), np.ones(4)],
                re.escape("array is not broadcastable to correct shape"))
    fails_alike([x, v, y], T.set_subtensor(x[:, v], y), [np.ones((3, 2)), np.array([0, 1]), np.ones(4)],
                re.escape("shape mismatch: value array of shape (4,) could not be broadcast to "
                          "indexing result of shape (3,2)"))


def test_gradient_of_indexing_runs_in_c() -> None:
    x = T.dmatrix("x")
    v = T.lvector("v")
    cost = T.sum(x[v] ** 2) + T.sum(x[1:, ::-1] * 3.0) + T.sum(T.exp(x[:, 0]))
    grad = T.grad(cost, x)
    value = rng.normal(size=(4, 3))
    agree([x, v], [cost, grad], [value, np.array([0, 2, 2, -1])], optimizer="fast_run", rtol=1e-12)
