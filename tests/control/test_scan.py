"""scan: the classic Theano tutorial programs in 'py' and 'c' modes, against plain NumPy loops,
and gradients (BPTT) against hand-derived NumPy and finite differences."""
# ruff: noqa: C408 - dict(initial=..., taps=...) is how scan's taps are written in Theano programs

import pickle
from collections import OrderedDict

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.errors import ShapeMismatchError

MODES = ["py", "c"]


def _rng(seed=0):
    return np.random.default_rng(seed)


# -- the tutorial programs -------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_power_by_repeated_multiplication(mode):
    k = T.iscalar("k")
    A = T.vector("A")
    result, updates = sg.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A,
                              n_steps=k)
    assert isinstance(updates, OrderedDict) and len(updates) == 0
    power = sg.function([A, k], [result, result[-1]], updates=updates, mode=mode)
    a = np.arange(5.0)
    every, last = power(a, 3)
    np.testing.assert_allclose(every, np.stack([a, a ** 2, a ** 3]))
    np.testing.assert_allclose(last, a ** 3)
    np.testing.assert_allclose(power(a, 1)[1], a)


@pytest.mark.parametrize("mode", MODES)
def test_polynomial_from_coefficients_with_arange(mode):
    coefficients = T.vector("coefficients")
    x = T.scalar("x")
    components, _ = sg.scan(lambda c, power, free: c * free ** power, outputs_info=None,
                            sequences=[coefficients, T.arange(1000)], non_sequences=x)
    polynomial = sg.function([coefficients, x], [components, components.sum()], mode=mode)
    coeffs = np.array([1.0, 0.0, 2.0, -1.5])
    parts, total = polynomial(coeffs, 3.0)
    # the sequences are cut to the shortest one (the coefficients)
    np.testing.assert_allclose(parts, coeffs * 3.0 ** np.arange(4))
    assert total == pytest.approx(np.polyval(coeffs[::-1], 3.0))


@pytest.mark.parametrize("mode", MODES)
def test_running_sum_and_its_gradient(mode):
    v = T.vector("v")
    sums, _ = sg.scan(lambda value, total: total + value, sequences=v, outputs_info=T.zeros_like(v[0]))
    weights = np.array([1.0, -2.0, 0.5, 3.0])
    cost = (sums * weights).sum()
    f = sg.function([v], [sums, T.grad(cost, v)], mode=mode)
    vv = np.array([1.0, 2.0, 3.0, 4.0])
    got, grad = f(vv)
    np.testing.assert_array_equal(got, np.cumsum(vv))
    # d/dv_i sum_t w_t cumsum_t = sum_{t >= i} w_t
    np.testing.assert_allclose(grad, np.cumsum(weights[::-1])[::-1])


def _elman_numpy(xv, hv, Wv, Uv, bv):
    hs, h = [], hv
    for x_t in xv:
        h = np.tanh(x_t @ Wv + h @ Uv + bv)
        hs.append(h)
    return np.array(hs)


def _elman_numpy_bptt(xv, hv, Wv, Uv, bv, truncate=None):
    """Gradients of sum_t sum(h_t ** 2), by hand."""
    hs = _elman_numpy(xv, hv, Wv, Uv, bv)
    n = len(xv)
    prev = np.vstack([hv[None], hs[:-1]])
    dW, dU, db, dx = np.zeros_like(Wv), np.zeros_like(Uv), np.zeros_like(bv), np.zeros_like(xv)
    carry = np.zeros_like(hv)
    first = 0 if truncate is None else max(n - truncate, 0)
    for t in range(n - 1, first - 1, -1):
        dh = 2 * hs[t] + carry
        dz = dh * (1 - hs[t] ** 2)
        dW += np.outer(xv[t], dz)
        dU += np.outer(prev[t], dz)
        db += dz
        dx[t] = dz @ Wv.T
        carry = dz @ Uv.T
    dh0 = carry if first == 0 else np.zeros_like(hv)
    return (hs ** 2).sum(), dW, dU, db, dx, dh0


def _elman_graph(truncate_gradient=-1):
    rng = _rng(7)
    n_in, n_hidden = 3, 4
    x = T.matrix("x")
    h0 = T.vector("h0")
    W = sg.shared(rng.normal(size=(n_in, n_hidden)) * 0.5, "W")
    U = sg.shared(rng.normal(size=(n_hidden, n_hidden)) * 0.5, "U")
    b = sg.shared(rng.normal(size=n_hidden) * 0.1, "b")

    def step(x_t, h_tm1, W, U):
        return T.tanh(T.dot(x_t, W) + T.dot(h_tm1, U) + b)  # b: captured without being passed

    h, _ = sg.scan(step, sequences=x, outputs_info=h0, non_sequences=[W, U],
                   truncate_gradient=truncate_gradient)
    cost = (h ** 2).sum()
    return x, h0, (W, U, b), h, cost


@pytest.mark.parametrize("mode", MODES)
def test_elman_rnn_forward_and_bptt_match_numpy(mode):
    x, h0, params, h, cost = _elman_graph()
    grads = T.grad(cost, list(params) + [x, h0])
    f = sg.function([x, h0], [h, cost] + grads, mode=mode)
    rng = _rng(1)
    xv, hv = rng.normal(size=(6, 3)), rng.normal(size=4)
    got = f(xv, hv)
    values = [p.get_value() for p in params]
    np.testing.assert_allclose(got[0], _elman_numpy(xv, hv, *values), rtol=1e-12)
    expected = _elman_numpy_bptt(xv, hv, *values)
    for g, e in zip(got[1:], expected):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


def test_elman_rnn_gradient_passes_finite_differences():
    rng = _rng(3)
    Wv, Uv = rng.normal(size=(3, 4)) * 0.5, rng.normal(size=(4, 4)) * 0.5

    def rnn(x, h0, W, U):
        h, _ = sg.scan(lambda x_t, h_tm1, W, U: T.tanh(T.dot(x_t, W) + T.dot(h_tm1, U)),
                       sequences=x, outputs_info=h0, non_sequences=[W, U])
        return h

    sg.verify_grad(rnn, [rng.normal(size=(5, 3)), rng.normal(size=4), Wv, Uv], rng=rng)


@pytest.mark.parametrize("mode", MODES)
def test_truncate_gradient_matches_truncated_numpy_bptt(mode):
    x, h0, params, _, cost = _elman_graph(truncate_gradient=2)
    f = sg.function([x, h0], T.grad(cost, list(params) + [x, h0]), mode=mode)
    rng = _rng(2)
    values = [p.get_value() for p in params]
    for steps in (5, 2):  # longer than the truncation, then not longer
        xv, hv = rng.normal(size=(steps, 3)), rng.normal(size=4)
        expected = _elman_numpy_bptt(xv, hv, *values, truncate=2)[1:]
        for g, e in zip(f(xv, hv), expected):
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)
    full = _elman_numpy_bptt(xv, hv, *values)
    np.testing.assert_allclose(f(xv, hv)[-1], full[-1], rtol=1e-10)  # 2 steps: the whole history


@pytest.mark.parametrize("mode", MODES)
def test_fibonacci_with_taps_minus_two_minus_one(mode):
    x0 = T.vector("x0")
    fib, _ = sg.scan(lambda a, b: a + b, outputs_info=dict(initial=x0, taps=[-2, -1]), n_steps=8)
    f = sg.function([x0], [fib, T.grad(fib[-1], x0)], mode=mode)
    got, grad = f(np.array([0.0, 1.0]))
    np.testing.assert_array_equal(got, [1, 2, 3, 5, 8, 13, 21, 34])
    np.testing.assert_array_equal(grad, [21.0, 34.0])  # fib[-1] = 21 x0[0] + 34 x0[1]
    # a longer initial value: its first max(-taps) rows are the past values
    np.testing.assert_array_equal(f(np.array([0.0, 1.0, 99.0]))[0][:3], [1, 2, 3])


def test_taps_reach_the_right_past_values_and_gradients():
    def fun(x0):
        out, _ = sg.scan(lambda a3, a1: a1 * 0.9 + T.sin(a3), outputs_info=dict(initial=x0, taps=[-3, -1]),
                         n_steps=6)
        return out

    x0 = T.vector("x0")
    got = sg.function([x0], fun(x0), mode="py")(np.array([0.1, 0.2, 0.3]))
    buf = [0.1, 0.2, 0.3]
    for _ in range(6):
        buf.append(buf[-1] * 0.9 + np.sin(buf[-3]))
    np.testing.assert_allclose(got, buf[3:], rtol=1e-14)
    sg.verify_grad(fun, [np.array([0.1, 0.2, 0.3])], rng=_rng(4))


def test_gradient_with_sequence_taps_output_taps_go_backwards_and_a_nit_sot():
    def fun(x, y0, W):
        def step(x_before, x_after, y_2, y_1, W):
            return T.tanh(T.dot(x_before * x_after, W) + y_2 * 0.5) + y_1 * 0.3, (y_1 ** 2).sum()

        (y, z), _ = sg.scan(step, sequences=dict(input=x, taps=[-1, 1]), non_sequences=W, go_backwards=True,
                            outputs_info=[dict(initial=y0, taps=[-2, -1]), None])
        return y.sum() + z.sum() * 0.1

    rng = _rng(12)
    sg.verify_grad(fun, [rng.normal(size=(6, 3)), rng.normal(size=(2, 3)), rng.normal(size=(3, 3))], rng=rng)


@pytest.mark.parametrize("mode", MODES)
def test_sequence_taps_minus_one_zero_plus_one(mode):
    x = T.vector("x")
    smooth, _ = sg.scan(lambda before, now, after: before + 2 * now + 4 * after,
                        sequences=dict(input=x, taps=[-1, 0, 1]))
    f = sg.function([x], [smooth, T.grad(smooth.sum(), x)], mode=mode)
    xv = np.array([1.0, 2.0, 6.0, 4.0, 5.0])
    got, grad = f(xv)
    np.testing.assert_allclose(got, xv[:-2] + 2 * xv[1:-1] + 4 * xv[2:])
    np.testing.assert_allclose(grad, [1, 3, 7, 6, 4])


def test_sequence_with_only_negative_taps():
    x = T.vector("x")
    diffs, _ = sg.scan(lambda two_back, one_back: one_back - two_back, sequences=dict(input=x, taps=[-2, -1]))
    xv = np.array([1.0, 4.0, 9.0, 16.0, 25.0])
    # step t sits at row t + 2 and reads rows t and t + 1
    np.testing.assert_allclose(sg.function([x], diffs, mode="py")(xv), np.diff(xv)[:-1])


@pytest.mark.parametrize("mode", MODES)
def test_until_stops_after_the_step_where_the_condition_holds(mode):
    limit = T.scalar("limit")

    def double(prev, limit):
        return prev * 2, sg.until(prev * 2 > limit)

    values, _ = sg.scan(double, outputs_info=T.constant(1.0), non_sequences=limit, n_steps=1024)
    f = sg.function([limit], values, mode=mode)
    np.testing.assert_array_equal(f(40.0), [2, 4, 8, 16, 32, 64])
    np.testing.assert_array_equal(f(0.5), [2])
    # the upper bound still holds: at most n_steps steps
    capped, _ = sg.scan(double, outputs_info=T.constant(1.0), non_sequences=limit, n_steps=3)
    np.testing.assert_array_equal(sg.function([limit], capped, mode=mode)(1e9), [2, 4, 8])


def test_until_with_sequences_and_its_gradient():
    def fun(x, a):
        out, _ = sg.scan(lambda x_t, acc, a: (acc * a + x_t, sg.scan_until(acc * a + x_t > 3.0)),
                         sequences=x, outputs_info=T.constant(0.5), non_sequences=a)
        return out

    x, a = T.vector("x"), T.scalar("a")
    xv = np.array([0.5, 0.7, 1.1, 2.0, 0.3, 0.2])
    got = sg.function([x, a], fun(x, a), mode="py")(xv, 1.3)
    acc, expected = 0.5, []
    for x_t in xv:
        acc = acc * 1.3 + x_t
        expected.append(acc)
        if acc > 3.0:
            break
    np.testing.assert_allclose(got, expected)
    assert len(got) < len(xv)
    sg.verify_grad(fun, [xv, np.array(1.3)], rng=_rng(5))


@pytest.mark.parametrize("mode", MODES)
def test_shared_variable_updated_inside_fn(mode):
    x = T.vector("x")
    calls = sg.shared(0, name="calls")
    total = sg.shared(np.zeros(2), name="total")

    def step(v):
        # inside the loop a shared variable reads its current (per-step) value
        return v * 2 + calls, OrderedDict([(calls, calls + 1), (total, total + v)])

    doubled, updates = sg.scan(step, sequences=x)
    assert list(updates) == [calls, total]
    g = sg.function([x], doubled, updates=updates, mode=mode)
    xv = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(g(xv), 2 * xv + np.arange(3))
    assert calls.get_value() == 3
    np.testing.assert_array_equal(total.get_value(), [6.0, 6.0])
    np.testing.assert_array_equal(g(xv[:2]), 2 * xv[:2] + [3, 4])
    assert calls.get_value() == 5


@pytest.mark.parametrize("mode", MODES)
def test_updates_only_scan(mode):
    counter = sg.shared(np.int64(10), name="counter")
    outputs, updates = sg.scan(lambda: {counter: counter * 2}, n_steps=3)
    assert outputs is None
    f = sg.function([], [], updates=updates, mode=mode)
    f()
    assert counter.get_value() == 80


@pytest.mark.parametrize("mode", MODES)
def test_n_steps_without_sequences(mode):
    n = T.lscalar("n")
    start = T.scalar("start")
    squares, _ = sg.scan(lambda i: T.cast(i, "float64") ** 2, sequences=T.arange(n))
    walk, _ = sg.scan(lambda prev: prev + 0.5, outputs_info=start, n_steps=n)
    counts, _ = sg.scan(lambda c: c + 1, outputs_info=0, n_steps=4)  # a Python-number initial value
    f = sg.function([n, start], [squares, walk, counts], mode=mode)
    sq, wk, ct = f(4, 1.0)
    np.testing.assert_array_equal(sq, [0, 1, 4, 9])
    np.testing.assert_array_equal(wk, [1.5, 2.0, 2.5, 3.0])
    np.testing.assert_array_equal(ct, [1, 2, 3, 4])
    assert ct.dtype == np.int64
    assert f(0, 1.0)[1].shape == (0,)


@pytest.mark.parametrize("mode", MODES)
def test_go_backwards_and_its_gradient(mode):
    seq = T.vector("seq")
    backwards, _ = sg.scan(lambda s, acc: acc * 10 + s, sequences=seq, outputs_info=T.constant(0.0),
                           go_backwards=True)
    f = sg.function([seq], [backwards, T.grad(backwards[-1], seq)], mode=mode)
    got, grad = f(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(got, [3, 32, 321])
    np.testing.assert_array_equal(grad, [1, 10, 100])


@pytest.mark.parametrize("mode", MODES)
def test_several_outputs_fed_back_and_not(mode):
    x = T.vector("x")

    def step(x_t, s_prev, p_prev):
        s = s_prev + x_t
        return s, x_t * 3, p_prev * x_t

    (s, tripled, prods), _ = sg.scan(step, sequences=x, outputs_info=[T.constant(0.0), None, T.constant(1.0)])
    cost = s.sum() + tripled.sum() + prods[-1]
    f = sg.function([x], [s, tripled, prods, T.grad(cost, x)], mode=mode)
    xv = np.array([2.0, -1.0, 0.5])
    got_s, got_t, got_p, grad = f(xv)
    np.testing.assert_array_equal(got_s, np.cumsum(xv))
    np.testing.assert_array_equal(got_t, 3 * xv)
    np.testing.assert_array_equal(got_p, np.cumprod(xv))
    expected = np.arange(3, 0, -1) + 3 + np.prod(xv) / xv
    np.testing.assert_allclose(grad, expected)
    _, lst = sg.scan(lambda v: v, sequences=x), sg.scan(lambda v: v, sequences=x, return_list=True)[0]
    assert isinstance(lst, list) and len(lst) == 1


@pytest.mark.parametrize("mode", MODES)
def test_random_draws_inside_fn_advance_per_step_and_per_call(mode):
    srng = sg.RandomStream(1234)
    walk, updates = sg.scan(lambda prev: prev + srng.normal(size=(3,)), outputs_info=T.zeros(3), n_steps=4)
    assert len(updates) == 1
    w = sg.function([], walk, updates=updates, mode=mode)
    first, second = w(), w()
    steps = np.diff(np.vstack([np.zeros(3), first]), axis=0)
    assert first.shape == (4, 3) and len({tuple(r) for r in steps}) == 4  # a new draw each step
    assert not np.array_equal(first, second)
    # the same stream replays the same walk
    srng.seed(1234)
    replay = sg.function([], walk, updates=updates, mode=mode)
    np.testing.assert_array_equal(replay(), first)


def test_random_draws_without_passing_updates_still_advance():
    srng = sg.RandomStream(5)
    walk, _ = sg.scan(lambda prev: prev + srng.uniform(size=(2,)), outputs_info=T.zeros(2), n_steps=3)
    w = sg.function([], walk, mode="py")
    assert not np.array_equal(w(), w())


@pytest.mark.parametrize("mode", MODES)
def test_gradient_replays_the_random_draws_of_the_forward_loop(mode):
    srng = sg.RandomStream(42)
    x = T.matrix("x")
    W = sg.shared(_rng(8).normal(size=(3, 3)) * 0.5, "W")

    def step(x_t, h_prev):
        mask = srng.binomial(1, 0.5, size=(3,)).astype("float64")
        h = T.tanh(x_t + T.dot(h_prev, W)) * mask
        return h, mask

    (h, masks), updates = sg.scan(step, sequences=x, outputs_info=[T.zeros(3), None])
    cost = (h ** 2).sum()
    f = sg.function([x], [h, masks, T.grad(cost, W)], updates=updates, mode=mode)
    xv = _rng(9).normal(size=(5, 3))
    got_h, got_masks, got_dW = f(xv)
    Wv = W.get_value()
    hs, prevs, h_prev = [], [], np.zeros(3)
    for x_t, m in zip(xv, got_masks):
        prevs.append(h_prev)
        h_prev = np.tanh(x_t + h_prev @ Wv) * m
        hs.append(h_prev)
    np.testing.assert_allclose(got_h, hs, rtol=1e-12)
    dW, carry = np.zeros_like(Wv), np.zeros(3)
    for t in range(4, -1, -1):
        dh = 2 * hs[t] + carry
        pre = np.tanh(xv[t] + prevs[t] @ Wv)
        dz = dh * got_masks[t] * (1 - pre ** 2)
        dW += np.outer(prevs[t], dz)
        carry = dz @ Wv.T
    np.testing.assert_allclose(got_dW, dW, rtol=1e-10, atol=1e-12)


# -- details of the interface ---------------------------------------------------------------------------
def test_python_number_initial_values_take_the_output_dtype():
    x = T.vector("x")
    sums, _ = sg.scan(lambda v, acc: acc + v, sequences=x, outputs_info=0)
    assert sums.dtype == "float64"
    np.testing.assert_array_equal(sg.function([x], sums, mode="py")(np.array([0.5, 1.0])), [0.5, 1.5])


def test_broadcastable_initial_value_meets_a_full_output():
    x = T.matrix("x")
    h, _ = sg.scan(lambda x_t, acc: acc + x_t, sequences=x, outputs_info=T.zeros((1,)))
    f = sg.function([x], h, mode="py")
    # the initial value's length 1 is not taken as broadcastable inside the loop (the output
    # may grow it), so a mismatch is an error that names fn's line
    with pytest.raises(ShapeMismatchError, match=r"(?s)do not match.*in <lambda>"):
        f(np.ones((2, 3)))
    np.testing.assert_array_equal(f(np.ones((2, 1))), [[1.0], [2.0]])


def test_sequences_are_cut_to_the_shortest_and_n_steps_to_its_value():
    a, b = T.vector("a"), T.vector("b")
    out, _ = sg.scan(lambda u, v: u * v, sequences=[a, b])
    short, _ = sg.scan(lambda u, v: u * v, sequences=[a, b], n_steps=2)
    f = sg.function([a, b], [out, short], mode="py")
    got, got_short = f(np.arange(5.0), np.arange(3.0))
    np.testing.assert_array_equal(got, [0, 1, 4])
    np.testing.assert_array_equal(got_short, [0, 1])


def test_empty_sequence_gives_empty_outputs():
    x = T.vector("x")
    out, _ = sg.scan(lambda v, acc: acc + v, sequences=x, outputs_info=T.constant(0.0))
    got = sg.function([x], out, mode="py")(np.zeros(0))
    assert got.shape == (0,)


def test_outer_variables_used_without_passing_them_are_captured():
    x, scale = T.vector("x"), T.scalar("scale")
    out, _ = sg.scan(lambda v: v * scale + T.exp(scale), sequences=x)
    f = sg.function([x, scale], [out, T.grad(out.sum(), scale)], mode="py")
    got, grad = f(np.array([1.0, 2.0]), 0.5)
    np.testing.assert_allclose(got, [0.5 + np.exp(0.5), 1.0 + np.exp(0.5)])
    np.testing.assert_allclose(grad, 3.0 + 2 * np.exp(0.5))
    with pytest.raises(ValueError, match="strict"):
        sg.scan(lambda v: v * scale, sequences=x, strict=True)


@pytest.mark.parametrize("mode", MODES)
def test_function_with_scan_pickles(mode):
    x = T.vector("x")
    W = sg.shared(np.array(0.9), "W")
    h, _ = sg.scan(lambda v, acc: acc * W + v, sequences=x, outputs_info=T.constant(0.0))
    f = sg.function([x], [h, T.grad(h.sum(), W)], mode=mode)
    g = pickle.loads(pickle.dumps(f))
    xv = np.array([1.0, 2.0, 3.0])
    for a, b in zip(f(xv), g(xv)):
        np.testing.assert_allclose(a, b, rtol=1e-15)


def test_theano_compat_names():
    from symgraph.compat import theano
    from symgraph.control.scan import until

    assert theano.scan is sg.scan
    assert theano.scan_module.until is until is sg.until
    x = T.vector("x")
    out, _ = theano.scan(lambda v: (v + 1, theano.scan_module.until(v > 1)), sequences=x)
    np.testing.assert_array_equal(theano.function([x], out, mode="py")(np.array([0.0, 2.0, 5.0])), [1, 3])


@pytest.mark.parametrize("mode", MODES)
def test_theano_map_reduce_foldl_foldr(mode):
    from symgraph.control import scan as scan_module

    x = T.vector("x")
    squares, _ = scan_module.map(lambda v: v ** 2, x)
    total, _ = scan_module.reduce(lambda v, acc: acc + v, x, T.constant(0.0))
    digits_left, _ = scan_module.foldl(lambda v, acc: acc * 10 + v, x, T.constant(0.0))
    digits_right, _ = scan_module.foldr(lambda v, acc: acc * 10 + v, x, T.constant(0.0))
    f = sg.function([x], [squares, total, digits_left, digits_right, T.grad(total, x)], mode=mode)
    got = f(np.array([1.0, 2.0, 3.0]))
    for value, expected in zip(got, [[1, 4, 9], 6, 123, 321, [1, 1, 1]]):
        np.testing.assert_array_equal(value, expected)


@pytest.mark.parametrize("mode", MODES)
def test_givens_replace_a_sequence_and_a_captured_variable(mode):
    data = sg.shared(np.arange(12.0).reshape(6, 2), "data")
    x, i, scale = T.matrix("x"), T.lscalar("i"), T.scalar("scale")
    s, _ = sg.scan(lambda row, acc: acc + row * scale, sequences=x, outputs_info=T.zeros(2))
    f = sg.function([i], s[-1], givens={x: data[i * 3:(i + 1) * 3], scale: T.constant(2.0)}, mode=mode)
    np.testing.assert_array_equal(f(0), [12, 18])
    np.testing.assert_array_equal(f(1), [48, 54])


def test_float32_rnn_keeps_float32(monkeypatch):
    monkeypatch.setattr(sg.config, "floatX", "float32")
    x = T.matrix("x")
    W = sg.shared(np.eye(2, dtype="float32") * 0.5, "W")
    h, _ = sg.scan(lambda x_t, h_prev: T.tanh(x_t + T.dot(h_prev, W)), sequences=x, outputs_info=T.zeros(2))
    acc, _ = sg.scan(lambda x_t, a: a + x_t.sum(), sequences=x, outputs_info=0.0)
    assert h.dtype == "float32" and acc.dtype == "float32"
    f = sg.function([x], [h, acc, T.grad(h.sum(), W)], mode="py")
    got_h, got_acc, grad = f(np.ones((3, 2), dtype="float32"))
    assert got_h.dtype == got_acc.dtype == grad.dtype == np.float32
    np.testing.assert_allclose(got_acc, [2, 4, 6])


# -- errors ---------------------------------------------------------------------------------------------
def test_wrong_number_of_fn_arguments_says_what_scan_passes():
    x, h0, W = T.matrix("x"), T.vector("h0"), T.matrix("W")

    def step(x_t, W):
        return T.dot(x_t, W)

    with pytest.raises(TypeError, match=r"3 arguments.*sequence x tap 0, output 0 \(initial value h0\) tap -1, "
                                        r"non-sequence W"):
        sg.scan(step, sequences=x, outputs_info=h0, non_sequences=W)


def test_dtype_mismatch_between_initial_value_and_fn_result_is_explained():
    x = T.vector("x")
    acc0 = T.lscalar("acc0")
    with pytest.raises(TypeError, match=r"acc0.*int64.*float64"):
        sg.scan(lambda v, acc: acc + v, sequences=x, outputs_info=acc0)


def test_missing_n_steps_and_bad_arguments():
    with pytest.raises(ValueError, match="give n_steps"):
        sg.scan(lambda prev: prev * 2, outputs_info=T.constant(1.0))
    with pytest.raises(ValueError, match="outputs_info has 2 entries"):
        sg.scan(lambda v: v, sequences=T.vector("x"), outputs_info=[None, None])
    with pytest.raises(ValueError, match="negative taps"):
        sg.scan(lambda a: a, outputs_info=dict(initial=T.vector("x0"), taps=[1]), n_steps=2)
    with pytest.raises(ValueError, match=r"shape \(3,\) in its initial value.*\(4,\)"):
        sg.scan(lambda acc: T.zeros(4) + acc.sum(), outputs_info=T.zeros(3), n_steps=2)
    with pytest.raises(ValueError, match="truncate_gradient"):
        sg.scan(lambda v: v, sequences=T.vector("x"), truncate_gradient=0)


def test_run_time_errors_name_the_problem():
    x = T.vector("x")
    grow, _ = sg.scan(lambda v, acc: T.concatenate([acc, v.dimshuffle("x")]), sequences=x,
                      outputs_info=T.zeros(1))
    with pytest.raises(ShapeMismatchError, match=r"at step 0.*shape \(2,\).*keep its shape"):
        sg.function([x], grow, mode="py")(np.ones(3))
    ragged, _ = sg.scan(lambda n: T.ones(n), sequences=T.arange(1, 4))
    with pytest.raises(ShapeMismatchError, match="at step 1.*same shape"):
        sg.function([], ragged, mode="py")()
    n = T.lscalar("n")
    too_long, _ = sg.scan(lambda v: v * 2, sequences=x, n_steps=n)
    with pytest.raises(ShapeMismatchError, match="n_steps is 5.*only 3"):
        sg.function([x, n], too_long, mode="py")(np.ones(3), 5)


# -- the inner graph compiled with the C backend ---------------------------------------------------------
def _run_inner_loops_in_c(f):
    # what the C runner does for its Python nodes (node.tag.backend = 'c'); set by hand here
    from symgraph.backends.c.build import compiler

    if compiler() is None:
        return  # mode 'c' fell back to 'py'
    for node in f.maker.fgraph.apply_nodes:
        node.tag.backend = "c"


@pytest.mark.needs_gcc
def test_inner_graph_compiled_with_c_agrees_with_numpy_reference():
    from symgraph.backends.c.build import compiler

    if compiler() is None:
        pytest.skip("needs gcc")
    x, h0, params, h, cost = _elman_graph()
    srng = sg.RandomStream(3)
    noisy, updates = sg.scan(lambda prev: prev * 0.5 + srng.uniform(size=(2,)), outputs_info=T.zeros(2), n_steps=3)
    outputs = [h, cost, noisy] + T.grad(cost, list(params) + [x, h0])
    rng = _rng(11)
    xv, hv = rng.normal(size=(7, 3)), rng.normal(size=4)
    results = []
    for inner_c in (False, True):
        srng.seed(3)
        f = sg.function([x, h0], outputs, updates=updates, mode="c")
        if inner_c:
            _run_inner_loops_in_c(f)
        results.append(f(xv, hv))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", MODES)
def test_nested_scan(mode):
    A = T.matrix("A")

    def row_cumsum(row):
        sums, _ = sg.scan(lambda v, acc: acc + v, sequences=row, outputs_info=T.constant(0.0))
        return sums

    out, _ = sg.scan(row_cumsum, sequences=A)
    f = sg.function([A], [out, T.grad(out.sum(), A)], mode=mode)
    if mode == "c":
        _run_inner_loops_in_c(f)
    av = np.arange(6.0).reshape(2, 3)
    got, grad = f(av)
    np.testing.assert_array_equal(got, np.cumsum(av, axis=1))
    np.testing.assert_array_equal(grad, [[3, 2, 1], [3, 2, 1]])


def test_jacobian_hessian_and_rop_through_scan():
    x, W = T.vector("x"), T.scalar("W")
    s, _ = sg.scan(lambda v, acc, W: T.tanh(acc * W + v), sequences=x, outputs_info=T.constant(0.1),
                   non_sequences=W)
    cost = (s ** 2).sum()
    u = T.vector("u")
    f = sg.function([x, W, u], [T.jacobian(s, x), T.hessian(cost, x), T.Rop(s, x, u), T.grad(T.grad(cost, W), W)],
                    mode="py")
    grad_x = sg.function([x, W], [T.grad(cost, x), T.grad(cost, W)], mode="py")
    rng = _rng(13)
    xv, uv, Wv, eps = rng.normal(size=4), rng.normal(size=4), 0.7, 1e-6
    jac, hess, jvp, d2W = f(xv, Wv, uv)
    # the gradient scan is differentiated in turn: compare with differences of first derivatives
    hess_fd = [(grad_x(xv + eps * e, Wv)[0] - grad_x(xv - eps * e, Wv)[0]) / (2 * eps) for e in np.eye(4)]
    np.testing.assert_allclose(hess, hess_fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(jvp, jac @ uv, rtol=1e-12, atol=1e-14)
    d2W_fd = (grad_x(xv, Wv + eps)[1] - grad_x(xv, Wv - eps)[1]) / (2 * eps)
    np.testing.assert_allclose(d2W, d2W_fd, rtol=1e-6)
    s_simple, _ = sg.scan(lambda v, acc: acc * v + v, sequences=x, outputs_info=T.constant(1.0))
    jac = sg.function([x], T.jacobian(s_simple, x), mode="py")(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(jac, [[2, 0, 0], [4, 3, 0], [12, 9, 7]])


@pytest.mark.parametrize("mode", ["py", "c"])
def test_a_negative_n_steps_given_at_run_time_is_reported_as_such(mode):
    # -1 is also the loop's own "as many steps as the sequences"; a caller's -1 must not be
    # taken for it (it used to say "no n_steps and no sequences")
    n = T.iscalar("n")
    doubled, _ = sg.scan(lambda p: p * 2, outputs_info=T.constant(1.0), n_steps=n)
    f = sg.compile_function([n], doubled, mode=mode)
    for bad in (-1, -3):
        with pytest.raises(ValueError, match=rf"n_steps must be >= 0, got {bad}"):
            f(bad)
    assert f(0).shape == (0,) and f(3).tolist() == [2.0, 4.0, 8.0]
    a = T.dvector("a")
    summed, _ = sg.scan(lambda x, acc: acc + x, sequences=a, outputs_info=T.constant(0.0), n_steps=n)
    g = sg.compile_function([a, n], summed, mode=mode)
    assert g(np.arange(4.0), 2).tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="n_steps must be >= 0, got -1"):
        g(np.arange(4.0), -1)
