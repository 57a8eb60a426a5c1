"""grad, jacobian, hessian, Lop, Rop, verify_grad and their errors."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import DisconnectedInputError, GradientError, verify_grad


def _f(inputs, outputs):
    return sg.function(inputs, outputs, mode="py")


def test_gradient_of_x_squared_plus_3_at_2_is_4():
    x = T.dscalar("x")
    gy = T.grad(x ** 2 + 3, x)
    assert _f([x], gy)(2.0) == 4.0
    assert sg.grad is T.grad


def test_logistic_gradient():
    x = T.dmatrix("x")
    s = T.sum(1 / (1 + T.exp(-x)))
    gs = T.grad(s, x)
    values = np.array([[0, 1], [-1, -2]], dtype="float64")
    expected = np.exp(-values) / (1 + np.exp(-values)) ** 2
    np.testing.assert_allclose(_f([x], gs)(values), expected)


def test_grad_wrt_list_returns_list_and_names():
    x, y = T.dscalars("x", "y")
    cost = x * y + T.sin(x)
    cost.name = "cost"
    gx, gy = T.grad(cost, [x, y])
    assert gx.name == "(dcost/dx)"
    f = _f([x, y], [gx, gy])
    got = f(0.5, 2.0)
    np.testing.assert_allclose(got, [2.0 + np.cos(0.5), 0.5])


def test_non_scalar_cost_is_a_type_error():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="cost must be a scalar"):
        T.grad(x * 2, x)


def test_disconnected_input_raises_warns_or_gives_zeros():
    x, y = T.dscalars("x", "y")
    with pytest.raises(DisconnectedInputError, match="not part of the computational graph"):
        T.grad(x * 2, y)
    assert issubclass(DisconnectedInputError, ValueError)
    with pytest.warns(UserWarning):
        g = T.grad(x * 2, y, disconnected_inputs="warn")
    assert _f([y], g)(3.0) == 0.0
    g = T.grad(x * 2, y, disconnected_inputs="ignore")
    assert _f([y], g)(3.0) == 0.0


def test_consider_constant_blocks_gradient():
    x = T.dscalar("x")
    y = x * x
    cost = y * x
    g = T.grad(cost, x, consider_constant=[y])
    assert _f([x], g)(3.0) == 9.0  # d/dx (y * x) with y held constant


def test_known_grads_seed_the_walk():
    x = T.dvector("x")
    y = T.exp(x)
    seed = T.dvector("seed")
    g = T.grad(None, x, known_grads={y: seed})
    got = _f([x, seed], g)(np.array([0.0, 1.0]), np.array([2.0, 3.0]))
    np.testing.assert_allclose(got, [2.0, 3.0 * np.e])


def test_gradient_through_broadcasting_sums_over_broadcast_axes():
    m = T.dmatrix("m")
    v = T.dvector("v")
    cost = T.sum((m + v) ** 2)
    gv = T.grad(cost, v)
    mv, vv = np.arange(6.0).reshape(2, 3), np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(_f([m, v], gv)(mv, vv), (2 * (mv + vv)).sum(axis=0))


def test_gradient_dtype_matches_wrt_dtype():
    x = T.fvector("x")
    g = T.grad(T.sum(x * 2.0), x)
    assert g.dtype == "float32"


def test_gradient_through_integer_and_comparison_ops_is_zero():
    x = T.dvector("x")
    cost = T.sum(T.cast(x, "int32")) + T.sum(x > 0)
    g = T.grad(cost, x)
    np.testing.assert_array_equal(_f([x], g)(np.array([1.5, -2.0])), [0.0, 0.0])


def test_second_derivative_by_grad_of_grad():
    x = T.dscalar("x")
    y = T.sin(x) * x
    d2 = T.grad(T.grad(y, x), x)
    v = 0.7
    assert _f([x], d2)(v) == pytest.approx(2 * np.cos(v) - v * np.sin(v))


def test_jacobian_of_vector_function():
    x = T.dvector("x")
    y = x ** 2
    J = T.jacobian(y, x)
    np.testing.assert_allclose(_f([x], J)(np.array([4.0, 4.0])), [[8.0, 0.0], [0.0, 8.0]])


def test_jacobian_of_matrix_function_flattens_rows():
    x = T.dvector("x")
    y = T.outer(x, x)
    J = T.jacobian(y, x)
    v = np.array([1.0, 2.0])
    got = _f([x], J)(v)
    assert got.shape == (4, 2)
    expected = np.array([[2 * v[0], 0], [v[1], v[0]], [v[1], v[0]], [0, 2 * v[1]]])
    np.testing.assert_allclose(got, expected)


def test_hessian_of_sum_of_squares():
    x = T.dvector("x")
    cost = T.sum(x ** 2)
    H = T.hessian(cost, x)
    np.testing.assert_allclose(_f([x], H)(np.array([4.0, 4.0])), [[2.0, 0.0], [0.0, 2.0]])


def test_hessian_of_a_coupled_function():
    x = T.dvector("x")
    cost = T.sum(T.exp(x[0] * x))
    H = T.hessian(cost, x)
    v = np.array([0.3, -0.2, 0.5])
    eps = 1e-5
    grad_fn = _f([x], T.grad(cost, x))
    numeric = np.stack([(grad_fn(v + eps * e) - grad_fn(v - eps * e)) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(_f([x], H)(v), numeric, rtol=1e-6, atol=1e-8)


def test_rop_is_jacobian_times_vector():
    W = T.dmatrix("W")
    V = T.dmatrix("V")
    x = T.dvector("x")
    y = T.dot(x, W)
    JV = T.Rop(y, W, V)
    f = _f([W, V, x], JV)
    np.testing.assert_allclose(f(np.ones((2, 2)), 2 * np.ones((2, 2)), np.array([0.0, 1.0])), [2.0, 2.0])


def test_rop_of_nonlinear_function_matches_finite_differences():
    x = T.dvector("x")
    v = T.dvector("v")
    y = T.tanh(x) * T.exp(x)
    jv = T.Rop(y, x, v)
    xv, vv = np.array([0.1, -0.4, 0.3]), np.array([1.0, 2.0, -1.0])
    fwd = _f([x], y)
    eps = 1e-6
    numeric = (fwd(xv + eps * vv) - fwd(xv - eps * vv)) / (2 * eps)
    np.testing.assert_allclose(_f([x, v], jv)(xv, vv), numeric, rtol=1e-6)


def test_lop_is_vector_times_jacobian():
    W = T.dmatrix("W")
    v = T.dvector("v")
    x = T.dvector("x")
    y = T.dot(x, W)
    VJ = T.Lop(y, W, v)
    f = _f([v, x], VJ)
    np.testing.assert_allclose(f(np.array([2.0, 2.0]), np.array([0.0, 1.0])), [[0.0, 0.0], [2.0, 2.0]])


def test_verify_grad_accepts_correct_and_reports_wrong_gradients():
    verify_grad(lambda x: T.tanh(x) * 2, [np.array([0.1, -0.3, 0.8])], mode="py")

    from dataclasses import dataclass

    from symgraph import scalar as ps
    from symgraph.gradient.rules import pullback
    from symgraph.graph.node import Apply
    from symgraph.graph.op import Op

    @dataclass(frozen=True)
    class WrongSin(Op):
        def make_node(self, x):
            x = T.as_tensor_variable(x)
            return Apply(self, [x], [x.type.make_variable()])

    from symgraph.backends.py.dispatch import perform

    perform.register(WrongSin)(lambda op, node, inputs: [np.sin(inputs[0])])
    pullback.register(WrongSin)(lambda op, node, g: [g[0] * T.sin(node.inputs[0])])  # should be cos
    with pytest.raises(GradientError, match=r"(?s)gradient mismatch for input 0.*analytic.*numeric"):
        verify_grad(lambda x: WrongSin()(x), [np.array([0.3, 1.2])], mode="py")
    assert issubclass(GradientError, AssertionError)
    del ps


def test_gradient_through_a_jacobian():
    # d/dx sum(J(x)) where J = jacobian(x ** 3) = diag(3 x^2): the answer is 6 x
    x = T.dvector("x")
    J = T.jacobian(x ** 3, x)
    g = T.grad(J.sum(), x)
    v = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(_f([x], g)(v), 6 * v)


def test_jacobian_of_a_hessian_third_derivative():
    x = T.dvector("x")
    H = T.hessian(T.sum(x ** 4), x)  # diag(12 x^2)
    third = T.jacobian(H.sum(axis=0), x)  # d/dx_j 12 x_i^2 -> diag(24 x)
    v = np.array([1.0, 2.0])
    np.testing.assert_allclose(_f([x], third)(v), np.diag(24 * v))
