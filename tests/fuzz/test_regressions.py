"""Bugs the fuzzer found, each as the smallest graph that showed it, with the right answer.

A test marked xfail(strict=True) documents a bug that is still open (the reason says where);
it starts failing loudly (XPASS) once the bug is fixed, so the mark can be removed.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sps

import symgraph as sg
import symgraph.tensor as T

pytestmark = pytest.mark.needs_gcc


def test_c_softmax_of_a_vector_compiles_and_matches_scipy() -> None:
    # The C softmax emitter put `continue` outside any loop when the input had one axis.
    x = T.dvector("x")
    values = np.array([0.5, -1.0, 3.0])
    for fn, expected in (
        (T.nnet.softmax, sps.softmax(values)),
        (T.nnet.log_softmax, sps.log_softmax(values)),
    ):
        f = sg.compile_function([x], fn(x, axis=0), mode="c")
        np.testing.assert_allclose(f(values), expected, rtol=1e-12)
        assert not f.maker.runner.python_nodes


def test_exp_product_rewrite_adds_bool_exponents_as_numbers() -> None:
    # exp(a) * exp(b) -> exp(a + b) added bool exponents with `or` (True + True = True),
    # giving e instead of e**2 (rewrite/rules/specialize.py, exp_product_to_exp_sum).
    a, b = T.tensor("bool", shape=(None,), name="a"), T.tensor("bool", shape=(None,), name="b")
    av, bv = np.array([True, True, False]), np.array([True, False, False])
    f = sg.compile_function([a, b], T.exp(a) * T.exp(b), mode="c")
    expected = np.exp(av.astype("float32")) * np.exp(bv.astype("float32"))
    got = f(av, bv)
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize(
    "build",
    [
        lambda b: 1 - T.sigmoid(b),
        lambda b: T.log(T.sigmoid(b)),
        lambda b: 1 + T.erf(b),
        lambda b: T.log(1 - b),
    ],
    ids=["one_minus_sigmoid", "log_sigmoid", "one_plus_erf", "log_one_minus"],
)
def test_stability_rewrites_that_negate_their_argument_leave_bool_inputs_alone(build) -> None:
    # The stability rules' guard accepted bool, and their right-hand sides negate x
    # (sigmoid(-x), softplus(-x), erfc(-x), log1p(-x)): compiling raised
    # "TypeError: cannot negate a bool tensor" (rewrite/rules/stability.py, _real).
    b = T.tensor("bool", shape=(None,), name="b")
    values = np.array([True, False])
    out = build(b)
    got = sg.compile_function([b], out, mode="c")(values)
    expected = sg.compile_function([b], out, mode="py", optimizer="none")(values)
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_subtracting_bool_tensors_is_refused_when_the_graph_is_built() -> None:
    # NumPy has no bool - bool: mode 'py' raised a raw numpy TypeError when called, while
    # mode 'c' returned numbers (scalar/arithmetic.py, Sub accepted bool operands).
    a, b = T.tensor("bool", shape=(None,), name="a"), T.tensor("bool", shape=(None,), name="b")
    with pytest.raises(TypeError, match="cannot subtract bool tensors"):
        a - b
    assert (a - 1).dtype == "int64"  # bool minus a number is still fine, as in NumPy


def test_log_sum_exp_over_an_empty_axis_is_minus_infinity() -> None:
    # log(sum(exp(x))) is rewritten to the max-shifted logsumexp, and Max has no identity:
    # over an empty axis the rewritten graph raised where the graph as written gives -inf
    # (rewrite/rules/stability.py, _log_sum_exp; tensor/reduce.py, logsumexp now shifts by
    # max_or_minus_inf, which pads a possibly empty axis with -inf).
    x = T.dmatrix("x")
    f = sg.compile_function([x], T.log(T.sum(T.exp(x), axis=1)), mode="c")
    np.testing.assert_array_equal(f(np.zeros((2, 0))), [-np.inf, -np.inf])
    assert f.rewrites_applied["log_sum_exp_to_logsumexp"] == 1
    assert set(f.maker.rewrite_log.stop_reasons.values()) == {"fixpoint"}


def test_logsumexp_over_an_empty_axis_is_minus_infinity() -> None:
    # T.logsumexp shifted by max(x), which raised on an empty axis; scipy gives -inf
    x = T.dmatrix("x")
    f = sg.compile_function([x], T.logsumexp(x, axis=1), mode="c")
    np.testing.assert_array_equal(f(np.zeros((2, 0))), sps.logsumexp(np.zeros((2, 0)), axis=1))


_LSE_ROWS = np.array(
    [
        [1.0, 2.0, 3.0],
        [-np.inf, -np.inf, -np.inf],
        [1.0, np.inf, 2.0],
        [1.0, np.nan, 2.0],
        [np.inf, -np.inf, 0.0],
        [1000.0, 999.0, -1000.0],
    ]
)


@pytest.mark.parametrize(
    "build",
    [
        lambda x, axis, kd: T.logsumexp(x, axis=axis, keepdims=kd),
        lambda x, axis, kd: T.log(T.sum(T.exp(x), axis=axis, keepdims=kd)),
    ],
    ids=["logsumexp", "log_sum_exp_rewritten"],
)
@pytest.mark.parametrize(
    "shape, axis",
    [
        ((6, 3), 1), ((6, 3), 0), ((6, 3), None), ((2, 0), 1), ((2, 0), 0), ((0, 3), 1),
        ((0, 3), 0), ((0, 0), None), ((2, 0, 3), (0, 2)), ((2, 3, 0), (0, 2)),
    ],
)
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_of_empty_and_non_finite_rows_matches_py_and_scipy(
    build, shape, axis, keepdims
) -> None:
    # empty axes (one of several too), rows of -inf, rows holding +inf or NaN: mode 'c'
    # with the rewrites equals mode 'py' and scipy.special.logsumexp
    x = T.tensor("float64", shape=(None,) * len(shape), name="x")
    values = _LSE_ROWS if shape == (6, 3) else np.zeros(shape)
    out = build(x, axis, keepdims)
    got = sg.compile_function([x], out, mode="c")(values)
    with np.errstate(all="ignore"):
        expected = sg.compile_function([x], out, mode="py")(values)
        written = sg.compile_function([x], out, mode="py", optimizer="none")(values)
    assert got.shape == expected.shape == written.shape
    np.testing.assert_array_equal(got, expected)
    finite = np.isfinite(written)  # the rest may differ: exp(1000) overflows as written
    np.testing.assert_allclose(got[finite], written[finite], rtol=1e-14)
    if values.size == 0:  # log(0) = -inf as written (scipy raises for axis None or a tuple)
        np.testing.assert_array_equal(got, written)
        return
    with np.errstate(all="ignore"):
        reference = sps.logsumexp(values, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(got, reference, rtol=1e-14)


@pytest.mark.parametrize(
    "static, axis, shape",
    [
        ((1, None, None), None, (1, 1, 2)),
        ((None, None, 1), (0, 2), (2, 0, 1)),
        ((1, None), None, (1, 0)),
    ],
)
def test_log_sum_exp_with_a_static_length_one_axis_is_rewritten_once(static, axis, shape) -> None:
    # The empty-axis fix first reduced every axis of the max shift on its own; the Max over
    # an axis of static length 1 was then removed (reduce_over_length_one_axes), the shift
    # no longer looked like T.logsumexp's, and log_sum_exp_to_logsumexp fired again until the
    # budget stopped it (tensor/reduce.py, max_or_minus_inf now leaves such axes alone).
    x = T.tensor("float64", shape=static, name="x")
    f = sg.compile_function([x], T.log(T.sum(T.exp(x), axis=axis)), mode="c")
    assert f.rewrites_applied["log_sum_exp_to_logsumexp"] == 1
    assert set(f.maker.rewrite_log.stop_reasons.values()) == {"fixpoint"}
    values = np.random.default_rng(0).normal(size=shape)
    with np.errstate(divide="ignore"):
        expected = np.log(np.sum(np.exp(values), axis=axis))
    np.testing.assert_allclose(f(values), expected, rtol=1e-13)


def test_sum_of_int_times_float_factor_is_summed_in_float() -> None:
    # sum(x * 2.0) -> 2.0 * sum(x) summed the int64 x in int64, which wraps around
    # (rewrite/rules/reduce.py, sum_of_scaled_pulls_out_factor); 4 * 2**62 summed as
    # float64 is 2**64, not 0.
    x = T.lvector("x")
    f = sg.compile_function([x], T.sum(x * 2.0) / 2.0, mode="c")
    got = f(np.full(4, 2**62, dtype=np.int64))
    assert got.dtype == np.float64
    assert got == 2.0**64


def test_float32_log_one_minus_exp_is_rewritten_once() -> None:
    # The log1mexp rules re-applied to their own clamped branches for float32: the clamp
    # constant -log(2) rounded to float32 lies below -log(2) in float64, so the guard
    # (rewrite/rules/stability.py, _clamped) missed it and the rule fired 725 times until
    # the budget stopped it (856 nodes, a 1.3 MB C file, minutes of gcc).
    x = T.fvector("x")
    f = sg.compile_function([x], T.log(1 - T.exp(x)), mode="c")
    assert f.rewrites_applied["log_of_neg_expm1_to_log1mexp"] == 1
    assert set(f.maker.rewrite_log.stop_reasons.values()) == {"fixpoint"}
    values = np.array([-3.0, -0.5, -1e-3], dtype="float32")
    np.testing.assert_allclose(f(values), np.log(-np.expm1(values)), rtol=1e-5)


def test_sign_of_a_bool_tensor_is_refused_when_the_graph_is_built() -> None:
    # NumPy has no sign of bool: mode 'py' raised a raw numpy error when called, while mode
    # 'c' returned the input (scalar/arithmetic.py, Sign accepted bool).
    b = T.tensor("bool", shape=(None,), name="b")
    with pytest.raises(TypeError, match="sign is not defined for a bool tensor"):
        T.sign(b)


@pytest.mark.parametrize("mode", ["py", "c"])
def test_outer_product_keeps_nan_times_zero_as_nan(mode: str) -> None:
    # The py backend computed Dot with np.dot, whose BLAS gemv skips zero entries of the
    # vector: outer([nan], [0]) gave 0 in mode 'py' and NaN in mode 'c' (and in np.outer)
    # (backends/py/impls/linalg.py, py_dot; blas.py, py_gemv/py_gemm).
    x, y = T.dvector("x"), T.dvector("y")
    a = T.dmatrix("a")
    xv, yv = np.array([1.0, np.nan, 2.0]), np.array([0.0])
    f = sg.compile_function([x, y, a], [T.outer(x, y), T.dot(a, y)], mode=mode)
    outer, matvec = f(xv, yv, xv[:, None])
    np.testing.assert_array_equal(outer, np.outer(xv, yv))
    np.testing.assert_array_equal(matvec, [0.0, np.nan, 0.0])


def test_sqrt_of_int_square_keeps_numpy_wraparound() -> None:
    # sqrt(x * x) -> |x| was applied to integers, where x * x wraps around: for int32
    # x = 2**31 - 1 NumPy gives sqrt(1) = 1, the rewrite gave 2147483647, and for x = -2**31
    # it gave a negative "square root" (rewrite/rules/algebra.py, sqrt_of_sqr_to_abs).
    x = T.ivector("x")
    values = np.array([2**31 - 1, -(2**31), -3], dtype=np.int32)
    with np.errstate(over="ignore"):
        expected = np.sqrt(values * values)
    for out in (T.sqrt(T.sqr(x)), T.sqrt(x * x)):
        got = sg.compile_function([x], out, mode="c")(values)
        np.testing.assert_array_equal(got, expected)


def test_c_gammaln_of_minus_infinity_matches_the_py_backend() -> None:
    x = T.dvector("x")
    values = np.array([-np.inf, np.inf, 0.5])
    got = sg.compile_function([x], T.gammaln(x), mode="c")(values)
    expected = sg.compile_function([x], T.gammaln(x), mode="py")(values)
    # glibc's lgamma and scipy's gammaln differ in the last bit at 0.5
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    assert got[0] == -np.inf and got[1] == np.inf


def test_power_with_an_infinite_constant_exponent_compiles() -> None:
    # x ** 1e300 with a float32 x makes the exponent float32 inf; the repeated-squaring
    # rewrite called int(inf) and compiling raised OverflowError
    # (rewrite/rules/specialize.py, _pow_integer).
    x = T.fvector("x")
    values = np.array([0.5, 1.0, 2.0], dtype="float32")
    with np.errstate(over="ignore"):  # 1e300 rounds to float32 inf
        power = x**1e300
    got = sg.compile_function([x], power, mode="c")(values)
    np.testing.assert_array_equal(got, np.array([0.0, 1.0, np.inf], dtype="float32"))


def test_stability_rewrites_do_not_apply_integer_arithmetic_that_wraps() -> None:
    # The stability rules accepted integer x and built -x or a - b in the integer dtype,
    # which wraps around where the formula as written computes in float
    # (rewrite/rules/stability.py, _real): 1 - sigmoid(x) -> sigmoid(-x) gave 0 instead of 1
    # for x = INT64_MIN, log(exp(a) - exp(b)) -> a + log1mexp(b - a) gave NaN for
    # a = 4, b = INT64_MIN.
    a, b = T.lvector("a"), T.lvector("b")
    lowest = np.iinfo(np.int64).min
    av, bv = np.array([lowest, 4]), np.array([0, lowest])
    f = sg.compile_function([a, b], [1 - T.sigmoid(a), T.log(T.exp(a) - T.exp(b))], mode="c")
    one_minus_sigmoid, log_difference = f(av, bv)
    np.testing.assert_allclose(one_minus_sigmoid, [1.0, 1 - 1 / (1 + np.exp(-4.0))])
    assert log_difference[1] == 4.0


def test_c_float_to_int_cast_of_non_finite_values_matches_the_py_backend() -> None:
    x = T.dvector("x")
    values = np.array([np.inf, -np.inf, np.nan, 1e10, 2.5])
    out = T.exp(T.cast(T.cast(x, "int32"), "int64"))
    got = sg.compile_function([x], out, mode="c")(values)
    with np.errstate(invalid="ignore"):
        expected = sg.compile_function([x], out, mode="py")(values)
    np.testing.assert_array_equal(got, expected)


def test_c_cos_and_sin_of_arctan_propagate_nan() -> None:
    x = T.dvector("x")
    values = np.array([np.nan, 0.5])
    cos_atan = sg.compile_function([x], T.cos(T.arctan(x)), mode="c")(values)
    sin_atan = sg.compile_function([x], T.sin(T.arctan(x)), mode="c")(values)
    assert np.isnan(cos_atan[0]) and np.isnan(sin_atan[0])
    np.testing.assert_allclose(cos_atan[1], np.cos(np.arctan(0.5)))
    np.testing.assert_allclose(sin_atan[1], np.sin(np.arctan(0.5)))


def test_c_does_not_contract_multiply_and_subtract_into_fma() -> None:
    x = T.dvector("x")
    out = T.mean(x * x) - T.mean(x) ** 2
    values = np.full(3, -1e300)
    got = sg.compile_function([x], out, mode="c")(values)
    with np.errstate(all="ignore"):
        expected = sg.compile_function([x], out, mode="py")(values)
    assert np.isnan(expected)
    np.testing.assert_array_equal(got, expected)


def test_minus_one_times_a_bool_compiles_and_gives_minus_one() -> None:
    # -1 * x -> -x negated the bool factor itself: compiling raised "TypeError: cannot negate
    # a bool tensor" (rewrite/rules/specialize.py, mul_minus_one_to_neg).
    b = T.tensor("bool", shape=(None,), name="b")
    got = sg.compile_function([b], b * -1, mode="c")(np.array([True, False]))
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, [-1, 0])


def test_softmax_rewrite_keeps_the_zeros_next_to_an_infinite_input() -> None:
    # exp(x) / sum(exp(x)) -> softmax(x) (rewrite/rules/stability.py,
    # exp_over_sum_exp_to_softmax) gave NaN for every element of a row holding +inf: the
    # softmax shifted by the max, inf - inf; an infinite max now shifts by 0 (emit/nnet.py,
    # backends/py/impls/nnet.py)
    x = T.dvector("x")
    out = T.exp(x) / T.exp(x).sum(axis=-1, keepdims=True)
    got = sg.compile_function([x], out, mode="c")(np.array([1.0, np.inf, 2.0]))
    assert got[0] == 0.0 and got[2] == 0.0


def test_x_minus_logsumexp_rewrite_keeps_minus_infinity_next_to_an_infinite_input() -> None:
    # x - logsumexp(x, keepdims) -> log_softmax(x) (x_minus_logsumexp_to_log_softmax) gave
    # NaN for every element of a row holding +inf; as written the finite ones are -inf
    x = T.dmatrix("x")
    values = np.array([[1.0, np.inf, 2.0], [-np.inf, -np.inf, 0.0], [-np.inf, np.inf, np.inf]])
    out = x - T.logsumexp(x, axis=1, keepdims=True)
    f = sg.compile_function([x], out, mode="c")
    assert f.rewrites_applied["x_minus_logsumexp_to_log_softmax"] == 1
    with np.errstate(all="ignore"):
        expected = sg.compile_function([x], out, mode="py", optimizer="none")(values)
        got = f(values)
        np.testing.assert_array_equal(got, expected)


def test_c_isinf_of_minus_infinity_is_a_proper_bool() -> None:
    x = T.dvector("x")
    got = sg.compile_function([x], T.cast(T.isinf(x), "float64"), mode="c")(
        np.array([-np.inf, np.inf, 1.0])
    )
    np.testing.assert_array_equal(got, [1.0, 1.0, 0.0])


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("softmax", [T.nnet.softmax, T.nnet.log_softmax])
def test_c_softmax_of_integers_along_a_leading_axis_matches_py(softmax, dtype: str) -> None:
    # The C softmax's gather path (lines not along the last axis) converted each line to the
    # output dtype in a buffer, then ran the row kernel for the input dtype on it, reading
    # float bits as integers (backends/c/emit/nnet.py, _emit_along_axis): softmax(isinf(x),
    # axis=0) gave 0 everywhere, an int64 line [3, 2] gave [1, 0] instead of [0.73, 0.27].
    x = T.tensor(dtype, shape=(None, None), name="x")
    values = np.array([[3, 1], [2, 5], [0, 0]]).astype(dtype)
    out = softmax(x, axis=0)
    got = sg.compile_function([x], out, mode="c")(values)
    expected = sg.compile_function([x], out, mode="py")(values)
    # bool gives float32: C sums the exponentials in double, NumPy in float32
    np.testing.assert_allclose(got, expected, rtol=1e-6 if dtype == "bool" else 1e-12)


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint16", "uint64"])
def test_c_integer_arithmetic_wraps_around_as_numpy_does(dtype: str) -> None:
    # The C backend emitted integer + - * and negation as plain C, where signed overflow is
    # undefined: UBSan aborted the sanitizer run on INT64_MAX * INT64_MAX, and gcc -O3 folded
    # x + y > x to true for x = INT64_MAX, y = 1 (NumPy wraps: False). uint16 * uint16 is
    # computed in C's signed int, which overflows too (backends/c/emit/scalar.py, _wrapping).
    x = T.tensor(dtype, shape=(None,), name="x")
    y = T.tensor(dtype, shape=(None,), name="y")
    info = np.iinfo(dtype)
    xv = np.array([info.max, info.min, 5, info.max], dtype=dtype)
    yv = np.array([1, 1, 3, info.max], dtype=dtype)
    outs = [T.gt(x + y, x), T.lt(x - y, x), x * y, x * x, T.sqr(y), x * y * x, -x, abs(x)]
    got = sg.compile_function([x, y], outs, mode="c")(xv, yv)
    with np.errstate(all="ignore"):
        expected = sg.compile_function([x, y], outs, mode="py", optimizer="none")(xv, yv)
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype
        np.testing.assert_array_equal(g, e)
