"""Classic Theano tutorial programs, run unchanged through the compatibility layer."""

import numpy
import pytest

import symgraph.compat.theano as theano
import symgraph.compat.theano.tensor as T


def test_adding_two_scalars():
    x = T.dscalar("x")
    y = T.dscalar("y")
    z = x + y
    f = theano.function([x, y], z)
    assert f(2, 3) == numpy.array(5.0)
    assert numpy.allclose(f(16.3, 12.1), 28.4)
    assert numpy.allclose(z.eval({x: 16.3, y: 12.1}), 28.4)
    assert type(x) is type(y) and x.type == T.dscalar


def test_adding_two_matrices():
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    f = theano.function([x, y], x + y)
    numpy.testing.assert_array_equal(f([[1, 2], [3, 4]], [[10, 20], [30, 40]]), [[11.0, 22.0], [33.0, 44.0]])
    numpy.testing.assert_array_equal(f(numpy.array([[1, 2], [3, 4]]), numpy.array([[10, 20], [30, 40]])),
                                     [[11.0, 22.0], [33.0, 44.0]])


def test_logistic_function_two_ways():
    x = T.dmatrix("x")
    s = 1 / (1 + T.exp(-x))
    logistic = theano.function([x], s)
    s2 = (1 + T.tanh(x / 2)) / 2
    logistic2 = theano.function([x], s2)
    v = [[0, 1], [-1, -2]]
    expected = [[0.5, 0.73105858], [0.26894142, 0.11920292]]
    numpy.testing.assert_allclose(logistic(v), expected, rtol=1e-7)
    numpy.testing.assert_allclose(logistic2(v), expected, rtol=1e-7)


def test_computing_more_than_one_thing_at_once():
    a, b = T.dmatrices("a", "b")
    diff = a - b
    abs_diff = abs(diff)
    diff_squared = diff ** 2
    f = theano.function([a, b], [diff, abs_diff, diff_squared])
    out = f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
    numpy.testing.assert_array_equal(out[0], [[1.0, 0.0], [-1.0, -2.0]])
    numpy.testing.assert_array_equal(out[1], [[1.0, 0.0], [1.0, 2.0]])
    numpy.testing.assert_array_equal(out[2], [[1.0, 0.0], [1.0, 4.0]])


def test_default_value_for_an_argument():
    x, y, w = T.dscalars("x", "y", "w")
    z = (x + y) * w
    f = theano.function([x, theano.In(y, value=1), theano.In(w, value=2, name="w_by_name")], z)
    assert f(33) == 68.0
    assert f(33, 2) == 70.0
    assert f(33, 0, 1) == 33.0
    assert f(33, w_by_name=1) == 34.0
    assert f(33, w_by_name=1, y=0) == 33.0
    g = theano.function([x, theano.Param(y, default=1)], x + y)
    assert g(1) == 2.0


def test_shared_variables_accumulator_and_givens():
    state = theano.shared(0)
    inc = T.iscalar("inc")
    accumulator = theano.function([inc], state, updates=[(state, state + inc)])
    assert state.get_value() == 0
    accumulator(1)
    assert state.get_value() == 1
    accumulator(300)
    assert state.get_value() == 301
    state.set_value(-1)
    accumulator(3)
    assert state.get_value() == 2
    decrementor = theano.function([inc], state, updates=[(state, state - inc)])
    decrementor(2)
    assert state.get_value() == 0
    fn_of_state = state * 2 + inc
    foo = T.scalar(dtype=state.dtype)
    skip_shared = theano.function([inc, foo], fn_of_state, givens=[(state, foo)])
    assert skip_shared(1, 3) == 7
    assert state.get_value() == 0


def test_computing_gradients():
    x = T.dscalar("x")
    y = x ** 2
    gy = T.grad(y, x)
    f = theano.function([x], gy)
    assert f(4) == 8.0
    assert numpy.allclose(f(94.2), 188.4)
    assert "x" in theano.pp(gy)
    x = T.dmatrix("x")
    s = T.sum(1 / (1 + T.exp(-x)))
    gs = T.grad(s, x)
    dlogistic = theano.function([x], gs)
    numpy.testing.assert_allclose(dlogistic([[0, 1], [-1, -2]]),
                                  [[0.25, 0.19661193], [0.19661193, 0.10499359]], rtol=1e-7)


def test_jacobian_hessian_rop_lop():
    x = T.dvector("x")
    y = x ** 2
    J = theano.gradient.jacobian(y, x)
    f = theano.function([x], J)
    numpy.testing.assert_array_equal(f([4, 4]), [[8.0, 0.0], [0.0, 8.0]])
    cost = y.sum()
    H = theano.gradient.hessian(cost, x)
    numpy.testing.assert_array_equal(theano.function([x], H)([4, 4]), [[2.0, 0.0], [0.0, 2.0]])
    W = T.dmatrix("W")
    V = T.dmatrix("V")
    y = T.dot(x, W)
    JV = theano.gradient.Rop(y, W, V)
    f = theano.function([W, V, x], JV)
    numpy.testing.assert_array_equal(f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]), [2.0, 2.0])
    v = T.dvector("v")
    VJ = theano.gradient.Lop(y, W, v)
    f = theano.function([v, x], VJ)
    numpy.testing.assert_array_equal(f([2, 2], [0, 1]), [[0.0, 0.0], [2.0, 2.0]])


def test_logistic_regression_training_example():
    rng = numpy.random.RandomState(0)
    N, feats = 400, 20
    D = (rng.randn(N, feats), rng.randint(size=N, low=0, high=2))
    training_steps = 200
    x = T.dmatrix("x")
    y = T.dvector("y")
    w = theano.shared(rng.randn(feats), name="w")
    b = theano.shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = theano.function(inputs=[x, y], outputs=[prediction, xent],
                            updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)))
    predict = theano.function(inputs=[x], outputs=prediction)
    w0 = w.get_value()
    first = None
    for _ in range(training_steps):
        pred, err = train(D[0], D[1])
        first = err.mean() if first is None else first
    assert err.mean() < first
    # the same steps in NumPy
    wn, bn = w0, 0.0
    for _ in range(training_steps):
        p = 1 / (1 + numpy.exp(-(D[0] @ wn) - bn))
        wn, bn = wn - 0.1 * (D[0].T @ (p - D[1]) / N + 0.02 * wn), bn - 0.1 * (p - D[1]).mean()
    numpy.testing.assert_allclose(w.get_value(), wn, rtol=1e-9)
    numpy.testing.assert_array_equal(predict(D[0]), (1 / (1 + numpy.exp(-(D[0] @ wn) - bn))) > 0.5)


def test_config_floatx_and_theano_only_flags():
    assert theano.config.floatX in ("float32", "float64")
    theano.config.compute_test_value = "off"
    assert theano.config.device == "cpu"
    old = theano.config.floatX
    try:
        theano.config.floatX = "float32"
        assert T.matrix().dtype == "float32"
    finally:
        theano.config.floatX = old


def test_mlp_with_nnet_softmax_and_crossentropy():
    rng = numpy.random.RandomState(1)
    X = T.matrix("X")
    labels = T.ivector("labels")
    W1 = theano.shared(rng.randn(4, 8) * 0.5, name="W1")
    W2 = theano.shared(rng.randn(8, 3) * 0.5, name="W2")
    hidden = T.nnet.sigmoid(T.dot(X, W1))
    p = T.nnet.softmax(T.dot(hidden, W2))
    loss = T.nnet.categorical_crossentropy(p, labels).mean()
    nll = -T.mean(T.log(p)[T.arange(labels.shape[0]), labels])
    g1, g2 = T.grad(loss, [W1, W2])
    train = theano.function([X, labels], [loss, nll], updates=[(W1, W1 - 0.5 * g1), (W2, W2 - 0.5 * g2)])
    data = rng.randn(60, 4)
    target = (data[:, 0] > 0).astype("int32") + (data[:, 1] > 1).astype("int32")
    losses = [train(data, target) for _ in range(50)]
    assert losses[-1][0] < losses[0][0]
    assert losses[0][0] == pytest.approx(losses[0][1])


def test_printing_module():
    x = T.dvector("x")
    text = theano.printing.debugprint(T.exp(x), file="str")
    assert "Elemwise{exp}" in text
