"""The pipeline as a whole: phases per optimizer, explain, idempotence, and agreement of
rewritten graphs (and their gradients) with the graphs as written, over the
Foundation's differential op table."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.graph.fgraph import FunctionGraph
from symgraph.rewrite.pipeline import describe, phases_for, rewrite_graph
from tests.differential.op_cases import ALL_CASES


def test_phases_per_optimizer():
    assert [p.name for p in phases_for("stabilize")] == ["canonicalize", "stabilize"]
    names = [p.name for p in phases_for("fast_run")]
    assert names[:3] == ["canonicalize", "stabilize", "specialize"]
    assert phases_for("none") == []
    with pytest.raises(ValueError, match="optimizer must be 'fast_run', 'stabilize' or 'none'"):
        phases_for("fast")


def test_describe_lists_each_phase_and_rule_with_its_identity():
    text = describe("fast_run")
    assert text.startswith("phase canonicalize (")
    assert "  log_one_plus_to_log1p: log(1 + x) = log1p(x)" in text
    assert "phase specialize (" in text and "gemm_from_scaled_dot_sum" in text


def test_stabilize_runs_no_specialization():
    x = T.dvector("x")
    f = sg.compile_function([x], T.log(1 + x ** 2), mode="py", optimizer="stabilize")
    g = sg.compile_function([x], T.log(1 + x ** 2), mode="py")
    assert "pow_to_sqr_sqrt_reciprocal" not in f.rewrites_applied
    assert g.rewrites_applied["pow_to_sqr_sqrt_reciprocal"] == 1
    assert f.rewrites_applied["log_one_plus_to_log1p"] == 1
    assert g.rewrites_applied["log_one_plus_to_log1p"] == 1


def test_log_stop_reasons_times_and_sizes_per_phase():
    x = T.dvector("x")
    fgraph = FunctionGraph([x], [T.log(1 + T.exp(x)) * 1])
    log = rewrite_graph(fgraph, "fast_run")
    for phase in phases_for("fast_run"):
        assert log.stop_reasons[phase.name] == "fixpoint"
        assert log.phase_times[phase.name] >= 0
    assert log.phase_sizes["canonicalize"][0] == 6  # exp, add, log, mul and two broadcasts


def test_explain_tells_each_phase_each_rewrite_before_and_after_and_the_time():
    x = T.dvector("x")
    f = sg.compile_function([x], T.log(1 + T.exp(x)), mode="py")
    text = f.explain()
    for phase in ("canonicalize", "stabilize", "specialize"):
        assert f"phase {phase}:" in text
    assert "log_one_plus_to_log1p:" in text and "log1p_of_exp_to_softplus:" in text
    assert "before: log1p(exp(x))" in text and "after:  softplus(x)" in text
    assert " nodes, stopped at fixpoint" in text and " ms, " in text


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.name)
def test_rewriting_the_op_table_twice_changes_nothing_the_second_time(case):
    variables = case.variables()
    out = case.build(*variables)
    outputs = list(out) if isinstance(out, (list, tuple)) else [out]
    targets = list(outputs)
    floats = [v for v in variables if v.dtype.startswith("float")]
    if case.differentiable and floats:
        cost = sum((o * o).sum() for o in outputs if o.dtype.startswith("float"))
        targets += list(T.grad(cost, floats))
    fgraph = FunctionGraph(variables, targets)
    rewrite_graph(fgraph, "fast_run")
    again = rewrite_graph(fgraph, "fast_run")
    assert not again.counts, dict(again.counts)


@pytest.mark.parametrize("case", [c for c in ALL_CASES if c.differentiable], ids=lambda c: c.name)
def test_rewritten_op_table_gradients_agree_with_the_graphs_as_written(case, rng):
    variables = case.variables()
    out = case.build(*variables)
    outputs = list(out) if isinstance(out, (list, tuple)) else [out]
    floats = [v for v in variables if v.dtype.startswith("float")]
    if not floats:
        pytest.skip("no float input to differentiate")
    cost = sum((o * o).sum() for o in outputs if o.dtype.startswith("float"))
    targets = [cost, *T.grad(cost, floats)]
    values = case.values(rng, domain=case.grad_domain)
    rewritten = sg.compile_function(variables, targets, mode="py",
                                    on_unused_input="ignore")(*values)
    written = sg.compile_function(variables, targets, mode="py", optimizer="none",
                                  on_unused_input="ignore")(*values)
    tolerance = 1e-5 if any(v.dtype == "float32" for v in floats) else 1e-9
    for got, expected in zip(rewritten, written):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance * 1e-3,
                                   equal_nan=True)


# -- random expressions: the whole pipeline must keep values, reach fixpoints, be idempotent ----
def _unary_steps():
    return [
        T.exp, T.log, T.sigmoid, T.softplus, T.sqr, T.sqrt, T.abs, T.neg, T.log1p, T.expm1, T.erfc,
        lambda v: 1 - v, lambda v: v - 1, lambda v: 1 / v, lambda v: v * 2.5, lambda v: v ** -2,
        lambda v: T.sum(v, axis=1, keepdims=True), lambda v: T.sum(v, axis=0, keepdims=True),
        lambda v: v.T.T, lambda v: T.switch(T.gt(v, 1), v, 0.0), T.nnet.softmax,
        lambda v: v[1:][0:2].sum() + v, lambda v: T.ones_like(v) * v,
        lambda v: T.exp(v) / T.sum(T.exp(v), axis=1, keepdims=True),
        lambda v: T.log(T.sum(T.exp(v), axis=1, keepdims=True)) + v,
        lambda v: v - T.logsumexp(v, axis=1, keepdims=True),
    ]


def _binary_steps():
    return [
        T.add, T.sub, T.mul, T.true_div, T.maximum, lambda a, b: T.log(T.exp(a) + T.exp(b)),
        lambda a, b: a * b / a, lambda a, b: a + b - a,
    ]


def _random_expression(rng, leaves, depth):
    if depth == 0 or rng.random() < 0.2:
        return leaves[rng.integers(len(leaves))]
    if rng.random() < 0.6:
        steps = _unary_steps()
        return steps[rng.integers(len(steps))](_random_expression(rng, leaves, depth - 1))
    steps = _binary_steps()
    first = _random_expression(rng, leaves, depth - 1)
    return steps[rng.integers(len(steps))](first, _random_expression(rng, leaves, depth - 1))


@pytest.mark.parametrize("seed", range(100))
def test_random_expressions_and_gradients_keep_values_and_settle(seed):
    rng = np.random.default_rng(seed)
    x, y, r, c = T.dmatrix("x"), T.dmatrix("y"), T.drow("r"), T.dcol("c")
    out = _random_expression(rng, [x, y, r, c, x * 0.5], 5) + x
    targets = [out, *T.grad(T.sum(out), [x, r, c], disconnected_inputs="ignore")]
    inputs = [x, y, r, c]
    fgraph = FunctionGraph(inputs, targets)
    log = rewrite_graph(fgraph, "fast_run")
    assert set(log.stop_reasons.values()) == {"fixpoint"}, log.stop_reasons
    assert not rewrite_graph(fgraph, "fast_run").counts
    values = [rng.uniform(0.2, 2, (3, 4)), rng.uniform(0.2, 2, (3, 4)), rng.uniform(0.2, 2, (1, 4)),
              rng.uniform(0.2, 2, (3, 1))]
    rewritten = sg.compile_function(inputs, targets, mode="py", on_unused_input="ignore")(*values)
    with np.errstate(all="ignore"):
        written = sg.compile_function(inputs, targets, mode="py", optimizer="none",
                                      on_unused_input="ignore")(*values)
    for got, expected in zip(rewritten, written):
        assert got.shape == expected.shape and got.dtype == expected.dtype
        finite = np.isfinite(expected)  # where the written form is finite, the values agree
        np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-7, atol=1e-9)
