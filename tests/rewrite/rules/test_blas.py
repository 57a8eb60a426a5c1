"""BLAS-shaped ops (symgraph/tensor/blas.py) and the rules that create them
(rewrite/rules/blas.py)."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import verify_grad
from symgraph.rewrite.rules.blas import BLAS_SPECIALIZE
from symgraph.tensor.blas import Gemm, Gemv, Ger
from tests.rewrite.support import (
    apply_rules, assert_not_fired, assert_rewrite_keeps_values, run_graph,
)

RULES = BLAS_SPECIALIZE
RNG = np.random.default_rng(7)
A, B, C = RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2)), RNG.normal(size=(3, 2))
U, W, Z = RNG.normal(size=4), RNG.normal(size=2), RNG.normal(size=3)


def _ops(fgraph, cls):
    return [n for n in fgraph.apply_nodes if isinstance(n.op, cls)]


def test_gemm_gemv_ger_compute_what_they_replace():
    z, x, y = T.dmatrices("z", "x", "y")
    alpha, beta = T.dscalars("alpha", "beta")
    f = sg.compile_function([z, alpha, x, y, beta], Gemm()(z, alpha, x, y, beta), mode="py",
                            optimizer="none")
    np.testing.assert_allclose(f(C, 2.0, A, B, -0.5), -0.5 * C + 2.0 * A @ B)
    v, u = T.dvectors("v", "u")
    f = sg.compile_function([v, alpha, x, u, beta], Gemv()(v, alpha, x, u, beta), mode="py",
                            optimizer="none")
    np.testing.assert_allclose(f(Z, 2.0, A, U, 3.0), 3.0 * Z + 2.0 * A @ U)
    f = sg.compile_function([z, alpha, v, u], Ger()(z, alpha, v, u), mode="py", optimizer="none")
    np.testing.assert_allclose(f(C, 1.5, Z, W), C + 1.5 * np.outer(Z, W))


def test_blas_ops_state_their_static_shapes():
    z = T.TensorType("float64", (3, None))("z")
    x = T.TensorType("float64", (None, 4))("x")
    y = T.TensorType("float64", (4, 2))("y")
    s = T.dscalar("s")
    assert Gemm()(z, s, x, y, s).type.shape == (3, 2)
    v = T.TensorType("float64", (5,))("v")
    assert Ger()(T.dmatrix("a"), s, v, T.dvector("w")).type.shape == (5, None)


def test_blas_ops_reject_bad_inputs_with_clear_messages():
    x, y = T.dmatrices("x", "y")
    s = T.dscalar("s")
    with pytest.raises(TypeError, match="Gemm: alpha must be a scalar"):
        Gemm()(x, x, x, y, s)
    with pytest.raises(TypeError, match="one dtype.*float32"):
        Gemm()(x, s, T.fmatrix("f"), y, s)
    with pytest.raises(TypeError, match="BLAS computes in"):
        Gemv()(T.ivector("i"), T.iscalar("a"), T.imatrix("m"), T.ivector("v"), T.iscalar("b"))
    with pytest.raises(ValueError, match="not aligned"):
        Gemm()(x, s, T.TensorType("float64", (None, 3))("p"), T.TensorType("float64", (4,
                None))("q"), s)
    f = sg.compile_function([x, s, y], Gemm()(x, s, x, y, s), mode="py", optimizer="none")
    with pytest.raises(ValueError, match="Gemm"):
        f(np.ones((2, 3)), 1.0, np.ones((2, 3)))


def test_blas_op_gradients():
    verify_grad(lambda z, a, x, y, b: Gemm()(z, a, x, y, b), [C, 1.5, A, B, -0.5], mode="py")
    verify_grad(lambda z, a, x, u, b: Gemv()(z, a, x, u, b), [Z, 1.5, A, U, 2.0], mode="py")
    verify_grad(lambda m, a, v, w: Ger()(m, a, v, w), [C, 0.5, Z, W], mode="py")


def test_scaled_matrix_product_plus_scaled_matrix_is_gemm():
    z, x, y = T.dmatrices("z", "x", "y")
    alpha = T.dscalar("alpha")
    out = alpha * T.dot(x, y) + 0.5 * z
    fgraph = assert_rewrite_keeps_values([z, x, y, alpha], out, RULES, [C, A, B, 2.0],
                                         "gemm_from_scaled_dot_sum")
    (node,) = _ops(fgraph, Gemm)
    assert fgraph.outputs[0] is node.outputs[0]
    out = z - T.dot(x, y) + T.dot(x, y) * 3  # a sum of three terms: one gemm, one left
    assert_rewrite_keeps_values([z, x, y], out, RULES, [C, A, B], "gemm_from_scaled_dot_sum")


def test_matrix_vector_product_plus_vector_is_gemv():
    v, u = T.dvectors("v", "u")
    x = T.dmatrix("x")
    out = v - 2.0 * T.dot(x, u)
    fgraph = assert_rewrite_keeps_values([v, x, u], out, RULES, [Z, A, U],
                                         "gemv_from_scaled_dot_sum")
    assert _ops(fgraph, Gemv)


def test_rank_one_update_is_ger():
    m = T.dmatrix("m")
    v, w = T.dvectors("v", "w")
    lr = T.dscalar("lr")
    out = m + lr * T.outer(v, w)
    fgraph = assert_rewrite_keeps_values([m, v, w, lr], out, RULES, [C, Z, W, 0.1],
                                         "ger_from_outer_update")
    assert _ops(fgraph, Ger)


def test_gemm_when_static_lengths_are_known_on_one_side_only():
    # a constant operand has static lengths, the accumulator (a shared variable, say) none:
    # the dtype and broadcast pattern decide, not the static shape
    z, x = T.dmatrices("z", "x")
    out = z - 0.1 * T.dot(x.T, T.constant(C))
    fgraph = assert_rewrite_keeps_values([z, x], out, RULES, [RNG.normal(size=(4, 2)), A],
                                         "gemm_from_scaled_dot_sum")
    assert _ops(fgraph, Gemm)
    fixed = T.tensor(dtype="float64", shape=(4, 2), name="fixed")
    assert_rewrite_keeps_values([fixed, x, z], fixed + T.dot(x.T, z), RULES,
                                [RNG.normal(size=(4, 2)), A, C], "gemm_from_scaled_dot_sum")


def test_no_blas_op_without_something_to_accumulate_or_with_broadcasting():
    z, x, y = T.dmatrices("z", "x", "y")
    r = T.drow("r")
    assert_not_fired([x, y], 2.0 * T.dot(x, y), RULES, "gemm_from_scaled_dot_sum")
    assert_not_fired([x, y, r], T.dot(x, y) + r, RULES, "gemm_from_scaled_dot_sum")  # r broadcasts
    i, j, k = T.imatrices("i", "j", "k")
    assert_not_fired([i, j, k], T.dot(i, j) + k, RULES, "gemm_from_scaled_dot_sum")
    m, v, w = T.dmatrix("m"), T.dvector("v"), T.dvector("w")
    assert_not_fired([m, v, w], 2.0 * m + T.outer(v, w), RULES, "ger_from_outer_update")


def test_gradient_descent_step_compiles_to_blas_and_matches():
    x = T.dmatrix("x")
    w = sg.shared(RNG.normal(size=(4, 2)), name="w")
    cost = T.sum(T.sqr(T.dot(x, w)))
    step = w - 0.1 * T.grad(cost, w)
    f = sg.compile_function([x], step, mode="py")
    g = sg.compile_function([x], step, mode="py", optimizer="none")
    np.testing.assert_allclose(f(A), g(A), rtol=1e-12)
    assert f.rewrites_applied["gemm_from_scaled_dot_sum"] == 1


def test_blas_rewrite_runs_in_the_full_pipeline_with_values_unchanged():
    z, x, y = T.dmatrices("z", "x", "y")
    out = T.dot(x, y) * 2 - z / 4
    fgraph, log = apply_rules([z, x, y], [out], RULES)
    np.testing.assert_allclose(run_graph(fgraph, [C, A, B])[0], 2 * A @ B - C / 4)
