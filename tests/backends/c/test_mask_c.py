"""Boolean-mask indexing in the C backend (``x[mask]``, and set/inc_subtensor through a mask)
agrees with the py backend: values, dtype, shape and NumPy's errors, and runs in C."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.errors import ShapeMismatchError
from symgraph.gradient import verify_grad
from symgraph.tensor.subtensor import AdvancedIncSubtensor, AdvancedSubtensor
from tests.differential.harness import assert_same

pytestmark = pytest.mark.needs_gcc

MASKED = (AdvancedSubtensor, AdvancedIncSubtensor)

rng = np.random.default_rng(5)


def _compile(inputs: Sequence[Any], outputs: Any, mode: str, optimizer: str = "none") -> Any:
    return sg.compile_function(list(inputs), outputs, mode=mode, optimizer=optimizer,
                               on_unused_input="ignore")


def ran_in_c(fn: Any) -> None:
    """The indexing ops are in the compiled graph, and none of them fell back to Python."""
    present = {type(n.op) for n in fn.maker.fgraph.toposort()}
    assert present & set(MASKED), f"no advanced indexing in the compiled graph: {present}"
    assert not fn.maker.runner.python_nodes, f"ran in Python: {fn.maker.runner.python_nodes}"


def agree(inputs: Sequence[Any], outputs: Any, values: Sequence[Any], optimizer: str = "none",
          rtol: float = 0.0) -> list[np.ndarray]:
    """Run in 'c' and 'py': the same values (exactly, unless ``rtol``), dtypes and shapes."""
    c_fn = _compile(inputs, outputs, "c", optimizer)
    py_fn = _compile(inputs, outputs, "py", optimizer)
    got, expected = c_fn(*values), py_fn(*values)
    got_list = got if isinstance(got, list) else [got]
    expected_list = expected if isinstance(expected, list) else [expected]
    for k, (a, b) in enumerate(zip(got_list, expected_list)):
        assert_same(a, b, rtol=rtol, atol=0, what=f"output {k}")
    ran_in_c(c_fn)
    return got_list


def fails_alike(inputs: Sequence[Any], outputs: Any, values: Sequence[Any], match: str) -> None:
    """Both backends raise ShapeMismatchError (a ValueError) matching ``match``."""
    with pytest.raises(ShapeMismatchError, match=match):
        _compile(inputs, outputs, "py")(*values)
    c_fn = _compile(inputs, outputs, "c")
    ran_in_c(c_fn)
    with pytest.raises(ShapeMismatchError, match=match) as info:
        c_fn(*values)
    assert "test_mask_c.py" in str(info.value)


def _mask(ndim: int) -> Any:
    return T.tensor("bool", shape=(None,) * ndim, name="mask")


def _layouts(value: np.ndarray) -> list[np.ndarray]:
    """``value`` contiguous, in Fortran order, strided and reversed (same contents)."""
    strided = np.repeat(value, 2, axis=0)[::2] if value.ndim else value
    reversed_ = np.ascontiguousarray(value[::-1])[::-1] if value.ndim else value
    return [value, np.asfortranarray(value), strided, reversed_]


# ---------------------------------------------------------------------------------------
# Reading: x[mask]
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "bool"])
def test_full_mask_selects_like_numpy(dtype: str) -> None:
    x, mask = T.tensor(dtype, shape=(None, None), name="x"), _mask(2)
    value = (rng.normal(size=(4, 5)) * 4).astype(dtype)
    c_fn, py_fn = _compile([x, mask], x[mask], "c"), _compile([x, mask], x[mask], "py")
    ran_in_c(c_fn)
    for chosen in (rng.random((4, 5)) < 0.4, np.ones((4, 5), bool), np.zeros((4, 5), bool)):
        for x_layout, m_layout in zip(_layouts(value), reversed(_layouts(chosen))):
            assert_same(c_fn(x_layout, m_layout), py_fn(x_layout, m_layout), 0, 0, "x[mask]")
            assert_same(c_fn(x_layout, m_layout), value[chosen], 0, 0, "numpy")


def test_leading_and_middle_axis_masks() -> None:
    x = T.dtensor3("x")
    value = rng.normal(size=(3, 4, 5))
    m1, m2 = _mask(1), _mask(2)
    lead = rng.random(3) < 0.5
    lead2 = rng.random((3, 4)) < 0.5
    middle = np.array([True, False, True, True])
    agree([x, m1], x[m1], [value, lead])
    agree([x, m2], x[m2], [value, lead2])
    agree([x, m2], x[m2], [value[:, ::-1, ::2], lead2.T.copy().T])
    agree([x, m1], x[:, m1], [value, middle])
    agree([x, m1], x[1:, m1, ::-2], [value, middle])
    agree([x, m1], x[..., m1], [value, rng.random(5) < 0.5])
    agree([x, m1], x[None, :, m1], [value, middle])
    agree([x, m2], x[:, m2], [value, rng.random((4, 5)) < 0.5])
    agree([x, m1], x[m1], [np.zeros((0, 4, 5)), np.zeros(0, bool)])


def test_masks_mixed_with_integer_indices_follow_numpy_placement() -> None:
    x = T.dtensor3("x")
    value = rng.normal(size=(3, 4, 5))
    m1 = _mask(1)
    idx = T.lvector("idx")
    i = T.lscalar("i")
    chosen = np.array([True, False, True])  # two true entries
    agree([x, m1, idx], x[m1, idx], [value, chosen, np.array([3, -1])])
    agree([x, m1, idx], x[m1, idx], [value, chosen, np.array([2])])  # broadcast
    agree([x, m1, i], x[m1, i], [value, chosen, -2])
    # apart from each other: the advanced result goes first
    agree([x, m1, idx], x[m1, :, idx], [value, chosen, np.array([0, 4])])
    agree([x, m1, idx], x[idx, :, m1], [value, rng.random(5) < 0.5, np.array([2])])
    three_of_four = np.array([True, True, False, True])
    agree([x, m1, idx], x[idx, m1], [value, three_of_four, np.array([0, 2, 1])])


def test_zero_dimensional_masks() -> None:
    x = T.dmatrix("x")
    b = T.tensor("bool", shape=(), name="b")
    value = rng.normal(size=(3, 4))
    for flag in (True, False):
        agree([x, b], x[b], [value, np.array(flag)])
        agree([x, b], x[:, b], [value, np.array(flag)])
    agree([x], x[True], [value])
    agree([x], x[False], [value])


def test_mask_computed_from_the_values_in_c() -> None:
    x = T.dmatrix("x")
    value = rng.normal(size=(5, 6))
    agree([x], x[x > 0], [value], optimizer="fast_run")
    agree([x], (x[x > 0.5] * 2).sum(), [value], optimizer="fast_run", rtol=1e-12)
    agree([x], x[(x > 0).all(axis=1)], [value], optimizer="fast_run")


# ---------------------------------------------------------------------------------------
# Writing: set_subtensor / inc_subtensor through a mask
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "int32", "bool"])
def test_set_and_inc_through_a_full_mask(dtype: str) -> None:
    x, mask = T.tensor(dtype, shape=(None, None), name="x"), _mask(2)
    y = T.tensor(dtype, shape=(None,), name="y")
    scalar = T.tensor(dtype, shape=(), name="s")
    value = (rng.normal(size=(4, 5)) * 4).astype(dtype)
    chosen = rng.random((4, 5)) < 0.5
    count = int(chosen.sum())
    y_value = (rng.normal(size=count) * 4).astype(dtype)
    for x_layout in _layouts(value):
        agree([x, mask, y], T.set_subtensor(x[mask], y), [x_layout, chosen, y_value])
        agree([x, mask, y], T.inc_subtensor(x[mask], y), [x_layout, chosen.T.copy().T, y_value])
        agree([x, mask, scalar], T.inc_subtensor(x[mask], scalar), [x_layout, chosen, y_value[0]])
    agree([x, mask, y], T.set_subtensor(x[mask], y), [value, np.zeros((4, 5), bool), y_value[:0]])


def test_set_and_inc_through_leading_and_mixed_masks() -> None:
    x = T.dtensor3("x")
    value = rng.normal(size=(3, 4, 5))
    m1 = _mask(1)
    chosen = np.array([True, False, True])
    region = T.dtensor3("region")
    row = T.tensor("float64", shape=(1, 1, None), name="row")
    region_value = rng.normal(size=(2, 4, 5))
    agree([x, m1, region], T.set_subtensor(x[m1], region), [value, chosen, region_value])
    agree([x, m1, region], T.inc_subtensor(x[m1], region), [value, chosen, region_value])
    agree([x, m1, row], T.inc_subtensor(x[m1], row), [value, chosen, rng.normal(size=(1, 1, 5))])
    idx = T.lvector("idx")
    vec = T.dvector("vec")
    # repeated (mask position, index) pairs accumulate every increment, as np.add.at
    agree([x, m1, idx, vec], T.inc_subtensor(x[m1, 1, idx], vec),
          [value, np.array([True, True, True]), np.array([2, 2, 2]), rng.normal(size=3)])
    x2, mat = T.dmatrices("x2", "mat")
    agree([x2, m1, mat], T.set_subtensor(x2[:, m1], mat),
          [value[:, :, 0], np.array([False, True, True, False]), rng.normal(size=(3, 2))])


def test_gradient_through_a_mask_runs_in_c() -> None:
    x = T.dmatrix("x")
    mask = _mask(2)
    cost = (x[mask] ** 2).sum() + T.inc_subtensor(x[mask], 1.0).prod()
    gx = T.grad(cost, x)
    value = rng.uniform(0.5, 1.5, size=(3, 4))
    chosen = rng.random((3, 4)) < 0.5
    agree([x, mask], gx, [value, chosen], optimizer="fast_run", rtol=1e-12)
    verify_grad(lambda a: a[chosen] ** 3, [value], mode="c")
    verify_grad(lambda a: T.set_subtensor(a[chosen[:, 0]], a[chosen[:, 0]] * 2), [value], mode="c")


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------
def test_mask_of_the_wrong_shape_fails_with_numpys_message() -> None:
    x = T.dmatrix("x")
    m1, m2 = _mask(1), _mask(2)
    fails_alike([x, m1], x[m1], [np.ones((3, 2)), np.ones(4, bool)],
                re.escape("boolean index did not match indexed array along axis 0; size of axis is "
                          "3 but size of corresponding boolean axis is 4"))
    fails_alike([x, m1], x[:, m1], [np.ones((3, 2)), np.ones(3, bool)],
                re.escape("along axis 1; size of axis is 2 but size of corresponding boolean "
                          "axis is 3"))
    fails_alike([x, m2], x[m2], [np.ones((3, 2)), np.ones((3, 3), bool)],
                re.escape("along axis 1; size of axis is 2 but size of corresponding boolean "
                          "axis is 3"))
    y = T.dvector("y")
    fails_alike([x, m1, y], T.inc_subtensor(x[m1], y),
                [np.ones((3, 2)), np.ones(2, bool), np.ones(2)],
                re.escape("along axis 0; size of axis is 3 but size of corresponding boolean "
                          "axis is 2"))


def test_mask_and_index_array_that_do_not_broadcast() -> None:
    x = T.dmatrix("x")
    m1, idx = _mask(1), T.lvector("idx")
    fails_alike([x, m1, idx], x[m1, idx], [np.ones((3, 4)), np.array([True, False, True]),
                                          np.array([0, 1, 2])],
                re.escape("shape mismatch: indexing arrays could not be broadcast together with "
                          "shapes (2,) (3,)"))
    fails_alike([x, m1, idx], x[m1, idx], [np.ones((3, 4)), np.array([True, False, True]),
                                          np.array([0, 4])],
                re.escape("index 4 is out of bounds for axis 1 with size 4"))


def test_values_that_do_not_fit_the_masked_region() -> None:
    x, m2 = T.dmatrix("x"), _mask(2)
    m1 = _mask(1)
    y = T.dvector("y")
    value = np.arange(12.0).reshape(3, 4)
    fails_alike([x, m2, y], T.set_subtensor(x[m2], y), [value, value > 3, np.ones(3)],
                re.escape("NumPy boolean array indexing assignment cannot assign 3 input values to "
                          "the 8 output values where the mask is true"))
    fails_alike([x, m2, y], T.inc_subtensor(x[m2], y), [value, value > 3, np.ones(3)],
                re.escape("array is not broadcastable to correct shape"))
    fails_alike([x, m1, y], T.set_subtensor(x[m1], y),
                [value, np.array([True, False, True]), np.ones(3)],
                re.escape("shape mismatch: value array of shape (3,) could not be broadcast to "
                          "indexing result of shape (2,4)"))
    # a runtime length of 1 on an axis not declared broadcastable is refused, as in Elemwise
    fails_alike([x, m2, y], T.set_subtensor(x[m2], y), [value, value > 3, np.ones(1)],
                re.escape("the value of shape (1,) does not fit the indexed region of shape (8,)"))
