"""Specialization: cheaper equivalent forms (powers, signs, products of exponentials).

These run last (before fusion and memory phases of the C backend), after stability,
because canonical and stable forms are easier to match than specialized ones.
"""

from __future__ import annotations

import math

from symgraph import scalar as ps
from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply
from symgraph.rewrite.engine import LocalRewrite, Replacement
from symgraph.rewrite.match import elemwise_node, is_float, like, scalar_constant, single_client
from symgraph.rewrite.pattern import RuleSet
from symgraph.tensor import math as tm

#: integer exponents up to this size become multiplications
MAX_SQUARING_EXPONENT = 16


def _pow_specialize(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # x**2 -> sqr(x), x**0.5 -> sqrt(x), x**-1 -> 1/x, x**-0.5 -> 1/sqrt(x): cheaper, and
    # as exact as pow (sqrt is correctly rounded)
    x, y = node.inputs
    out = node.outputs[0]
    if x.type.dtype != out.type.dtype or any(s != 1 for s in y.type.shape):  # type: ignore[attr-defined]
        return None
    exponent = scalar_constant(y)
    if exponent == 2:
        return [tm.sqr(x)]
    floating = x.type.dtype.startswith(("float", "complex"))  # type: ignore[attr-defined]
    if exponent == 0.5 and floating:
        return [tm.sqrt(x)]
    if exponent == -1 and floating:
        return [tm.reciprocal(x)]
    if exponent == -0.5 and floating:
        return [tm.reciprocal(tm.sqrt(x))]
    return None


def _repeated_squaring(x: object, n: int) -> object:
    """x**n for n >= 1 with about 2 log2(n) multiplications."""
    result = None
    power = x
    while n:
        if n & 1:
            result = power if result is None else tm.mul(result, power)
        n >>= 1
        if n:
            power = tm.sqr(power)
    return result


def _pow_integer(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # x**n for a small integer n by repeated squaring (x**5 = x * sqr(sqr(x))); a negative
    # n takes the reciprocal (floats only: NumPy raises for negative integer powers of ints).
    # Results may differ from pow by a few ulps.
    x, y = node.inputs
    out = node.outputs[0]
    if x.type.dtype != out.type.dtype or any(s != 1 for s in y.type.shape):  # type: ignore[attr-defined]
        return None
    exponent = scalar_constant(y)
    if exponent is None or isinstance(exponent, complex) or not math.isfinite(exponent):
        return None  # (an inf or NaN exponent, e.g. float32(1e300), has no int value)
    if exponent != int(exponent):
        return None
    n = int(exponent)
    if n in (-1, 1, 2) or abs(n) > MAX_SQUARING_EXPONENT:
        return None  # 1 and 2 are handled by canonicalize and pow_to_sqr_sqrt_reciprocal
    if n == 0:
        return [tm.ones_like(x)]  # x**0 is 1 even for inf and nan (IEEE pow)
    if n < 0 and not x.type.dtype.startswith(("float", "complex")):  # type: ignore[attr-defined]
        return None
    positive = _repeated_squaring(x, abs(n))
    return [tm.reciprocal(positive) if n < 0 else positive]


def _mul_self_to_sqr(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # x * x -> sqr(x)
    if len(node.inputs) == 2 and node.inputs[0] is node.inputs[1]:
        return [tm.sqr(node.inputs[0])]
    return None


def _mul_minus_one_to_neg(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # -1 * x -> -x (no multiplication); canonical products keep -1 as a coefficient
    out = node.outputs[0]
    if out.type.dtype == "bool" or out.type.dtype.startswith("uint"):  # type: ignore[attr-defined]
        return None
    for i, v in enumerate(node.inputs):
        if scalar_constant(v) == -1 and all(s == 1 for s in v.type.shape):  # type: ignore[attr-defined]
            rest = node.inputs[:i] + node.inputs[i + 1:]
            inner = rest[0] if len(rest) == 1 else tm.mul(*rest)
            if inner.type.dtype != out.type.dtype:  # type: ignore[attr-defined]
                # negate in the product's dtype: a bool factor (-1 * True = -1) has no -x
                inner = tm.cast(inner, out.type.dtype)  # type: ignore[attr-defined]
            return [like(tm.neg(inner), out)]
    return None


def _exp_product(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # exp(a) * exp(b) -> exp(a + b): one exp instead of two, and no inf * 0 when a and b
    # are large with opposite signs
    out = node.outputs[0]
    if not is_float(out):
        return None
    exps = []
    rest = []
    for v in node.inputs:
        inner = elemwise_node(v, ps.Exp)
        if inner is not None and single_client(fgraph, v) and v.type.dtype == out.type.dtype:  # type: ignore[attr-defined]
            exps.append(inner.inputs[0])
        else:
            rest.append(v)
    if len(exps) < 2:
        return None
    # add the exponents in the output's float dtype: bool + bool is `or`, and integer
    # exponents could wrap around
    combined = tm.exp(tm.add(*[e if e.type.dtype == out.type.dtype else tm.cast(e, out.type.dtype)  # type: ignore[attr-defined]
                               for e in exps]))
    if not rest:
        return [combined]
    new = tm.mul(combined, *rest)
    return [new]


SPECIALIZE = RuleSet("specialize", [
    LocalRewrite("pow_to_sqr_sqrt_reciprocal", _pow_specialize, (ps.Pow,),
                 "x**2 = sqr(x), x**0.5 = sqrt(x), x**-1 = 1/x"),
    LocalRewrite("pow_integer_by_squaring", _pow_integer, (ps.Pow,),
                 "x**n = repeated squaring for |n| <= 16"),
    LocalRewrite("mul_self_to_sqr", _mul_self_to_sqr, (ps.Mul,), "x * x = sqr(x)"),
    LocalRewrite("mul_minus_one_to_neg", _mul_minus_one_to_neg, (ps.Mul,), "-1 * x = -x"),
    LocalRewrite("exp_product_to_exp_sum", _exp_product, (ps.Mul,), "exp(a) * exp(b) = exp(a + b)"),
])
