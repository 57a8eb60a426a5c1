"""tensor.extra_ops (Theano's names): cumsum, cumprod, diff, bincount, to_one_hot,
fill_diagonal; and the smaller Theano-compat names that coursework uses (theano.clone,
theano.Out, theano.printing.pprint)."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.backends.c.build import compiler
from symgraph.errors import ShapeMismatchError
from symgraph.gradient import verify_grad
from symgraph.tensor import extra_ops
from symgraph.tensor.extra_ops import CumOp

needs_gcc = pytest.mark.skipif(compiler() is None, reason="needs gcc")
MODES = ["py", pytest.param("c", marks=needs_gcc)]


def _run(inputs, outputs, values, mode="py"):
    return sg.compile_function(inputs, outputs, mode=mode)(*values)


# -- cumsum, cumprod --------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("axis", [None, 0, 1, -1, -3])
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_cumulative_matches_numpy_on_every_axis(mode, axis, name, rng):
    x = T.dtensor3("x")
    value = rng.uniform(0.5, 1.5, size=(2, 3, 4))
    got = _run([x], getattr(T, name)(x, axis=axis), [value], mode)
    expected = getattr(np, name)(value, axis=axis)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["bool", "int8", "int16", "int32", "int64", "uint8", "uint32", "float32",
                                   "float64", "complex128"])
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_cumulative_result_dtype_is_numpys(dtype, name):
    x = T.tensor(dtype, shape=(None,), name="x")
    out = getattr(T, name)(x)
    value = np.array([1, 0, 1, 1], dtype=dtype)
    expected = getattr(np, name)(value)
    assert out.dtype == expected.dtype.name
    got = _run([x], out, [value])
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_cumsum_of_a_scalar_with_axis_none_is_a_length_one_vector():
    s = T.dscalar("s")
    out = T.cumsum(s)
    assert out.ndim == 1
    np.testing.assert_array_equal(_run([s], out, [2.5]), np.cumsum(2.5))


def test_cumsum_defaults_to_axis_none_as_numpy():
    m = T.dmatrix("m")
    value = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(_run([m], T.cumsum(m), [value]), np.cumsum(value))


def test_cumulative_axis_out_of_range_is_an_error():
    with pytest.raises(ValueError, match="out of bounds"):
        T.cumsum(T.dmatrix("m"), axis=2)
    with pytest.raises(ValueError, match="mode"):
        CumOp(0, "max")(T.dvector("v"))


def test_cumulative_shape_is_known_without_computing_it():
    m = T.dmatrix("m")
    f = sg.compile_function([m], T.cumprod(m, axis=1).shape, mode="py")
    np.testing.assert_array_equal(f(np.ones((2, 5))), [2, 5])
    assert not [n for n in f.maker.fgraph.toposort() if isinstance(n.op, CumOp)]


@pytest.mark.parametrize("mode", MODES)
def test_cumsum_gradient_is_a_reversed_cumsum(mode):
    m = T.dmatrix("m")
    w = np.arange(12.0).reshape(3, 4)
    g = T.grad((T.cumsum(m, axis=1) * w).sum(), m)
    got = _run([m], g, [np.zeros((3, 4))], mode)
    np.testing.assert_allclose(got, np.cumsum(w[:, ::-1], axis=1)[:, ::-1])


def _cumprod_grad_brute_force(x, g):
    # d/dx_i sum_j g_j prod_{k <= j} x_k = sum_{j >= i} g_j prod_{k <= j, k != i} x_k
    n = len(x)
    out = np.zeros(n)
    for i in range(n):
        for j in range(i, n):
            out[i] += g[j] * np.prod([x[k] for k in range(j + 1) if k != i])
    return out


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("x", [
    [2.0, 0.5, -1.5, 3.0, 0.7],     # no zero: the division formula
    [0.0, 2.0, 3.0, 0.5, 4.0],      # zero first
    [2.0, 3.0, 0.0, 0.5, 4.0],      # one zero inside
    [2.0, 0.0, 3.0, 0.0, 4.0],      # two zeros
    [1.5, 2.0, 3.0, 0.5, 0.0],      # zero last
    [0.0, 0.0, 0.0, 0.0, 0.0],
])
def test_cumprod_gradient_is_exact_with_zeros(mode, x):
    v = T.dvector("v")
    g = np.array([0.3, -1.0, 2.0, 0.5, 1.5])
    grad = T.grad((T.cumprod(v) * g).sum(), v)
    got = _run([v], grad, [np.array(x)], mode)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, _cumprod_grad_brute_force(x, g), rtol=1e-12, atol=1e-12)


def test_cumprod_gradient_and_its_derivative_pass_verify_grad_at_zeros():
    value = np.array([[1.5, 0.0, -2.0, 0.0], [0.5, 2.0, 0.0, 1.2], [0.8, -1.1, 0.9, 1.3]])
    # cumprod is linear in each entry, so central differences are exact even at zeros
    verify_grad(lambda a: T.cumprod(a, axis=1), [value], rng=np.random.default_rng(0), mode="py")
    verify_grad(lambda a: T.grad((T.cumprod(a, axis=1) ** 2).sum(), a), [value],
                rng=np.random.default_rng(1), mode="py")


# -- diff -------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("n", "axis"), [(0, -1), (1, -1), (2, 0), (3, 1), (5, 1)])
def test_diff_matches_numpy(mode, n, axis, rng):
    m = T.dmatrix("m")
    value = rng.normal(size=(4, 5))
    got = _run([m], T.diff(m, n=n, axis=axis), [value], mode)
    np.testing.assert_allclose(got, np.diff(value, n=n, axis=axis))


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int64"])
def test_diff_keeps_numpys_integer_and_bool_rules(dtype):
    x = T.tensor(dtype, shape=(None,), name="x")
    value = np.array([1, 0, 0, 1, 1, 0], dtype=dtype)
    got = _run([x], T.diff(x), [value])
    expected = np.diff(value)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_diff_rejects_bad_arguments():
    with pytest.raises(ValueError, match="non-negative"):
        T.diff(T.dvector("v"), n=-1)
    with pytest.raises(ValueError, match="scalar"):
        T.diff(T.dscalar("s"))


# -- bincount ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_bincount_matches_numpy(mode):
    x = T.ivector("x")
    w = T.fvector("w")
    xv = np.array([3, 0, 1, 1, 3, 3, 7], dtype="int32")
    wv = np.array([0.5, 1.0, 2.0, -1.0, 0.25, 1.0, 3.0], dtype="float32")
    outs = [T.bincount(x), T.bincount(x, w), T.bincount(x, minlength=10), T.bincount(x, minlength=3)]
    got = _run([x, w], outs, [xv, wv], mode)
    expected = [np.bincount(xv), np.bincount(xv, wv), np.bincount(xv, minlength=10), np.bincount(xv, minlength=3)]
    for a, b in zip(got, expected):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b)


def test_bincount_of_an_empty_vector():
    x = T.lvector("x")
    f = sg.compile_function([x], [T.bincount(x), T.bincount(x, minlength=4)], mode="py")
    got = f(np.zeros(0, dtype="int64"))
    np.testing.assert_array_equal(got[0], np.bincount(np.zeros(0, dtype="int64")))
    np.testing.assert_array_equal(got[1], np.zeros(4, dtype="int64"))


def test_bincount_of_a_negative_value_is_an_error_not_a_wrapped_count():
    x = T.lvector("x")
    f = sg.compile_function([x], T.bincount(x), mode="py")
    with pytest.raises(ShapeMismatchError, match="out of bounds"):
        f(np.array([1, -1]))


def test_bincount_gradient_reaches_the_weights():
    x = T.lvector("x")
    w = T.dvector("w")
    xv = np.array([2, 0, 2, 1])
    coef = np.array([1.0, 10.0, 100.0])
    g = T.grad((T.bincount(x, w) * coef).sum(), w)
    np.testing.assert_allclose(_run([x, w], g, [xv, np.ones(4)]), coef[xv])


def test_bincount_rejects_non_integer_input():
    with pytest.raises(TypeError, match="integer vector"):
        T.bincount(T.dvector("v"))


# -- to_one_hot -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_to_one_hot(mode):
    y = T.ivector("y")
    yv = np.array([2, 0, 4, 2], dtype="int32")
    default, ints = _run([y], [T.to_one_hot(y, 5), T.to_one_hot(y, 5, dtype="int8")], [yv], mode)
    assert default.dtype == sg.config.floatX
    assert ints.dtype == np.int8
    np.testing.assert_array_equal(default, np.eye(5)[yv])
    np.testing.assert_array_equal(ints, np.eye(5, dtype="int8")[yv])


def test_to_one_hot_rejects_float_labels():
    with pytest.raises(TypeError, match="integer vector"):
        T.to_one_hot(T.dvector("y"), 3)


# -- fill_diagonal ----------------------------------------------------------------------------
def _fill_diagonal_np(a, val):
    b = np.array(a)
    np.fill_diagonal(b, val)
    return b


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2), (3, 3, 3)])
def test_fill_diagonal_matches_numpy(mode, shape, rng):
    a = T.tensor("float64", shape=(None,) * len(shape), name="a")
    value = rng.normal(size=shape)
    np.testing.assert_array_equal(_run([a], T.fill_diagonal(a, 7.0), [value], mode),
                                  _fill_diagonal_np(value, 7.0))


def test_fill_diagonal_casts_the_value_to_the_array_dtype():
    a = T.imatrix("a")
    got = _run([a], T.fill_diagonal(a, 2.7), [np.zeros((2, 2), dtype="int32")])
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, _fill_diagonal_np(np.zeros((2, 2), dtype="int32"), 2.7))


def test_fill_diagonal_gradients():
    a = T.dmatrix("a")
    v = T.dscalar("v")
    weights = np.arange(1.0, 7.0).reshape(2, 3)
    ga, gv = T.grad((T.fill_diagonal(a, v) * weights).sum(), [a, v])
    got_a, got_v = _run([a, v], [ga, gv], [np.zeros((2, 3)), 0.0])
    np.testing.assert_array_equal(got_a, _fill_diagonal_np(weights, 0.0))
    np.testing.assert_allclose(got_v, weights[0, 0] + weights[1, 1])


# -- the module itself, and Theano's spelling -------------------------------------------------
def test_extra_ops_module_holds_theanos_names():
    from symgraph.compat import theano

    for name in ("cumsum", "cumprod", "diff", "bincount", "repeat", "squeeze", "to_one_hot", "fill_diagonal"):
        assert getattr(theano.tensor.extra_ops, name) is getattr(extra_ops, name)
        assert getattr(T, name) is getattr(extra_ops, name)
    from symgraph.tensor.shape import repeat, squeeze

    assert extra_ops.repeat is repeat and extra_ops.squeeze is squeeze  # the shape family's own
    from symgraph.compat.theano.tensor.extra_ops import cumsum  # noqa: F401  (the import path works)


def test_theano_printing_pprint_and_pp():
    from symgraph.compat import theano
    from symgraph.compat.theano import pp

    x = T.dscalar("x")
    assert theano.printing.pprint(x ** 2 + 1) == pp(x ** 2 + 1) == sg.printing.pp(x ** 2 + 1)
    assert "x" in pp(x ** 2 + 1)


def test_theano_clone_with_replacements():
    from symgraph.compat import theano

    x = T.dscalar("x")
    y = T.dscalar("y")
    out = x ** 2 + y
    copy = theano.clone(out, replace={x: x + 1})
    f = sg.compile_function([x, y], [out, copy], mode="py")
    np.testing.assert_allclose(f(2.0, 1.0), [5.0, 10.0])
    # a list of outputs, replacements as pairs, a number as the replacement
    first, second = theano.clone([out, x * 3], replace=[(x, 4.0)])
    np.testing.assert_allclose(sg.compile_function([y], [first, second], mode="py")(1.0), [17.0, 12.0])
    # a fresh graph even without replacements, as Theano's clone
    same = theano.clone(out)
    assert same is not out and same.owner is not out.owner
    assert x in [v for v in sg.graph.graph_inputs([same])]


def test_theano_clone_share_inputs_false_copies_the_inputs():
    from symgraph.compat import theano

    x = T.dvector("x")
    copy = theano.clone(x * 2, share_inputs=False)
    (new_x,) = [v for v in sg.graph.graph_inputs([copy]) if not isinstance(v, sg.graph.Constant)]
    assert new_x is not x and new_x.type == x.type


def test_theano_clone_strict_checks_the_replacement_type():
    from symgraph.compat import theano

    x = T.dscalar("x")
    i = T.iscalar("i")
    with pytest.raises(TypeError, match="strict=False"):
        theano.clone(x * 2, replace={x: i})
    loose = theano.clone(x * 2, replace={x: i}, strict=False)
    assert sg.compile_function([i], loose, mode="py")(3) == 6


@pytest.mark.parametrize("mode", MODES)
def test_theano_out_is_accepted_in_the_outputs(mode):
    from symgraph.compat import theano

    x = T.dvector("x")
    f = theano.function([x], [theano.Out(x * 2, borrow=True), x + 1], mode=mode)
    got = f(np.array([1.0, 2.0]))
    np.testing.assert_allclose(got[0], [2.0, 4.0])
    np.testing.assert_allclose(got[1], [2.0, 3.0])
    single = theano.function([x], theano.Out(x.sum()), mode=mode)
    assert single(np.array([1.0, 2.0])) == 3.0
