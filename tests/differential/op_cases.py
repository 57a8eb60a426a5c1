"""The table of op cases: every op, its NumPy meaning, its inputs and domain.

Family sections are plain lists; ``ALL_CASES`` joins them. Add a case for every new op.
"""

from __future__ import annotations

import numpy as np
import scipy.special as sps

import symgraph.tensor as T
from tests.differential.harness import OpCase

F = "float64"
M = (3, 4)


def _unary(name, fn, ref, domain=(-2.0, 2.0), differentiable=True, dtype=F, shape=M, **kw):
    return OpCase(name, fn, ref, [(dtype, shape)], domain=domain, differentiable=differentiable, **kw)


def _binary(name, fn, ref, domain=(-2.0, 2.0), differentiable=True, dtypes=(F, F), shapes=(M, M), **kw):
    return OpCase(name, fn, ref, [(dtypes[0], shapes[0]), (dtypes[1], shapes[1])], domain=domain,
                  differentiable=differentiable, **kw)


def _round_half_away(x):
    return np.where(x >= 0, np.floor(x + 0.5), np.ceil(x - 0.5))


ELEMWISE_CASES = [
    # arithmetic
    _binary("add", lambda a, b: a + b, np.add),
    _binary("add_broadcast_vector", lambda a, b: a + b, np.add, shapes=(M, (4,))),
    OpCase("add_nary", lambda a, b, c: T.add(a, b, c), lambda a, b, c: a + b + c, [(F, M)] * 3),
    _binary("sub", lambda a, b: a - b, np.subtract),
    _binary("mul", lambda a, b: a * b, np.multiply),
    _binary("mul_broadcast_col", lambda a, b: a * b.dimshuffle(0, "x"), lambda a, b: a * b[:, None],
            shapes=(M, (3,))),
    _binary("true_div", lambda a, b: a / b, np.true_divide, domain=(0.5, 2.0)),
    _binary("true_div_int_gives_float64", lambda a, b: a / b, np.true_divide, domain=(1, 9),
            differentiable=False, dtypes=("int32", "int32")),
    _binary("int_div_int", lambda a, b: a // b, np.floor_divide, domain=(1, 9), differentiable=False,
            dtypes=("int32", "int32")),
    _binary("int_div_float", lambda a, b: a // b, np.floor_divide, domain=(0.5, 3), differentiable=False),
    _binary("mod_int_negative", lambda a, b: a % b, np.remainder, domain=(-9, 9), differentiable=False,
            dtypes=("int64", "int64"), shapes=((20,), (20,))),
    _binary("mod_float", lambda a, b: a % b, np.remainder, domain=(0.5, 3.0)),
    _binary("pow", lambda a, b: a ** b, np.power, domain=(0.5, 2.0)),
    _unary("pow_constant", lambda a: a ** 3, lambda a: a ** 3),
    _unary("neg", lambda a: -a, np.negative),
    _unary("abs", lambda a: abs(a), np.abs),
    _unary("abs_int", lambda a: abs(a), np.abs, dtype="int32", domain=(-9, 9), differentiable=False),
    _unary("sign", T.sign, np.sign, differentiable=False),
    _unary("sqr", T.sqr, np.square),
    _unary("reciprocal", T.reciprocal, np.reciprocal, domain=(0.5, 2.0)),
    _binary("maximum", T.maximum, np.maximum),
    _binary("minimum", T.minimum, np.minimum),
    _unary("floor", T.floor, np.floor, differentiable=False),
    _unary("ceil", T.ceil, np.ceil, differentiable=False),
    _unary("trunc", T.trunc, np.trunc, differentiable=False),
    _unary("round_half_to_even", T.round_half_to_even, np.round, domain=(-3, 3), differentiable=False,
           shape=(9,)),
    _unary("round_half_away_from_zero", T.round_half_away_from_zero, _round_half_away,
           differentiable=False),
    _unary("clip", lambda a: T.clip(a, -0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7)),
    _unary("clip_method", lambda a: a.clip(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7)),
    _unary("cast_to_int32", lambda a: T.cast(a, "int32"), lambda a: a.astype("int32"), differentiable=False),
    _unary("cast_to_float32", lambda a: T.cast(a, "float32"), lambda a: a.astype("float32"), rtol=1e-6),
    _unary("astype_bool", lambda a: a.astype("bool"), lambda a: a.astype("bool"), differentiable=False),
    OpCase("switch", lambda c, a, b: T.switch(c, a, b), np.where, [("bool", M), (F, M), (F, M)]),
    OpCase("where", lambda c, a, b: T.where(c > 0, a, b), lambda c, a, b: np.where(c > 0, a, b), [(F, M)] * 3),
    _unary("tensor_copy", T.tensor_copy, np.copy),
    _binary("fill", T.fill, lambda a, b: np.broadcast_to(b, a.shape).copy(), shapes=(M, ())),
    _unary("zeros_like", T.zeros_like, np.zeros_like, differentiable=False),
    _unary("ones_like", T.ones_like, np.ones_like, differentiable=False),
    # comparison and logic
    _binary("lt", lambda a, b: a < b, np.less, differentiable=False),
    _binary("le", lambda a, b: a <= b, np.less_equal, differentiable=False),
    _binary("gt", lambda a, b: a > b, np.greater, differentiable=False),
    _binary("ge", lambda a, b: a >= b, np.greater_equal, differentiable=False),
    _binary("eq", T.eq, np.equal, differentiable=False, dtypes=("int32", "int32"), domain=(0, 2)),
    _binary("neq", T.neq, np.not_equal, differentiable=False, dtypes=("int32", "int32"), domain=(0, 2)),
    _unary("isnan", T.isnan, np.isnan, differentiable=False),
    _unary("isinf", T.isinf, np.isinf, differentiable=False),
    _binary("and_bool", lambda a, b: a & b, np.logical_and, differentiable=False, dtypes=("bool", "bool")),
    _binary("or_int", lambda a, b: a | b, np.bitwise_or, differentiable=False, dtypes=("int16", "int16"),
            domain=(0, 100)),
    _binary("xor_bool", lambda a, b: a ^ b, np.logical_xor, differentiable=False, dtypes=("bool", "bool")),
    _unary("invert_bool", lambda a: ~a, np.logical_not, differentiable=False, dtype="bool"),
    _unary("invert_int", lambda a: ~a, np.invert, differentiable=False, dtype="int8", domain=(-100, 100)),
    # exponentials and logarithms
    _unary("exp", T.exp, np.exp),
    _unary("exp_int8_gives_float32", T.exp, lambda a: np.exp(a.astype("float32")), dtype="int8",
           domain=(-5, 5), differentiable=False, rtol=1e-6),
    _unary("exp_int32_gives_float64", T.exp, lambda a: np.exp(a.astype("float64")), dtype="int32",
           domain=(-5, 5), differentiable=False),
    _unary("exp_float32", T.exp, np.exp, dtype="float32", rtol=1e-6),
    _unary("exp2", T.exp2, np.exp2),
    _unary("expm1", T.expm1, np.expm1),
    _unary("log", T.log, np.log, domain=(0.1, 3.0)),
    _unary("log2", T.log2, np.log2, domain=(0.1, 3.0)),
    _unary("log10", T.log10, np.log10, domain=(0.1, 3.0)),
    _unary("log1p", T.log1p, np.log1p, domain=(-0.5, 2.0)),
    _unary("log1mexp", T.log1mexp, lambda a: np.log(-np.expm1(a)), domain=(-3.0, -0.1)),
    _unary("sqrt", T.sqrt, np.sqrt, domain=(0.1, 3.0)),
    # trigonometric and hyperbolic
    _unary("sin", T.sin, np.sin),
    _unary("cos", T.cos, np.cos),
    _unary("tan", T.tan, np.tan, domain=(-1.0, 1.0)),
    _unary("arcsin", T.arcsin, np.arcsin, domain=(-0.9, 0.9)),
    _unary("arccos", T.arccos, np.arccos, domain=(-0.9, 0.9)),
    _unary("arctan", T.arctan, np.arctan),
    _binary("arctan2", T.arctan2, np.arctan2, domain=(0.2, 2.0)),
    _unary("sinh", T.sinh, np.sinh),
    _unary("cosh", T.cosh, np.cosh),
    _unary("tanh", T.tanh, np.tanh),
    _unary("arcsinh", T.arcsinh, np.arcsinh),
    _unary("arccosh", T.arccosh, np.arccosh, domain=(1.1, 3.0)),
    _unary("arctanh", T.arctanh, np.arctanh, domain=(-0.9, 0.9)),
    # neural-network activations
    _unary("sigmoid", T.sigmoid, sps.expit, domain=(-5, 5)),
    _unary("softplus", T.softplus, lambda a: np.logaddexp(0, a), domain=(-5, 5)),
    _unary("relu", T.relu, lambda a: np.maximum(a, 0)),
    _unary("relu_leaky", lambda a: T.relu(a, alpha=0.1), lambda a: np.where(a > 0, a, 0.1 * a)),
    # special functions
    _unary("erf", T.erf, sps.erf),
    _unary("erfc", T.erfc, sps.erfc),
    _unary("erfinv", T.erfinv, sps.erfinv, domain=(-0.9, 0.9)),
    _unary("erfcinv", T.erfcinv, sps.erfcinv, domain=(0.1, 1.9)),
    _unary("gamma", T.gamma, sps.gamma, domain=(0.5, 3.0)),
    _unary("gammaln", T.gammaln, sps.gammaln, domain=(0.5, 3.0)),
    _unary("psi", T.psi, sps.psi, domain=(0.5, 3.0)),
    _unary("trigamma", T.trigamma, lambda a: sps.polygamma(1, a), domain=(0.5, 3.0), differentiable=False),
]


# ---------------------------------------------------------------------------------------------
# Helpers for the families below: NumPy meanings that are not one NumPy call, and inputs that
# keep functions well-defined (positive-definite matrices, valid labels).
# ---------------------------------------------------------------------------------------------
T3 = (2, 3, 4)
I64 = "int64"


def _set(a, index, value):
    """``a[index] = value`` on a copy: the meaning of set_subtensor."""
    out = np.array(a)
    out[index] = value
    return out


def _inc(a, index, value):
    """``a[index] += value`` on a copy, repeated indices accumulating: inc_subtensor."""
    out = np.array(a)
    np.add.at(out, index, value)
    return out


def _arg_over(fn, a, axes):
    """argmax/argmin over several axes: the kept axes first, the reduced ones flattened (C order)."""
    kept = [i for i in range(a.ndim) if i not in axes]
    moved = a.transpose(kept + list(axes))
    return fn(moved.reshape([a.shape[i] for i in kept] + [-1]), axis=-1)


def _spd(a):
    """A symmetric positive-definite 3 x 3 matrix built from any 3 x 3 ``a`` (inv, det, solve)."""
    return T.dot(a, a.T) + 3 * T.eye(3)


def _spd_np(a):
    return a @ a.T + 3 * np.eye(3)


def _max_plus_argmax(a):
    # max_and_argmax has two outputs; a case has one, so combine them (argmax adds no gradient)
    maximum, index = T.max_and_argmax(a, axis=1)
    return maximum + index


def _split_swap(a):
    first, second = T.split(a, [1, 2], 2, axis=0)
    return T.concatenate([second, first])


def _split_symbolic_sizes(a):
    left, right = T.split(a, [a.shape[1] - 1, 1], 2, axis=-1)
    return T.concatenate([right, left], axis=1)


def _ultra_fast_sigmoid(x):
    u = np.abs(x) / 2
    middle = 0.935409070603099 + 0.0458812946797165 * (u - 1.7)
    z = np.where(u < 1.7, 1.5 * u / (1 + u), np.where(u < 3, middle, 0.99505475368673))
    return 0.5 + np.sign(x) * z / 2


def _labels_crossentropy(a, y):
    return -np.log(sps.softmax(a, axis=-1)[np.arange(len(y)), y])


def _fused_sum_of_squares_rows(a, b):
    from symgraph import scalar as ps
    from symgraph.scalar.composite import Composite
    from symgraph.tensor.reduce import ElemwiseReduce, Sum

    diff_sq = Composite(("float64", "float64"), ((ps.sub, (0, 1)), (ps.sqr, (2,))),
                        ("float64", "float64", "float64", "float64"))
    return ElemwiseReduce(Sum((1,)), diff_sq)(a, b)


REDUCE_CASES = [
    # what the fuse phase makes of sum((a - b) ** 2, axis=1); no gradient (made after grad)
    OpCase("elemwise_reduce_sum_rows", _fused_sum_of_squares_rows, lambda a, b: np.sum((a - b) ** 2, axis=1),
           [(F, M), (F, M)], differentiable=False),
    _unary("sum", T.sum, np.sum),
    _unary("sum_axis0", lambda a: T.sum(a, axis=0), lambda a: np.sum(a, axis=0)),
    _unary("sum_negative_axis", lambda a: a.sum(axis=-1), lambda a: np.sum(a, axis=-1)),
    _unary("sum_tuple_axes", lambda a: T.sum(a, axis=(0, 2)), lambda a: np.sum(a, axis=(0, 2)), shape=T3),
    _unary("sum_keepdims", lambda a: T.sum(a, axis=1, keepdims=True),
           lambda a: np.sum(a, axis=1, keepdims=True)),
    _unary("sum_int32_gives_int64", lambda a: T.sum(a, axis=0), lambda a: np.sum(a, axis=0),
           dtype="int32", domain=(-9, 9), differentiable=False),
    _unary("sum_uint8_gives_uint64", T.sum, np.sum, dtype="uint8", domain=(0, 255), differentiable=False),
    _unary("sum_bool_counts", lambda a: T.sum(a, axis=1), lambda a: np.sum(a, axis=1), dtype="bool",
           differentiable=False),
    _unary("sum_float32", lambda a: T.sum(a, axis=1), lambda a: np.sum(a, axis=1), dtype="float32", rtol=1e-6),
    _unary("sum_dtype_argument", lambda a: T.sum(a, dtype="float32"), lambda a: np.sum(a, dtype="float32"),
           rtol=1e-6, differentiable=False),
    _unary("sum_empty_axis", lambda a: T.sum(a, axis=0), lambda a: np.sum(a, axis=0), shape=(0, 4)),
    _unary("sum_transposed_input", lambda a: a.T.sum(axis=1), lambda a: a.T.sum(axis=1)),
    _unary("prod", lambda a: T.prod(a, axis=1), lambda a: np.prod(a, axis=1), domain=(0.5, 2.0)),
    _unary("prod_all_keepdims", lambda a: T.prod(a, keepdims=True), lambda a: np.prod(a, keepdims=True),
           domain=(0.5, 1.5)),
    _unary("prod_int16_gives_int64", lambda a: a.prod(axis=-1), lambda a: np.prod(a, axis=-1), dtype="int16",
           domain=(-4, 4), differentiable=False),
    _unary("prod_empty_is_one", lambda a: T.prod(a, axis=0), lambda a: np.prod(a, axis=0), shape=(0, 3)),
    _unary("prod_with_zero", lambda a: T.prod(a * (a > 0), axis=1), lambda a: np.prod(a * (a > 0), axis=1),
           differentiable=False),
    _unary("max", T.max, np.max),
    _unary("max_negative_axis", lambda a: T.max(a, axis=-1), lambda a: np.max(a, axis=-1)),
    _unary("max_keepdims_tuple", lambda a: a.max(axis=(0, 1), keepdims=True),
           lambda a: np.max(a, axis=(0, 1), keepdims=True), shape=T3),
    _unary("max_int8", lambda a: T.max(a, axis=0), lambda a: np.max(a, axis=0), dtype="int8",
           domain=(-100, 100), differentiable=False),
    _unary("max_strided_input", lambda a: T.max(a[::2], axis=0), lambda a: np.max(a[::2], axis=0),
           shape=(5, 3)),
    _unary("min", T.min, np.min),
    _unary("min_axis1", lambda a: a.min(axis=1), lambda a: np.min(a, axis=1)),
    _unary("min_uint16_keepdims", lambda a: T.min(a, axis=0, keepdims=True),
           lambda a: np.min(a, axis=0, keepdims=True), dtype="uint16", domain=(0, 1000), differentiable=False),
    _unary("min_transposed_input", lambda a: T.min(a.T, axis=-1), lambda a: np.min(a.T, axis=-1)),
    _unary("all", T.all, np.all, dtype="bool", differentiable=False),
    _unary("all_int32_axis", lambda a: T.all(a, axis=1), lambda a: np.all(a, axis=1), domain=(-1, 1),
           dtype="int32", differentiable=False),
    _unary("all_empty_is_true", lambda a: T.all(a, axis=0, keepdims=True),
           lambda a: np.all(a, axis=0, keepdims=True), dtype="bool", shape=(0, 3), differentiable=False),
    _unary("any", lambda a: T.any(a > 1), lambda a: np.any(a > 1), differentiable=False),
    _unary("any_negative_axis", lambda a: T.any(a, axis=-1), lambda a: np.any(a, axis=-1), dtype="bool",
           shape=T3, differentiable=False),
    _unary("any_empty_is_false", lambda a: T.any(a, axis=1), lambda a: np.any(a, axis=1), dtype="bool",
           shape=(3, 0), differentiable=False),
    _unary("argmax", T.argmax, np.argmax, differentiable=False),
    _unary("argmax_axis0", lambda a: T.argmax(a, axis=0), lambda a: np.argmax(a, axis=0), differentiable=False),
    _unary("argmax_keepdims_negative_axis", lambda a: a.argmax(axis=-1, keepdims=True),
           lambda a: np.argmax(a, axis=-1, keepdims=True), shape=T3, differentiable=False),
    _unary("argmax_int32_ties_pick_first", lambda a: T.argmax(a, axis=1), lambda a: np.argmax(a, axis=1),
           dtype="int32", domain=(0, 2), differentiable=False),
    _unary("argmax_tuple_axes", lambda a: T.argmax(a, axis=(0, 2)), lambda a: _arg_over(np.argmax, a, (0, 2)),
           shape=T3, differentiable=False),
    _unary("argmin", T.argmin, np.argmin, differentiable=False),
    _unary("argmin_axis1_transposed", lambda a: T.argmin(a.T, axis=1), lambda a: np.argmin(a.T, axis=1),
           differentiable=False),
    _unary("argmin_tuple_axes", lambda a: T.argmin(a, axis=(1, 2)), lambda a: _arg_over(np.argmin, a, (1, 2)),
           shape=T3, differentiable=False),
    _unary("max_and_argmax", _max_plus_argmax, lambda a: np.max(a, axis=1) + np.argmax(a, axis=1)),
    _unary("mean", T.mean, np.mean),
    _unary("mean_axis_keepdims", lambda a: a.mean(axis=-1, keepdims=True),
           lambda a: np.mean(a, axis=-1, keepdims=True)),
    _unary("mean_int32_gives_float64", lambda a: T.mean(a, axis=0), lambda a: np.mean(a, axis=0),
           dtype="int32", domain=(-9, 9), differentiable=False),
    _unary("mean_float32", lambda a: T.mean(a, axis=(0, 2)), lambda a: np.mean(a, axis=(0, 2)),
           dtype="float32", shape=T3, rtol=1e-6),
    _unary("var", T.var, np.var),
    _unary("var_ddof1_axis", lambda a: T.var(a, axis=0, ddof=1), lambda a: np.var(a, axis=0, ddof=1)),
    _unary("var_corrected_keepdims", lambda a: a.var(axis=1, corrected=True, keepdims=True),
           lambda a: np.var(a, axis=1, ddof=1, keepdims=True)),
    _unary("var_int16_gives_float64", lambda a: T.var(a, axis=-1), lambda a: np.var(a, axis=-1),
           dtype="int16", domain=(-9, 9), differentiable=False),
    _unary("std", T.std, np.std),
    _unary("std_ddof1_tuple_axes", lambda a: T.std(a, axis=(1, 2), ddof=1),
           lambda a: np.std(a, axis=(1, 2), ddof=1), shape=T3),
    _unary("std_float32_keepdims", lambda a: a.std(axis=0, keepdims=True),
           lambda a: np.std(a, axis=0, keepdims=True), dtype="float32", rtol=1e-5),
    _unary("logsumexp", T.logsumexp, sps.logsumexp),
    _unary("logsumexp_axis_keepdims", lambda a: T.logsumexp(a, axis=-1, keepdims=True),
           lambda a: sps.logsumexp(a, axis=-1, keepdims=True)),
    _unary("logsumexp_large_values_stay_finite", lambda a: T.logsumexp(a, axis=1),
           lambda a: sps.logsumexp(a, axis=1), domain=(700.0, 800.0), grad_domain=(-2.0, 2.0)),
    _unary("logsumexp_int32_gives_float64", lambda a: T.logsumexp(a, axis=0),
           lambda a: sps.logsumexp(a.astype("float64"), axis=0), dtype="int32", domain=(-5, 5),
           differentiable=False),
]

SHAPE_CASES = [
    _unary("shape", lambda a: a.shape, lambda a: np.array(a.shape), shape=T3, differentiable=False),
    _unary("shape_function_empty", T.shape, lambda a: np.array(a.shape), shape=(0, 4), differentiable=False),
    _unary("shape_i", lambda a: T.shape_i(a, -1), lambda a: np.array(a.shape[-1]), differentiable=False),
    _unary("reshape", lambda a: a.reshape((2, 6)), lambda a: a.reshape(2, 6)),
    _unary("reshape_minus_one", lambda a: T.reshape(a, (-1, 2)), lambda a: a.reshape(-1, 2)),
    _unary("reshape_symbolic_shape", lambda a: T.reshape(a, (a.shape[1], a.shape[0])),
           lambda a: a.reshape(a.shape[1], a.shape[0])),
    _unary("reshape_transposed_input", lambda a: a.T.reshape((12,)), lambda a: a.T.reshape(12)),
    _unary("reshape_int8", lambda a: a.reshape((4, 3)), lambda a: a.reshape(4, 3), dtype="int8",
           domain=(-100, 100), differentiable=False),
    _unary("reshape_to_scalar", lambda a: a.reshape(()), lambda a: a.reshape(()), shape=(1, 1)),
    _unary("reshape_empty", lambda a: T.reshape(a, (4, -1)), lambda a: a.reshape(4, -1), shape=(0, 4)),
    _unary("flatten", lambda a: a.flatten(), np.ravel, shape=T3),
    _unary("flatten_ndim2", lambda a: T.flatten(a, 2), lambda a: a.reshape(a.shape[0], -1), shape=T3),
    _unary("flatten_transposed_input", lambda a: T.flatten(a.T), lambda a: a.T.ravel()),
    _unary("transpose", lambda a: T.transpose(a, (1, 0, 2)), lambda a: np.transpose(a, (1, 0, 2)), shape=T3),
    _unary("transpose_default_reverses", T.transpose, np.transpose, shape=T3),
    _unary("transpose_negative_axes", lambda a: T.transpose(a, (-1, 0, 1)),
           lambda a: np.transpose(a, (-1, 0, 1)), shape=T3),
    _unary("transpose_attribute_int32", lambda a: a.T, lambda a: a.T, dtype="int32", differentiable=False),
    _unary("squeeze", lambda a: T.squeeze(a, axis=1), lambda a: np.squeeze(a, axis=1), shape=(3, 1, 4)),
    _unary("squeeze_negative_axis", lambda a: a.squeeze(axis=-1), lambda a: np.squeeze(a, axis=-1),
           shape=(3, 1)),
    _unary("expand_dims", lambda a: T.expand_dims(a, (0, -1)), lambda a: np.expand_dims(a, (0, -1))),
    _unary("shape_padleft", lambda a: T.shape_padleft(a, 2), lambda a: a[None, None], shape=(3,)),
    _unary("shape_padright", T.shape_padright, lambda a: a[..., None]),
    _unary("shape_padaxis_negative", lambda a: T.shape_padaxis(a, -2), lambda a: np.expand_dims(a, -2)),
    _binary("addbroadcast", lambda a, b: T.addbroadcast(a, 1) + b, np.add, shapes=((3, 1), M)),
    _unary("unbroadcast", lambda a: T.unbroadcast(T.shape_padright(a), 1), lambda a: a[:, None], shape=(3,)),
    _unary("specify_shape", lambda a: T.specify_shape(a, (3, None)) * 2, lambda a: a * 2),
    _binary("specify_shape_symbolic", lambda a, b: T.specify_shape(a, b.shape) + b, np.add),
    _binary("concatenate", lambda a, b: T.concatenate([a, b]), lambda a, b: np.concatenate([a, b]),
            shapes=(M, (2, 4))),
    _binary("concatenate_negative_axis", lambda a, b: T.concatenate([a, b], axis=-1),
            lambda a, b: np.concatenate([a, b], axis=-1), shapes=(M, (3, 2))),
    _binary("concatenate_mixed_dtypes", lambda a, b: T.concatenate([a, b]), lambda a, b: np.concatenate([a, b]),
            dtypes=("int32", "float32"), domain=(-9, 9), differentiable=False),
    _binary("concatenate_empty_piece", lambda a, b: T.concatenate([a, b]), lambda a, b: np.concatenate([a, b]),
            shapes=((0, 4), M)),
    OpCase("concatenate_three_transposed", lambda a, b, c: T.concatenate([a.T, b, c.T], axis=0),
           lambda a, b, c: np.concatenate([a.T, b, c.T], axis=0), [(F, (4, 2)), (F, (1, 4)), (F, (4, 3))]),
    _binary("join", lambda a, b: T.join(1, a, b), lambda a, b: np.concatenate([a, b], axis=1),
            shapes=(M, (3, 1))),
    _binary("stack", lambda a, b: T.stack([a, b]), lambda a, b: np.stack([a, b])),
    _binary("stack_negative_axis", lambda a, b: T.stack([a, b], axis=-1),
            lambda a, b: np.stack([a, b], axis=-1)),
    OpCase("stack_scalars_theano_form", lambda a, b, c: T.stack(a, b, c), lambda a, b, c: np.stack([a, b, c]),
           [(F, ())] * 3),
    _unary("split", _split_swap, lambda a: np.concatenate([a[1:], a[:1]])),
    _unary("split_symbolic_sizes", _split_symbolic_sizes,
           lambda a: np.concatenate([a[:, -1:], a[:, :-1]], axis=1)),
    _unary("tile", lambda a: T.tile(a, (2, 3)), lambda a: np.tile(a, (2, 3))),
    _unary("tile_more_reps_than_axes", lambda a: T.tile(a, (2, 1, 2)), lambda a: np.tile(a, (2, 1, 2)),
           shape=(3,)),
    _unary("tile_zero_reps", lambda a: T.tile(a, (0, 1)), lambda a: np.tile(a, (0, 1))),
    _unary("repeat", lambda a: T.repeat(a, 2, axis=0), lambda a: np.repeat(a, 2, axis=0)),
    _unary("repeat_counts", lambda a: T.repeat(a, [1, 0, 2], axis=0),
           lambda a: np.repeat(a, [1, 0, 2], axis=0)),
    _unary("repeat_flattened", lambda a: T.repeat(a, 3), lambda a: np.repeat(a, 3)),
    OpCase("repeat_symbolic_count_negative_axis", lambda a, n: T.repeat(a, n, axis=-1),
           lambda a, n: np.repeat(a, n, axis=-1), [(F, M), (I64, ())], domain=(0, 2)),
    OpCase("zeros", lambda n: T.zeros((n, 2)), lambda n: np.zeros((n, 2)), [(I64, ())], domain=(0, 3),
           differentiable=False),
    OpCase("ones_int32", lambda n: T.ones((n, 3), dtype="int32"), lambda n: np.ones((n, 3), dtype="int32"),
           [(I64, ())], domain=(0, 3), differentiable=False),
    OpCase("alloc", lambda v, n: T.alloc(v, n, 4), lambda v, n: np.broadcast_to(v, (n, 4)).copy(),
           [(F, (4,)), (I64, ())], domain=(0, 3)),
    _unary("alloc_scalar", lambda s: T.alloc(s, 2, 3), lambda s: np.full((2, 3), s), shape=()),
    OpCase("arange", lambda n: T.arange(n), np.arange, [(I64, ())], domain=(0, 6), differentiable=False),
    OpCase("arange_negative_step", lambda a, b: T.arange(b, a, -2), lambda a, b: np.arange(b, a, -2),
           [("int32", ()), ("int32", ())], domain=(-5, 5), differentiable=False, expected_dtype="int64"),
    _binary("arange_float", lambda a, b: T.arange(a, b, 0.5), lambda a, b: np.arange(a, b, 0.5),
            shapes=((), ()), differentiable=False),
    OpCase("eye", lambda n, m: T.eye(n, m, 1), lambda n, m: np.eye(n, m, 1), [(I64, ()), (I64, ())],
           domain=(0, 4), differentiable=False),
    OpCase("eye_square_negative_k_int32", lambda n: T.eye(n, k=-1, dtype="int32"),
           lambda n: np.eye(n, k=-1, dtype="int32"), [(I64, ())], domain=(0, 4), differentiable=False),
    _unary("identity_like", T.identity_like, lambda a: np.eye(*a.shape), differentiable=False),
]

SUBTENSOR_CASES = [
    _unary("subtensor_int", lambda a: a[1], lambda a: a[1]),
    _unary("subtensor_negative_ints", lambda a: a[-1, 2], lambda a: a[-1, 2]),
    _unary("subtensor_slice", lambda a: a[1:3], lambda a: a[1:3]),
    _unary("subtensor_reversed", lambda a: a[::-1], lambda a: a[::-1]),
    _unary("subtensor_steps", lambda a: a[::2, 1:], lambda a: a[::2, 1:], shape=(5, 4)),
    _unary("subtensor_negative_bounds", lambda a: a[:, -3:-1], lambda a: a[:, -3:-1]),
    _unary("subtensor_newaxis", lambda a: a[None, :, 1], lambda a: a[None, :, 1]),
    _unary("subtensor_ellipsis", lambda a: a[1, ..., ::2], lambda a: a[1, ..., ::2], shape=T3),
    _unary("subtensor_empty_slice", lambda a: a[2:1], lambda a: a[2:1]),
    _unary("subtensor_int8", lambda a: a[1:, 0], lambda a: a[1:, 0], dtype="int8", domain=(-100, 100),
           differentiable=False),
    OpCase("subtensor_symbolic_int", lambda a, i: a[i], lambda a, i: a[i], [(F, M), (I64, ())], domain=(-3, 2)),
    OpCase("subtensor_symbolic_slice", lambda a, i, j: a[i:j, ::-1], lambda a, i, j: a[i:j, ::-1],
           [(F, M), (I64, ()), (I64, ())], domain=(-3, 3)),
    _unary("getitem", lambda a: T.getitem(a, (slice(1, None), 0)), lambda a: a[1:, 0]),
    _binary("inc_subtensor", lambda a, b: T.inc_subtensor(a[1:, ::2], b),
            lambda a, b: _inc(a, (slice(1, None), slice(None, None, 2)), b), shapes=(M, (2, 2))),
    _binary("inc_subtensor_broadcast_scalar", lambda a, s: T.inc_subtensor(a[0], s),
            lambda a, s: _inc(a, 0, s), shapes=(M, ())),
    _binary("inc_subtensor_transposed_target", lambda a, b: T.inc_subtensor(a.T[1], b),
            lambda a, b: _inc(a.T, 1, b), shapes=(M, (3,))),
    _binary("set_subtensor", lambda a, v: T.set_subtensor(a[:, 0], v),
            lambda a, v: _set(a, (slice(None), 0), v),
            shapes=(M, (3,))),
    _unary("set_subtensor_constant", lambda a: T.set_subtensor(a[1:, 1:], 0.0),
           lambda a: _set(a, (slice(1, None), slice(1, None)), 0.0)),
    _binary("set_subtensor_int32", lambda a, b: T.set_subtensor(a[-1], b), lambda a, b: _set(a, -1, b),
            dtypes=("int32", "int32"), shapes=(M, (4,)), domain=(-9, 9), differentiable=False),
    _unary("advanced_subtensor_list", lambda a: a[[0, 2, 0]], lambda a: a[[0, 2, 0]]),
    _unary("advanced_subtensor_pairs", lambda a: a[[0, 2], [1, 3]], lambda a: a[[0, 2], [1, 3]]),
    _unary("advanced_subtensor_columns", lambda a: a[:, [3, 0]], lambda a: a[:, [3, 0]]),
    _unary("advanced_subtensor_array_and_slice", lambda a: a[[0, 1], 1:], lambda a: a[[0, 1], 1:]),
    _unary("advanced_subtensor_adjacent_arrays", lambda a: a[:, [0, 1], [1, 2]], lambda a: a[:, [0, 1], [1, 2]],
           shape=T3),
    _unary("advanced_subtensor_separated_arrays_go_first", lambda a: a[[0, 1], :, [1, 2]],
           lambda a: a[[0, 1], :, [1, 2]], shape=T3),
    _unary("advanced_subtensor_empty_index", lambda a: a[[]], lambda a: a[np.array([], dtype=np.int64)]),
    _unary("advanced_subtensor_mask_from_values", lambda a: a[a > 0], lambda a: a[a > 0]),
    OpCase("advanced_subtensor_mask_input", lambda a, c: a[c], lambda a, c: a[c], [(F, M), ("bool", M)]),
    OpCase("advanced_subtensor_index_input", lambda a, i: a[i], lambda a, i: a[i], [(F, M), (I64, (5,))],
           domain=(-3, 2)),
    _unary("advanced_subtensor_transposed_input", lambda a: a.T[[2, 0]], lambda a: a.T[[2, 0]]),
    _binary("advanced_inc_subtensor_repeated_indices_accumulate", lambda a, b: T.inc_subtensor(a[[0, 0, 2]], b),
            lambda a, b: _inc(a, [0, 0, 2], b)),
    _binary("advanced_inc_subtensor_pairs", lambda a, v: T.inc_subtensor(a[[0, 2], [1, 3]], v),
            lambda a, v: _inc(a, ([0, 2], [1, 3]), v), shapes=(M, (2,))),
    _binary("advanced_set_subtensor", lambda a, b: T.set_subtensor(a[[0, 2]], b),
            lambda a, b: _set(a, [0, 2], b),
            shapes=(M, (2, 4))),
    _unary("advanced_set_subtensor_mask", lambda a: T.set_subtensor(a[a > 0], 0.0),
           lambda a: np.where(a > 0, 0.0, a)),
    _unary("take", lambda a: T.take(a, [2, 0], axis=1), lambda a: np.take(a, [2, 0], axis=1)),
    _unary("take_flattened", lambda a: T.take(a, [5, 0, 11]), lambda a: np.take(a, [5, 0, 11])),
    _unary("take_wrap", lambda a: T.take(a, [-5, 7], mode="wrap"), lambda a: np.take(a, [-5, 7], mode="wrap"),
           shape=(4,)),
    _unary("take_clip_negative_axis", lambda a: T.take(a, [-1, 9], axis=-1, mode="clip"),
           lambda a: np.take(a, [-1, 9], axis=-1, mode="clip")),
    _unary("nonzero", lambda c: T.stack(T.nonzero(c)), lambda c: np.stack(np.nonzero(c)), dtype="bool",
           differentiable=False),
    _unary("nonzero_as_index", lambda a: a[T.nonzero(a > 0)], lambda a: a[np.nonzero(a > 0)]),
    _unary("nonzero_method_int", lambda a: a.nonzero()[0], lambda a: np.nonzero(a)[0], dtype="int32",
           domain=(-1, 1), shape=(9,), differentiable=False),
]

LINALG_CASES = [
    _binary("dot", T.dot, np.dot, shapes=(M, (4, 5))),
    _binary("dot_matrix_vector", T.dot, np.dot, shapes=(M, (4,))),
    _binary("dot_vector_matrix", T.dot, np.dot, shapes=((3,), M)),
    _binary("dot_vector_vector", T.dot, np.dot, shapes=((4,), (4,))),
    _binary("dot_int32", T.dot, np.dot, dtypes=("int32", "int32"), shapes=(M, (4, 2)), domain=(-9, 9),
            differentiable=False),
    _binary("dot_float32_float64_gives_float64", T.dot, np.dot, dtypes=("float32", F), shapes=(M, (4, 2)),
            rtol=1e-6),
    _binary("dot_float32", T.dot, np.dot, dtypes=("float32", "float32"), shapes=(M, (4, 2)), rtol=1e-5),
    _binary("dot_scalar", T.dot, np.dot, shapes=((), M)),
    _binary("dot_tensor3_matrix", T.dot, np.dot, shapes=(T3, (4, 2))),
    _binary("dot_matrix_tensor3", T.dot, np.dot, shapes=((2, 3), T3)),
    _binary("dot_transposed_input", lambda a, b: T.dot(a.T, b), lambda a, b: np.dot(a.T, b),
            shapes=((4, 3), (4, 2))),
    _binary("dot_empty_inner", T.dot, np.dot, shapes=((3, 0), (0, 4))),
    _binary("dot_method", lambda a, b: a.dot(b[::2]), lambda a, b: a.dot(b[::2]), shapes=(M, (8, 2))),
    _binary("matmul", lambda a, b: a @ b, np.matmul, shapes=(M, (4, 2))),
    _binary("matmul_tensor3", T.matmul, np.matmul, shapes=(T3, (2, 4, 5))),
    _binary("matmul_broadcast_batch", lambda a, b: T.matmul(a.dimshuffle("x", 0, 1), b),
            lambda a, b: np.matmul(a[None], b), shapes=((3, 4), (2, 4, 5))),
    _binary("matmul_tensor3_matrix", T.matmul, np.matmul, shapes=(T3, (4, 5))),
    _binary("matmul_vector_tensor3", T.matmul, np.matmul, shapes=((3,), T3)),
    _binary("matmul_tensor3_vector", T.matmul, np.matmul, shapes=(T3, (4,))),
    _binary("outer", T.outer, np.outer, shapes=((3,), (4,))),
    _binary("outer_flattens_matrices", T.outer, np.outer, shapes=((2, 2), (3,))),
    _binary("tensordot", T.tensordot, np.tensordot, shapes=(T3, (3, 4, 2))),
    _binary("tensordot_axes1", lambda a, b: T.tensordot(a, b, 1), lambda a, b: np.tensordot(a, b, 1),
            shapes=(T3, (4, 2))),
    _binary("tensordot_axis_pairs", lambda a, b: T.tensordot(a, b, [[0, 2], [1, 0]]),
            lambda a, b: np.tensordot(a, b, [[0, 2], [1, 0]]), shapes=(T3, (4, 2, 3))),
    _binary("tensordot_negative_axes", lambda a, b: T.tensordot(a, b, [[-1], [0]]),
            lambda a, b: np.tensordot(a, b, [[-1], [0]]), shapes=(T3, (4,))),
    _binary("tensordot_axes0_outer", lambda a, b: T.tensordot(a, b, 0), lambda a, b: np.tensordot(a, b, 0),
            shapes=((2, 3), (3,))),
    _binary("batched_dot", T.batched_dot, lambda a, b: np.einsum("bij,bjk->bik", a, b), shapes=(T3, (2, 4, 3))),
    _binary("batched_dot_vectors", T.batched_dot, lambda a, b: np.einsum("bi,bi->b", a, b), shapes=(M, M)),
    _binary("batched_dot_matrix_vector", T.batched_dot, lambda a, b: np.einsum("bij,bj->bi", a, b),
            shapes=(T3, (2, 4))),
    _binary("batched_dot_scales", T.batched_dot, lambda a, b: a[:, None] * b, shapes=((3,), M)),
    _binary("batched_dot_tensor4", T.batched_dot, lambda a, b: np.einsum("bijk,bkl->bijl", a, b),
            shapes=((2, 2, 3, 4), (2, 4, 2))),
    _binary("batched_tensordot", lambda a, b: T.batched_tensordot(a, b, [[2], [1]]),
            lambda a, b: np.einsum("bij,bjk->bik", a, b), shapes=(T3, (2, 4, 3))),
    _binary("batched_tensordot_default_axes", T.batched_tensordot, lambda a, b: np.einsum("bij,bij->b", a, b),
            shapes=(T3, T3)),
]

NLINALG_CASES = [
    _unary("inv", lambda a: T.nlinalg.inv(_spd(a)), lambda a: np.linalg.inv(_spd_np(a)), shape=(3, 3)),
    _unary("matrix_inverse_float32", lambda a: T.nlinalg.matrix_inverse(a + 3 * T.eye(3, dtype="float32")),
           lambda a: np.linalg.inv(a + 3 * np.eye(3, dtype="float32")), dtype="float32", shape=(3, 3),
           domain=(-0.5, 0.5), rtol=1e-5, atol=1e-6),
    _unary("det", lambda a: T.nlinalg.det(_spd(a)), lambda a: np.linalg.det(_spd_np(a)), shape=(3, 3)),
    _unary("det_int32_gives_float64", T.nlinalg.det, np.linalg.det, dtype="int32", shape=(3, 3), domain=(-5, 5),
           differentiable=False, atol=1e-9),
    _binary("solve", lambda a, b: T.nlinalg.solve(_spd(a), b), lambda a, b: np.linalg.solve(_spd_np(a), b),
            shapes=((3, 3), (3,))),
    _binary("solve_matrix_rhs", lambda a, b: T.nlinalg.solve(_spd(a), b.T),
            lambda a, b: np.linalg.solve(_spd_np(a), b.T), shapes=((3, 3), (2, 3))),
    _unary("pinv", T.nlinalg.pinv, np.linalg.pinv, rtol=1e-6, atol=1e-9),
    _unary("eigh_eigenvalues", lambda a: T.nlinalg.eigh(_spd(a))[0], lambda a: np.linalg.eigh(_spd_np(a))[0],
           shape=(3, 3), rtol=1e-6, atol=1e-9),
    _unary("eigh_eigenvectors", lambda a: T.nlinalg.eigh(_spd(a))[1], lambda a: np.linalg.eigh(_spd_np(a))[1],
           shape=(3, 3), rtol=1e-6, atol=1e-9),
    _unary("eigh_upper_triangle", lambda a: T.nlinalg.eigh(a, "U")[0], lambda a: np.linalg.eigh(a, "U")[0],
           shape=(3, 3), rtol=1e-6, atol=1e-9),
    _unary("extract_diag", T.nlinalg.extract_diag, np.diagonal),
    _unary("extract_diag_offsets", lambda a: T.nlinalg.extract_diag(a, 1)[:2] + T.nlinalg.extract_diag(a.T, -2),
           lambda a: np.diagonal(a, 1)[:2] + np.diagonal(a.T, -2), shape=(4, 4)),
    _unary("trace", T.nlinalg.trace, np.trace),
    _unary("trace_offset_int32", lambda a: T.nlinalg.trace(a, -1), lambda a: np.trace(a, -1), dtype="int32",
           domain=(-9, 9), differentiable=False),
    _unary("diag_of_vector", T.nlinalg.diag, np.diag, shape=(3,)),
    _unary("diag_of_vector_offset", lambda a: T.nlinalg.diag(a, -1), lambda a: np.diag(a, -1), shape=(3,)),
    _unary("diag_of_matrix", lambda a: T.nlinalg.diag(a, 1), lambda a: np.diag(a, 1)),
    _unary("alloc_diag", lambda a: T.nlinalg.alloc_diag(a, 2), lambda a: np.diag(a, 2), shape=(3,)),
]

NNET_CASES = [
    _unary("softmax", T.nnet.softmax, lambda a: sps.softmax(a, axis=-1)),
    _unary("softmax_axis0", lambda a: T.nnet.softmax(a, axis=0), lambda a: sps.softmax(a, axis=0)),
    _unary("softmax_tensor3_axis1", lambda a: T.softmax(a, axis=1), lambda a: sps.softmax(a, axis=1), shape=T3),
    _unary("softmax_large_values_stay_finite", T.nnet.softmax, lambda a: sps.softmax(a, axis=-1),
           domain=(500.0, 1000.0), grad_domain=(-2.0, 2.0)),
    _unary("softmax_float32", T.nnet.softmax, lambda a: sps.softmax(a, axis=-1), dtype="float32", rtol=1e-5),
    _unary("softmax_int32_gives_float64", T.nnet.softmax, lambda a: sps.softmax(a.astype("float64"), axis=-1),
           dtype="int32", domain=(-5, 5), differentiable=False),
    _unary("softmax_empty_rows", T.nnet.softmax, lambda a: sps.softmax(a, axis=-1), shape=(0, 4)),
    _unary("log_softmax", T.nnet.log_softmax, lambda a: sps.log_softmax(a, axis=-1)),
    _unary("log_softmax_axis0_transposed", lambda a: T.nnet.log_softmax(a.T, axis=0),
           lambda a: sps.log_softmax(a.T, axis=0)),
    _unary("log_softmax_large_values_stay_finite", T.nnet.log_softmax, lambda a: sps.log_softmax(a, axis=-1),
           domain=(-1000.0, 1000.0), grad_domain=(-2.0, 2.0)),
    _unary("log_softmax_float32", T.nnet.log_softmax, lambda a: sps.log_softmax(a, axis=-1), dtype="float32",
           rtol=1e-5, atol=1e-6),
    _binary("softmax_with_bias", T.nnet.softmax_with_bias, lambda a, b: sps.softmax(a + b, axis=-1),
            shapes=(M, (4,))),
    OpCase("categorical_crossentropy_labels",
           lambda a, y: T.nnet.categorical_crossentropy(T.nnet.softmax(a), y),
           _labels_crossentropy, [(F, M), (I64, (3,))], domain=(0, 3)),
    _binary("categorical_crossentropy_distributions",
            lambda a, b: T.nnet.categorical_crossentropy(T.nnet.softmax(a), b),
            lambda a, b: -np.sum(b * np.log(sps.softmax(a, axis=-1)), axis=-1), domain=(0.0, 1.0)),
    OpCase("crossentropy_categorical_1hot", lambda p, y: T.nnet.crossentropy_categorical_1hot(p, y),
           lambda p, y: -np.log(p[np.arange(len(y)), y]), [(F, M), ("int32", (3,))], domain=(0.5, 3)),
    _binary("binary_crossentropy", T.nnet.binary_crossentropy,
            lambda p, t: -(t * np.log(p) + (1 - t) * np.log(1 - p)), domain=(0.1, 0.9)),
    _binary("binary_crossentropy_broadcast_target", T.nnet.binary_crossentropy,
            lambda p, t: -(t * np.log(p) + (1 - t) * np.log(1 - p)), domain=(0.1, 0.9), shapes=(M, (4,))),
    _unary("hard_sigmoid", T.nnet.hard_sigmoid, lambda a: np.clip(0.2 * a + 0.5, 0, 1), domain=(-4, 4),
           grad_domain=(-2, 2)),
    _unary("ultra_fast_sigmoid", T.nnet.ultra_fast_sigmoid, _ultra_fast_sigmoid, domain=(-8, 8),
           grad_domain=(-3, 3), shape=(4, 5)),
    _unary("sigmoid_nnet_float32", T.nnet.sigmoid, sps.expit, dtype="float32", rtol=1e-6),
    _unary("softplus_nnet_large_values", T.nnet.softplus, lambda a: np.logaddexp(0, a), domain=(-800, 800),
           grad_domain=(-3, 3)),
    _unary("relu_nnet_int32", T.nnet.relu, lambda a: np.maximum(a, 0), dtype="int32", domain=(-9, 9),
           differentiable=False),
    # Theano's smaller nnet functions, built from elementwise ops (the kink at 0 is avoided)
    _unary("elu", T.nnet.elu, lambda a: np.where(a > 0, a, np.expm1(a)), domain=(0.1, 2), grad_domain=(0.1, 2)),
    _unary("elu_negative_alpha2", lambda a: T.nnet.elu(a, 2.0), lambda a: np.where(a > 0, a, 2 * np.expm1(a)),
           domain=(-3, -0.1)),
    _unary("selu", T.nnet.selu, lambda a: 1.0507009873554805 * np.where(a > 0, a, 1.6732632423543772 * np.expm1(a)),
           domain=(-3, -0.1)),
    _unary("softsign", T.nnet.softsign, lambda a: a / (1 + np.abs(a)), domain=(0.1, 3)),
    _unary("logsoftmax", T.nnet.logsoftmax, lambda a: sps.log_softmax(a, axis=-1)),
    _binary("sigmoid_binary_crossentropy", T.nnet.sigmoid_binary_crossentropy,
            lambda z, t: -(t * np.log(sps.expit(z)) + (1 - t) * np.log(1 - sps.expit(z))), domain=(-3, 3)),
    OpCase("crossentropy_softmax_1hot", lambda x, y: T.nnet.crossentropy_softmax_1hot(x, y)[0],
           lambda x, y: -sps.log_softmax(x, axis=-1)[np.arange(len(y)), y], [(F, M), ("int32", (3,))],
           domain=(0, 3)),
]


def _ifelse(condition, then_branch, else_branch):
    from symgraph.control.ifelse import ifelse

    return ifelse(condition, then_branch, else_branch)


CONTROL_CASES = [
    # jacobian loops over the rows with a Map op; its pullback gives hessians
    _unary("jacobian_map", lambda a: T.jacobian(T.tanh(a) * a, a),
           lambda a: np.diag((1 - np.tanh(a) ** 2) * a + np.tanh(a)), shape=(3,)),
    # ifelse runs one of two inner graphs (an IfElse op); the conditions pick each branch once
    _unary("ifelse_then_branch", lambda a: _ifelse(a.shape[0] > 2, T.tanh(a) * a, T.exp(a)),
           lambda a: np.tanh(a) * a),
    _unary("ifelse_else_branch", lambda a: _ifelse(a.shape[0] > 5, T.tanh(a) * a, T.exp(a)), np.exp),
    # Theano's debugging Print: the identity that prints (its pullback passes straight through)
    _unary("print_identity", lambda a: _print_op("op case")(a) * 1.5, lambda a: a * 1.5),
    # scan: a recurrence over the rows (a Scan op); its pullback is a backward Scan
    _unary("scan_recurrence", lambda a: _scan_recurrence(a), lambda a: _numpy_recurrence(a)),
]


def _sort_grad(a):
    # the gradient of a weighted sum of the sorted rows: each weight goes back where its value came from
    from symgraph.gradient import grad

    return grad((T.sort(a) * T.arange(a.shape[1])).sum(), a) * a


def _numpy_sort_grad(a):
    g = np.zeros_like(a)
    np.put_along_axis(g, np.argsort(a, axis=1), np.broadcast_to(np.arange(a.shape[1], dtype=a.dtype), a.shape), axis=1)
    return g * a


def _print_op(message):
    from symgraph.printing import Print

    return Print(message, attrs=("shape",))


def _scan_recurrence(a):
    from symgraph.control.scan import scan

    return scan(lambda row, acc: T.tanh(acc) * 0.5 + row, sequences=a, outputs_info=T.zeros_like(a[0]))[0]


def _numpy_recurrence(a):
    acc, rows = np.zeros_like(a[0]), []
    for row in a:
        acc = np.tanh(acc) * 0.5 + row
        rows.append(acc)
    return np.stack(rows)


def _draw_from(distribution, *params, size=(3, 4), dtype=F):
    # a fixed generator state as a constant: the draw is then a function of its parameters
    from symgraph.tensor.random import RandomDraw, encode_state

    state = T.constant(encode_state(np.random.PCG64(2024)))
    return RandomDraw(distribution, dtype)(state, *params, *size)[1]


def _numpy_draw(method, *params, size=(3, 4)):
    from symgraph.tensor.random import decode_state, encode_state

    return getattr(decode_state(encode_state(np.random.PCG64(2024))), method)(*params, size=size)


RANDOM_CASES = [
    _unary("random_normal_draw", lambda loc: _draw_from("normal", loc, 0.5),
           lambda loc: _numpy_draw("normal", loc, 0.5), differentiable=False),
    _unary("random_binomial_draw", lambda p: _draw_from("binomial", 1, p, dtype="float32"),
           lambda p: _numpy_draw("binomial", 1, p).astype("float32"), domain=(0.0, 1.0), differentiable=False),
]


def _with_zero_rows(a):
    # exact zeros at rows 1 and 3, so cumprod's gradient meets a first and a second zero
    b = np.array(a)
    b[[1, 3]] = 0.0
    return b


def _fill_diagonal_np(a, val):
    b = np.array(a)
    np.fill_diagonal(b, val)
    return b


EXTRA_OPS_CASES = [
    # tensor/extra_ops.py: CumOp, and functions built from indexing and elementwise ops
    _unary("sort", T.sort, np.sort),
    _unary("sort_axis0_3d", lambda a: T.sort(a, axis=0), lambda a: np.sort(a, axis=0), shape=(3, 2, 4)),
    _unary("argsort_flat", lambda a: T.argsort(a, axis=None), lambda a: np.argsort(a, axis=None),
           differentiable=False),
    _unary("sort_gradient_scattered_back", lambda a: _sort_grad(a), lambda a: _numpy_sort_grad(a)),
    _unary("diag_of_a_vector_offset1", lambda a: T.diag(a, 1), lambda a: np.diag(a, 1), shape=(4,)),
    _unary("diag_of_a_matrix", T.diag, np.diag),
    _unary("diagonal_offset_minus1", lambda a: T.diagonal(a, -1), lambda a: np.diagonal(a, -1)),
    _unary("trace_extra", T.trace, np.trace, shape=(4, 4)),
    _unary("tril", T.tril, np.tril),
    _unary("triu_k1", lambda a: T.triu(a, 1), lambda a: np.triu(a, 1)),
    _unary("roll_axis1", lambda a: T.roll(a, 2, axis=1), lambda a: np.roll(a, 2, axis=1)),
    _unary("roll_flat_negative", lambda a: T.roll(a, -5), lambda a: np.roll(a, -5)),
    _unary("largest", lambda a: T.largest(a, 0.5 * a + 0.1, -a), lambda a: np.maximum(np.maximum(a, 0.5 * a + 0.1), -a)),
    _unary("cumsum", T.cumsum, np.cumsum),
    _unary("cumsum_axis0", lambda a: T.cumsum(a, axis=0), lambda a: np.cumsum(a, axis=0)),
    _unary("cumsum_axis_last_3d", lambda a: T.cumsum(a, axis=-1), lambda a: np.cumsum(a, axis=-1),
           shape=(2, 3, 4)),
    _unary("cumsum_int8_gives_int64", T.cumsum, np.cumsum, dtype="int8", domain=(-9, 9),
           differentiable=False),
    _unary("cumsum_bool", lambda a: T.cumsum(a, axis=1), lambda a: np.cumsum(a, axis=1), dtype="bool",
           differentiable=False),
    _unary("cumprod", T.cumprod, np.cumprod, domain=(0.5, 1.5)),
    _unary("cumprod_axis1", lambda a: T.cumprod(a, axis=1), lambda a: np.cumprod(a, axis=1)),
    _unary("cumprod_with_zeros_axis0",
           lambda a: T.cumprod(T.set_subtensor(a[np.array([1, 3])], 0.0), axis=0),
           lambda a: np.cumprod(_with_zero_rows(a), axis=0), shape=(5, 3)),
    _unary("cumprod_int32_gives_int64", lambda a: T.cumprod(a, axis=0), lambda a: np.cumprod(a, axis=0),
           dtype="int32", domain=(-3, 3), differentiable=False),
    _unary("diff", T.diff, np.diff),
    _unary("diff_n2_axis0", lambda a: T.diff(a, n=2, axis=0), lambda a: np.diff(a, n=2, axis=0),
           shape=(5, 3)),
    _unary("diff_bool", T.diff, np.diff, dtype="bool", differentiable=False),
    _unary("bincount", T.bincount, np.bincount, dtype="int64", shape=(9,), domain=(0, 6),
           differentiable=False),
    OpCase("bincount_weights_minlength", lambda x, w: T.bincount(x, w, minlength=9),
           lambda x, w: np.bincount(x, w, minlength=9), [("int64", (8,)), (F, (8,))], domain=(0, 4)),
    _unary("to_one_hot", lambda y: T.to_one_hot(y, 5), lambda y: np.eye(5)[y], dtype="int32", shape=(6,),
           domain=(0, 4), differentiable=False),
    OpCase("fill_diagonal", T.fill_diagonal, _fill_diagonal_np, [(F, (3, 4)), (F, ())]),
    OpCase("fill_diagonal_tall", T.fill_diagonal, _fill_diagonal_np, [(F, (5, 2)), (F, ())]),
    # gradient modifiers: identities in the forward pass, removed by canonicalize. Their
    # gradients differ from finite differences on purpose (tests/gradient/test_grad_modifiers.py),
    # except grad_clip with bounds the gradient never reaches
    _unary("zero_grad", lambda a: T.zero_grad(a) * a, lambda a: a * a, differentiable=False),
    _unary("disconnected_grad", lambda a: T.disconnected_grad(a) * a, lambda a: a * a,
           differentiable=False),
    _unary("grad_clip_wide_bounds", lambda a: T.grad_clip(a, -1e6, 1e6) * a, lambda a: a * a),
]

from tests.tensor.test_conv import CONV_CASES

ALL_CASES = (ELEMWISE_CASES + REDUCE_CASES + SHAPE_CASES + SUBTENSOR_CASES + LINALG_CASES + NLINALG_CASES
             + NNET_CASES + CONTROL_CASES + RANDOM_CASES + EXTRA_OPS_CASES + CONV_CASES)
