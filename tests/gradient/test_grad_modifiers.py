"""zero_grad, disconnected_grad, grad_clip: identities forward, modified gradients backward
(Theano's theano.gradient names), and their removal before backends see them."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
import symgraph.gradient as G
import symgraph.tensor as T
from symgraph.backends.c.build import compiler
from symgraph.gradient import DisconnectedInputError
from symgraph.gradient.modifiers import DisconnectedGrad, GradClip, GradientModifier, ZeroGrad

needs_gcc = pytest.mark.skipif(compiler() is None, reason="needs gcc")
MODES = ["py", pytest.param("c", marks=needs_gcc)]

XV = np.array([-3.0, -0.2, 0.4, 2.5])


def _nodes_of(f, op_class):
    return [n for n in f.maker.fgraph.toposort() if isinstance(n.op, op_class)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("modifier", [T.zero_grad, T.disconnected_grad, lambda v: T.grad_clip(v, -1, 1)])
def test_modifier_is_the_identity_forward_and_is_removed_before_the_backend(mode, modifier):
    x = T.dvector("x")
    f = sg.compile_function([x], modifier(x) * 2 + 1, mode=mode)
    np.testing.assert_allclose(f(XV), XV * 2 + 1)
    assert not _nodes_of(f, GradientModifier)
    assert f.rewrites_applied["remove_gradient_modifiers"] == 1


@needs_gcc
def test_modifiers_do_not_split_c_segments():
    x = T.dvector("x")
    cost = (T.grad_clip(T.zero_grad(x) * x, -0.5, 0.5) ** 2).sum()
    f = sg.compile_function([x], [cost, T.grad(cost, x)], mode="c")
    assert not f.maker.runner.python_nodes


@pytest.mark.parametrize("mode", ["py", pytest.param("c", marks=needs_gcc)])
def test_modifiers_still_run_when_the_pipeline_is_off(mode):
    x = T.dvector("x")
    out = T.zero_grad(x) + T.disconnected_grad(x) + T.grad_clip(x, 0, 1)
    f = sg.compile_function([x], out, mode=mode, optimizer="none")
    np.testing.assert_allclose(f(XV), 3 * XV)


@pytest.mark.parametrize("mode", MODES)
def test_zero_grad_blocks_the_gradient_through_it(mode):
    x = T.dvector("x")
    g = T.grad((T.zero_grad(x) * x).sum(), x)  # d/dx of c * x with c = x held fixed
    np.testing.assert_allclose(sg.compile_function([x], g, mode=mode)(XV), XV)


def test_zero_grad_keeps_the_input_connected():
    x = T.dvector("x")
    g = T.grad(T.zero_grad(x).sum(), x)  # no DisconnectedInputError: the gradient is zero
    np.testing.assert_array_equal(sg.compile_function([x], g, mode="py")(XV), np.zeros(4))


def test_disconnected_grad_disconnects_what_lies_behind_it():
    x = T.dvector("x")
    with pytest.raises(DisconnectedInputError):
        T.grad(T.disconnected_grad(x * 2).sum(), x)
    g = T.grad(T.disconnected_grad(x * 2).sum(), x, disconnected_inputs="ignore")
    np.testing.assert_array_equal(sg.compile_function([x], g, mode="py")(XV), np.zeros(4))


@pytest.mark.parametrize("mode", MODES)
def test_disconnected_grad_keeps_other_paths(mode):
    x = T.dvector("x")
    w = T.dvector("w")
    cost = (T.disconnected_grad(x * w) * x).sum()  # only the direct use of x is differentiated
    gx, gw = T.grad(cost, [x, w], disconnected_inputs="ignore")
    f = sg.compile_function([x, w], [gx, gw], mode=mode)
    wv = np.array([1.0, 2.0, 3.0, 4.0])
    got_x, got_w = f(XV, wv)
    np.testing.assert_allclose(got_x, XV * wv)
    np.testing.assert_array_equal(got_w, np.zeros(4))


def test_gradient_with_respect_to_a_disconnected_grad_output_itself():
    x = T.dvector("x")
    d = T.disconnected_grad(x)
    g = T.grad((d ** 2).sum(), d)
    np.testing.assert_allclose(sg.compile_function([x], g, mode="py")(XV), 2 * XV)


@pytest.mark.parametrize("mode", MODES)
def test_grad_clip_clips_the_gradient_flowing_back(mode):
    x = T.dvector("x")
    g = T.grad((T.grad_clip(x, -1.0, 1.5) ** 2).sum(), x)
    np.testing.assert_allclose(sg.compile_function([x], g, mode=mode)(XV), np.clip(2 * XV, -1.0, 1.5))


def test_grad_clip_clips_only_at_its_own_position():
    x = T.dvector("x")
    g = T.grad(((3 * T.grad_clip(3 * x, -1.0, 1.0)) ** 2).sum(), x)
    # the gradient reaching the clip is 2 * (3c) * 3 = 54 x (c = 3x); clipped, then times 3
    np.testing.assert_allclose(sg.compile_function([x], g, mode="py")(XV), 3 * np.clip(54 * XV, -1, 1))


def test_grad_clip_bounds_must_be_ordered_numbers():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="lower <= upper"):
        T.grad_clip(x, 1.0, -1.0)
    with pytest.raises(TypeError, match="must be a number"):
        T.grad_clip(x, T.dscalar("a"), 1.0)
    assert T.grad_clip(x, T.constant(-2.0), np.float32(1.0)).owner.op == GradClip(-2.0, 1.0)


def test_second_derivative_through_zero_grad():
    x = T.dscalar("x")
    cost = T.zero_grad(x) * x ** 2  # d/dx = 2 c x, d2/dx2 = 2 c, with c = x
    h = T.grad(T.grad(cost, x), x)
    np.testing.assert_allclose(sg.compile_function([x], h, mode="py")(3.0), 6.0)


def test_modifier_ops_are_values():
    assert ZeroGrad() == ZeroGrad()
    assert GradClip(-1.0, 1.0) == GradClip(-1.0, 1.0) != GradClip(-2.0, 1.0)
    assert DisconnectedGrad() != ZeroGrad()


def test_modifiers_are_exported_where_theano_had_them():
    import symgraph.compat.theano.tensor as TT
    from symgraph.compat import theano

    assert theano.gradient.grad is G.grad and theano.gradient.verify_grad is G.verify_grad
    for name in ("zero_grad", "disconnected_grad", "grad_clip"):
        fn = getattr(G, name)
        assert getattr(T, name) is fn
        assert getattr(TT, name) is fn
        assert getattr(theano.gradient, name) is fn
