"""C backend: matrix products through BLAS (all layouts), BLAS-shaped ops, softmax family."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.backends.c.build import compiler
from symgraph.backends.c.runner import CRunner
from symgraph.backends.py.runner import PyRunner
from symgraph.compile.cache import default_cache
from symgraph.graph import FunctionGraph
from symgraph.tensor.blas import Gemm, Gemv, Ger

pytestmark = pytest.mark.skipif(compiler() is None, reason="needs gcc")

LAYOUTS = {
    "contiguous": lambda a: a,
    "fortran": lambda a: np.asfortranarray(a),
    "strided": lambda a: np.repeat(np.repeat(a, 2, axis=0), 2, axis=-1)[::2, ::2] if a.ndim == 2 else np.repeat(a, 2)[::2],
    "reversed": lambda a: a[::-1][::-1].copy()[::-1] if a.ndim == 1 else a,
}


def _run_both(inputs, outputs, values):
    fg = FunctionGraph(inputs, outputs)
    c = CRunner(fg, default_cache())
    p = PyRunner(fg)
    return c, c(values), p(values)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((3, 4), (4,)), ((4,), (4, 5)), ((4,), (4,)),
                                    ((0, 4), (4, 5)), ((3, 0), (0, 5)), ((1, 4), (4, 1))])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_dot_agrees_with_py(dtype, shapes, layout, rng):
    a = T.tensor(dtype, shape=(None,) * len(shapes[0]))
    b = T.tensor(dtype, shape=(None,) * len(shapes[1]))
    va = LAYOUTS[layout]((rng.random(shapes[0]) * 5).astype(dtype))
    vb = LAYOUTS[layout]((rng.random(shapes[1]) * 5).astype(dtype))
    f = sg.function([a, b], T.dot(a, b), mode="c")
    g = sg.function([a, b], T.dot(a, b), mode="py")
    got, want = f(va, vb), g(va, vb)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert not f.maker.runner.python_nodes


def test_dot_shape_mismatch_is_a_clear_error():
    x, y = T.dmatrices("x", "y")
    f = sg.function([x, y], T.dot(x, y), mode="c")
    with pytest.raises(ValueError, match=r"dot: shapes \(3, 4\) and \(5, 2\) are not aligned: 4 != 5"):
        f(np.ones((3, 4)), np.ones((5, 2)))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("beta", [0.0, 1.0, 0.5])
def test_gemm_gemv_ger(dtype, beta, rng):
    z, x, y = (T.tensor(dtype, shape=(None, None)) for _ in range(3))
    v, w = T.tensor(dtype, shape=(None,)), T.tensor(dtype, shape=(None,))
    alpha, b = T.tensor(dtype, shape=()), T.tensor(dtype, shape=())
    zv = rng.random((3, 5)).astype(dtype)
    zv[0, 0] = np.nan  # 0 * nan stays nan, as in the graph Gemm replaced
    cases = [
        ([z, alpha, x, y, b], Gemm()(z, alpha, x, y, b),
         [zv, np.array(2.0, dtype), rng.random((3, 4)).astype(dtype), np.asfortranarray(rng.random((4, 5)).astype(dtype)),
          np.array(beta, dtype)]),
        ([v, alpha, x, w, b], Gemv()(v, alpha, x, w, b),
         [rng.random(3).astype(dtype), np.array(2.0, dtype), np.asfortranarray(rng.random((3, 4)).astype(dtype)),
          rng.random(8).astype(dtype)[::2], np.array(beta, dtype)]),
        ([x, alpha, v, w], Ger()(x, alpha, v, w),
         [rng.random((3, 4)).astype(dtype), np.array(2.0, dtype), rng.random(3).astype(dtype), rng.random(4).astype(dtype)]),
    ]
    for inputs, out, values in cases:
        c, got, want = _run_both(inputs, [out], values)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-5)
        assert not c.python_nodes


@pytest.mark.parametrize("fn", [T.nnet.softmax, T.nnet.log_softmax])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_softmax_family_is_stable_and_agrees_with_py(fn, axis, dtype, rng):
    x = T.tensor(dtype, shape=(None, None))
    out = fn(x, axis=axis)
    for v in (rng.normal(size=(3, 5)) * 1e4, rng.normal(size=(5, 3)).T, np.zeros((0, 3)), np.full((2, 3), -1e30)):
        c, got, want = _run_both([x], [out], [v.astype(dtype)])
        assert got[0].dtype == want[0].dtype and got[0].shape == want[0].shape
        np.testing.assert_allclose(got[0], want[0], rtol=1e-5 if dtype == "float32" else 1e-12)
        assert not c.python_nodes


def test_label_crossentropy_and_its_errors():
    p = T.dmatrix("p")
    y = T.ivector("y")
    out = T.nnet.categorical_crossentropy(p, y)
    c, got, want = _run_both([p, y], [out], [np.full((2, 3), 0.25), np.array([0, 2], dtype="int32")])
    np.testing.assert_allclose(got[0], want[0])
    with pytest.raises(ValueError, match="label 3 in row 1 is out of range for 3 classes"):
        c([np.full((2, 3), 0.25), np.array([0, 3], dtype="int32")])


def test_mlp_training_step_matches_py(rng):
    x = T.dmatrix("x")
    y = T.ivector("y")
    W = sg.shared(rng.normal(size=(6, 5)) * 0.1, name="W")
    V = sg.shared(rng.normal(size=(5, 3)) * 0.1, name="V")
    b = sg.shared(np.zeros(5), name="b")
    p = T.nnet.softmax(T.dot(T.tanh(T.dot(x, W) + b), V))
    loss = T.nnet.categorical_crossentropy(p, y).mean()
    grads = T.grad(loss, [W, V, b])
    xs, ys = rng.normal(size=(8, 6)), rng.integers(0, 3, size=8).astype("int32")
    losses = {}
    for mode in ("py", "c"):
        for var, init in ((W, 0), (V, 1), (b, 2)):
            var.set_value(np.random.default_rng(init).normal(size=var.get_value().shape) * 0.1)
        step = sg.function([x, y], loss, updates=[(v, v - 0.1 * g) for v, g in zip((W, V, b), grads)], mode=mode)
        losses[mode] = [float(step(xs, ys)) for _ in range(5)]
        if mode == "c":
            assert not step.maker.runner.python_nodes, step.explain()
    np.testing.assert_allclose(losses["c"], losses["py"], rtol=1e-10)
