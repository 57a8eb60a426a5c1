"""Stability rules (rewrite/rules/stability.py).

The stability table: each unstable expression, at inputs where the written form gives
inf, nan, or loses every digit, compiled with the full pipeline and compared with an
exact reference (mpmath at 50 digits) to 1e-9 relative error in float64 -- and so is its
gradient (mpmath's derivative of the reference). Then each function rule on its own:
it fires, it does not fire where its guard says no, and it keeps values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath as mp
import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.rewrite.pipeline import canonical_rules
from symgraph.rewrite.rules.stability import STABILIZE
from symgraph.tensor.nnet import LogSoftmax, Softmax
from tests.rewrite.support import (
    apply_rules, assert_not_fired, assert_rewrite_keeps_values, op_names, run_graph,
)

#: digits for the references: 1 + 1e-304 must not round to 1
DIGITS = 400
RULES = STABILIZE + canonical_rules()


@dataclass
class Unstable:
    """An expression of one or two float64 vectors, where it breaks, and its exact value."""

    name: str
    build: Callable[..., Any]
    points: Sequence[Sequence[float]]  # one row of values per input
    reference: Callable[..., Any]  # mpmath function of the inputs
    rule: str  # a rule that must fire
    value_breaks: bool = True  # False: only the gradient of the written form breaks

    def inputs(self) -> list[Any]:
        return [T.dvector(f"x{i}") for i in range(len(self.points))]

    def values(self) -> list[np.ndarray]:
        return [np.asarray(p, dtype="float64") for p in self.points]

    def exact(self) -> np.ndarray:
        with mp.workdps(DIGITS):
            columns = zip(*self.points)
            return np.array([float(self.reference(*(mp.mpf(v) for v in c))) for c in columns])

    def exact_gradient(self) -> np.ndarray:
        # derivative with respect to the first input
        out = []
        with mp.workdps(DIGITS):
            for column in zip(*self.points):
                rest = [mp.mpf(v) for v in column[1:]]
                out.append(float(mp.diff(lambda t: self.reference(t, *rest), mp.mpf(column[0]))))
        return np.array(out)


def _sigmoid(t: Any) -> Any:
    return 1 / (1 + mp.exp(-t))


TABLE = [
    Unstable("log_one_plus", lambda x: T.log(1 + x), [[1e-20, 1e-10, -0.5, 3.0]],
             lambda t: mp.log(1 + t), "log_one_plus_to_log1p"),
    Unstable("exp_minus_one", lambda x: T.exp(x) - 1, [[1e-20, -1e-15, 2.0]], mp.expm1,
             "exp_minus_one_to_expm1"),
    Unstable("log_one_plus_exp", lambda x: T.log(1 + T.exp(x)),
             [[-700.0, -40.0, 0.0, 40.0, 1000.0]],
             lambda t: mp.log(1 + mp.exp(t)), "log1p_of_exp_to_softplus"),
    Unstable("log_sigmoid", lambda x: T.log(T.sigmoid(x)),
             [[-1000.0, -40.0, 0.0, 40.0, 700.0]],
             lambda t: -mp.log1p(mp.exp(-t)), "log_of_sigmoid_to_softplus"),
    Unstable("log_one_minus_sigmoid", lambda x: T.log(1 - T.sigmoid(x)),
             [[-700.0, -40.0, 0.0, 40.0, 1000.0]],
             lambda t: -mp.log1p(mp.exp(t)), "one_minus_sigmoid_to_sigmoid_neg"),
    Unstable("one_minus_sigmoid", lambda x: 1 - T.sigmoid(x), [[-40.0, 0.0, 40.0, 700.0]],
             lambda t: 1 / (1 + mp.exp(t)), "one_minus_sigmoid_to_sigmoid_neg"),
    Unstable("exp_over_one_plus_exp", lambda x: T.exp(x) / (1 + T.exp(x)),
             [[-700.0, -40.0, 0.0, 40.0, 1000.0]],
             _sigmoid, "exp_over_one_plus_exp_to_sigmoid"),
    # 1 / (1 + inf) is 0 by luck; its gradient, exp(-x) / (1 + exp(-x))**2, is inf / inf
    Unstable("logistic", lambda x: 1 / (1 + T.exp(-x)), [[-700.0, -40.0, 0.0, 40.0]],
             _sigmoid, "logistic_to_sigmoid", value_breaks=False),
    Unstable("log_one_minus_exp", lambda x: T.log(1 - T.exp(x)),
             [[-700.0, -40.0, -1.0, -0.1, -1e-10, -1e-20]],
             lambda t: mp.log(-mp.expm1(t)), "log_of_neg_expm1_to_log1mexp"),
    Unstable("log_exp_difference", lambda a, b: T.log(T.exp(a) - T.exp(b)),
             [[1000.0, 0.0, -1000.0, 5.0], [999.0, -1e-10, -1001.0, -30.0]],
             lambda a, b: mp.log(mp.exp(a) - mp.exp(b)), "log_of_exp_difference_to_log1mexp"),
    Unstable("log_exp_sum", lambda a, b: T.log(T.exp(a) + T.exp(b)),
             [[1000.0, 0.0, -1000.0, 5.0], [999.0, -1e-10, -1001.0, -30.0]],
             lambda a, b: mp.log(mp.exp(a) + mp.exp(b)), "log_of_exp_sum_to_logaddexp"),
    Unstable("one_minus_erf", lambda x: 1 - T.erf(x), [[-3.0, 0.5, 5.0, 10.0, 26.0]],
             mp.erfc, "one_minus_erf_to_erfc"),
    Unstable("one_plus_erf", lambda x: 1 + T.erf(x), [[-26.0, -10.0, -5.0, 0.5, 3.0]],
             lambda t: mp.erfc(-t), "one_plus_erf_to_erfc"),
    Unstable("log_erfc", lambda x: T.log(T.erfc(x)),
             [[-3.0, 0.5, 5.0, 7.999, 8.0, 10.0, 30.0, 1e3, 1e5]],
             lambda t: mp.log(mp.erfc(t)), "log_of_erfc_asymptotic"),
]


def _relative_error(got: np.ndarray, exact: np.ndarray) -> np.ndarray:
    return np.abs(got - exact) / np.maximum(np.abs(exact), np.finfo(float).tiny)


@pytest.mark.parametrize("case", TABLE, ids=lambda c: c.name)
def test_stable_value_matches_the_exact_value_where_the_written_form_fails(case):
    inputs = case.inputs()
    out = case.build(*inputs)
    stable = sg.compile_function(inputs, out, mode="py")
    naive = sg.compile_function(inputs, out, mode="py", optimizer="none")
    exact = case.exact()
    with np.errstate(all="ignore"):
        written = naive(*case.values())
    got = stable(*case.values())
    assert stable.rewrites_applied[case.rule] >= 1, dict(stable.rewrites_applied)
    # the written form overflows, is NaN, or loses (nearly) every digit somewhere
    broken = ~np.isfinite(written) | (_relative_error(written, exact) > 1e-3)
    assert broken.any() == case.value_breaks, f"{case.name}: written form gives {written}"
    np.testing.assert_allclose(got, exact, rtol=1e-9, atol=0)


@pytest.mark.parametrize("case", TABLE, ids=lambda c: c.name)
def test_gradient_of_the_written_form_is_stable_after_rewriting(case):
    inputs = case.inputs()
    out = case.build(*inputs)
    grad = sg.compile_function(inputs, T.grad(out.sum(), inputs[0]), mode="py")
    got = grad(*case.values())
    np.testing.assert_allclose(got, case.exact_gradient(), rtol=1e-9, atol=1e-300)


ROWS = np.array([[1000.0, 999.0, 0.0], [-1000.0, -1001.0, -1003.0], [0.5, -0.25, 2.0]])
WEIGHTS = np.array([1.0, 2.0, 3.0])


def _exact_rows(fn: Callable[[list[Any]], list[Any]]) -> np.ndarray:
    with mp.workdps(DIGITS):
        return np.array([[float(v) for v in fn([mp.mpf(a) for a in row])] for row in ROWS])


def _exact_softmax(row: list[Any]) -> list[Any]:
    total = mp.fsum(mp.exp(a) for a in row)
    return [mp.exp(a) / total for a in row]


def _exact_log_softmax(row: list[Any]) -> list[Any]:
    lse = mp.log(mp.fsum(mp.exp(a) for a in row))
    return [a - lse for a in row]


SOFTMAX_FAMILY = [
    ("log_sum_exp", lambda m: T.log(T.sum(T.exp(m), axis=1, keepdims=True)),
     lambda row: [mp.log(mp.fsum(mp.exp(a) for a in row))], "log_sum_exp_to_logsumexp"),
    ("softmax", lambda m: T.exp(m) / T.sum(T.exp(m), axis=1, keepdims=True),
     _exact_softmax, "exp_over_sum_exp_to_softmax"),
    ("log_softmax", lambda m: T.log(T.exp(m) / T.sum(T.exp(m), axis=1, keepdims=True)),
     _exact_log_softmax, "log_of_softmax_to_log_softmax"),
    ("x_minus_logsumexp", lambda m: m - T.logsumexp(m, axis=1, keepdims=True),
     _exact_log_softmax, "x_minus_logsumexp_to_log_softmax"),
    ("x_minus_log_sum_exp", lambda m: m - T.log(T.sum(T.exp(m), axis=1, keepdims=True)),
     _exact_log_softmax, "x_minus_logsumexp_to_log_softmax"),
    ("log_of_softmax_op", lambda m: T.log(T.nnet.softmax(m)),
     _exact_log_softmax, "log_of_softmax_to_log_softmax"),
]


@pytest.mark.parametrize("name, build, exact, rule", SOFTMAX_FAMILY,
                         ids=[c[0] for c in SOFTMAX_FAMILY])
def test_softmax_family_values_and_gradients_are_exact_at_extreme_rows(name, build, exact, rule):
    m = T.dmatrix("m")
    out = build(m)
    f = sg.compile_function([m], out, mode="py")
    assert f.rewrites_applied[rule] >= 1, dict(f.rewrites_applied)
    np.testing.assert_allclose(f(ROWS), _exact_rows(exact), rtol=1e-9, atol=0)
    # the gradient of a weighted sum of each row's outputs, against the exact derivative
    width = 1 if out.type.shape[1] == 1 else 3
    weights = WEIGHTS[:width]
    grad = sg.compile_function([m], T.grad(T.sum(out * weights), m), mode="py")(ROWS)
    for row, got in zip(ROWS, grad):
        for k in range(3):
            def weighted(t: Any, k: int = k, row: Any = row) -> Any:
                args = [mp.mpf(a) for a in row]
                args[k] = t
                return mp.fsum(w * v for w, v in zip(weights, exact(args)))

            with mp.workdps(DIGITS):
                expected = float(mp.diff(weighted, mp.mpf(row[k])))
            assert abs(got[k] - expected) <= 1e-9 * abs(expected), (name, row, k, got[k], expected)


def test_switch_sinking_keeps_an_untaken_branch_from_poisoning_the_gradient():
    x = T.dvector("x")
    out = T.switch(T.gt(x, 0), T.log(x), 0.0) + T.switch(T.gt(x, 0), T.sqrt(x), 0.0)
    grad = sg.compile_function([x], T.grad(out.sum(), x), mode="py")
    naive = sg.compile_function([x], T.grad(out.sum(), x), mode="py", optimizer="none")
    values = np.array([0.0, -1.0, 4.0])
    with np.errstate(all="ignore"):
        assert np.isnan(naive(values)[0])
    np.testing.assert_allclose(grad(values), [0.0, 0.0, 0.25 + 0.25], rtol=1e-12)
    assert grad.rewrites_applied["sink_switch_through_mul"] >= 1


# -- each function rule on its own ---------------------------------------------------------------
V = np.array([-2.0, 0.5, 3.0])


def test_exp_over_one_plus_exp_inside_a_product():
    x, g = T.dvectors("x", "g")
    out = g * T.exp(x) / (1 + T.exp(x))
    fgraph = assert_rewrite_keeps_values([x, g], out, RULES, [V, V],
                                         "exp_over_one_plus_exp_to_sigmoid")
    assert "exp" not in op_names(fgraph)
    assert_not_fired([x, g], g * T.exp(g) / (1 + T.exp(x)), RULES,
                     "exp_over_one_plus_exp_to_sigmoid")


def test_logistic_inside_a_product():
    x, g = T.dvectors("x", "g")
    assert_rewrite_keeps_values([x, g], g / (1 + T.exp(-x)), RULES, [V, V], "logistic_to_sigmoid")
    assert_not_fired([x, g], g / (2 + T.exp(-x)), RULES, "logistic_to_sigmoid")


def test_exp_over_exp_sum_and_difference():
    a, b = T.dvectors("a", "b")
    big = [np.array([1000.0, 1.0]), np.array([999.0, -2.0])]
    fgraph = assert_rewrite_keeps_values([a, b], T.exp(a) / (T.exp(a) + T.exp(b)), RULES,
                                         [V, V - 1], "exp_over_exp_sum_to_sigmoid")
    assert "exp" not in op_names(fgraph)
    fgraph, _ = apply_rules([a, b], [T.exp(a) / (T.exp(a) - T.exp(b))], RULES)
    np.testing.assert_allclose(run_graph(fgraph, big)[0], 1 / (1 - np.exp(big[1] - big[0])),
                               rtol=1e-12)
    assert_not_fired([a, b], T.exp(b) / (T.exp(a) - T.exp(b)), RULES,
                     "exp_over_exp_difference_to_expm1")


def test_exp_neg_sqr_over_erfc_is_asymptotic_for_large_inputs():
    x = T.dvector("x")
    out = T.exp(-T.sqr(x)) / T.erfc(x)
    fgraph = assert_rewrite_keeps_values([x], out, RULES, [np.array([-3.0, 0.5, 5.0, 9.0])],
                                         "exp_neg_sqr_over_erfc", rtol=1e-12)
    got = run_graph(fgraph, [np.array([30.0, 1e4])])[0]
    with mp.workdps(DIGITS):
        exact = [float(mp.exp(-mp.mpf(v) ** 2) / mp.erfc(v)) for v in (30, 10**4)]
    np.testing.assert_allclose(got, exact, rtol=1e-12)
    assert_not_fired([x], T.exp(-T.sqr(x + 1)) / T.erfc(x), RULES, "exp_neg_sqr_over_erfc")


def test_softmax_rules_need_the_same_input_and_a_single_axis():
    m, n = T.dmatrices("m", "n")
    assert_not_fired([m, n], T.exp(m) / T.sum(T.exp(n), axis=1, keepdims=True), RULES,
                     "exp_over_sum_exp_to_softmax")
    t = T.dtensor3("t")
    assert_not_fired([t], T.exp(t) / T.sum(T.exp(t), axis=(1, 2), keepdims=True), RULES,
                     "exp_over_sum_exp_to_softmax")
    assert_not_fired([m, n], n - T.logsumexp(m, axis=1, keepdims=True), RULES,
                     "x_minus_logsumexp_to_log_softmax")


def test_log_of_softmax_and_of_a_sum_of_exp():
    m = T.dmatrix("m")
    values = [np.array([[0.5, 1.0], [-1.0, 2.0]])]
    fgraph = assert_rewrite_keeps_values([m], T.log(T.nnet.softmax(m)), RULES, values,
                                         "log_of_softmax_to_log_softmax")
    assert any(isinstance(n.op, LogSoftmax) for n in fgraph.apply_nodes)
    assert_rewrite_keeps_values([m], T.log(T.sum(T.exp(m))), RULES, values,
                                "log_sum_exp_to_logsumexp")
    assert_rewrite_keeps_values([m], T.log(T.sum(T.exp(m), axis=0)), RULES, values,
                                "log_sum_exp_to_logsumexp")


def test_logsumexp_is_not_rewritten_again():
    m = T.dmatrix("m")
    assert_not_fired([m], T.logsumexp(m, axis=1), RULES, "log_sum_exp_to_logsumexp")


def test_log1mexp_and_log_erfc_do_not_rewrite_their_own_branches():
    x = T.dvector("x")
    for out in (T.log1mexp(x), T.log(1 - T.exp(x))):
        fgraph, log = apply_rules([x], [out], RULES)
        counts = log.counts
        assert counts["log1p_of_neg_exp_to_log1mexp"] + counts["log_of_neg_expm1_to_log1mexp"] <= 1
    fgraph, log = apply_rules([x], [T.log(T.erfc(x))], RULES)
    assert log.counts["log_of_erfc_asymptotic"] == 1


def test_log1p_leaves_one_plus_erf_to_the_erfc_rule():
    x = T.dvector("x")
    fgraph, log = apply_rules([x], [T.log(1 + T.erf(x))], RULES)
    assert log.counts["log_one_plus_to_log1p"] == 0 and log.counts["one_plus_erf_to_erfc"] == 1


def test_sum_over_the_softmax_normalizer():
    m, g = T.dmatrices("m", "g")
    s = T.sum(T.exp(m), axis=1, keepdims=True)
    out = T.sum(g * T.exp(m), axis=1, keepdims=True) / s
    fgraph = assert_rewrite_keeps_values([m, g], out, RULES, [ROWS[2:], ROWS[2:] + 1],
                                         "sum_over_softmax_normalizer")
    assert any(isinstance(n.op, Softmax) for n in fgraph.apply_nodes)


def test_distribute_to_cancel_only_where_it_cancels():
    x, s, b = T.dvectors("x", "s", "b")
    assert_rewrite_keeps_values([x, s, b], (x / s - b) * s, RULES, [V, V + 5, V],
                                "distribute_to_cancel")
    assert_not_fired([x, s, b], (x / b - s) * s, RULES, "distribute_to_cancel")


def test_switch_sinks_through_products_and_numerators_only():
    x, y = T.dvectors("x", "y")
    c = T.gt(x, 0)
    assert_rewrite_keeps_values([x, y], T.switch(c, 0.0, y) * x, RULES, [V, V],
                                "sink_switch_through_mul")
    assert_rewrite_keeps_values([x, y], T.switch(c, y, 0.0) / x, RULES, [V, V],
                                "sink_switch_through_mul")
    assert_not_fired([x, y], x / T.switch(c, y, 0.0), RULES, "sink_switch_through_mul")
    assert_not_fired([x, y], T.switch(c, 1.0, y) * x, RULES, "sink_switch_through_mul")
