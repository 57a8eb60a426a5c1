"""Shape reasoning and layout rules (rewrite/rules/shape.py)."""

from __future__ import annotations

import numpy as np

import symgraph as sg
import symgraph.tensor as T
from symgraph.rewrite.rules.shape import SHAPE_CANONICALIZE
from symgraph.tensor.elemwise import DimShuffle
from symgraph.tensor.linalg import Dot
from symgraph.tensor.shape import Alloc, Reshape, Shape, ShapeI, SpecifyShape
from symgraph.tensor.subtensor import INT, Subtensor
from tests.rewrite.support import (
    apply_rules, assert_not_fired, assert_rewrite_keeps_values, op_names, run_graph,
)

RULES = SHAPE_CANONICALIZE
M = np.arange(6.0).reshape(2, 3)
V = np.array([0.5, -1.5, 2.0])


def test_shape_i_of_an_op_is_answered_from_its_inputs():
    x = T.dvector("x")
    out = T.exp(x).shape[0] * 2
    fgraph = assert_rewrite_keeps_values([x], out, RULES, [V], "shape_i_from_inputs")
    assert "exp" not in op_names(fgraph)


def test_shape_i_of_a_graph_input_stays():
    x = T.dvector("x")
    assert_not_fired([x], ShapeI(0)(x), RULES, "shape_i_from_inputs")


def test_static_lengths_become_constants():
    x = T.TensorType("float64", (3,))("x")
    fgraph = assert_rewrite_keeps_values([x], ShapeI(0)(x), RULES, [V], "static_shape_i")
    assert not fgraph.apply_nodes
    fgraph = assert_rewrite_keeps_values([x], Shape()(x), RULES, [V], "static_shape")
    assert not fgraph.apply_nodes
    y = T.dvector("y")
    assert_not_fired([y], Shape()(y), RULES, "static_shape")


def test_indexing_a_shape_vector_becomes_shape_i():
    x = T.dmatrix("x")
    out = Subtensor((INT,))(Shape()(x), 1)
    fgraph = assert_rewrite_keeps_values([x], out, RULES, [M], "shape_subscript_to_shape_i")
    assert op_names(fgraph) == ["ShapeI"]


def test_a_value_used_only_for_its_shape_is_not_computed():
    x, y = T.dvector("x"), T.dmatrix("y")
    out = T.reshape(y, T.exp(y).shape)
    fgraph = assert_rewrite_keeps_values([x, y], out, RULES, [V, M], "shape_to_shape_i_vector")
    assert "exp" not in op_names(fgraph)


def test_a_shape_vector_of_a_value_used_elsewhere_stays():
    y = T.dmatrix("y")
    e = T.exp(y)
    assert_not_fired([y], T.reshape(e, e.shape) + e, RULES, "shape_to_shape_i_vector")


def test_fill_whose_value_already_has_the_shape():
    x, y = T.dvectors("x", "y")
    fgraph = assert_rewrite_keeps_values([x, y], T.fill(x, y), RULES, [V, V * 2], "useless_fill")
    assert not fgraph.apply_nodes


def test_fill_of_a_value_used_only_for_its_shape_becomes_alloc():
    x = T.dvector("x")
    out = T.ones_like(T.exp(x)) * 2
    fgraph = assert_rewrite_keeps_values([x], out, RULES, [V], "fill_to_alloc")
    assert "exp" not in op_names(fgraph)


def test_fill_sinks_into_an_operation_whose_other_operand_gives_the_shape():
    x, y = T.dvectors("x", "y")
    fgraph = assert_rewrite_keeps_values([x, y], T.fill(x, 2.0) * y, RULES, [V, W], "fill_sink")
    assert "second" not in op_names(fgraph)
    r = T.drow("r")
    m = T.dmatrix("m")
    assert_not_fired([m, r], T.fill(m, 2.0) * r, RULES, "fill_sink")  # r is broadcast


W = np.array([1.0, 2.0, 3.0])


def test_alloc_sinks_like_a_fill():
    x, n = T.dvector("x"), T.lscalar("n")
    out = T.alloc(2.0, n) * x
    fgraph = assert_rewrite_keeps_values([x, n], out, RULES, [V, np.array(3)], "fill_sink")
    assert not any(isinstance(node.op, Alloc) for node in fgraph.apply_nodes)


def test_useless_and_nested_allocs():
    x = T.dvector("x")
    n = T.lscalar("n")
    fgraph = assert_rewrite_keeps_values([x], Alloc()(x, x.shape[0]), RULES, [V], "useless_alloc")
    assert not fgraph.apply_nodes
    out = T.alloc(T.alloc(x, 2, x.shape[0]), n, 2, x.shape[0])
    assert_rewrite_keeps_values([x, n], out, RULES, [V, np.array(4)], "alloc_of_alloc")


def test_reshape_to_its_own_shape_is_dropped():
    m = T.dmatrix("m")
    for out in (T.reshape(m, m.shape), T.reshape(m, (m.shape[0], m.shape[1]))):
        fgraph = assert_rewrite_keeps_values([m], out, RULES, [M], "useless_reshape")
        assert fgraph.outputs[0] is fgraph.inputs[0]
    s = T.TensorType("float64", (2, 3))("s")
    assert_rewrite_keeps_values([s], T.reshape(s, (2, 3)), RULES, [M], "useless_reshape")
    assert_not_fired([m], T.reshape(m, (m.shape[1], m.shape[0])), RULES, "useless_reshape")


def test_reshape_of_reshape():
    m = T.dmatrix("m")
    out = T.reshape(T.reshape(m, (-1,)), (3, 2))
    fgraph = assert_rewrite_keeps_values([m], out, RULES, [M], "reshape_of_reshape")
    assert sum(isinstance(n.op, Reshape) for n in fgraph.apply_nodes) == 1


def test_specify_shape_that_states_nothing_new():
    s = T.TensorType("float64", (2, 3))("s")
    out = SpecifyShape((2, None))(s)
    fgraph = assert_rewrite_keeps_values([s], out, RULES, [M], "useless_specify_shape")
    assert not fgraph.apply_nodes
    m = T.dmatrix("m")
    assert_not_fired([m], T.specify_shape(m, (2, 3)), RULES, "useless_specify_shape")


def test_dimshuffles_merge_and_identities_vanish():
    m = T.dmatrix("m")
    out = m.dimshuffle(1, 0).dimshuffle("x", 1, 0)
    fgraph = assert_rewrite_keeps_values([m], out, RULES, [M], "merge_dimshuffles")
    assert op_names(fgraph) == ["DimShuffle"]
    fgraph = assert_rewrite_keeps_values([m], DimShuffle(2, (0, 1))(m), RULES, [M],
                                         "useless_dimshuffle")
    assert not fgraph.apply_nodes


def test_dimshuffle_moves_to_the_inputs_of_an_elementwise_op():
    m, n = T.dmatrices("m", "n")
    out = (m * n + 1).T
    fgraph = assert_rewrite_keeps_values([m, n], out, RULES, [M, M + 1], "dimshuffle_lift")
    assert op_names(fgraph)[-1] == "add"
    shared = m * n
    assert_not_fired([m, n], shared.T + shared.sum(), RULES, "dimshuffle_lift")


def test_transpose_of_a_matrix_product():
    a, b = T.dmatrices("a", "b")
    out = T.dot(a, b).T
    fgraph = assert_rewrite_keeps_values([a, b], out, RULES, [M, M.T], "transpose_of_dot")
    (dot,) = [n for n in fgraph.apply_nodes if isinstance(n.op, Dot)]
    assert all(isinstance(i.owner.op, DimShuffle) for i in dot.inputs)
    v = T.dvector("v")
    assert_not_fired([a, v], T.dot(a, v).dimshuffle("x", 0), RULES, "transpose_of_dot")


def test_mean_does_not_keep_an_unused_value_alive_for_its_length():
    x = T.dvector("x")
    f = sg.compile_function([x], T.exp(x).shape[0] + T.mean(x), mode="py")
    assert f(V) == 3 + V.mean()
    assert "exp" not in op_names(f.maker.fgraph)


def test_rewritten_shape_graphs_still_run_with_other_lengths():
    x = T.dvector("x")
    fgraph, _ = apply_rules([x], [T.ones_like(T.exp(x)) * 2], RULES)
    for n in (1, 4):
        np.testing.assert_array_equal(run_graph(fgraph, [np.zeros(n)])[0], np.full(n, 2.0))
