"""Numerical stability: forms that overflow, underflow or cancel become stable ones.

Each rule states its identity and where the written form fails. The rewritten forms are
stable in value and in gradient: where a stable form has two regimes, it is a ``switch``
whose branches are fed clamped inputs (``minimum``/``maximum``), so the branch not taken
never computes an infinity whose zero gradient would turn into NaN (0 * inf).

Gradients of the written forms are stabilized too: the gradient of ``log(sigmoid(x))``
(``g / sigmoid(x) * sigmoid(x) * (1 - sigmoid(x))``) is cancelled to ``g * sigmoid(-x)``
by canonicalization and these rules; that of ``log(erfc(x))`` contains
``exp(-x**2) / erfc(x)``, which ``exp_neg_sqr_over_erfc`` computes asymptotically.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgraph import scalar as ps
from symgraph.graph.fgraph import OUTPUT, FunctionGraph
from symgraph.graph.node import Apply, Variable
from symgraph.rewrite import pattern as p
from symgraph.rewrite.engine import LocalRewrite, Replacement
from symgraph.rewrite.match import (
    elemwise_node,
    is_float,
    is_real,
    keepdims_axes,
    negated,
    scalar_constant,
    single_client,
)
from symgraph.rewrite.pattern import Match, PatternVar, Rule, RuleSet
from symgraph.rewrite.rules.algebra import replaced_in_product
from symgraph.tensor import math as tm
from symgraph.tensor.elemwise import Elemwise
from symgraph.tensor.reduce import Max, Sum

x = PatternVar("x")
y = PatternVar("y")

_LN2 = math.log(2.0)
#: above this, log(erfc(x)) and exp(-x**2) / erfc(x) use the asymptotic series
ERFC_ASYMPTOTIC_FROM = 8.0
#: terms of the asymptotic series sum_k (-1)^k (2k-1)!! / (2 x^2)^k (error < 1e-15 at x >= 8)
ERFC_SERIES_TERMS = 10


def _real(m: Match) -> bool:
    # floats only: the right-hand sides negate x or subtract the operands in their own dtype,
    # and for integers that wraps around (-INT_MIN is INT_MIN) or is undefined (bool)
    return all(is_float(v) for v in m.bindings.values())


def _is_erf_like(var: Variable) -> bool:
    inner = negated(var)
    for v in (var, inner):
        if v is not None and elemwise_node(v, ps.Erf, ps.Erfc) is not None:
            return True
    return False


def _log1p_candidate(m: Match) -> bool:
    # 1 +- erf(x) has a better rewrite (erfc); let that one apply. log1p(-x) needs a float
    # x (integer -x wraps around at INT_MIN; bool has no -x)
    return not _is_erf_like(m["x"]) and is_float(m["x"])


# -- log1mexp ------------------------------------------------------------------------------------
def _is_log1mexp_branch(m: Match) -> bool:
    """True if the matched node is a branch of the switch that log1mexp is made of
    (``switch(x < -log 2, log1p(-exp(x)), log(-expm1(x)))``): it is stable there."""
    for client, _ in m.fgraph.clients.get(m.out, ()):
        if client == OUTPUT:
            continue
        node = elemwise_node(client.outputs[0], ps.Switch)  # type: ignore[union-attr]
        if node is None:
            continue
        cond = elemwise_node(node.inputs[0], ps.LT)
        if cond is not None and cond.inputs[0] is m["x"]:
            bound = scalar_constant(cond.inputs[1])
            if bound is not None and abs(bound + _LN2) < 1e-6:
                return True
    return False


def _clamped(var: Variable, bound: float, above: bool) -> bool:
    """True if var is minimum(v, c) with c <= bound (above=True), or maximum(v, c) with
    c >= bound: the clamped inputs of the branches of the stable forms below."""
    node = elemwise_node(var, ps.Minimum if above else ps.Maximum)
    if node is None:
        return False
    for operand in node.inputs:
        c = scalar_constant(operand)
        if c is None:
            continue
        # compare with the bound as the constant's dtype rounds it: -log 2 in float32 is
        # below -log 2 in float64, and missing the clamp re-applies the rewrite endlessly
        dtype = operand.type.dtype  # type: ignore[attr-defined]
        rounded = float(np.asarray(bound, dtype=dtype)) if dtype.startswith("float") else bound
        if c <= rounded if above else c >= rounded:
            return True
    return False


def _log1mexp(m: Match) -> Any:
    """log1mexp(x): log1p(-exp(x)) below -log 2, log(-expm1(x)) above (Maechler 2012)."""
    if not _real(m) or _is_log1mexp_branch(m):
        return None
    return stable_log1mexp(m["x"])


def _log1mexp_low(m: Match) -> Any:
    # log1p(-exp(x)) is accurate for x <= -log 2 (the low branch of log1mexp)
    return None if _clamped(m["x"], -_LN2, above=True) else _log1mexp(m)


def _log1mexp_high(m: Match) -> Any:
    # log(-expm1(x)) is accurate for x >= -log 2 (the high branch of log1mexp)
    return None if _clamped(m["x"], -_LN2, above=False) else _log1mexp(m)


def stable_log1mexp(v: Any) -> Any:
    """``log(1 - exp(v))`` for v <= 0, accurate everywhere, with clamped branches."""
    low = tm.minimum(v, -_LN2)
    high = tm.maximum(v, -_LN2)
    return tm.switch(tm.lt(v, -_LN2), tm.log1p(tm.neg(tm.exp(low))), tm.log(tm.neg(tm.expm1(high))))


def _log_exp_difference(m: Match) -> Any:
    """log(exp(a) - exp(b)) = a + log1mexp(b - a)."""
    if not _real(m):
        return None
    return tm.add(m["x"], stable_log1mexp(tm.sub(m["y"], m["x"])))


def _logaddexp(m: Match) -> Any:
    """max(a, b) + softplus(-|a - b|); infinite max gives the max (no inf - inf)."""
    if not _real(m):
        return None
    a, b = m["x"], m["y"]
    peak = tm.maximum(a, b)
    gap = tm.abs(tm.sub(a, b))
    finite = tm.add(peak, tm.softplus(tm.neg(gap)))
    return tm.switch(tm.isinf(peak), peak, finite)


# -- erfc ----------------------------------------------------------------------------------------
def _erfc_series(v: Any) -> Any:
    """1 + sum_k (-1)^k (2k-1)!! / (2 v^2)^k, with erfc(v) ~ exp(-v^2) / (v sqrt(pi)) * series."""
    inv = tm.true_div(1.0, tm.mul(2.0, tm.sqr(v)))
    term: Any = 1.0
    total: Any = None
    coefficient = 1.0
    for k in range(1, ERFC_SERIES_TERMS + 1):
        coefficient *= -(2 * k - 1)
        term = inv if k == 1 else tm.mul(term, inv)
        piece = tm.mul(coefficient, term)
        total = piece if total is None else tm.add(total, piece)
    return tm.add(1.0, total)


def stable_log_erfc(v: Any) -> Any:
    """``log(erfc(v))``: direct below ERFC_ASYMPTOTIC_FROM, asymptotic series above."""
    t = ERFC_ASYMPTOTIC_FROM
    small = tm.minimum(v, t)
    large = tm.maximum(v, t)
    # log(erfc(v)) = -v**2 - log(v) - log(sqrt(pi)) + log(series(v))
    asymptotic = tm.add(
        tm.neg(tm.add(tm.sqr(large), tm.log(large), 0.5 * math.log(math.pi))),
        tm.log(_erfc_series(large)),
    )
    return tm.switch(tm.lt(v, t), tm.log(tm.erfc(small)), asymptotic)


def stable_exp_neg_sqr_over_erfc(v: Any) -> Any:
    """``exp(-v**2) / erfc(v)``: direct below ERFC_ASYMPTOTIC_FROM, v sqrt(pi) / series above."""
    t = ERFC_ASYMPTOTIC_FROM
    small = tm.minimum(v, t)
    large = tm.maximum(v, t)
    direct = tm.true_div(tm.exp(tm.neg(tm.sqr(small))), tm.erfc(small))
    asymptotic = tm.true_div(tm.mul(math.sqrt(math.pi), large), _erfc_series(large))
    return tm.switch(tm.lt(v, t), direct, asymptotic)


def _log_erfc(m: Match) -> Any:
    """log(erfc(x)) underflows (log 0 = -inf) for x > 26.5."""
    if not _real(m) or _clamped(m["x"], ERFC_ASYMPTOTIC_FROM, above=True):
        return None  # the direct branch of the stable form itself
    return stable_log_erfc(m["x"])


def _neg_sqr_argument(var: Variable) -> Variable | None:
    """v if var is -(v**2) written as neg(sqr(v)), neg(v * v) or -1 * sqr(v)."""
    inner = negated(var)
    if inner is None:
        return None
    node = elemwise_node(inner, ps.Sqr)
    if node is not None:
        return node.inputs[0]
    node = elemwise_node(inner, ps.Mul)
    if node is not None and len(node.inputs) == 2 and node.inputs[0] is node.inputs[1]:
        return node.inputs[0]
    return None


def _exp_neg_sqr_over_erfc(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # exp(-x**2) / erfc(x) is 0 / 0 for x > 26.5 (the gradient of log(erfc(x)))
    def pick(num: list[Variable], den: list[Variable]) -> Any:
        for i, d in enumerate(den):
            erfc_node = elemwise_node(d, ps.Erfc)
            if erfc_node is None:
                continue
            v = erfc_node.inputs[0]
            for j, n in enumerate(num):
                exp_node = elemwise_node(n, ps.Exp)
                if (
                    exp_node is not None and _neg_sqr_argument(exp_node.inputs[0]) is v
                    and is_real(v) and not _clamped(v, ERFC_ASYMPTOTIC_FROM, above=True)
                ):
                    new_num = num[:j] + num[j + 1:] + [stable_exp_neg_sqr_over_erfc(v)]
                    return new_num, den[:i] + den[i + 1:]
        return None

    return replaced_in_product(fgraph, node, pick)


# -- sigmoid and softmax inside products -------------------------------------------------------
_ONE_PLUS_EXP = 1 + p.exp(x)


def _one_plus_exp_argument(var: Variable) -> Variable | None:
    for bindings in _ONE_PLUS_EXP.matches(var, {}):
        return bindings["x"]
    return None


def _sigmoid_times_exp(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # sigmoid(x) * exp(-x) -> sigmoid(-x) (the gradient of 1 / (1 + exp(-x))): 0 * inf for
    # x < -709 as written
    def pick(num: list[Variable], den: list[Variable]) -> Any:
        for i, a in enumerate(num):
            sig = elemwise_node(a, ps.Sigmoid)
            if sig is None:
                continue
            z = sig.inputs[0]
            for j, b in enumerate(num):
                exp_node = elemwise_node(b, ps.Exp)
                if j == i or exp_node is None:
                    continue
                w = exp_node.inputs[0]
                if negated(w) is z or negated(z) is w:
                    rest = [v for k, v in enumerate(num) if k not in (i, j)]
                    return rest + [tm.sigmoid(w)], den
        return None

    return replaced_in_product(fgraph, node, pick)


def _exp_over_one_plus_exp(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # exp(x) / (1 + exp(x)) -> sigmoid(x): inf / inf = nan for x > 709
    def pick(num: list[Variable], den: list[Variable]) -> Any:
        for i, d in enumerate(den):
            z = _one_plus_exp_argument(d)
            if z is None or not is_real(z):
                continue
            for j, n in enumerate(num):
                exp_node = elemwise_node(n, ps.Exp)
                if exp_node is not None and exp_node.inputs[0] is z:
                    return num[:j] + num[j + 1:] + [tm.sigmoid(z)], den[:i] + den[i + 1:]
        return None

    return replaced_in_product(fgraph, node, pick)


def _exp_pair(var: Variable, op: type) -> tuple[Variable, Variable] | None:
    """(a, b) if var is exp(a) + exp(b) (op=ps.Add, either order) or exp(a) - exp(b)."""
    node = elemwise_node(var, op)
    if node is None or len(node.inputs) != 2:
        return None
    first, second = (elemwise_node(v, ps.Exp) for v in node.inputs)
    if first is None or second is None:
        return None
    return first.inputs[0], second.inputs[0]


def _exp_over_exp_sum(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # exp(a) / (exp(a) + exp(b)) -> sigmoid(a - b) (the gradient of logaddexp): inf / inf
    # for a, b > 709 as written
    def pick(num: list[Variable], den: list[Variable]) -> Any:
        for i, d in enumerate(den):
            pair = _exp_pair(d, ps.Add)
            # floats only: a - b of integers wraps around
            if pair is None or not all(is_float(v) for v in pair):
                continue
            for j, n in enumerate(num):
                exp_node = elemwise_node(n, ps.Exp)
                if exp_node is None:
                    continue
                for a, b in (pair, pair[::-1]):
                    if exp_node.inputs[0] is a:
                        new_num = num[:j] + num[j + 1:] + [tm.sigmoid(tm.sub(a, b))]
                        return new_num, den[:i] + den[i + 1:]
        return None

    return replaced_in_product(fgraph, node, pick)


def _exp_over_exp_difference(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # exp(a) / (exp(a) - exp(b)) -> -1 / expm1(b - a) (the gradient of log(exp(a) - exp(b))):
    # inf / inf for a, b > 709 as written, and cancellation when a and b are close
    def pick(num: list[Variable], den: list[Variable]) -> Any:
        for i, d in enumerate(den):
            pair = _exp_pair(d, ps.Sub)
            # floats only: b - a of integers wraps around
            if pair is None or not all(is_float(v) for v in pair):
                continue
            a, b = pair
            for j, n in enumerate(num):
                exp_node = elemwise_node(n, ps.Exp)
                if exp_node is not None and exp_node.inputs[0] is a:
                    new_den = den[:i] + den[i + 1:] + [tm.neg(tm.expm1(tm.sub(b, a)))]
                    return num[:j] + num[j + 1:], new_den
        return None

    return replaced_in_product(fgraph, node, pick)


def _logistic(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # 1 / (1 + exp(-x)) -> sigmoid(x): exp(-x) overflows for x < -709
    def pick(num: list[Variable], den: list[Variable]) -> Any:
        for i, d in enumerate(den):
            z = _one_plus_exp_argument(d)
            if z is None or not is_real(z):
                continue
            w = negated(z)
            return num + [tm.sigmoid(w if w is not None else tm.neg(z))], den[:i] + den[i + 1:]
        return None

    return replaced_in_product(fgraph, node, pick)


def _sum_of_exp_axis(var: Variable) -> tuple[Variable, int] | None:
    """(z, k) if var is sum(exp(z), axis=k) with its axis kept (broadcast back)."""
    found = keepdims_axes(var)
    if found is None:
        return None
    reduced, inserted = found
    node = reduced.owner
    if (
        node is None or not isinstance(node.op, Sum) or len(node.op.axis) != 1
        or node.op.dtype is not None or inserted != node.op.axis
    ):
        return None
    exp_node = elemwise_node(node.inputs[0], ps.Exp)
    if exp_node is None:
        return None
    return exp_node.inputs[0], node.op.axis[0]


def _exp_over_sum_exp(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # exp(x) / sum(exp(x), axis) -> softmax(x, axis): overflows for x > 709 as written
    from symgraph.tensor.nnet import Softmax

    def pick(num: list[Variable], den: list[Variable]) -> Any:
        for i, d in enumerate(den):
            found = _sum_of_exp_axis(d)
            if found is None:
                continue
            z, axis = found
            for j, n in enumerate(num):
                exp_node = elemwise_node(n, ps.Exp)
                if exp_node is not None and exp_node.inputs[0] is z and is_real(z):
                    return num[:j] + num[j + 1:] + [Softmax(axis)(z)], den[:i] + den[i + 1:]
        return None

    return replaced_in_product(fgraph, node, pick)


def _sum_over_softmax_normalizer(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # sum(g * exp(x), axis) / sum(exp(x), axis) -> sum(g * softmax(x), axis): the gradient
    # of a softmax written as exp(x) / sum(exp(x)), inf / inf for x > 709 as written
    from symgraph.tensor.nnet import Softmax

    def pick(num: list[Variable], den: list[Variable]) -> Any:
        for i, d in enumerate(den):
            found = _summed_exp(d)
            if found is None or len(found[1]) != 1:
                continue
            z, axes, keepdims = found
            for j, n in enumerate(num):
                summed = _summed_product_with_exp(n, z, axes, keepdims)
                if summed is None:
                    continue
                others, sum_node, restore = summed
                weighted = tm.mul(*others, Softmax(axes[0])(z)) if others else Softmax(axes[0])(z)
                new = type(sum_node.op)(axes)(weighted)
                if restore is not None:
                    new = restore(new)
                return num[:j] + num[j + 1:] + [new], den[:i] + den[i + 1:]
        return None

    return replaced_in_product(fgraph, node, pick)


def _summed_product_with_exp(
    var: Variable, z: Variable, axes: tuple[int, ...], keepdims: bool
) -> Any:
    """(other factors, Sum node, DimShuffle op or None) if var is sum(f * exp(z), axes)."""
    keep = keepdims_axes(var)
    if keepdims != (keep is not None):
        return None
    reduced = keep[0] if keep is not None else var
    sum_node = reduced.owner
    if sum_node is None or not isinstance(sum_node.op, Sum):
        return None
    if sum_node.op.axis != axes or sum_node.op.dtype is not None:
        return None
    inner = sum_node.inputs[0]
    factors = [inner]
    mul_node = elemwise_node(inner, ps.Mul)
    if mul_node is not None:
        factors = list(mul_node.inputs)
    for k, f in enumerate(factors):
        exp_node = elemwise_node(f, ps.Exp)
        if exp_node is not None and exp_node.inputs[0] is z:
            restore = var.owner.op if keep is not None else None  # type: ignore[union-attr]
            return factors[:k] + factors[k + 1:], sum_node, restore
    return None


def _distribute_to_cancel(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # (a / s - b) * s -> a - b * s: distributing the factor s over a short sum, only where
    # it cancels a division (the gradient of log(softmax(x)) written as such is
    # (g / sm - sum(g)) * sm, which is 0 / 0 where sm underflows)
    from symgraph.rewrite.rules.algebra import build_sum, sum_terms

    out = node.outputs[0]
    if not isinstance(node.op.scalar_op, ps.Mul) or not out.type.dtype.startswith("float"):  # type: ignore[attr-defined]
        return None
    for i, factor in enumerate(node.inputs):
        add_node = elemwise_node(factor, ps.Add, ps.Sub)
        if add_node is None or not single_client(fgraph, factor):
            continue
        if factor.type.dtype != out.type.dtype:  # type: ignore[attr-defined]
            continue
        others = [v for k, v in enumerate(node.inputs) if k != i]
        terms = sum_terms(fgraph, add_node)
        if len(terms.pos) + len(terms.neg) > 4 or terms.const != 0:
            continue
        cancels = False
        for term in terms.pos + terms.neg:
            div = elemwise_node(term, ps.TrueDiv)
            if div is not None and any(div.inputs[1] is o for o in others):
                cancels = True
        if not cancels:
            continue
        terms.pos = [tm.mul(t, *others) for t in terms.pos]
        terms.neg = [tm.mul(t, *others) for t in terms.neg]
        return [build_sum(terms, out.type.dtype)]  # type: ignore[attr-defined]
    return None


def _has_stable_complement(var: Variable) -> bool:
    """True if 1 - var has a stable form (sigmoid, erf, erfc, exp: see the rules above)."""
    return elemwise_node(var, ps.Sigmoid, ps.Erf, ps.Erfc, ps.Exp) is not None


def _factor_for_complement(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # a - a * s -> a * (1 - s) when 1 - s has a stable form: s(x) - s(x)**2, the gradient
    # of exp(x) / (1 + exp(x)), cancels to 0 where s(x) rounds to 1; s(x) * sigmoid(-x)
    # does not
    out = node.outputs[0]
    if not isinstance(node.op.scalar_op, ps.Sub) or not out.type.dtype.startswith("float"):  # type: ignore[attr-defined]
        return None
    first, second = node.inputs
    first_factors = _mul_factors(first)
    second_factors = _mul_factors(second)
    rest = list(second_factors)
    for f in first_factors:
        for k, g in enumerate(rest):
            if g is f:
                del rest[k]
                break
        else:
            return None
    if len(rest) != 1 or not _has_stable_complement(rest[0]):
        return None
    return [tm.mul(first, tm.sub(1, rest[0]))]


def _mul_factors(var: Variable) -> list[Variable]:
    node = elemwise_node(var, ps.Mul)
    return list(node.inputs) if node is not None else [var]


def _log_of_softmax(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # log(softmax(x)) -> log_softmax(x): softmax underflows to 0 where log_softmax is finite
    from symgraph.tensor.nnet import LogSoftmax, Softmax

    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, Softmax):
        return None
    return [LogSoftmax(inner.op.axis)(inner.inputs[0])]


# -- logsumexp ---------------------------------------------------------------------------------
def _is_shift_of(shift: Variable, z: Variable, axes: tuple[int, ...]) -> bool:
    """shift is switch(isinf(peak), 0, peak), peak = max_or_minus_inf(z, axes) (T.logsumexp's)."""
    node = elemwise_node(shift, ps.Switch)
    if node is None or scalar_constant(node.inputs[1]) != 0:
        return False
    peak = node.inputs[2]
    isinf = elemwise_node(node.inputs[0], ps.IsInf)
    if isinf is None or isinf.inputs[0] is not peak:
        return False
    return is_max_or_minus_inf(peak, z, axes)


def is_max_or_minus_inf(peak: Variable, z: Variable, axes: tuple[int, ...]) -> bool:
    """True if peak is max(z, axes, keepdims=True) as ``reduce.max_or_minus_inf`` builds it:
    one Max over the axes, plain or with ``initial=-inf``."""
    found = keepdims_axes(peak)
    if found is None:
        return False
    reduced, inserted = found
    owner = reduced.owner
    return (
        owner is not None and isinstance(owner.op, Max) and owner.op.axis == axes == inserted
        and owner.op.initial in (None, -np.inf) and owner.inputs[0] is z
    )


def _summed_exp(var: Variable) -> tuple[Variable, tuple[int, ...], bool] | None:
    """(z, axes, keepdims) if var is sum(exp(z), axes), possibly with the axes kept."""
    keep = keepdims_axes(var)
    reduced, keepdims = (keep[0], True) if keep is not None else (var, False)
    node = reduced.owner
    if node is None or not isinstance(node.op, Sum):
        return None
    if node.op.dtype is not None or not node.op.axis:
        return None
    if keepdims and keep is not None and keep[1] != node.op.axis:
        return None
    exp_node = elemwise_node(node.inputs[0], ps.Exp)
    if exp_node is None:
        return None
    return exp_node.inputs[0], node.op.axis, keepdims


def _log_sum_exp(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # log(sum(exp(x))) overflows for x > 709 and is log(0) when every x < -745
    from symgraph.tensor.reduce import logsumexp

    found = _summed_exp(node.inputs[0])
    if found is None:
        return None
    z, axes, keepdims = found
    if not is_real(z):
        return None
    shifted = elemwise_node(z, ps.Sub)
    if shifted is not None and _is_shift_of(shifted.inputs[1], shifted.inputs[0], axes):
        return None  # already the max-shifted form (T.logsumexp, or this rule's output)
    return [logsumexp(z, axis=axes, keepdims=keepdims)]


def logsumexp_parts(var: Variable) -> tuple[Variable, tuple[int, ...]] | None:
    """(z, axes) if var is T.logsumexp(z, axes, keepdims=True) as reduce.logsumexp builds it."""
    node = elemwise_node(var, ps.Add)
    if node is None or len(node.inputs) != 2:
        return None
    for i in (0, 1):
        log_node = elemwise_node(node.inputs[i], ps.Log)
        shift = node.inputs[1 - i]
        if log_node is None:
            continue
        found = _summed_exp(log_node.inputs[0])
        if found is None or not found[2]:
            continue
        shifted, axes, _ = found
        sub = elemwise_node(shifted, ps.Sub)
        if sub is not None and sub.inputs[1] is shift and _is_shift_of(shift, sub.inputs[0], axes):
            return sub.inputs[0], axes
    return None


def _x_minus_logsumexp(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # x - logsumexp(x, axis, keepdims=True) -> log_softmax(x, axis): one op, one pass
    from symgraph.tensor.nnet import LogSoftmax

    if not isinstance(node.op.scalar_op, ps.Sub):  # type: ignore[attr-defined]
        return None
    z, lse = node.inputs
    found = logsumexp_parts(lse)
    if found is None or found[0] is not z or len(found[1]) != 1 or z.type.ndim == 0:  # type: ignore[attr-defined]
        return None
    return [LogSoftmax(found[1][0])(z)]


# -- switch sinking ----------------------------------------------------------------------------
def _zero_branch(var: Variable) -> tuple[Variable, Variable, bool] | None:
    """(cond, other, zero_first) if var is switch(cond, 0, other) or switch(cond, other, 0)."""
    node = elemwise_node(var, ps.Switch)
    if node is None:
        return None
    cond, a, b = node.inputs
    if scalar_constant(a) == 0 and all(s == 1 for s in a.type.shape):  # type: ignore[attr-defined]
        return cond, b, True
    if scalar_constant(b) == 0 and all(s == 1 for s in b.type.shape):  # type: ignore[attr-defined]
        return cond, a, False
    return None


def _sink_switch(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # f(switch(c, 0, y), z) -> switch(c, 0, f(y, z)) for f = * and / (of the numerator):
    # the written form is 0 * z, which is NaN where z is inf or NaN in the branch not taken
    sop = node.op.scalar_op  # type: ignore[attr-defined]
    out = node.outputs[0]
    if not out.type.dtype.startswith("float"):  # type: ignore[attr-defined]
        return None
    if isinstance(sop, ps.Mul):
        positions = range(len(node.inputs))
    elif isinstance(sop, ps.TrueDiv):
        positions = range(1)  # only the numerator: 0 / z is not 0 where z is 0
    else:
        return None
    for i in positions:
        var = node.inputs[i]
        found = _zero_branch(var)
        if found is None:
            continue
        cond, other, zero_first = found
        operands = list(node.inputs)
        operands[i] = other
        inner = Elemwise(sop)(*operands)
        new = tm.switch(cond, 0, inner) if zero_first else tm.switch(cond, inner, 0)
        return [new]
    return None


RULES = RuleSet("stability", [
    # log(1 + x): 1 + x rounds x away for |x| < 1e-16
    Rule("log_one_plus_to_log1p", p.log(1 + x), p.log1p(x), _log1p_candidate,
         doc="log(1 + x) = log1p(x)", domain={"x": (-0.9, 3.0)}),
    Rule("log_one_minus_to_log1p", p.log(1 - x), p.log1p(-x), _log1p_candidate,
         doc="log(1 - x) = log1p(-x)", domain={"x": (-3.0, 0.9)}),
    # exp(x) - 1 cancels all digits for |x| < 1e-16
    Rule("exp_minus_one_to_expm1", p.exp(x) - 1, p.expm1(x), doc="exp(x) - 1 = expm1(x)"),
    Rule("one_minus_exp_to_neg_expm1", 1 - p.exp(x), -p.expm1(x), doc="1 - exp(x) = -expm1(x)"),
    # log1p(exp(x)) overflows for x > 709
    Rule("log1p_of_exp_to_softplus", p.log1p(p.exp(x)), p.softplus(x), _real,
         doc="log(1 + exp(x)) = softplus(x)"),
    # sigmoid underflows to 0 for x < -745, so its log is -inf
    Rule("log_of_sigmoid_to_softplus", p.log(p.sigmoid(x)), -p.softplus(-x), _real,
         doc="log(sigmoid(x)) = -softplus(-x)"),
    # 1 - sigmoid(x) cancels for x > 37 (sigmoid rounds to 1)
    Rule("one_minus_sigmoid_to_sigmoid_neg", 1 - p.sigmoid(x), p.sigmoid(-x), _real,
         doc="1 - sigmoid(x) = sigmoid(-x)"),
    Rule("log1p_of_neg_sigmoid_to_softplus", p.log1p(-p.sigmoid(x)), -p.softplus(x), _real,
         doc="log(1 - sigmoid(x)) = -softplus(x)"),
    # log(1 - exp(x)): 1 - exp(x) cancels near 0, exp(x) rounds 1 - exp(x) to 1 below -37
    Rule("log_one_minus_exp_to_log1mexp", p.log(1 - p.exp(x)), _log1mexp,
         doc="log(1 - exp(x)) = log1mexp(x), x < 0", domain={"x": (-5.0, -0.01)}),
    Rule("log1p_of_neg_exp_to_log1mexp", p.log1p(-p.exp(x)), _log1mexp_low,
         doc="log1p(-exp(x)) = log1mexp(x), x < 0", domain={"x": (-5.0, -0.01)}),
    Rule("log_of_neg_expm1_to_log1mexp", p.log(-p.expm1(x)), _log1mexp_high,
         doc="log(-expm1(x)) = log1mexp(x), x < 0", domain={"x": (-5.0, -0.01)}),
    Rule("log_of_exp_difference_to_log1mexp", p.log(p.exp(x) - p.exp(y)), _log_exp_difference,
         doc="log(exp(a) - exp(b)) = a + log1mexp(b - a), a > b",
         domain={"x": (1.0, 3.0), "y": (-3.0, 0.5)}),
    Rule("log_of_exp_sum_to_logaddexp", p.log(p.exp(x) + p.exp(y)), _logaddexp,
         doc="log(exp(a) + exp(b)) = max + softplus(-|a - b|)"),
    # 1 - erf(x) cancels for x > 3 (erf rounds to 1); erfc does not
    Rule("one_minus_erf_to_erfc", 1 - p.erf(x), p.erfc(x), _real, doc="1 - erf(x) = erfc(x)"),
    Rule("one_plus_erf_to_erfc", 1 + p.erf(x), p.erfc(-x), _real, doc="1 + erf(x) = erfc(-x)"),
    Rule("erf_minus_one_to_neg_erfc", p.erf(x) - 1, -p.erfc(x), _real, doc="erf(x) - 1 = -erfc(x)"),
    Rule("one_minus_erfc_to_erf", 1 - p.erfc(x), p.erf(x), _real, doc="1 - erfc(x) = erf(x)"),
    Rule("log_of_erfc_asymptotic", p.log(p.erfc(x)), _log_erfc,
         doc="log(erfc(x)), asymptotic series for x >= 8", domain={"x": (-3.0, 12.0)}),
    LocalRewrite("exp_neg_sqr_over_erfc", _exp_neg_sqr_over_erfc, (ps.Mul, ps.TrueDiv),
                 "exp(-x**2) / erfc(x), asymptotic for x >= 8"),
    LocalRewrite("exp_over_one_plus_exp_to_sigmoid", _exp_over_one_plus_exp, (ps.Mul, ps.TrueDiv),
                 "exp(x) / (1 + exp(x)) = sigmoid(x)"),
    LocalRewrite("exp_over_exp_sum_to_sigmoid", _exp_over_exp_sum, (ps.Mul, ps.TrueDiv),
                 "exp(a) / (exp(a) + exp(b)) = sigmoid(a - b)"),
    LocalRewrite("exp_over_exp_difference_to_expm1", _exp_over_exp_difference, (ps.Mul, ps.TrueDiv),
                 "exp(a) / (exp(a) - exp(b)) = -1 / expm1(b - a)"),
    LocalRewrite("sigmoid_times_exp_of_neg", _sigmoid_times_exp, (ps.Mul, ps.TrueDiv),
                 "sigmoid(x) * exp(-x) = sigmoid(-x)"),
    LocalRewrite("logistic_to_sigmoid", _logistic, (ps.TrueDiv, ps.Reciprocal),
                 "1 / (1 + exp(-x)) = sigmoid(x)"),
    LocalRewrite("exp_over_sum_exp_to_softmax", _exp_over_sum_exp, (ps.Mul, ps.TrueDiv),
                 "exp(x) / sum(exp(x), axis) = softmax(x, axis)"),
    LocalRewrite("sum_over_softmax_normalizer", _sum_over_softmax_normalizer, (ps.Mul, ps.TrueDiv),
                 "sum(g * exp(x)) / sum(exp(x)) = sum(g * softmax(x))"),
    LocalRewrite("distribute_to_cancel", _distribute_to_cancel, (ps.Mul,),
                 "(a / s - b) * s = a - b * s"),
    LocalRewrite("factor_for_stable_complement", _factor_for_complement, (ps.Sub,),
                 "a - a * s = a * (1 - s) when 1 - s has a stable form"),
    LocalRewrite("log_of_softmax_to_log_softmax", _log_of_softmax, (ps.Log,),
                 "log(softmax(x)) = log_softmax(x)"),
    LocalRewrite("log_sum_exp_to_logsumexp", _log_sum_exp, (ps.Log,),
                 "log(sum(exp(x))) = max-shifted logsumexp(x)"),
    LocalRewrite("x_minus_logsumexp_to_log_softmax", _x_minus_logsumexp, (ps.Sub,),
                 "x - logsumexp(x, axis, keepdims) = log_softmax(x, axis)"),
    LocalRewrite("sink_switch_through_mul", _sink_switch, (ps.Mul, ps.TrueDiv),
                 "switch(c, 0, y) * z = switch(c, 0, y * z)"),
])

STABILIZE = RULES
