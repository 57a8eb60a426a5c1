"""Neural-network ops (T.nnet): softmax family, crossentropies, sigmoids; values and grads."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.special

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import verify_grad
from symgraph.tensor import nnet
from symgraph.tensor.nnet import CrossentropyCategorical1Hot, LogSoftmax, Softmax


def _sample(shape: tuple[int, ...], dtype: str = "float64", seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def _probabilities(rows: int, classes: int, seed: int = 0) -> np.ndarray:
    p = np.random.default_rng(seed).random((rows, classes)) + 0.1
    return p / p.sum(axis=1, keepdims=True)


def _run(fn: Any, *values: np.ndarray) -> np.ndarray:
    inputs = [T.tensor(v.dtype.name, shape=(None,) * v.ndim) for v in values]
    return sg.compile_function(inputs, fn(*inputs), mode="py")(*values)


def _tol(dtype: Any) -> float:
    return 1e-5 if np.dtype(dtype) == np.float32 else 1e-12


def test_nnet_namespace_is_reexported() -> None:
    assert T.nnet is nnet
    assert T.softmax is nnet.softmax and T.nnet.sigmoid is T.sigmoid and T.nnet.relu is T.relu
    assert T.categorical_crossentropy is nnet.categorical_crossentropy


# -- softmax, log_softmax -------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("shape", "axis"), [((5,), -1), ((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), -3)]
)
def test_softmax_and_log_softmax_match_scipy(dtype: str, shape: tuple, axis: int) -> None:
    x = _sample(shape, dtype) * 3
    sm = _run(lambda v: nnet.softmax(v, axis=axis), x)
    lsm = _run(lambda v: nnet.log_softmax(v, axis=axis), x)
    expected_sm = scipy.special.softmax(x, axis=axis)
    expected_lsm = scipy.special.log_softmax(x, axis=axis)
    for got, expected in ((sm, expected_sm), (lsm, expected_lsm)):
        assert got.dtype == np.dtype(dtype) and got.shape == shape
        np.testing.assert_allclose(got, expected, rtol=_tol(dtype), atol=_tol(dtype))


def test_softmax_stays_finite_for_extreme_inputs() -> None:
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 1e4], [7.0, 7.0, 7.0]])
    sm = _run(nnet.softmax, x)
    lsm = _run(nnet.log_softmax, x)
    assert np.isfinite(sm).all() and np.isfinite(lsm).all()
    np.testing.assert_allclose(sm, [[1, 0, 0]] + [[1 / 3] * 3] * 3, rtol=1e-12, atol=0)
    np.testing.assert_allclose(lsm, [[0, -2e4, -1e4]] + [[-np.log(3)] * 3] * 3, rtol=1e-12)


def test_softmax_extreme_inputs_float32() -> None:
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype="float32")
    sm = _run(nnet.softmax, x)
    lsm = _run(nnet.log_softmax, x)
    assert sm.dtype == lsm.dtype == np.float32
    np.testing.assert_allclose(sm, [[1, 0, 0], [1 / 3] * 3], rtol=1e-6)
    np.testing.assert_allclose(lsm, [[0, -2e4, -1e4], [-np.log(3)] * 3], rtol=1e-6)


def test_softmax_of_integers_is_float_and_types_are_static() -> None:
    assert nnet.softmax(T.imatrix()).dtype == "float64"
    assert nnet.softmax(T.bmatrix()).dtype == "float32"
    x = T.tensor("float32", shape=(2, None, 3))
    assert nnet.softmax(x).type == x.type and nnet.log_softmax(x, 1).type == x.type
    assert nnet.softmax(x, axis=-1).owner.op == Softmax(2)
    assert nnet.log_softmax(x, axis=-2).owner.op == LogSoftmax(1)
    got = _run(nnet.softmax, np.array([[1, 2, 3]], dtype="int32"))
    np.testing.assert_allclose(got, scipy.special.softmax([[1.0, 2.0, 3.0]], axis=-1))


def test_softmax_argument_errors() -> None:
    with pytest.raises(ValueError, match="softmax: axis 2 is out of range"):
        nnet.softmax(T.dmatrix(), axis=2)
    with pytest.raises(ValueError, match="needs at least one axis"):
        nnet.softmax(T.dscalar())
    with pytest.raises(ValueError, match="axis must be a non-negative int"):
        Softmax(-1)
    with pytest.raises(TypeError, match="complex inputs are not supported"):
        nnet.log_softmax(T.zvector())


def test_softmax_with_bias() -> None:
    x, b = _sample((3, 4)), _sample((4,), seed=1)
    expected = scipy.special.softmax(x + b, axis=-1)
    np.testing.assert_allclose(_run(nnet.softmax_with_bias, x, b), expected)


@pytest.mark.parametrize(("shape", "axis"), [((3, 4), -1), ((3, 4), 0), ((2, 3, 2), 1), ((4,), 0)])
def test_softmax_gradient(shape: tuple, axis: int) -> None:
    verify_grad(lambda v: nnet.softmax(v, axis), [_sample(shape)], mode="py")


@pytest.mark.parametrize(("shape", "axis"), [((3, 4), -1), ((3, 4), 0), ((2, 3, 2), 1), ((4,), 0)])
def test_log_softmax_gradient(shape: tuple, axis: int) -> None:
    verify_grad(lambda v: nnet.log_softmax(v, axis), [_sample(shape)], mode="py")


def test_softmax_gradients_float32() -> None:
    verify_grad(nnet.softmax, [_sample((3, 4), "float32")], mode="py")
    verify_grad(nnet.log_softmax, [_sample((3, 4), "float32")], mode="py")


def test_log_softmax_gradient_is_finite_for_extreme_inputs() -> None:
    x = T.dmatrix("x")
    weights = np.array([[1.0, 0.0, 0.0]])
    g = T.grad((nnet.log_softmax(x) * weights).sum(), x)
    got = sg.compile_function([x], g, mode="py")(np.array([[1e4, -1e4, 0.0]]))
    # d lsm_0 / d x = onehot_0 - softmax(x), and softmax(x) is (1, 0, 0) here
    np.testing.assert_allclose(got, [[0.0, 0.0, 0.0]], atol=1e-12)


# -- categorical crossentropy -----------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("label_dtype", ["int64", "int32", "uint8"])
def test_crossentropy_with_labels_matches_numpy(dtype: str, label_dtype: str) -> None:
    p = _probabilities(5, 3).astype(dtype)
    labels = np.array([0, 2, 1, 2, 0], dtype=label_dtype)
    got = _run(nnet.categorical_crossentropy, p, labels)
    assert got.dtype == np.dtype(dtype) and got.shape == (5,)
    np.testing.assert_allclose(got, -np.log(p[np.arange(5), labels]), rtol=_tol(dtype))


def test_crossentropy_with_labels_and_one_hot_agree() -> None:
    p = _probabilities(6, 4, seed=3)
    labels = np.array([3, 0, 1, 1, 2, 3])
    one_hot = np.eye(4)[labels]
    from_labels = _run(nnet.categorical_crossentropy, p, labels)
    from_one_hot = _run(nnet.categorical_crossentropy, p, one_hot)
    np.testing.assert_allclose(from_labels, from_one_hot, rtol=1e-12)
    np.testing.assert_allclose(_run(nnet.crossentropy_categorical_1hot, p, labels), from_labels)


def test_crossentropy_with_probability_targets_matches_numpy() -> None:
    p, q = _probabilities(4, 3, seed=1), _probabilities(4, 3, seed=2)
    expected = -(q * np.log(p)).sum(axis=1)
    np.testing.assert_allclose(_run(nnet.categorical_crossentropy, p, q), expected)


def test_crossentropy_types_and_errors() -> None:
    p = T.tensor("float32", shape=(5, 3))
    out = nnet.categorical_crossentropy(p, T.ivector())
    assert isinstance(out.owner.op, CrossentropyCategorical1Hot)
    assert out.type == T.TensorType("float32", (5,))
    assert nnet.categorical_crossentropy(p, T.fmatrix()).type == T.TensorType("float32", (5,))
    with pytest.raises(TypeError, match="must hold integer labels"):
        nnet.categorical_crossentropy(p, T.fvector())
    with pytest.raises(TypeError, match="true_dist must be integer labels"):
        nnet.categorical_crossentropy(p, T.fscalar())
    with pytest.raises(ValueError, match="but there are 4 labels; expected one label per row"):
        nnet.categorical_crossentropy(p, T.tensor("int64", shape=(4,)))


def test_crossentropy_label_out_of_range_raises() -> None:
    p, y = T.dmatrix("p"), T.lvector("y")
    f = sg.compile_function([p, y], nnet.categorical_crossentropy(p, y), mode="py")
    # the runner reports the IndexError as a ValueError naming the op and the line
    with pytest.raises(ValueError, match=r"label 3 in row 1 is out of range for 3 classes"):
        f(_probabilities(2, 3), np.array([0, 3]))
    with pytest.raises(ValueError, match="expected one label per row"):
        f(_probabilities(2, 3), np.array([0, 1, 2]))


def test_crossentropy_with_labels_gradient() -> None:
    labels = T.constant(np.array([0, 2, 1, 2]))
    verify_grad(
        lambda p: nnet.categorical_crossentropy(p, labels), [_probabilities(4, 3)], mode="py"
    )


def test_crossentropy_with_one_hot_gradient() -> None:
    one_hot = T.constant(np.eye(3)[[0, 2, 1, 2]])
    verify_grad(
        lambda p: nnet.categorical_crossentropy(p, one_hot), [_probabilities(4, 3)], mode="py"
    )


def test_crossentropy_gradients_with_labels_and_one_hot_agree() -> None:
    p, y, t = T.dmatrix("p"), T.lvector("y"), T.dmatrix("t")
    g_labels = T.grad(nnet.categorical_crossentropy(p, y).sum(), p)
    g_one_hot = T.grad(nnet.categorical_crossentropy(p, t).sum(), p)
    labels = np.array([1, 0, 2])
    f = sg.compile_function([p, y, t], [g_labels, g_one_hot], mode="py")
    got_labels, got_one_hot = f(_probabilities(3, 3), labels, np.eye(3)[labels])
    np.testing.assert_allclose(got_labels, got_one_hot, rtol=1e-12)


def test_crossentropy_with_labels_second_derivative() -> None:
    labels = T.constant(np.array([1, 0, 2]))
    verify_grad(
        lambda p: T.grad(nnet.categorical_crossentropy(p, labels).sum(), p),
        [_probabilities(3, 3)],
        mode="py",
    )


def test_crossentropy_of_softmax_gradient() -> None:
    labels = T.constant(np.array([1, 0, 2, 2]))
    verify_grad(
        lambda x: nnet.categorical_crossentropy(nnet.softmax(x), labels),
        [_sample((4, 3))],
        mode="py",
    )


# -- binary crossentropy, sigmoids ------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_binary_crossentropy_matches_numpy(dtype: str) -> None:
    out = np.random.default_rng(0).uniform(0.05, 0.95, size=(3, 4)).astype(dtype)
    target = np.random.default_rng(1).uniform(0, 1, size=(3, 4)).astype(dtype)
    got = _run(nnet.binary_crossentropy, out, target)
    expected = -(target * np.log(out) + (1 - target) * np.log(1 - out))
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, expected, rtol=_tol(dtype))


def test_binary_crossentropy_gradient() -> None:
    out = np.random.default_rng(0).uniform(0.1, 0.9, size=(3, 4))
    target = np.random.default_rng(1).uniform(0, 1, size=(3, 4))
    verify_grad(nnet.binary_crossentropy, [out, target], mode="py")


def test_hard_sigmoid_matches_its_definition() -> None:
    x = np.linspace(-4, 4, 17)
    np.testing.assert_allclose(_run(nnet.hard_sigmoid, x), np.clip(0.2 * x + 0.5, 0, 1))
    verify_grad(nnet.hard_sigmoid, [np.array([-1.3, 0.2, 1.1])], mode="py")


def test_ultra_fast_sigmoid_is_close_to_the_sigmoid() -> None:
    x = np.arange(-100, 101) / 10  # exactly symmetric around 0
    got = _run(nnet.ultra_fast_sigmoid, x)
    assert np.abs(got - scipy.special.expit(x)).max() < 0.03
    np.testing.assert_allclose(got[100], 0.5)
    np.testing.assert_allclose(got + got[::-1], 1.0, atol=1e-12)  # odd around 0.5
    verify_grad(nnet.ultra_fast_sigmoid, [np.array([-2.0, 0.3, 1.2, 4.0, 8.0])], mode="py")
