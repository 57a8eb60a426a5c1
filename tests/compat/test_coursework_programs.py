"""Theano tutorial and deeplearning.net-style coursework programs, run through the compat layer.

Each program is written as a Theano user wrote it (``import theano`` / ``theano.tensor as T``
spelled through ``symgraph.compat``), runs with the NumPy reference backend ('py'), the C
backend ('c') and, where cheap, the default mode, and is checked against NumPy (values,
hand-derived gradients or finite differences); gradients are compared between modes.

Programs that need scan, ifelse or conv2d / pool_2d are skipped, saying so, in a version
without them, and run as soon as they exist.
"""

import pickle

import numpy
import pytest

import symgraph.compat.theano.tensor as T
from symgraph.compat import theano

MODES = ["py", "c", None]  # None: the default mode (config.mode, 'c')


def _run_modes(inputs, outputs, values, modes=("py", "c"), rtol=1e-9, atol=1e-12, **kwargs):
    """Compile in each mode, call once, check every mode against 'py' (values and dtypes)."""
    results = {}
    for mode in modes:
        f = theano.function(inputs, outputs, mode=mode, **kwargs)
        out = f(*values)
        results[mode] = out if isinstance(out, list) else [out]
    reference = results[modes[0]]
    for mode in modes[1:]:
        for k, (want, got) in enumerate(zip(reference, results[mode])):
            numpy.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"output {k}, mode {mode!r}")
            assert numpy.asarray(got).dtype == numpy.asarray(want).dtype, (k, mode)
    return reference


# -- the Theano documentation tutorial ---------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_tutorial_algebra_logistic_and_multiple_outputs(mode):
    x, y = T.dscalars("x", "y")
    add = theano.function([x, y], x + y, mode=mode)
    assert add(2, 3) == 5.0 and add(16.3, 12.1) == pytest.approx(28.4)
    a, b = T.dmatrices("a", "b")
    diff = a - b
    s = 1 / (1 + T.exp(-a))
    s2 = (1 + T.tanh(a / 2)) / 2
    f = theano.function([a, b], [a + b, diff, abs(diff), diff ** 2, s, s2], mode=mode)
    av, bv = numpy.array([[1.0, 1], [1, 1]]), numpy.array([[0.0, 1], [2, 3]])
    out = f(av, bv)
    assert isinstance(out, list) and len(out) == 6
    numpy.testing.assert_array_equal(out[0], av + bv)
    numpy.testing.assert_array_equal(out[1], av - bv)
    numpy.testing.assert_array_equal(out[2], abs(av - bv))
    numpy.testing.assert_array_equal(out[3], (av - bv) ** 2)
    numpy.testing.assert_allclose(out[4], 1 / (1 + numpy.exp(-av)), rtol=1e-14)
    numpy.testing.assert_allclose(out[5], out[4], rtol=1e-14)
    # plain lists are accepted for matrix inputs, as in the tutorial
    numpy.testing.assert_array_equal(f([[1, 2], [3, 4]], [[10, 20], [30, 40]])[0], [[11.0, 22], [33, 44]])


@pytest.mark.parametrize("mode", MODES)
def test_tutorial_default_values_in_and_param(mode):
    x, y, w = T.dscalars("x", "y", "w")
    z = (x + y) * w
    f = theano.function([x, theano.In(y, value=1), theano.In(w, value=2, name="w_by_name")], z, mode=mode)
    assert f(33) == 68.0 and f(33, 2) == 70.0 and f(33, 0, 1) == 33.0
    assert f(33, w_by_name=1) == 34.0 and f(33, w_by_name=1, y=0) == 33.0
    g = theano.function([x, theano.Param(y, default=1.5)], x * y, mode=mode)
    assert g(2) == 3.0 and g(2, 4) == 8.0
    with pytest.raises(TypeError):
        f()


@pytest.mark.parametrize("mode", MODES)
def test_tutorial_shared_accumulator_updates_and_givens(mode):
    state = theano.shared(0)
    inc = T.iscalar("inc")
    accumulator = theano.function([inc], state, updates=[(state, state + inc)], mode=mode)
    assert accumulator(1) == 0 and state.get_value() == 1  # the output is the value before the update
    accumulator(300)
    assert state.get_value() == 301
    state.set_value(-1)
    accumulator(3)
    assert state.get_value() == 2
    decrementor = theano.function([inc], state, updates=[(state, state - inc)], mode=mode)
    decrementor(2)
    assert state.get_value() == 0
    foo = T.scalar(dtype=state.dtype)
    skip_shared = theano.function([inc, foo], state * 2 + inc, givens=[(state, foo)], mode=mode)
    assert skip_shared(1, 3) == 7 and state.get_value() == 0


@pytest.mark.parametrize("mode", MODES)
def test_tutorial_copying_functions_swap_and_delete_updates(mode):
    state = theano.shared(0)
    inc = T.iscalar("inc")
    accumulator = theano.function([inc], state, updates=[(state, state + inc)], mode=mode, name="acc")
    accumulator(10)
    new_state = theano.shared(0)
    new_accumulator = accumulator.copy(swap={state: new_state})
    assert new_accumulator(100) == 0
    assert new_state.get_value() == 100 and state.get_value() == 10
    null_accumulator = accumulator.copy(delete_updates=True)
    assert null_accumulator(9000) == 10 and state.get_value() == 10
    assert new_accumulator.name == "acc copy"
    accumulator(1)  # the original keeps working on its own state
    assert state.get_value() == 11 and new_state.get_value() == 100


def test_copy_rejects_a_swap_of_another_type_or_an_unused_variable():
    state = theano.shared(0)
    inc = T.iscalar("inc")
    accumulator = theano.function([inc], state, updates=[(state, state + inc)], mode="py")
    with pytest.raises(TypeError, match="types must match"):
        accumulator.copy(swap={state: theano.shared(0.0)})
    with pytest.raises(ValueError, match="not a shared variable this function uses"):
        accumulator.copy(swap={theano.shared(0): state})


def test_tutorial_borrow_and_aliasing():
    np_array = numpy.ones(2, dtype="float64")
    s_default = theano.shared(np_array)
    s_false = theano.shared(np_array, borrow=False)
    s_true = theano.shared(np_array, borrow=True)
    np_array += 1
    numpy.testing.assert_array_equal(s_default.get_value(), [1.0, 1.0])
    numpy.testing.assert_array_equal(s_false.get_value(), [1.0, 1.0])
    numpy.testing.assert_array_equal(s_true.get_value(), [2.0, 2.0])  # CPU borrow aliases, as in Theano
    copy = s_true.get_value(borrow=False)
    copy += 5
    numpy.testing.assert_array_equal(s_true.get_value(), [2.0, 2.0])
    s_true.set_value(numpy.zeros(2), borrow=True)
    numpy.testing.assert_array_equal(s_true.get_value(borrow=True, return_internal_type=True), [0.0, 0.0])


@pytest.mark.parametrize("mode", MODES)
def test_tutorial_broadcasting_row_col_and_dimshuffle(mode):
    r, m, c = T.row("r"), T.matrix("m"), T.col("c")
    assert r.broadcastable == (True, False) and c.broadcastable == (False, True)
    v = T.vector("v")
    f = theano.function([r, m, c, v], [r + m, m * c, r + c, m + v.dimshuffle("x", 0), v.dimshuffle(0, "x") * c.T],
                        mode=mode)
    rv, mv, cv, vv = numpy.ones((1, 3)), numpy.arange(6.0).reshape(2, 3), numpy.array([[2.0], [3.0]]), numpy.arange(3.0)
    out = f(rv, mv, cv, vv)
    for got, want in zip(out, [rv + mv, mv * cv, rv + cv, mv + vv, vv[:, None] * cv.T]):
        numpy.testing.assert_array_equal(got, want)
    # Theano broadcasts only axes of static length 1: a (2, 3) matrix and a (1, 3) value in a
    # `matrix` input do not broadcast
    n = T.matrix("n")
    g = theano.function([m, n], m + n, mode=mode)
    numpy.testing.assert_array_equal(g(mv, mv), 2 * mv)
    with pytest.raises(ValueError):
        g(mv, rv)


@pytest.mark.parametrize("mode", ["py", "c"])
def test_tutorial_derivatives_grad_jacobian_hessian_rop_lop(mode):
    x = T.dvector("x")
    W, V = T.dmatrices("W", "V")
    v = T.dvector("v")
    y = T.tanh(T.dot(x, W))
    outputs = [
        T.grad(T.sum(1 / (1 + T.exp(-x))), x),
        theano.gradient.jacobian(x ** 2, x),
        theano.gradient.hessian(T.sum(x ** 3), x),
        theano.gradient.Rop(y, W, V),
        theano.gradient.Lop(y, W, v),
        T.Rop(T.dot(x, W), W, V),
        T.jacobian(y, W),
    ]
    rng = numpy.random.RandomState(0)
    xv, Wv, Vv, vv = rng.randn(3), rng.randn(3, 2), rng.randn(3, 2), rng.randn(2)
    out = theano.function([x, W, V, v], outputs, mode=mode)(xv, Wv, Vv, vv)
    sig = 1 / (1 + numpy.exp(-xv))
    numpy.testing.assert_allclose(out[0], sig * (1 - sig), rtol=1e-12)
    numpy.testing.assert_array_equal(out[1], numpy.diag(2 * xv))
    numpy.testing.assert_allclose(out[2], numpy.diag(6 * xv), rtol=1e-12)
    dtanh = 1 - numpy.tanh(xv @ Wv) ** 2
    numpy.testing.assert_allclose(out[3], dtanh * (xv @ Vv), rtol=1e-12)
    numpy.testing.assert_allclose(out[4], numpy.outer(xv, dtanh * vv), rtol=1e-12)
    numpy.testing.assert_allclose(out[5], xv @ Vv, rtol=1e-12)
    jac = numpy.zeros((2, 3, 2))
    for i in range(2):
        jac[i, :, i] = xv * dtanh[i]
    numpy.testing.assert_allclose(out[6], jac, rtol=1e-12)
    # Rop agrees with a central difference along V
    eps = 1e-6
    fd = (numpy.tanh(xv @ (Wv + eps * Vv)) - numpy.tanh(xv @ (Wv - eps * Vv))) / (2 * eps)
    numpy.testing.assert_allclose(out[3], fd, rtol=1e-6)


def test_grad_options_consider_constant_known_grads_and_disconnected():
    x, y = T.dvectors("x", "y")
    cost = (x * y).sum() + (y ** 2).sum()
    g_const = T.grad(cost, y, consider_constant=[x])
    g_known = T.grad(None, x, known_grads={x * 2: y})
    z = T.dscalar("z")
    gx, gz = T.grad(cost, [x, z], disconnected_inputs="ignore")
    xv, yv = numpy.array([1.0, 2.0]), numpy.array([3.0, -1.0])
    out = _run_modes([x, y, z], [g_const, g_known, gx, gz], [xv, yv, 4.0])
    numpy.testing.assert_array_equal(out[0], xv + 2 * yv)
    numpy.testing.assert_array_equal(out[1], 2 * yv)
    numpy.testing.assert_array_equal(out[2], yv)
    assert out[3] == 0.0
    with pytest.raises(ValueError):
        T.grad(cost, z)
    theano.gradient.verify_grad(lambda a, b: T.tanh(T.dot(a, b)).sum(),
                                [numpy.random.RandomState(1).rand(2, 3), numpy.random.RandomState(2).rand(3)],
                                rng=numpy.random)


@pytest.mark.parametrize("mode", ["py", "c"])
def test_switch_computes_both_branches_elementwise(mode):
    a, b = T.scalars("a", "b")
    x, y = T.matrices("x", "y")
    z_switch = T.switch(T.lt(a, b), T.mean(x), T.mean(y))
    f = theano.function([a, b, x, y], z_switch, mode=mode)
    xv, yv = numpy.ones((3, 3)), numpy.zeros((3, 3))
    assert f(1, 2, xv, yv) == 1.0 and f(2, 1, xv, yv) == 0.0
    m = T.matrix("m")
    relu_like = theano.function([m], T.switch(m > 0, m, 0.1 * m), mode=mode)
    mv = numpy.array([[-1.0, 2.0], [0.0, -3.0]])
    numpy.testing.assert_allclose(relu_like(mv), numpy.where(mv > 0, mv, 0.1 * mv), rtol=1e-15)


def test_printing_pp_and_debugprint():
    x = T.dscalar("x")
    gy = T.grad(x ** 2, x)
    assert "x" in theano.pp(gy)
    f = theano.function([x], gy, mode="py")
    assert theano.pp(f.maker.fgraph.outputs[0]) in ("(2.0 * x)", "(x * 2.0)")
    text = theano.printing.debugprint(f, file="str")
    assert "[id A]" in text and "x" in text
    assert theano.printing.debugprint([x + 1, x * 2], file="str").count("[id") >= 4


def test_tutorial_pydotprint_call_with_theano_style_options(tmp_path):
    x = T.dvector("x")
    predict = theano.function([x], T.nnet.sigmoid(x).sum() > 0.5, mode="py")
    outfile = str(tmp_path / "logreg_pydotprint_predict.png")
    try:
        import pydot  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pydot"):  # the missing extra, not the keyword
            theano.printing.pydotprint(predict, outfile=outfile, var_with_name_simple=True)
    else:
        try:
            theano.printing.pydotprint(predict, outfile=outfile, var_with_name_simple=True, compact=True)
        except RuntimeError as exc:  # pydot without Graphviz's dot program
            assert "Graphviz" in str(exc)
    with pytest.raises(TypeError, match="unexpected keyword"):
        theano.printing.pydotprint(predict, outfile=outfile, colour="red")


@pytest.mark.parametrize("mode", ["py", "c"])
def test_function_with_updates_only_takes_no_outputs(mode):
    w = theano.shared(numpy.ones(2), "w")
    x = T.dvector("x")
    double = theano.function([], updates=[(w, w * 2)], mode=mode)
    assert double() == [] and w.get_value().tolist() == [2.0, 2.0]
    add = theano.function([x], None, updates=[(w, w + x)], mode=mode)
    assert add([1.0, 2.0]) == [] and w.get_value().tolist() == [3.0, 4.0]


@pytest.mark.parametrize("mode", ["py", "c"])
def test_pickled_function_keeps_updates_and_shared_values(mode):
    x = T.dvector("x")
    w = theano.shared(numpy.ones(3), name="w")
    f = theano.function([x], (x * w).sum(), updates=[(w, w * 2)], mode=mode)
    f([1.0, 1.0, 1.0])
    g = pickle.loads(pickle.dumps(f))
    assert g([1.0, 1.0, 1.0]) == 6.0 and g([1.0, 1.0, 1.0]) == 12.0
    numpy.testing.assert_array_equal(w.get_value(), [2.0, 2.0, 2.0])  # the copy has its own w
    assert f([1.0, 1.0, 1.0]) == 6.0


def test_float32_program_keeps_float32_everywhere():
    old = theano.config.floatX
    theano.config.floatX = "float32"
    try:
        rng = numpy.random.RandomState(3)
        x = T.matrix("x")
        y = T.ivector("y")
        W = theano.shared(numpy.asarray(rng.randn(5, 3) * 0.1, dtype=theano.config.floatX), name="W")
        b = theano.shared(numpy.zeros(3, dtype=theano.config.floatX), name="b")
        p = T.nnet.softmax(T.dot(x, W) + b)
        cost = T.nnet.categorical_crossentropy(p, y).mean() + 1e-3 * T.sqr(W).sum()
        gW, gb = T.grad(cost, [W, b])
        lr = numpy.float32(0.1)
        xv = rng.randn(7, 5).astype("float32")
        yv = rng.randint(0, 3, 7).astype("int32")
        out = _run_modes([x, y], [cost, gW, gb, p], [xv, yv], rtol=2e-5, atol=1e-6)
        assert all(o.dtype == numpy.float32 for o in out)
        train = theano.function([x, y], cost, updates=[(W, W - lr * gW), (b, b - 0.1 * gb)])
        first = train(xv, yv)
        for _ in range(5):
            last = train(xv, yv)
        assert last < first and W.get_value().dtype == numpy.float32
        # float64 data into a float32 input needs allow_input_downcast, as in Theano
        with pytest.raises(TypeError, match="allow_input_downcast"):
            theano.function([x], x * 2)(numpy.ones((2, 2)))
        lr_var = T.scalar("lr")
        scale = theano.function([x, lr_var], x * lr_var, allow_input_downcast=True)
        assert scale(numpy.ones((2, 2)), 0.1).dtype == numpy.float32
    finally:
        theano.config.floatX = old


# -- deeplearning.net-style coursework -------------------------------------------------------
def _numpy_softmax(z):
    e = numpy.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("mode", MODES)
def test_logistic_regression_minibatch_sgd_with_givens(mode):
    rng = numpy.random.RandomState(0)
    n, n_in, n_out, batch_size, lr = 60, 5, 3, 10, 0.13
    data_x = rng.randn(n, n_in)
    data_y = rng.randint(0, n_out, n).astype("int32")
    train_set_x = theano.shared(numpy.asarray(data_x, dtype=theano.config.floatX), borrow=True)
    train_set_y = T.cast(theano.shared(data_y.astype("float64"), borrow=True), "int32")  # the classic idiom
    index = T.lscalar("index")
    x = T.matrix("x")
    y = T.ivector("y")
    W = theano.shared(numpy.zeros((n_in, n_out), dtype=theano.config.floatX), name="W", borrow=True)
    b = theano.shared(numpy.zeros((n_out,), dtype=theano.config.floatX), name="b", borrow=True)
    p_y_given_x = T.nnet.softmax(T.dot(x, W) + b)
    y_pred = T.argmax(p_y_given_x, axis=1)
    cost = -T.mean(T.log(p_y_given_x)[T.arange(y.shape[0]), y])
    errors = T.mean(T.neq(y_pred, y))
    g_W, g_b = T.grad(cost=cost, wrt=W), T.grad(cost=cost, wrt=b)
    batch = slice(index * batch_size, (index + 1) * batch_size)
    givens = {x: train_set_x[batch], y: train_set_y[batch]}
    train_model = theano.function(inputs=[index], outputs=cost, mode=mode,
                                  updates=[(W, W - lr * g_W), (b, b - lr * g_b)], givens=givens)
    test_model = theano.function(inputs=[index], outputs=errors, mode=mode, givens=givens)
    Wn, bn = numpy.zeros((n_in, n_out)), numpy.zeros(n_out)
    for epoch in range(2):
        for i in range(n // batch_size):
            got = train_model(i)
            xb, yb = data_x[i * batch_size:(i + 1) * batch_size], data_y[i * batch_size:(i + 1) * batch_size]
            p = _numpy_softmax(xb @ Wn + bn)
            assert got == pytest.approx(-numpy.mean(numpy.log(p[numpy.arange(batch_size), yb])), rel=1e-12)
            d = p.copy()
            d[numpy.arange(batch_size), yb] -= 1
            Wn, bn = Wn - lr * xb.T @ d / batch_size, bn - lr * d.mean(axis=0)
    numpy.testing.assert_allclose(W.get_value(), Wn, rtol=1e-10, atol=1e-13)
    numpy.testing.assert_allclose(b.get_value(), bn, rtol=1e-10, atol=1e-13)
    xb, yb = data_x[:batch_size], data_y[:batch_size]
    assert test_model(0) == pytest.approx(numpy.mean((xb @ Wn + bn).argmax(axis=1) != yb))


def test_mlp_gradients_agree_between_modes_and_with_numpy():
    rng = numpy.random.RandomState(1234)
    n_in, n_hidden, n_out = 6, 5, 3
    x = T.matrix("x")
    y = T.ivector("y")
    bound = numpy.sqrt(6.0 / (n_in + n_hidden))
    W1 = theano.shared(numpy.asarray(rng.uniform(-bound, bound, (n_in, n_hidden)), dtype=theano.config.floatX), "W")
    b1 = theano.shared(numpy.zeros(n_hidden, dtype=theano.config.floatX), "b")
    W2 = theano.shared(numpy.asarray(rng.randn(n_hidden, n_out) * 0.3, dtype=theano.config.floatX), "W")
    b2 = theano.shared(numpy.zeros(n_out, dtype=theano.config.floatX), "b")
    hidden = T.tanh(T.dot(x, W1) + b1)
    p_y = T.nnet.softmax(T.dot(hidden, W2) + b2)
    nll = -T.mean(T.log(p_y)[T.arange(y.shape[0]), y])
    L1 = abs(W1).sum() + abs(W2).sum()
    L2_sqr = (W1 ** 2).sum() + (W2 ** 2).sum()
    cost = nll + 0.001 * L1 + 0.0001 * L2_sqr
    params = [W1, b1, W2, b2]
    gparams = [T.grad(cost, param) for param in params]
    X, Y = rng.randn(20, n_in), rng.randint(0, n_out, 20).astype("int32")
    out = _run_modes([x, y], [cost] + gparams, [X, Y], modes=("py", "c", None), rtol=1e-10)
    # backprop by hand
    w1, w2, c2 = W1.get_value(), W2.get_value(), b2.get_value()
    h = numpy.tanh(X @ w1 + b1.get_value())
    p = _numpy_softmax(h @ w2 + c2)
    d = p.copy()
    d[numpy.arange(20), Y] -= 1
    d /= 20
    gw2 = h.T @ d + 0.001 * numpy.sign(w2) + 0.0002 * w2
    dh = (d @ w2.T) * (1 - h ** 2)
    gw1 = X.T @ dh + 0.001 * numpy.sign(w1) + 0.0002 * w1
    for got, want in zip(out[1:], [gw1, dh.sum(axis=0), gw2, d.sum(axis=0)]):
        numpy.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    train = theano.function([x, y], cost, updates=[(p_, p_ - 0.1 * g) for p_, g in zip(params, gparams)])
    costs = [float(train(X, Y)) for _ in range(30)]
    assert costs[-1] < costs[0]


def test_denoising_autoencoder_with_a_given_corruption_mask():
    # the corruption mask comes in as data here; the RandomStreams version is below
    rng = numpy.random.RandomState(5)
    n_visible, n_hidden = 8, 4
    x = T.matrix("x")
    mask = T.matrix("mask")
    W = theano.shared(numpy.asarray(rng.uniform(-0.5, 0.5, (n_visible, n_hidden)), dtype=theano.config.floatX), "W")
    b = theano.shared(numpy.zeros(n_hidden), "b")
    b_prime = theano.shared(numpy.zeros(n_visible), "b_prime")
    tilde_x = mask * x
    hid = T.nnet.sigmoid(T.dot(tilde_x, W) + b)
    z = T.nnet.sigmoid(T.dot(hid, W.T) + b_prime)
    L = -T.sum(x * T.log(z) + (1 - x) * T.log(1 - z), axis=1)
    cost = T.mean(L)
    gparams = T.grad(cost, [W, b, b_prime])
    X = (rng.rand(10, n_visible) > 0.5).astype("float64")
    M = (rng.rand(10, n_visible) > 0.3).astype("float64")
    out = _run_modes([x, mask], [cost] + gparams, [X, M], rtol=1e-10)
    w = W.get_value()
    hv = 1 / (1 + numpy.exp(-((M * X) @ w)))
    zv = 1 / (1 + numpy.exp(-(hv @ w.T)))
    assert out[0] == pytest.approx(numpy.mean(-numpy.sum(X * numpy.log(zv) + (1 - X) * numpy.log(1 - zv), axis=1)))
    dz = (zv - X) / 10
    dh = (dz @ w) * hv * (1 - hv)
    numpy.testing.assert_allclose(out[1], (M * X).T @ dh + dz.T @ hv, rtol=1e-9)
    # binary_crossentropy spells the same cost
    cost2 = T.nnet.binary_crossentropy(z, x).sum(axis=1).mean()
    assert theano.function([x, mask], cost2, mode="c")(X, M) == pytest.approx(out[0], rel=1e-12)


def test_elman_rnn_unrolled_in_python_bptt_agrees_between_modes_and_with_finite_differences():
    # before scan, people unrolled short sequences in Python: a deep graph for grad
    rng = numpy.random.RandomState(7)
    n_in, n_hidden, n_out, steps = 3, 4, 2, 6
    x, t = T.dmatrices("x", "t")
    h0 = T.dvector("h0")
    W = theano.shared(rng.randn(n_in, n_hidden) * 0.4, "W")
    U = theano.shared(rng.randn(n_hidden, n_hidden) * 0.4, "U")
    V = theano.shared(rng.randn(n_hidden, n_out) * 0.4, "V")
    h = h0
    cost = 0
    for k in range(steps):
        h = T.tanh(T.dot(x[k], W) + T.dot(h, U))
        cost = cost + ((T.dot(h, V) - t[k]) ** 2).sum()
    grads = T.grad(cost, [W, U, V, h0])
    xv, tv, hv = rng.randn(steps, n_in), rng.randn(steps, n_out), rng.randn(n_hidden) * 0.1
    out = _run_modes([x, t, h0], [cost] + grads, [xv, tv, hv], rtol=1e-10)

    def numpy_cost(u):
        hh, total = hv, 0.0
        for k in range(steps):
            hh = numpy.tanh(xv[k] @ W.get_value() + hh @ u)
            total += ((hh @ V.get_value() - tv[k]) ** 2).sum()
        return total

    assert out[0] == pytest.approx(numpy_cost(U.get_value()), rel=1e-12)
    eps, u0 = 1e-6, U.get_value()
    fd = numpy.zeros_like(u0)
    for idx in numpy.ndindex(*u0.shape):
        du = numpy.zeros_like(u0)
        du[idx] = eps
        fd[idx] = (numpy_cost(u0 + du) - numpy_cost(u0 - du)) / (2 * eps)
    numpy.testing.assert_allclose(out[2], fd, rtol=1e-5, atol=1e-8)


# -- random streams ------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_random_streams_draws_advance_and_no_default_updates(mode):
    from symgraph.compat.theano.tensor.shared_randomstreams import RandomStreams

    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    rv_n = srng.normal((2, 2))
    f = theano.function([], rv_u, mode=mode)
    g = theano.function([], rv_n, no_default_updates=True, mode=mode)
    nearly_zeros = theano.function([], rv_u + rv_u - 2 * rv_u, mode=mode)
    f_val0, f_val1 = f(), f()
    assert not numpy.array_equal(f_val0, f_val1)
    assert ((0 <= f_val0) & (f_val0 < 1)).all() and f_val0.dtype == theano.config.floatX
    numpy.testing.assert_array_equal(g(), g())
    numpy.testing.assert_allclose(nearly_zeros(), numpy.zeros((2, 2)), atol=1e-15)
    # re-seeding restarts every draw of the stream; a saved state replays a draw
    srng.seed(902340)
    state_after_seed = rv_u.rng.get_value()
    v0 = f()
    assert not numpy.array_equal(f(), v0)
    rv_u.rng.set_value(state_after_seed)
    numpy.testing.assert_array_equal(f(), v0)
    srng.seed(902340)
    numpy.testing.assert_array_equal(f(), v0)
    # the state in the update pair is the one the draw advances
    assert rv_u.update[0] is rv_u.rng


def test_random_streams_give_the_same_numbers_in_every_mode():
    from symgraph.compat.theano.tensor.shared_randomstreams import RandomStreams

    x = T.matrix("x")
    srng = RandomStreams(seed=5)
    draws = [srng.uniform(size=x.shape, low=-1, high=1), srng.normal((3,), avg=2.0, std=0.5),
             srng.binomial(size=x.shape, n=1, p=0.3, dtype=theano.config.floatX), srng.random_integers((4,), 1, 6),
             srng.choice(size=(3,), a=10, replace=False), srng.permutation(n=6)]
    results = []
    for mode in ("py", "c"):
        srng.seed(5)
        results.append(theano.function([x], draws, mode=mode)(numpy.zeros((5, 4))))
    for a, b in zip(*results):
        numpy.testing.assert_array_equal(a, b)
    u, n, mask, dice, picks, order = results[0]
    assert len(set(picks.tolist())) == 3 and sorted(order.tolist()) == list(range(6))
    assert u.shape == (5, 4) and ((-1 <= u) & (u < 1)).all()
    assert n.shape == (3,) and mask.dtype == theano.config.floatX and set(numpy.unique(mask)) <= {0.0, 1.0}
    assert dice.dtype == numpy.int64 and ((1 <= dice) & (dice <= 6)).all()


def test_mrg_random_streams_binomial_dropout_mask():
    from symgraph.compat.theano.sandbox.rng_mrg import MRG_RandomStreams

    srng = MRG_RandomStreams(seed=1234)
    x = T.matrix("x")
    mask = srng.binomial(n=1, p=0.8, size=x.shape, dtype=theano.config.floatX)
    f = theano.function([x], x * mask)
    dropped = f(numpy.ones((50, 40)))
    assert set(numpy.unique(dropped)) <= {0.0, 1.0} and 0.7 < dropped.mean() < 0.9
    assert not numpy.array_equal(dropped, f(numpy.ones((50, 40))))
    noise = theano.function([], srng.normal(size=(2000,), avg=1.0, std=2.0))()
    assert abs(noise.mean() - 1.0) < 0.2 and abs(noise.std() - 2.0) < 0.2


def test_denoising_autoencoder_with_binomial_corruption_from_random_streams():
    from symgraph.compat.theano.tensor.shared_randomstreams import RandomStreams

    rng = numpy.random.RandomState(123)
    theano_rng = RandomStreams(rng.randint(2 ** 30))
    x = T.matrix("x")
    W = theano.shared(rng.uniform(-0.5, 0.5, (8, 4)), "W")
    b, b_prime = theano.shared(numpy.zeros(4), "b"), theano.shared(numpy.zeros(8), "b_prime")
    tilde_x = theano_rng.binomial(size=x.shape, n=1, p=1 - 0.3, dtype=theano.config.floatX) * x
    z = T.nnet.sigmoid(T.dot(T.nnet.sigmoid(T.dot(tilde_x, W) + b), W.T) + b_prime)
    cost = T.mean(-T.sum(x * T.log(z) + (1 - x) * T.log(1 - z), axis=1))
    params = [W, b, b_prime]
    grads = T.grad(cost, params)  # no gradient flows into the corruption, as in Theano
    X = (rng.rand(20, 8) > 0.5).astype("float64")
    # the same corruption in both modes gives the same gradients
    values = []
    for mode in ("py", "c"):
        theano_rng.seed(99)
        values.append(theano.function([x], [cost] + grads, mode=mode)(X))
    for a, b_ in zip(*values):
        numpy.testing.assert_allclose(a, b_, rtol=1e-10)
    train = theano.function([x], cost, updates=[(p, p - 0.1 * g) for p, g in zip(params, grads)])
    costs = [float(train(X)) for _ in range(30)]
    assert costs[-1] < costs[0]


# -- programs that need scan, ifelse, conv2d / pool_2d -------------------------------------------
# Those are being added (docs/theano_migration.rst lists them as planned); each program runs as
# soon as the feature it needs exists, and is skipped, saying so, until then.
def _missing(probe):
    try:
        probe()
    except (AttributeError, ImportError):
        return True
    return False


def _probe_ifelse():
    import symgraph.compat.theano.ifelse  # noqa: F401


def _probe_conv():
    import symgraph.compat.theano.tensor.signal.pool  # noqa: F401

    getattr(T.nnet, "conv2d")  # noqa: B009 - an AttributeError is the answer


_NEEDS_SCAN = pytest.mark.skipif(_missing(lambda: theano.scan), reason="theano.scan is not in this version yet")
_NEEDS_IFELSE = pytest.mark.skipif(_missing(_probe_ifelse), reason="theano.ifelse is not in this version yet")
_NEEDS_CONV = pytest.mark.skipif(_missing(_probe_conv),
                                 reason="T.nnet.conv2d / theano.tensor.signal.pool are not in this version yet")


@_NEEDS_SCAN
@pytest.mark.parametrize("mode", ["py", "c"])
def test_scan_power_polynomial_and_running_sum(mode):
    k = T.iscalar("k")
    A = T.vector("A")
    result, updates = theano.scan(fn=lambda prior_result, A: prior_result * A, outputs_info=T.ones_like(A),
                                  non_sequences=A, n_steps=k)
    power = theano.function(inputs=[A, k], outputs=result[-1], updates=updates, mode=mode)
    numpy.testing.assert_allclose(power(numpy.arange(10.0), 2), numpy.arange(10.0) ** 2)

    coefficients = T.vector("coefficients")
    x = T.scalar("x")
    components, _ = theano.scan(fn=lambda coefficient, power, free_variable: coefficient * (free_variable ** power),
                                outputs_info=None, sequences=[coefficients, T.arange(1000)], non_sequences=x)
    polynomial = theano.function([coefficients, x], components.sum(), mode=mode)
    assert polynomial(numpy.asarray([1.0, 0.0, 2.0]), 3.0) == pytest.approx(19.0)

    v = T.vector("v")
    sums, _ = theano.scan(lambda value, total: total + value, sequences=v, outputs_info=T.zeros_like(v[0]))
    running = theano.function([v], [sums, T.grad(sums[-1], v)], mode=mode)
    got, grad = running(numpy.array([1.0, 2.0, 3.0, 4.0]))
    numpy.testing.assert_array_equal(got, [1.0, 3.0, 6.0, 10.0])
    numpy.testing.assert_array_equal(grad, [1.0, 1.0, 1.0, 1.0])


@_NEEDS_SCAN
def test_scan_taps_until_and_backwards():
    x0 = T.vector("x0")
    fib, _ = theano.scan(lambda a, b: a + b, outputs_info={"initial": x0, "taps": [-2, -1]}, n_steps=6)
    f = theano.function([x0], fib, mode="py")
    numpy.testing.assert_array_equal(f(numpy.array([1.0, 1.0])), [2.0, 3.0, 5.0, 8.0, 13.0, 21.0])

    def double_until(prev, limit):
        return prev * 2, theano.scan_module.until(prev * 2 > limit)

    limit = T.scalar("limit")
    values, _ = theano.scan(double_until, outputs_info=T.constant(1.0), non_sequences=limit, n_steps=1024)
    g = theano.function([limit], values, mode="py")
    numpy.testing.assert_array_equal(g(40.0), [2.0, 4.0, 8.0, 16.0, 32.0, 64.0])

    seq = T.vector("seq")
    backwards, _ = theano.scan(lambda s, acc: acc * 10 + s, sequences=seq, outputs_info=T.constant(0.0),
                               go_backwards=True)
    h = theano.function([seq], backwards[-1], mode="py")
    assert h(numpy.array([1.0, 2.0, 3.0])) == 321.0


@_NEEDS_SCAN
@pytest.mark.parametrize("mode", ["py", "c"])
def test_scan_sequence_taps_and_a_shared_counter_updated_by_fn(mode):
    x = T.vector("x")
    smooth, _ = theano.scan(lambda before, now, after: (before + now + after) / 3,
                            sequences={"input": x, "taps": [-1, 0, 1]})
    xv = numpy.array([1.0, 2.0, 6.0, 4.0, 5.0])
    f = theano.function([x], [smooth, T.grad(smooth.sum(), x)], mode=mode)
    got, grad = f(xv)
    numpy.testing.assert_allclose(got, (xv[:-2] + xv[1:-1] + xv[2:]) / 3, rtol=1e-15)
    numpy.testing.assert_allclose(grad, [1 / 3, 2 / 3, 1.0, 2 / 3, 1 / 3], rtol=1e-15)

    calls = theano.shared(0, name="calls")
    doubled, updates = theano.scan(lambda v: (v * 2, {calls: calls + 1}), sequences=x)
    g = theano.function([x], doubled, updates=updates, mode=mode)
    numpy.testing.assert_array_equal(g(xv), 2 * xv)
    assert calls.get_value() == 5
    g(xv[:2])
    assert calls.get_value() == 7


@_NEEDS_SCAN
def test_scan_tutorial_jacobian_hessian_loops_trace_and_counter():
    x = T.dvector("x")
    y = x ** 2
    J, updates = theano.scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]), non_sequences=[y, x])
    numpy.testing.assert_array_equal(theano.function([x], J, updates=updates)([4, 4]), [[8.0, 0.0], [0.0, 8.0]])
    gy = T.grad(y.sum(), x)
    H, updates = theano.scan(lambda i, gy, x: T.grad(gy[i], x), sequences=T.arange(gy.shape[0]), non_sequences=[gy, x])
    numpy.testing.assert_array_equal(theano.function([x], H, updates=updates)([4, 4]), [[2.0, 0.0], [0.0, 2.0]])

    X, W, U, V, Y, P = T.matrices("X", "W", "U", "V", "Y", "P")
    b_sym = T.vector("b_sym")
    rows, _ = theano.scan(lambda v: T.tanh(T.dot(v, W) + b_sym), sequences=X)
    xv, wv, bv = numpy.eye(2), numpy.ones((2, 2)), numpy.array([1.0, 2.0])
    numpy.testing.assert_allclose(theano.function([X, W, b_sym], rows)(xv, wv, bv), numpy.tanh(xv @ wv + bv), rtol=1e-15)
    x0 = T.vector("x0")
    seq, _ = theano.scan(lambda y, p, x_tm1: T.tanh(T.dot(x_tm1, W) + T.dot(y, U) + T.dot(p, V)),
                         sequences=[Y, P[::-1]], outputs_info=[x0])
    yv, pv = numpy.ones((5, 2)), numpy.ones((5, 2))
    yv[0], pv[0] = -3, 3
    got = theano.function([x0, W, Y, U, P, V], seq)(numpy.array([0.0, 1.0]), wv, yv, wv, pv, wv)
    want, prev = [], numpy.array([0.0, 1.0])
    for i in range(5):
        prev = numpy.tanh(prev @ wv + yv[i] @ wv + pv[4 - i] @ wv)
        want.append(prev)
    numpy.testing.assert_allclose(got, want, rtol=1e-14)
    norms, _ = theano.scan(lambda x_i: T.sqrt((x_i ** 2).sum()), sequences=[X.T])
    numpy.testing.assert_allclose(theano.function([X], norms)(numpy.diag(numpy.arange(1.0, 6.0), 1)), numpy.arange(6.0))
    trace, _ = theano.scan(lambda i, j, t_f: T.cast(X[i, j] + t_f, "float64"),
                           sequences=[T.arange(X.shape[0]), T.arange(X.shape[1])], outputs_info=numpy.asarray(0.0))
    assert theano.function([X], trace[-1])(numpy.eye(5)) == 5.0

    k = theano.shared(0)
    n_sym = T.iscalar("n_sym")
    nothing, updates = theano.scan(lambda: {k: (k + 1)}, n_steps=n_sym)
    assert nothing is None  # Theano: no outputs gives None
    accumulator = theano.function([n_sym], [], updates=updates, allow_input_downcast=True)
    accumulator(5)
    assert k.get_value() == 5


@_NEEDS_SCAN
def test_scan_tutorial_binomial_noise_closed_over_is_redrawn_at_every_step():
    # the tutorial's note: a random variable that should stay fixed through the loop must be
    # passed as a non-sequence; one the body merely uses is drawn again at each step
    X, W = T.matrices("X", "W")
    trng = T.shared_randomstreams.RandomStreams(1234)
    d = trng.binomial(size=W[1].shape)
    redrawn, updates = theano.scan(lambda v: T.tanh(T.dot(v, W)) * d, sequences=X)
    fixed, fixed_updates = theano.scan(lambda v, d: T.tanh(T.dot(v, W)) * d, sequences=X, non_sequences=d)
    xv, wv = numpy.ones((40, 2)), numpy.ones((2, 2))
    rows = theano.function([X, W], redrawn, updates=updates)(xv, wv)
    assert len({tuple(r) for r in rows}) > 1
    same = theano.function([X, W], fixed, updates=fixed_updates)(xv, wv)
    assert len({tuple(r) for r in same}) == 1


@_NEEDS_SCAN
def test_elman_rnn_with_scan_bptt_matches_the_unrolled_graph():
    rng = numpy.random.RandomState(7)
    n_in, n_hidden, steps = 3, 4, 5
    x = T.matrix("x")
    h0 = T.vector("h0")
    W = theano.shared(rng.randn(n_in, n_hidden) * 0.4, "W")
    U = theano.shared(rng.randn(n_hidden, n_hidden) * 0.4, "U")

    def step(x_t, h_tm1, W, U):
        return T.tanh(T.dot(x_t, W) + T.dot(h_tm1, U))

    h, _ = theano.scan(step, sequences=x, outputs_info=h0, non_sequences=[W, U])
    cost = (h ** 2).sum()
    unrolled, hh = 0, h0
    for k in range(steps):
        hh = T.tanh(T.dot(x[k], W) + T.dot(hh, U))
        unrolled = unrolled + (hh ** 2).sum()
    xv, hv = rng.randn(steps, n_in), numpy.zeros(n_hidden)
    scanned = _run_modes([x, h0], [cost] + T.grad(cost, [W, U, h0]), [xv, hv], rtol=1e-10)
    plain = theano.function([x, h0], [unrolled] + T.grad(unrolled, [W, U, h0]), mode="py")(xv, hv)
    for a, b in zip(scanned, plain):
        numpy.testing.assert_allclose(a, b, rtol=1e-10)


@_NEEDS_SCAN
def test_small_lstm_with_scan_trains():
    rng = numpy.random.RandomState(11)
    n_in, n_hidden = 2, 3
    x = T.matrix("x")
    target = T.scalar("target")
    Wx = theano.shared(rng.randn(n_in, 4 * n_hidden) * 0.3, "Wx")
    Wh = theano.shared(rng.randn(n_hidden, 4 * n_hidden) * 0.3, "Wh")

    def step(x_t, h_tm1, c_tm1):
        z = T.dot(x_t, Wx) + T.dot(h_tm1, Wh)
        i = T.nnet.sigmoid(z[:n_hidden])
        f = T.nnet.sigmoid(z[n_hidden:2 * n_hidden])
        o = T.nnet.sigmoid(z[2 * n_hidden:3 * n_hidden])
        c = f * c_tm1 + i * T.tanh(z[3 * n_hidden:])
        return o * T.tanh(c), c

    (h, _cells), _ = theano.scan(step, sequences=x, outputs_info=[T.zeros(n_hidden), T.zeros(n_hidden)])
    cost = (h[-1].sum() - target) ** 2
    params = [Wx, Wh]
    train = theano.function([x, target], cost, updates=[(p, p - 0.1 * g) for p, g in zip(params, T.grad(cost, params))])
    xv = rng.randn(5, n_in)
    first = train(xv, 1.0)
    for _ in range(20):
        last = train(xv, 1.0)
    assert last < first


@_NEEDS_SCAN
def test_scan_with_random_stream_updates():
    from symgraph.compat.theano.sandbox.rng_mrg import MRG_RandomStreams

    srng = MRG_RandomStreams(seed=1234)
    walk, updates = theano.scan(lambda prev: prev + srng.normal(size=(3,)), outputs_info=T.zeros(3), n_steps=4)
    w = theano.function([], walk, updates=updates)
    first, second = w(), w()
    assert first.shape == (4, 3) and not numpy.array_equal(first, second)


@_NEEDS_SCAN
def test_char_rnn_sampling_with_scan_and_mrg_multinomial():
    from symgraph.compat.theano.sandbox.rng_mrg import MRG_RandomStreams

    rng = numpy.random.RandomState(2)
    n_chars, n_hidden = 5, 8
    Wx = theano.shared(rng.randn(n_chars, n_hidden) * 0.5, "Wx")
    Wh = theano.shared(rng.randn(n_hidden, n_hidden) * 0.5, "Wh")
    Wy = theano.shared(rng.randn(n_hidden, n_chars) * 0.5, "Wy")
    srng = MRG_RandomStreams(seed=42)

    def sample_step(x_tm1, h_tm1):
        h = T.tanh(T.dot(x_tm1, Wx) + T.dot(h_tm1, Wh))
        p = T.nnet.softmax(T.dot(h, Wy).dimshuffle("x", 0))
        x = srng.multinomial(pvals=p, dtype=theano.config.floatX)[0]
        return x, h

    first = T.vector("first")
    n_steps = T.iscalar("n_steps")
    (chars, _hidden), updates = theano.scan(sample_step, outputs_info=[first, T.zeros(n_hidden)], n_steps=n_steps)
    start = numpy.eye(n_chars)[0]
    runs = []
    for mode in ("py", "c"):
        srng.seed(42)
        sample = theano.function([first, n_steps], T.argmax(chars, axis=1), updates=updates, mode=mode)
        runs.append([sample(start, 12), sample(start, 12)])
    numpy.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][0].shape == (12,) and not numpy.array_equal(runs[0][0], runs[0][1])
    assert set(runs[0][0].tolist()) <= set(range(n_chars))


@_NEEDS_SCAN
def test_rnn_with_dropout_inside_scan_backpropagates_through_the_same_masks():
    from symgraph.compat.theano.sandbox.rng_mrg import MRG_RandomStreams

    rng = numpy.random.RandomState(0)
    srng = MRG_RandomStreams(seed=1234)
    x = T.matrix("x")
    W = theano.shared(rng.randn(3, 3) * 0.5, "W")

    def step(x_t, h_tm1):
        mask = srng.binomial(n=1, p=0.5, size=(3,), dtype=theano.config.floatX)
        return T.tanh(T.dot(h_tm1, W) + x_t) * mask

    hs, updates = theano.scan(step, sequences=x, outputs_info=T.zeros(3))
    cost = (hs ** 2).sum()
    xv = rng.randn(6, 3)
    runs = []
    for mode in ("py", "c"):
        srng.seed(3)
        runs.append(theano.function([x], [hs, T.grad(cost, W)], updates=updates, mode=mode)(xv))
    for a, b in zip(*runs):
        numpy.testing.assert_allclose(a, b, rtol=1e-12)
    hv, gv = runs[0]
    masks = (hv != 0).astype("float64")  # the masks the forward pass drew

    def numpy_cost(w):
        h, total = numpy.zeros(3), 0.0
        for t in range(6):
            h = numpy.tanh(h @ w + xv[t]) * masks[t]
            total += (h ** 2).sum()
        return total

    w0, eps, fd = W.get_value(), 1e-6, numpy.zeros((3, 3))
    for idx in numpy.ndindex(3, 3):
        dw = numpy.zeros((3, 3))
        dw[idx] = eps
        fd[idx] = (numpy_cost(w0 + dw) - numpy_cost(w0 - dw)) / (2 * eps)
    numpy.testing.assert_allclose(gv, fd, rtol=1e-6, atol=1e-9)


@_NEEDS_SCAN
def test_rbm_gibbs_chain_with_scan_and_binomial_samples():
    from symgraph.compat.theano.tensor.shared_randomstreams import RandomStreams

    rng = numpy.random.RandomState(4)
    theano_rng = RandomStreams(rng.randint(2 ** 30))
    W = theano.shared(rng.randn(6, 3) * 0.1, "W")
    hbias, vbias = theano.shared(numpy.zeros(3), "hbias"), theano.shared(numpy.zeros(6), "vbias")

    def gibbs_vhv(v0):
        h1_mean = T.nnet.sigmoid(T.dot(v0, W) + hbias)
        h1 = theano_rng.binomial(size=h1_mean.shape, n=1, p=h1_mean, dtype=theano.config.floatX)
        v1_mean = T.nnet.sigmoid(T.dot(h1, W.T) + vbias)
        return theano_rng.binomial(size=v1_mean.shape, n=1, p=v1_mean, dtype=theano.config.floatX)

    v_in = T.matrix("v_in")
    chain, updates = theano.scan(gibbs_vhv, outputs_info=v_in, n_steps=3)
    sample = theano.function([v_in], chain[-1], updates=updates)
    data = (rng.rand(5, 6) > 0.5).astype("float64")
    out = sample(data)
    assert out.shape == (5, 6) and set(numpy.unique(out)) <= {0.0, 1.0}
    assert any(not numpy.array_equal(out, sample(data)) for _ in range(3))  # the stream moves on

    def free_energy(v):
        return -T.dot(v, vbias) - T.sum(T.log(1 + T.exp(T.dot(v, W) + hbias)), axis=1)

    chain_end = chain[-1]
    cost = T.mean(free_energy(v_in)) - T.mean(free_energy(chain_end))
    params = [W, hbias, vbias]
    gparams = T.grad(cost, params, consider_constant=[chain_end])
    train = theano.function([v_in], cost, updates=list(updates.items()) + [(p, p - 0.1 * g) for p, g in zip(params, gparams)])
    w_before = W.get_value()
    train(data)
    assert not numpy.array_equal(W.get_value(), w_before)


@_NEEDS_IFELSE
@pytest.mark.parametrize("mode", ["py", "c"])
def test_ifelse_is_lazy_and_agrees_with_switch(mode):
    from symgraph.compat.theano.ifelse import ifelse

    a, b = T.scalars("a", "b")
    x, y = T.matrices("x", "y")
    z_switch = T.switch(T.lt(a, b), T.mean(x), T.mean(y))
    z_lazy = ifelse(T.lt(a, b), T.mean(x), T.mean(y))
    f = theano.function([a, b, x, y], [z_switch, z_lazy], mode=mode)
    xv, yv = numpy.ones((3, 3)), numpy.zeros((3, 3))
    assert f(1, 2, xv, yv) == [1.0, 1.0] and f(2, 1, xv, yv) == [0.0, 0.0]
    # the branch not taken is not computed: here it cannot be (the shapes do not fit a dot)
    lazy = theano.function([a, b, x, y], ifelse(T.lt(a, b), T.mean(x), T.dot(x, y).sum()), mode=mode)
    assert lazy(1, 2, xv, numpy.ones((2, 2))) == 1.0
    with pytest.raises(ValueError):
        lazy(2, 1, xv, numpy.ones((2, 2)))
    # gradients follow the branch taken
    w = T.vector("w")
    cost = ifelse(T.gt(w.sum(), 0), (w ** 2).sum(), T.exp(w).sum())
    g = theano.function([w], T.grad(cost, w), mode=mode)
    numpy.testing.assert_allclose(g(numpy.array([1.0, 2.0])), [2.0, 4.0], rtol=1e-15)
    numpy.testing.assert_allclose(g(numpy.array([-1.0, -2.0])), numpy.exp([-1.0, -2.0]), rtol=1e-15)


def _numpy_lenet_nll(xv, yv, w, b, w_out):
    # valid true convolution (filters flipped), 2x2 max pooling, tanh, softmax, NLL
    n, _, height, width = xv.shape
    kh, kw = w.shape[2:]
    flipped = w[:, :, ::-1, ::-1]
    conv = numpy.zeros((n, w.shape[0], height - kh + 1, width - kw + 1))
    for i in range(conv.shape[2]):
        for j in range(conv.shape[3]):
            conv[:, :, i, j] = numpy.tensordot(xv[:, :, i:i + kh, j:j + kw], flipped, axes=([1, 2, 3], [1, 2, 3]))
    ph, pw = conv.shape[2] // 2, conv.shape[3] // 2
    pooled = conv[:, :, :2 * ph, :2 * pw].reshape(n, w.shape[0], ph, 2, pw, 2).max(axis=(3, 5))
    hidden = numpy.tanh(pooled + b[None, :, None, None]).reshape(n, -1)
    p = _numpy_softmax(hidden @ w_out)
    return -numpy.mean(numpy.log(p[numpy.arange(n), yv]))


@_NEEDS_CONV
def test_lenet_conv_pool_layer_with_negative_log_likelihood():
    from symgraph.compat.theano.tensor.signal import pool

    rng = numpy.random.RandomState(23455)
    filter_shape, image_shape = (2, 1, 3, 3), (4, 1, 8, 8)
    x = T.tensor4("x")
    y = T.ivector("y")
    W = theano.shared(rng.uniform(-0.5, 0.5, filter_shape), "W")
    b = theano.shared(rng.uniform(-0.1, 0.1, 2), "b")
    conv_out = T.nnet.conv2d(input=x, filters=W, filter_shape=filter_shape, input_shape=image_shape)
    pooled = pool.pool_2d(input=conv_out, ws=(2, 2), ignore_border=True)
    layer0 = T.tanh(pooled + b.dimshuffle("x", 0, "x", "x"))
    W_out = theano.shared(rng.randn(2 * 3 * 3, 3), "W_out")
    p_y = T.nnet.softmax(T.dot(layer0.flatten(2), W_out))
    nll = -T.mean(T.log(p_y)[T.arange(y.shape[0]), y])
    params = [W, b, W_out]
    grads = T.grad(nll, params)
    xv, yv = rng.randn(*image_shape), numpy.array([0, 1, 2, 1], dtype="int32")
    out = _run_modes([x, y], [nll] + grads, [xv, yv], rtol=1e-10)
    w0, b0, wo = W.get_value(), b.get_value(), W_out.get_value()
    assert out[0] == pytest.approx(_numpy_lenet_nll(xv, yv, w0, b0, wo), rel=1e-12)
    eps, fd = 1e-6, numpy.zeros_like(w0)
    for idx in numpy.ndindex(*w0.shape):
        dw = numpy.zeros_like(w0)
        dw[idx] = eps
        fd[idx] = (_numpy_lenet_nll(xv, yv, w0 + dw, b0, wo) - _numpy_lenet_nll(xv, yv, w0 - dw, b0, wo)) / (2 * eps)
    numpy.testing.assert_allclose(out[1], fd, rtol=1e-5, atol=1e-9)
    train = theano.function([x, y], nll, updates=[(p, p - 0.2 * g) for p, g in zip(params, grads)])
    losses = [float(train(xv, yv)) for _ in range(10)]
    assert losses[-1] < losses[0]


class _LeNetConvPoolLayer:
    """The deeplearning.net tutorial's layer, as students wrote it."""

    def __init__(self, rng, input, filter_shape, image_shape, poolsize=(2, 2)):
        from symgraph.compat.theano.tensor.nnet import conv2d
        from symgraph.compat.theano.tensor.signal import pool

        assert image_shape[1] == filter_shape[1]
        fan_in = numpy.prod(filter_shape[1:])
        fan_out = filter_shape[0] * numpy.prod(filter_shape[2:]) // numpy.prod(poolsize)
        bound = numpy.sqrt(6.0 / (fan_in + fan_out))
        self.W = theano.shared(numpy.asarray(rng.uniform(-bound, bound, filter_shape), dtype=theano.config.floatX),
                               borrow=True)
        self.b = theano.shared(numpy.zeros((filter_shape[0],), dtype=theano.config.floatX), borrow=True)
        conv_out = conv2d(input=input, filters=self.W, filter_shape=filter_shape, input_shape=image_shape)
        pooled_out = pool.pool_2d(input=conv_out, ws=poolsize, ignore_border=True)
        self.output = T.tanh(pooled_out + self.b.dimshuffle("x", 0, "x", "x"))
        self.params = [self.W, self.b]


@_NEEDS_CONV
@pytest.mark.parametrize("mode", ["py", pytest.param("c", marks=pytest.mark.slow)])
def test_lenet_two_conv_layers_minibatches_from_a_shared_dataset(mode):
    # mode 'c' is slow only in its cold compile: the conv/pool nodes run in Python and split
    # the graph into several C segments, each built by gcc
    rng = numpy.random.RandomState(23455)
    batch_size, nkerns = 5, (3, 4)
    data, labels = rng.rand(20, 16 * 16), rng.randint(0, 3, 20)
    train_set_x = theano.shared(numpy.asarray(data, dtype=theano.config.floatX), borrow=True)
    train_set_y = T.cast(theano.shared(numpy.asarray(labels, dtype=theano.config.floatX), borrow=True), "int32")
    index = T.lscalar()
    x = T.matrix("x")
    y = T.ivector("y")
    layer0 = _LeNetConvPoolLayer(rng, x.reshape((batch_size, 1, 16, 16)), filter_shape=(nkerns[0], 1, 3, 3),
                                 image_shape=(batch_size, 1, 16, 16))
    layer1 = _LeNetConvPoolLayer(rng, layer0.output, filter_shape=(nkerns[1], nkerns[0], 2, 2),
                                 image_shape=(batch_size, nkerns[0], 7, 7))
    W2 = theano.shared(rng.randn(nkerns[1] * 3 * 3, 10) * 0.1)
    b2 = theano.shared(numpy.zeros(10))
    hidden = T.tanh(T.dot(layer1.output.flatten(2), W2) + b2)
    W3, b3 = theano.shared(numpy.zeros((10, 3))), theano.shared(numpy.zeros(3))
    p_y = T.nnet.softmax(T.dot(hidden, W3) + b3)
    cost = -T.mean(T.log(p_y)[T.arange(y.shape[0]), y])
    params = [W3, b3, W2, b2] + layer1.params + layer0.params
    grads = T.grad(cost, params)
    batch = slice(index * batch_size, (index + 1) * batch_size)
    train_model = theano.function([index], cost, updates=[(p, p - 0.1 * g) for p, g in zip(params, grads)],
                                  givens={x: train_set_x[batch], y: train_set_y[batch]}, mode=mode)
    costs = [float(train_model(i % 4)) for i in range(12)]
    assert costs[0] == pytest.approx(numpy.log(3.0))  # W3 starts at zero
    assert numpy.mean(costs[-4:]) < numpy.mean(costs[:4])
