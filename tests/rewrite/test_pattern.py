"""The pattern language of declarative rules: variables, constants, commutative and
associative matching, guards, right sides, rule sets."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph.tensor as T
from symgraph.rewrite import pattern as p
from symgraph.rewrite.pattern import Const, PatternVar, Rule, RuleSet
from tests.rewrite.support import apply_rules, op_names, run_graph

x, y = PatternVar("x"), PatternVar("y")
LOG1P = Rule("log_one_plus_to_log1p", p.log(1 + x), p.log1p(x))


def _first_match(pattern, var):
    return next(iter(pattern.matches(var, {})), None)


def test_a_pattern_variable_binds_any_variable_and_must_rebind_the_same():
    a, b = T.dvectors("a", "b")
    assert _first_match(x - x, a - a) == {"x": a}
    assert _first_match(x - x, a - b) is None


def test_a_number_matches_a_single_element_constant_of_any_dtype_through_broadcasting():
    a = T.fvector("a")
    assert _first_match(1 + x, a + 1)["x"] is a  # 1 is a float32 constant, broadcast
    assert _first_match(1 + x, a + 2) is None
    assert _first_match(Const(1), T.constant(np.ones(3))) is None  # three elements


def test_commutative_operands_match_in_either_order():
    a, b = T.dvectors("a", "b")
    assert _first_match(p.exp(x) * y, b * T.exp(a)) == {"x": a, "y": b}


def test_an_associative_pattern_absorbs_the_remaining_operands():
    a, b, c = T.dvectors("a", "b", "c")
    found = _first_match(1 + x, T.add(a, 1, b))
    assert found is not None
    rest = found["x"]
    assert rest.owner is not None and rest.owner.inputs == [a, b]
    fgraph, log = apply_rules([a, b], [T.log(T.add(a, 1, b))], [LOG1P])
    assert log.counts["log_one_plus_to_log1p"] == 1
    values = [np.array([0.1, 0.2]), np.array([0.3, 0.4])]
    np.testing.assert_allclose(run_graph(fgraph, values)[0], np.log1p(values[0] + values[1]))


def test_a_non_associative_pattern_needs_the_exact_operand_count():
    a, b, c = T.dvectors("a", "b", "c")
    assert _first_match(p.sub(x, y), a - b) is not None
    assert _first_match(p.switch(x, y, y), T.switch(T.gt(a, 0), b, c)) is None


def test_the_right_side_is_built_with_weak_numbers_keeping_the_dtype():
    rule = Rule("exp_to_expm1_plus_one", p.exp(x), p.expm1(x) + 1)
    a = T.fvector("a")
    fgraph, log = apply_rules([a], [T.exp(a)], [rule])
    assert log.counts["exp_to_expm1_plus_one"] == 1 and fgraph.outputs[0].dtype == "float32"
    assert op_names(fgraph) == ["expm1", "DimShuffle", "add"]


def test_a_guard_that_says_no_keeps_the_rule_from_firing():
    rule = Rule("guarded", p.log(1 + x), p.log1p(x), guard=lambda m: m["x"].ndim == 0)
    a = T.dvector("a")
    _, log = apply_rules([a], [T.log(1 + a)], [rule])
    assert log.counts["guarded"] == 0


def test_a_right_side_function_may_decline():
    rule = Rule("declines", p.exp(x), lambda m: None)
    a = T.dvector("a")
    _, log = apply_rules([a], [T.exp(a)], [rule])
    assert log.counts["declines"] == 0


def test_rules_print_as_the_identity_they_state():
    assert str(LOG1P) == "log_one_plus_to_log1p: log((1 + x)) -> log1p(x)"
    assert LOG1P.lhs.variables() == ["x"]


def test_rule_sets_combine_in_order_and_reject_repeated_names():
    first = RuleSet("a", [LOG1P])
    second = RuleSet("b", [Rule("exp_log", p.exp(p.log(x)), x)])
    both = first + second
    assert both.names() == ["log_one_plus_to_log1p", "exp_log"] and len(both) == 2
    assert [r.name for r in both.rewrites()] == both.names()
    with pytest.raises(ValueError, match="unique.*log_one_plus_to_log1p"):
        first + first


def test_a_rule_is_tried_only_on_nodes_of_its_root_op():
    a = T.dvector("a")
    fgraph, log = apply_rules([a], [T.exp(a) + T.sin(a)], [LOG1P])
    assert log.counts["log_one_plus_to_log1p"] == 0 and op_names(fgraph) == ["exp", "sin", "add"]


def test_patterns_reject_values_they_cannot_express():
    with pytest.raises(TypeError, match="PatternVar or a number"):
        p.log("1")
