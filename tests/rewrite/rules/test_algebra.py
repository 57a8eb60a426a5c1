"""Canonicalization rules (rewrite/rules/algebra.py): each fires on its pattern, stays
away where its guard says no, and keeps values, dtype and shape."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph.tensor as T
from symgraph import scalar as ps
from symgraph.rewrite.rules.algebra import CANONICAL_ALGEBRA, MAX_FLAT_TERMS, lossless_cast
from symgraph.tensor.elemwise import Elemwise
from tests.rewrite.support import (
    apply_rules, assert_not_fired, assert_rewrite_keeps_values, op_names, run_graph,
)

RULES = CANONICAL_ALGEBRA
V = np.array([0.5, -1.5, 2.0])
W = np.array([1.25, 3.0, -0.75])


def test_add_canonical_cancels_a_term_added_and_subtracted():
    x, y = T.dvectors("x", "y")
    fgraph = assert_rewrite_keeps_values([x, y], x + y - x, RULES, [V, W], "add_canonical")
    assert fgraph.outputs[0] is fgraph.inputs[1]


def test_add_canonical_collects_constants_and_flattens():
    x, y = T.dvectors("x", "y")
    fgraph = assert_rewrite_keeps_values([x, y], (x + 2) - (3 - y) + 1, RULES, [V, W],
                                         "add_canonical")
    assert op_names(fgraph) == ["add"]


def test_add_canonical_writes_a_negative_constant_as_a_subtraction():
    x = T.dvector("x")
    fgraph = assert_rewrite_keeps_values([x], T.exp(x) + (-1.0), RULES, [V], "add_canonical")
    assert op_names(fgraph)[-1] == "sub"


def test_x_minus_x_is_zeros_of_the_same_shape():
    m = T.dmatrix("m")
    fgraph = assert_rewrite_keeps_values([m], m - m, RULES, [np.ones((2, 3))], "add_canonical")
    assert "sub" not in op_names(fgraph)


def test_a_cancelled_broadcast_term_keeps_the_full_shape():
    m, r = T.dmatrix("m"), T.drow("r")
    assert_rewrite_keeps_values([m, r], m + r - m, RULES, [np.ones((3, 2)), np.array([[1.0, 2.0]])],
                                "add_canonical")


def test_cancellation_turns_inf_minus_inf_into_zero():
    # documented: cancelling never creates a NaN, it may remove one
    x = T.dvector("x")
    fgraph, _ = apply_rules([x], [x - x], RULES)
    np.testing.assert_array_equal(run_graph(fgraph, [np.array([np.inf, 1.0])])[0], [0.0, 0.0])


def test_add_canonical_leaves_canonical_sums_and_bool_logic_alone():
    x, y = T.dvectors("x", "y")
    assert_not_fired([x, y], x + y, RULES, "add_canonical")
    a, b = T.bvector("a"), T.bvector("b")
    p, q = a > 0, b > 0
    assert_not_fired([a, b], (p + q) + p, RULES, "add_canonical")


def test_add_canonical_keeps_integer_wraparound():
    a, b = T.bvector("a"), T.bvector("b")
    values = [np.array([100, -100], dtype="int8"), np.array([100, -100], dtype="int8")]
    assert_rewrite_keeps_values([a, b], (a + b) + (a - b), RULES, values, "add_canonical")


def test_flattening_a_long_sum_is_bounded():
    x = T.dvector("x")
    total = x
    for k in range(3 * MAX_FLAT_TERMS):
        total = total + x * float(k)
    fgraph = assert_rewrite_keeps_values([x], total, RULES, [V], "add_canonical", rtol=1e-12)
    assert all(len(n.inputs) <= MAX_FLAT_TERMS for n in fgraph.apply_nodes)


def test_mul_canonical_cancels_a_factor_multiplied_and_divided():
    x, y = T.dvectors("x", "y")
    fgraph = assert_rewrite_keeps_values([x, y], x * y / x, RULES, [V, W], "mul_canonical")
    assert fgraph.outputs[0] is fgraph.inputs[1]


def test_mul_canonical_collects_constants_and_negations():
    x, y = T.dvectors("x", "y")
    fgraph = assert_rewrite_keeps_values([x, y], -(-x) * (y / x) * 3 / 6, RULES, [V, W],
                                         "mul_canonical")
    assert op_names(fgraph) == ["DimShuffle", "mul"]


def test_x_over_x_is_ones_of_the_same_shape_and_a_broadcast_survivor_is_widened():
    x = T.dvector("x")
    assert_rewrite_keeps_values([x], x / x, RULES, [V], "mul_canonical")
    m, r = T.dmatrix("m"), T.drow("r")
    values = [np.ones((3, 2)) * 2, np.array([[1.0, 2.0]])]
    assert_rewrite_keeps_values([m, r], m * r / m, RULES, values, "mul_canonical")


def test_mul_canonical_leaves_canonical_products_alone():
    x, y = T.dvectors("x", "y")
    assert_not_fired([x, y], x * y, RULES, "mul_canonical")
    assert_not_fired([x, y], 2.0 * x / y, RULES, "mul_canonical")


def test_products_of_integers_are_flattened_without_division():
    a, b = T.ivectors("a", "b")
    values = [np.array([3, -4], dtype="int32"), np.array([5, 6], dtype="int32")]
    assert_rewrite_keeps_values([a, b], (a * 2) * (b * 3), RULES, values, "mul_canonical")


def test_neutral_elements_and_trivial_operands_are_dropped():
    x = T.dvector("x")
    assert_rewrite_keeps_values([x], x * 1, RULES, [V], "drop_neutral_element")
    assert_rewrite_keeps_values([x], x + 0, RULES, [V], "drop_neutral_element")
    assert_rewrite_keeps_values([x], x ** 1, RULES, [V], "drop_trivial_operand")
    assert_rewrite_keeps_values([x], x / 1, RULES, [V], "drop_trivial_operand")
    assert_rewrite_keeps_values([x], x - 0, RULES, [V], "drop_trivial_operand")


def test_a_neutral_element_that_broadcasts_is_kept():
    x = T.dscalar("x")
    assert_not_fired([x], x * T.constant(np.ones(3)), RULES, "drop_neutral_element")
    assert_not_fired([x], x - T.constant(np.zeros(3)), RULES, "drop_trivial_operand")


def test_double_negation():
    x = T.dvector("x")
    fgraph = assert_rewrite_keeps_values([x], -(-x), RULES, [V], "neg_of_neg")
    assert not fgraph.apply_nodes


def _cast(var, dtype):
    return Elemwise(ps.Cast(dtype))(var)


def test_useless_cast():
    x = T.dvector("x")
    fgraph = assert_rewrite_keeps_values([x], _cast(x, "float64"), RULES, [V], "useless_cast")
    assert not fgraph.apply_nodes


def test_casts_through_an_exact_type_merge():
    a = T.bvector("a")
    out = T.cast(T.cast(a, "int32"), "float64")
    values = [np.array([-128, 5, 127], dtype="int8")]
    fgraph = assert_rewrite_keeps_values([a], out, RULES, values, "merge_lossless_casts")
    assert op_names(fgraph) == ["cast_float64"]


def test_casts_through_a_rounding_type_do_not_merge():
    a = T.lvector("a")
    out = T.cast(T.cast(a, "float64"), "int64")  # 2**53 + 1 rounds in float64
    assert_not_fired([a], out, RULES, "merge_lossless_casts")
    fgraph, _ = apply_rules([a], [out], RULES)
    value = np.array([2**53 + 1], dtype="int64")
    assert run_graph(fgraph, [value])[0][0] == 2**53


@pytest.mark.parametrize("source, target, exact", [
    ("int8", "float32", True), ("int32", "float64", True), ("int64", "float64", False),
    ("int32", "float32", False), ("float32", "float64", True), ("float64", "float32", False),
    ("bool", "int8", True), ("uint8", "int8", False), ("int16", "int32", True),
])
def test_lossless_cast_is_stricter_than_numpy_safe_casting(source, target, exact):
    assert lossless_cast(source, target) is exact


def test_switch_on_a_constant_condition_picks_a_branch():
    x = T.dvector("x")
    fgraph = assert_rewrite_keeps_values([x], T.switch(True, x, 2 * x), RULES, [V],
                                         "switch_constant_condition", fold=True)
    assert fgraph.outputs[0] is fgraph.inputs[0]
    assert_rewrite_keeps_values([x], T.switch(False, x, 2 * x), RULES, [V],
                                "switch_constant_condition", fold=True)


def test_switch_with_equal_branches_keeps_the_shape_of_the_condition():
    x, s = T.dvector("x"), T.dscalar("s")
    out = T.switch(T.gt(x, 0), s, s)  # a vector, although both branches are scalars
    assert_rewrite_keeps_values([x, s], out, RULES, [V, np.array(2.0)], "switch_equal_branches")


def test_switch_with_a_symbolic_condition_stays():
    x = T.dvector("x")
    assert_not_fired([x], T.switch(T.gt(x, 0), x, -x), RULES, "switch_equal_branches")
    assert_not_fired([x], T.switch(T.gt(x, 0), x, -x), RULES, "switch_constant_condition")


def test_inverse_pairs_collapse_only_where_the_identity_holds():
    x = T.dvector("x")
    assert_rewrite_keeps_values([x], T.exp(T.log(T.abs(x))), RULES, [V], "exp_of_log")
    assert_not_fired([x], T.exp(T.log(x)), RULES, "exp_of_log")  # log(-1.5) is NaN
    big = np.array([1e200, -3.0])
    fgraph, log = apply_rules([x], [T.sqrt(T.sqr(x))], RULES)
    assert log.counts["sqrt_of_sqr_to_abs"] == 1
    np.testing.assert_array_equal(run_graph(fgraph, [big])[0], [1e200, 3.0])  # sqr overflowed
    z = T.zvector("z")
    assert_not_fired([z], T.log(T.exp(z)), RULES, "log_of_exp")  # complex log has branches
