"""Reductions (symgraph.tensor.reduce) against NumPy and SciPy: values, dtypes, shapes, grads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.special

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import verify_grad
from symgraph.tensor.reduce import All, Argmax, Max, Prod, Sum

AXES: list[Any] = [None, 0, -1, (0, 2), ()]
SHAPE = (2, 3, 4)


def _sample(dtype: str, shape: tuple[int, ...] = SHAPE, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith("uint"):
        return rng.integers(0, 4, shape).astype(dtype)
    if dtype.startswith("int"):
        return rng.integers(-3, 4, shape).astype(dtype)
    return rng.normal(size=shape).astype(dtype)


def _input_like(value: np.ndarray) -> Any:
    return T.tensor(dtype=value.dtype.name, shape=(None,) * value.ndim, name="x")


def _compile(inputs: list[Any], outputs: Any) -> Any:
    return sg.compile_function(inputs, outputs, mode="py")


def _assert_matches(got: np.ndarray, expected: Any, what: str) -> None:
    expected = np.asarray(expected)
    got = np.asarray(got)
    assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype}, NumPy gives {expected.dtype}"
    assert got.shape == expected.shape, f"{what}: shape {got.shape}, NumPy gives {expected.shape}"
    if expected.dtype.kind in "fc":
        rtol = 1e-5 if expected.dtype.itemsize <= 4 else 1e-12
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol, err_msg=what)
    else:
        np.testing.assert_array_equal(got, expected, err_msg=what)


def _check_axes_and_keepdims(
    sym_fn: Callable[..., Any],
    np_fn: Callable[..., Any],
    value: np.ndarray,
    axes: list[Any] = AXES,
) -> None:
    """Compare ``sym_fn(x, axis, keepdims)`` with ``np_fn`` for every axis and keepdims."""
    x = _input_like(value)
    cases = [(axis, keepdims) for axis in axes for keepdims in (False, True)]
    outputs = [sym_fn(x, axis=axis, keepdims=keepdims) for axis, keepdims in cases]
    results = _compile([x], outputs)(value)
    for (axis, keepdims), out, got in zip(cases, outputs, results):
        what = f"{value.dtype} input, axis={axis}, keepdims={keepdims}"
        expected = np.asarray(np_fn(value, axis=axis, keepdims=keepdims))
        _assert_matches(got, expected, what)
        assert out.dtype == expected.dtype.name, what
        assert out.ndim == expected.ndim, what


# -- values and dtypes against NumPy ----------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "int8", "uint8", "bool"])
def test_sum_matches_numpy_values_and_dtypes(dtype: str) -> None:
    _check_axes_and_keepdims(T.sum, np.sum, _sample(dtype))


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "int8", "uint8", "bool"])
def test_prod_matches_numpy_values_and_dtypes(dtype: str) -> None:
    _check_axes_and_keepdims(T.prod, np.prod, _sample(dtype))


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "int8", "bool"])
def test_mean_matches_numpy_values_and_dtypes(dtype: str) -> None:
    _check_axes_and_keepdims(T.mean, np.mean, _sample(dtype))


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "int8", "bool"])
@pytest.mark.parametrize("ddof", [0, 1])
def test_var_and_std_match_numpy(dtype: str, ddof: int) -> None:
    value = _sample(dtype)
    axes = [None, 0, -1, (0, 2)]
    _check_axes_and_keepdims(
        lambda x, axis, keepdims: T.var(x, axis=axis, ddof=ddof, keepdims=keepdims),
        lambda v, axis, keepdims: np.var(v, axis=axis, ddof=ddof, keepdims=keepdims),
        value,
        axes,
    )
    _check_axes_and_keepdims(
        lambda x, axis, keepdims: T.std(x, axis=axis, ddof=ddof, keepdims=keepdims),
        lambda v, axis, keepdims: np.std(v, axis=axis, ddof=ddof, keepdims=keepdims),
        value,
        axes,
    )


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "int8", "bool"])
def test_max_and_min_match_numpy_and_keep_dtype(dtype: str) -> None:
    value = _sample(dtype)
    _check_axes_and_keepdims(T.max, np.max, value)
    _check_axes_and_keepdims(T.min, np.min, value)


@pytest.mark.parametrize("dtype", ["float64", "int32", "bool"])
def test_all_and_any_match_numpy_with_bool_result(dtype: str) -> None:
    value = _sample(dtype)
    if dtype == "float64":
        value[value < 0] = 0.0  # zeros make all() interesting for floats
    _check_axes_and_keepdims(T.all, np.all, value)
    _check_axes_and_keepdims(T.any, np.any, value)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "int8", "bool"])
def test_argmax_and_argmin_match_numpy_for_single_axes(dtype: str) -> None:
    value = _sample(dtype)
    axes = [None, 0, -1, 1]
    _check_axes_and_keepdims(T.argmax, np.argmax, value, axes)
    _check_axes_and_keepdims(T.argmin, np.argmin, value, axes)


def test_argmax_over_several_axes_indexes_their_c_order_flattening() -> None:
    value = _sample("float64")
    x = _input_like(value)
    f = _compile([x], [T.argmax(x, axis=(0, 2)), T.argmin(x, axis=(2, 0), keepdims=True)])
    got_max, got_min = f(value)
    flat = value.transpose(1, 0, 2).reshape(3, 8)
    _assert_matches(got_max, flat.argmax(axis=-1), "argmax over (0, 2)")
    _assert_matches(got_min, flat.argmin(axis=-1).reshape(1, 3, 1), "argmin over (0, 2)")


def test_max_and_argmax_returns_both() -> None:
    value = _sample("float64")
    x = _input_like(value)
    maxima, indices = T.max_and_argmax(x, axis=1)
    got_max, got_idx = _compile([x], [maxima, indices])(value)
    _assert_matches(got_max, value.max(axis=1), "max")
    _assert_matches(got_idx, value.argmax(axis=1), "argmax")


def test_argmax_of_a_scalar_is_zero_as_numpy() -> None:
    x = T.dscalar("x")
    assert _compile([x], T.argmax(x))(3.0) == np.argmax(np.float64(3.0))


def test_sum_and_prod_of_empty_arrays_give_the_identity() -> None:
    value = np.zeros((0, 3))
    _check_axes_and_keepdims(T.sum, np.sum, value, [None, 0, 1, ()])
    _check_axes_and_keepdims(T.prod, np.prod, value, [None, 0, 1, ()])
    flags = np.zeros((0, 3), dtype=bool)
    _check_axes_and_keepdims(T.all, np.all, flags, [None, 0, 1])
    _check_axes_and_keepdims(T.any, np.any, flags, [None, 0, 1])


def test_max_of_an_empty_axis_raises_value_error() -> None:
    x = T.dmatrix("x")
    f = _compile([x], T.max(x, axis=0))
    with pytest.raises(ValueError, match="zero-size array to reduction operation maximum"):
        f(np.zeros((0, 3)))
    assert f(np.zeros((2, 0))).shape == (0,)  # reducing a non-empty axis of an empty array is fine


def test_argmin_of_an_empty_axis_raises_value_error() -> None:
    x = T.dmatrix("x")
    f = _compile([x], T.argmin(x, axis=1))
    with pytest.raises(ValueError, match="argmin of an empty axis"):
        f(np.zeros((2, 0)))


def test_dtype_argument_overrides_the_result_dtype() -> None:
    ints = T.bvector("ints")
    floats = T.fvector("floats")
    outputs = [
        T.sum(ints, dtype="int16"),
        T.prod(ints, dtype="float64"),
        T.sum(floats, dtype="float64"),
        T.sum(floats, acc_dtype="float64"),
        T.mean(ints, dtype="float32"),
        T.mean(floats, dtype="float64"),
    ]
    int_value = np.array([100, 100, -3], dtype="int8")
    float_value = np.array([1.5, 2.25, 1e-3], dtype="float32")
    got = _compile([ints, floats], outputs)(int_value, float_value)
    expected = [
        np.sum(int_value, dtype="int16"),
        np.prod(int_value, dtype="float64"),
        np.sum(float_value, dtype="float64"),
        np.sum(float_value.astype("float64")).astype("float32"),
        np.mean(int_value, dtype="float32"),
        np.mean(float_value, dtype="float64"),
    ]
    for i, (g, e) in enumerate(zip(got, expected)):
        _assert_matches(g, e, f"output {i}")


def test_mean_of_float16_is_float16() -> None:
    value = np.array([[1.5, 2.0, 3.25]], dtype="float16")
    x = _input_like(value)
    got = _compile([x], T.mean(x, axis=1))(value)
    _assert_matches(got, np.mean(value, axis=1), "float16 mean")


def test_var_corrected_is_ddof_one() -> None:
    value = _sample("float64")
    x = _input_like(value)
    outputs = [T.var(x, axis=1, corrected=True), T.std(x, corrected=True)]
    got_var, got_std = _compile([x], outputs)(value)
    _assert_matches(got_var, np.var(value, axis=1, ddof=1), "var corrected")
    _assert_matches(got_std, np.std(value, ddof=1), "std corrected")


def test_var_is_accurate_for_data_far_from_zero() -> None:
    # a one-pass E[x^2] - E[x]^2 would lose every digit here; the two-pass form does not
    value = 1e9 + np.array([[0.1, 0.2, 0.3, 0.4]])
    x = _input_like(value)
    got = _compile([x], T.var(x, axis=1))(value)
    np.testing.assert_allclose(got, np.var(value, axis=1), rtol=1e-6)


def test_var_of_complex_input_is_real() -> None:
    value = np.array([1 + 2j, 3 - 1j, -2 + 0.5j])
    x = _input_like(value)
    out = T.var(x)
    assert out.dtype == "float64"
    _assert_matches(_compile([x], out)(value), np.var(value), "complex var")


def test_var_with_ddof_at_least_n_is_inf_or_nan_as_numpy() -> None:
    x = T.dmatrix("x")
    value = np.array([[1.0, 2.0], [3.0, 3.0]])
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"), np.errstate(all="ignore"):
        expected = np.var(value, axis=1, ddof=2)
    _assert_matches(_compile([x], T.var(x, axis=1, ddof=2))(value), expected, "ddof=n")


def test_reductions_of_static_shape_inputs_use_constant_counts() -> None:
    x = T.tensor("float64", shape=SHAPE)
    value = _sample("float64")
    outputs = [T.mean(x, axis=(0, 2)), T.var(x, axis=-1, ddof=1), T.std(x)]
    got = _compile([x], outputs)(value)
    _assert_matches(got[0], np.mean(value, axis=(0, 2)), "mean")
    _assert_matches(got[1], np.var(value, axis=-1, ddof=1), "var")
    _assert_matches(got[2], np.std(value), "std")


def test_methods_on_variables_call_the_reductions() -> None:
    value = _sample("float64", (3, 4))
    x = _input_like(value)
    outputs = [
        x.sum(axis=1), x.prod(), x.mean(axis=0, keepdims=True), x.var(ddof=1), x.std(axis=1),
        x.max(axis=0), x.min(), x.argmax(axis=1), x.argmin(), x.all(), x.any(axis=0), x.size,
    ]
    expected = [
        value.sum(axis=1), value.prod(), value.mean(axis=0, keepdims=True), value.var(ddof=1),
        value.std(axis=1), value.max(axis=0), value.min(), value.argmax(axis=1), value.argmin(),
        value.all(), value.any(axis=0), np.int64(value.size),
    ]
    for i, (g, e) in enumerate(zip(_compile([x], outputs)(value), expected)):
        _assert_matches(g, e, f"method output {i}")


# -- logsumexp ----------------------------------------------------------------------------------
def test_logsumexp_matches_scipy_at_ordinary_values() -> None:
    value = _sample("float64")
    _check_axes_and_keepdims(T.logsumexp, scipy.special.logsumexp, value, [None, 0, -1, (0, 2)])


def test_logsumexp_is_stable_at_extreme_values_and_rows_of_minus_inf() -> None:
    inf = np.inf
    value = np.array([
        [1000.0, 1000.0, 999.0],
        [-1000.0, -1000.0, -1001.0],
        [-inf, -inf, -inf],
        [-inf, 0.0, -inf],
        [inf, 1.0, -inf],
        [1000.0, -1000.0, 0.0],
    ])
    x = _input_like(value)
    outputs = [T.logsumexp(x, axis=1), T.logsumexp(x, axis=0), T.logsumexp(x, keepdims=True)]
    got_rows, got_columns, got_all = _compile([x], outputs)(value)
    with np.errstate(invalid="ignore"):  # scipy computes inf - inf for the +inf row
        expected_rows = scipy.special.logsumexp(value, axis=1)
    np.testing.assert_allclose(got_rows, expected_rows, rtol=1e-12)
    assert not np.isnan(got_rows).any()
    columns = scipy.special.logsumexp(value, axis=0)
    np.testing.assert_allclose(got_columns, columns, rtol=1e-12)
    np.testing.assert_allclose(got_all, scipy.special.logsumexp(value, keepdims=True), rtol=1e-12)


def test_logsumexp_of_float32_stays_float32_and_finite() -> None:
    value = np.array([[88.0, 89.0, 90.0], [-200.0, -150.0, -100.0]], dtype="float32")
    x = _input_like(value)
    out = T.logsumexp(x, axis=-1)
    assert out.dtype == "float32"
    got = _compile([x], out)(value)
    expected = scipy.special.logsumexp(value.astype("float64"), axis=-1)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


# -- static shapes, ops, infer_shape --------------------------------------------------------
def test_static_shapes_drop_reduced_axes_and_keepdims_inserts_ones() -> None:
    x = T.tensor("float64", shape=(2, None, 4))
    assert T.sum(x).type.shape == ()
    assert T.sum(x, axis=0).type.shape == (None, 4)
    assert T.sum(x, axis=(0, 2), keepdims=True).type.shape == (1, None, 1)
    assert T.prod(x, axis=()).type.shape == (2, None, 4)
    assert T.mean(x, axis=1).type.shape == (2, 4)
    assert T.var(x, axis=0, keepdims=True).type.shape == (1, None, 4)
    assert T.std(x, axis=-1).type.shape == (2, None)
    assert T.max(x, axis=-1, keepdims=True).type.shape == (2, None, 1)
    assert T.argmax(x, axis=-1).type.shape == (2, None)
    assert T.argmin(x, keepdims=True).type.shape == (1, 1, 1)
    assert T.all(x, axis=1).type.shape == (2, 4)
    assert T.logsumexp(x, axis=(0, 2)).type.shape == (None,)
    assert T.logsumexp(x, axis=1, keepdims=True).type.shape == (2, 1, 4)


def test_default_user_call_builds_the_same_op_as_the_class() -> None:
    x = T.dmatrix("x")
    assert T.sum(x).owner.op == Sum((0, 1))
    assert hash(T.sum(x, axis=-1).owner.op) == hash(Sum((1,)))
    assert T.sum(x, axis=(1, 0), dtype="float64").owner.op == Sum((0, 1))
    assert T.sum(x, dtype="float32").owner.op == Sum((0, 1), dtype="float32")
    assert T.prod(x).owner.op != Sum((0, 1))
    assert Max([1, 0]) == Max((0, 1))
    assert str(Sum((0,), dtype="float32")) == "Sum{axis=(0,), dtype=float32}"


def test_infer_shape_keeps_the_unreduced_entries() -> None:
    x = T.tensor("float64", shape=(2, None, 4))
    n = T.lscalar("n")
    for out in (T.sum(x, axis=(0, 2)), T.argmax(x, axis=(0, 2)), T.all(x, axis=(0, 2))):
        node = out.owner
        assert node.op.infer_shape(node, [(2, n, 4)]) == [(n,)]
    node = T.prod(x, axis=1).owner
    assert node.op.infer_shape(node, [(2, n, 4)]) == [(2, 4)]


# -- bad arguments ----------------------------------------------------------------------------
def test_axis_out_of_range_names_the_function_the_axis_and_ndim() -> None:
    x = T.dmatrix("x")
    message = r"sum: axis 2 is out of bounds for x, which has ndim 2"
    with pytest.raises(np.exceptions.AxisError, match=message):
        T.sum(x, axis=2)
    message = r"max: axis -3 is out of bounds .* ndim 2 \(valid axes: -2..1\)"
    with pytest.raises(ValueError, match=message):
        T.max(x, axis=-3)
    with pytest.raises(IndexError, match=r"argmin: axis 5"):
        T.argmin(x, axis=(0, 5))
    with pytest.raises(ValueError, match=r"mean: axis 0 is out of bounds .* ndim 0"):
        T.mean(T.dscalar("s"), axis=0)


def test_repeated_or_non_integer_axes_are_rejected() -> None:
    x = T.dmatrix("x")
    with pytest.raises(ValueError, match=r"var: axis \(0, -2\) names axis 0 twice"):
        T.var(x, axis=(0, -2))
    message = r"logsumexp: axis must be an int, a tuple of ints or None, got 1.5"
    with pytest.raises(TypeError, match=message):
        T.logsumexp(x, axis=1.5)
    with pytest.raises(TypeError, match=r"all: axis must be an int"):
        T.all(x, axis="rows")
    with pytest.raises(ValueError, match=r"argmax: axis=\(\) names no axis"):
        T.argmax(x, axis=())


def test_ops_reject_axes_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match=r"Sum: axis must hold non-negative ints, got \(-1,\)"):
        Sum((-1,))
    with pytest.raises(ValueError, match=r"Prod: axis \(1, 1\) repeats an axis"):
        Prod((1, 1))
    with pytest.raises(TypeError, match=r"All: axis must be a tuple"):
        All(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Argmax: axis must name at least one axis"):
        Argmax(())
    with pytest.raises(ValueError, match=r"Max\{axis=\(2,\)\}: axis 2 is out of range for x"):
        Max((2,))(T.dmatrix("x"))


def test_narrow_accumulator_and_conflicting_ddof_are_rejected() -> None:
    with pytest.raises(TypeError, match=r"accumulator dtype float32 cannot hold float64 input"):
        T.sum(T.dvector("v"), acc_dtype="float32")
    with pytest.raises(ValueError, match=r"std: corrected=True means ddof=1, but ddof=2 was given"):
        T.std(T.dvector("v"), ddof=2, corrected=True)


# -- gradients --------------------------------------------------------------------------------
GRAD_AXES: list[Any] = [None, 0, -1, (0, 2)]


@pytest.mark.parametrize("axis", GRAD_AXES)
def test_sum_mean_var_std_gradients(axis: Any) -> None:
    value = _sample("float64")
    verify_grad(lambda x: T.sum(x, axis=axis), [value], mode="py")
    verify_grad(lambda x: T.sum(x, axis=axis, keepdims=True), [value], mode="py")
    verify_grad(lambda x: T.mean(x, axis=axis), [value], mode="py")
    verify_grad(lambda x: T.var(x, axis=axis), [value], mode="py")
    verify_grad(lambda x: T.std(x, axis=axis, ddof=1), [value], mode="py")


@pytest.mark.parametrize("axis", GRAD_AXES)
def test_prod_gradient_without_zeros(axis: Any) -> None:
    value = 0.5 + np.random.default_rng(1).random(SHAPE)
    verify_grad(lambda x: T.prod(x, axis=axis), [value], mode="py")


@pytest.mark.parametrize("axis", [None, 1, -1, (0, 2)])
def test_prod_gradient_with_one_and_several_zeros(axis: Any) -> None:
    value = 0.5 + np.random.default_rng(2).random(SHAPE)
    value[0, 0, 0] = 0.0  # one zero in some groups
    value[1, 2, 1] = 0.0  # two zeros in others
    value[1, 2, 3] = 0.0
    verify_grad(lambda x: T.prod(x, axis=axis), [value], mode="py")


def test_prod_gradient_values_at_zeros_are_products_of_the_others() -> None:
    x = T.dmatrix("x")
    f = _compile([x], T.grad(T.prod(x, axis=1).sum(), x))
    value = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 3.0], [1.0, 2.0, 3.0]])
    expected = np.array([[6.0, 0.0, 0.0], [0.0, 0.0, 0.0], [6.0, 3.0, 2.0]])
    np.testing.assert_array_equal(f(value), expected)


def test_prod_second_derivative_without_zeros() -> None:
    value = 0.5 + np.random.default_rng(3).random((2, 3))
    verify_grad(lambda x: T.grad(T.prod(x), x), [value], mode="py")


@pytest.mark.parametrize("axis", GRAD_AXES)
def test_max_and_min_gradients(axis: Any) -> None:
    value = _sample("float64")  # distinct values, so no ties
    verify_grad(lambda x: T.max(x, axis=axis), [value], mode="py")
    verify_grad(lambda x: T.min(x, axis=axis, keepdims=True), [value], mode="py")


def test_max_gradient_is_shared_evenly_among_ties() -> None:
    x = T.dmatrix("x")
    f = _compile([x], [T.grad(T.max(x, axis=1).sum(), x), T.grad(T.min(x), x)])
    value = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]])
    got_max, got_min = f(value)
    np.testing.assert_array_equal(got_max, [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(got_min, [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


@pytest.mark.parametrize("axis", GRAD_AXES)
def test_logsumexp_gradient(axis: Any) -> None:
    value = _sample("float64")
    verify_grad(lambda x: T.logsumexp(x, axis=axis), [value], mode="py")
    verify_grad(lambda x: T.logsumexp(x, axis=axis, keepdims=True), [value + 300.0], mode="py")


def test_logsumexp_gradient_is_softmax_at_large_values() -> None:
    x = T.dmatrix("x")
    f = _compile([x], T.grad(T.logsumexp(x, axis=1).sum(), x))
    value = np.array([[1000.0, 1000.0, 999.0], [-1000.0, -1001.0, -1000.0]])
    expected = scipy.special.softmax(value, axis=1)
    np.testing.assert_allclose(f(value), expected, rtol=1e-12)


def test_float32_sum_and_mean_gradients() -> None:
    value = _sample("float32", (3, 4))
    verify_grad(lambda x: T.sum(x, axis=0), [value], mode="py")
    verify_grad(lambda x: T.mean(x, axis=(0, 1)), [value], mode="py")


def test_no_gradient_flows_through_argmax_all_any() -> None:
    x = T.dvector("x")
    cost = T.sum(x) + T.cast(T.argmax(x), "float64") + T.cast(T.all(x > 0), "float64")
    cost = cost + T.cast(T.any(x > 0), "float64")
    f = _compile([x], T.grad(cost, x))
    np.testing.assert_array_equal(f(np.array([1.0, -2.0, 3.0])), [1.0, 1.0, 1.0])
