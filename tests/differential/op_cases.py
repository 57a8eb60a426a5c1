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

ALL_CASES = list(ELEMWISE_CASES)
