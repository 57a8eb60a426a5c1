"""Reduction rules (rewrite/rules/reduce.py)."""

from __future__ import annotations

import numpy as np

import symgraph.tensor as T
from symgraph.rewrite.rules.reduce import REDUCE_CANONICALIZE
from symgraph.tensor.reduce import Max, Prod, Reduce, Sum
from tests.rewrite.support import assert_not_fired, assert_rewrite_keeps_values, op_names

RULES = REDUCE_CANONICALIZE
X3 = np.arange(24.0).reshape(2, 3, 4) / 7.0 - 1.0
M = np.arange(6.0).reshape(2, 3) - 2.5


def _reductions(fgraph):
    return [n for n in fgraph.apply_nodes if isinstance(n.op, Reduce)]


def test_nested_integer_sums_merge_as_they_accumulate_in_int64_anyway():
    b = T.btensor3("b")
    values = [np.full((2, 3, 4), 100, dtype="int8")]
    assert_rewrite_keeps_values([b], T.sum(T.sum(b, axis=0), axis=0), RULES, values,
                                "merge_nested_reductions")


def test_nested_reductions_become_one():
    t = T.dtensor3("t")
    out = T.sum(T.sum(t, axis=1), axis=1)  # axes 1 and then (what was) 2
    fgraph = assert_rewrite_keeps_values([t], out, RULES, [X3], "merge_nested_reductions")
    (node,) = _reductions(fgraph)
    assert node.op.axis == (1, 2)
    out = T.max(T.max(t, axis=0), axis=0)
    fgraph = assert_rewrite_keeps_values([t], out, RULES, [X3], "merge_nested_reductions")
    assert isinstance(_reductions(fgraph)[0].op, Max)


def test_nested_reductions_of_different_kinds_or_widened_dtypes_stay():
    t = T.dtensor3("t")
    assert_not_fired([t], T.max(T.sum(t, axis=0), axis=0), RULES, "merge_nested_reductions")
    b = T.btensor3("b")  # an explicit int8 sum wraps around before the outer sum
    out = T.sum(T.sum(b, axis=0, dtype="int8"), axis=0)
    assert_not_fired([b], out, RULES, "merge_nested_reductions")
    shared = T.sum(t, axis=0)
    assert_not_fired([t], T.sum(shared, axis=0) + shared.sum(), RULES, "merge_nested_reductions")


def test_reductions_over_length_one_axes_and_over_no_axis():
    c = T.TensorType("float64", (None, 1))("c")
    values = [np.array([[1.5], [-2.0]])]
    fgraph = assert_rewrite_keeps_values([c], T.prod(c, axis=1), RULES, values,
                                         "reduce_over_length_one_axes")
    assert not _reductions(fgraph)
    m = T.dmatrix("m")
    fgraph = assert_rewrite_keeps_values([m], Sum(())(m), RULES, [M], "reduce_over_no_axes")
    assert not fgraph.apply_nodes
    assert_not_fired([m], T.sum(m, axis=1), RULES, "reduce_over_length_one_axes")


def test_sum_over_axes_a_dimshuffle_inserted():
    v = T.dvector("v")
    out = T.sum(v.dimshuffle("x", 0), axis=0)
    fgraph = assert_rewrite_keeps_values([v], out, RULES, [M[0]], "sum_over_broadcast_axes")
    assert not _reductions(fgraph)


def test_sum_of_negation():
    m = T.dmatrix("m")
    fgraph = assert_rewrite_keeps_values([m], T.sum(-m, axis=1), RULES, [M], "sum_of_neg")
    assert op_names(fgraph) == ["Sum", "neg"]
    u = T.TensorType("uint8", (None,))("u")
    assert_not_fired([u], T.sum(-u), RULES, "sum_of_neg")


def test_sum_of_a_scaled_tensor_pulls_out_the_scale():
    m, r, s = T.dmatrix("m"), T.drow("r"), T.dscalar("s")
    values = [M, np.array([[1.0, -2.0, 3.0]]), np.array(2.5)]
    out = T.sum(s * m * r, axis=0)  # s and r are broadcast along axis 0
    fgraph = assert_rewrite_keeps_values([m, r, s], out, RULES, values,
                                         "sum_of_scaled_pulls_out_factor")
    (node,) = _reductions(fgraph)
    assert node.inputs[0] is fgraph.inputs[0]
    out = T.sum(m / s, axis=1)
    assert_rewrite_keeps_values([m, r, s], out, RULES, values, "sum_of_scaled_pulls_out_factor")


def test_a_factor_that_varies_along_the_summed_axis_stays_inside():
    m, r = T.dmatrix("m"), T.drow("r")
    assert_not_fired([m, r], T.sum(m * r, axis=1), RULES, "sum_of_scaled_pulls_out_factor")
    a = T.bmatrix("a")  # int8 products wrap before the (int64) sum
    assert_not_fired([a], T.sum(a * 3, axis=0), RULES, "sum_of_scaled_pulls_out_factor")


def test_reductions_with_explicit_dtypes_are_left_alone():
    m = T.fmatrix("m")
    out = T.sum(T.sum(m, axis=0, dtype="float64"), axis=0, dtype="float64")
    assert_not_fired([m], out, RULES, "merge_nested_reductions")
    assert isinstance(out.owner.op, Sum) and not isinstance(out.owner.op, Prod)
