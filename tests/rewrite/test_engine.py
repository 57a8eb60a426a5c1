"""The rewrite engine: fixpoint, budgets and stop reasons, merging, constant folding,
type and shape checks of replacements, the firing log, and work linear in graph size."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph.tensor as T
from symgraph import scalar as ps
from symgraph.graph.fgraph import FunctionGraph
from symgraph.rewrite.engine import (
    EVENT_WIDTH, FOLD_LIMIT, Budget, LocalRewrite, RewriteError, RewriteLog, merge, run_phase,
)
from symgraph.tensor.elemwise import Elemwise
from symgraph.tensor.shape import Alloc
from tests.rewrite.support import evaluate, op_names, run_graph


def _phase(inputs, outputs, rules, **kwargs):
    fgraph = FunctionGraph(inputs, outputs)
    log = RewriteLog()
    reason = run_phase(fgraph, "test", rules, log, **kwargs)
    return fgraph, log, reason


def _sin_to_cos(fgraph, node):
    return [T.cos(node.inputs[0])]


SIN_TO_COS = LocalRewrite("sin_to_cos", _sin_to_cos, (ps.Sin,))


def test_run_phase_applies_rules_to_a_fixpoint_and_says_so():
    x = T.dvector("x")
    fgraph, log, reason = _phase([x], [T.sin(T.sin(x)) + T.sin(x)], [SIN_TO_COS])
    assert reason == "fixpoint" and log.stop_reasons["test"] == "fixpoint"
    assert "sin" not in op_names(fgraph)
    assert log.counts["sin_to_cos"] == 2  # sin(x) appears twice but is merged first
    assert log.phase_sizes["test"][0] == 4 and log.phase_times["test"] > 0


def test_rules_only_see_the_nodes_they_track():
    seen = []

    def spy(fgraph, node):
        seen.append(node.op.scalar_op.name)
        return None

    x = T.dvector("x")
    _phase([x], [T.exp(T.sin(x)) * 2], [LocalRewrite("spy", spy, (ps.Sin, ps.Exp))])
    assert sorted(set(seen)) == ["exp", "sin"]


def test_a_rule_set_that_never_settles_is_stopped_by_the_budget_with_the_reason():
    def flip(fgraph, node):
        a, b = node.inputs
        return [Elemwise(ps.sub)(a, Elemwise(ps.neg)(b))]  # a + b -> a - (-b)

    def unflip(fgraph, node):
        a, b = node.inputs
        inner = b.owner
        if inner is not None and isinstance(getattr(inner.op, "scalar_op", None), ps.Neg):
            return [Elemwise(ps.add)(a, inner.inputs[0])]
        return None

    x, y = T.dvectors("x", "y")
    rules = [LocalRewrite("flip", flip, (ps.Add,)), LocalRewrite("unflip", unflip, (ps.Sub,))]
    fgraph, log, reason = _phase([x, y], [x + y], rules, budget=Budget(rewrites_per_node=2))
    assert reason.startswith("budget:") and "rewrites" in reason
    assert log.stop_reasons["test"] == reason
    values = [np.array([1.0, 2.0]), np.array([3.0, 5.0])]
    np.testing.assert_allclose(run_graph(fgraph, values)[0], [4.0, 7.0])


def test_a_rule_that_grows_the_graph_is_stopped_by_the_growth_budget():
    def grow(fgraph, node):
        # sin(x) -> sin(x + 0 * x): always new nodes, never settles
        x = node.inputs[0]
        return [T.sin(Elemwise(ps.add)(x, Elemwise(ps.mul)(0.0, x)))]

    x = T.dvector("x")
    _, log, reason = _phase([x], [T.sin(x)], [LocalRewrite("grow", grow, (ps.Sin,))],
                            budget=Budget(rewrites_per_node=10**6, growth=1.0))
    assert reason.startswith("budget: the graph grew to")


def test_merge_makes_identical_subgraphs_and_commuted_operands_one():
    x, y = T.dvectors("x", "y")
    out = T.exp(x + y) * T.exp(y + x)
    fgraph, log, _ = _phase([x, y], [out], [])
    assert op_names(fgraph).count("exp") == 1 and op_names(fgraph).count("add") == 1
    assert log.counts["merge"] == 2


def test_merge_function_sweeps_a_graph_once():
    x = T.dvector("x")
    fgraph = FunctionGraph([x], [T.exp(x) + T.exp(x)])
    assert merge(fgraph) == 1
    assert op_names(fgraph).count("exp") == 1


def test_constant_folding_evaluates_constant_subgraphs_but_keeps_broadcast_scalars():
    x = T.dvector("x")
    out = (T.constant(2.0) + T.constant(3.0)) * x
    fgraph, log, _ = _phase([x], [out], [])
    assert log.counts["constant_folding"] == 1
    assert op_names(fgraph) == ["DimShuffle", "mul"]  # 5.0 broadcast, not a folded [5.]
    np.testing.assert_allclose(run_graph(fgraph, [np.array([1.0, 2.0])])[0], [5.0, 10.0])


def test_constant_folding_sees_through_broadcast_constants():
    x = T.dvector("x")
    out = T.switch(T.neq(1, 0), x, 2 * x)  # the condition is a broadcast constant
    fgraph, log, _ = _phase([x], [out], [])
    assert log.counts["constant_folding"] >= 1


def test_constant_folding_respects_the_size_limit():
    big = T.alloc(T.constant(1.0), 1000, FOLD_LIMIT // 1000 + 1)
    x = T.dmatrix("x")
    fgraph, log, _ = _phase([x], [big + x], [])
    assert any(isinstance(n.op, Alloc) for n in fgraph.apply_nodes)
    assert log.counts["constant_folding"] == 0


def test_constant_folding_can_be_turned_off():
    x = T.dvector("x")
    _, log, _ = _phase([x], [(T.constant(2.0) + T.constant(3.0)) * x], [], fold=False)
    assert log.counts["constant_folding"] == 0


def test_a_replacement_with_more_axes_is_a_bug_in_the_rule():
    def bad(fgraph, node):
        return [T.dmatrix("m")]

    x = T.dvector("x")
    with pytest.raises(RewriteError, match="bad.*bug in the rewrite"):
        _phase([x], [T.sin(x)], [LocalRewrite("bad", bad, (ps.Sin,))])


def test_a_replacement_is_cast_and_broadcast_to_the_type_and_shape_it_replaces():
    # a (wrong-valued but) narrower replacement: float32 row for a float64 matrix
    def to_row(fgraph, node):
        return [T.cast(node.inputs[1], "float32")]

    m, r = T.dmatrix("m"), T.drow("r")
    out = m + r
    fgraph, _, _ = _phase([m, r], [out], [LocalRewrite("to_row", to_row, (ps.Add,))])
    assert fgraph.outputs[0].type == out.type
    got = run_graph(fgraph, [np.zeros((3, 2)), np.array([[1.0, 2.0]])])[0]
    np.testing.assert_array_equal(got, [[1.0, 2.0]] * 3)


def test_new_nodes_inherit_the_user_line_of_the_node_they_replace():
    x = T.dvector("x")
    out = T.sin(x)  # this line is where the user built the node
    fgraph, _, _ = _phase([x], [out], [SIN_TO_COS])
    (node,) = fgraph.apply_nodes
    assert node.source is not None and node.source.lineno == out.owner.source.lineno


def test_events_show_the_rewritten_subgraph_before_and_after_in_bounded_text():
    x = T.dvector("x")
    deep = x
    for _ in range(200):
        deep = T.tanh(deep) * 1.5 + T.exp(deep)
    fgraph, log, _ = _phase([x], [T.sin(deep)], [SIN_TO_COS])
    (event,) = [e for e in log.events if e.name == "sin_to_cos"]
    assert event.before.startswith("sin(") and event.after.startswith("cos(")
    assert "..." in event.before and len(event.before) <= EVENT_WIDTH


def test_only_the_first_events_are_kept_but_all_are_counted():
    x = T.dvector("x")
    outs = [T.sin(x * float(k)) for k in range(1, 11)]
    fgraph = FunctionGraph([x], outs)
    log = RewriteLog(keep_events=3)
    run_phase(fgraph, "test", [SIN_TO_COS], log)
    assert log.counts["sin_to_cos"] == 10 and len(log.events) == 3


def test_rule_calls_grow_linearly_with_the_graph():
    calls = []

    def count(fgraph, node):
        calls.append(node)
        return None

    def chain(n):
        x = T.dvector("x")
        y = x
        for i in range(n):
            y = T.tanh(y) * 1.5 + 0.5
        return FunctionGraph([x], [y, T.grad(y.sum(), x)])

    from symgraph.rewrite.pipeline import canonical_rules

    rules = list(canonical_rules().rewrites()) + [LocalRewrite("count", count)]
    per_node = []
    for n in (50, 400):
        calls.clear()
        fgraph = chain(n)
        size = len(fgraph.apply_nodes)
        run_phase(fgraph, "test", rules, RewriteLog())
        per_node.append(len(calls) / size)
    assert per_node[1] < 1.5 * per_node[0]


def test_rewritten_graph_values_match_the_graph_as_written():
    x = T.dvector("x")
    out = T.sin(x) * 2
    fgraph, _, _ = _phase([x], [out], [SIN_TO_COS])
    value = np.array([0.3, 1.2])
    np.testing.assert_allclose(run_graph(fgraph, [value])[0], 2 * np.cos(value))
    np.testing.assert_allclose(evaluate([x], [out], [value])[0], 2 * np.sin(value))
