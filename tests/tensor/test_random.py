"""sg.RandomStream: random draws as graph nodes, advanced by default updates."""

import pickle

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.tensor.random import RandomDraw, decode_state, encode_state


def test_encoded_state_continues_the_numpy_generator():
    bit_generator = np.random.PCG64(7)
    words = encode_state(bit_generator)
    assert words.dtype == np.int64 and words.shape == (6,)
    np.testing.assert_array_equal(decode_state(words).normal(size=5), np.random.Generator(bit_generator).normal(size=5))


@pytest.mark.parametrize("mode", ["py", "c"])
def test_each_call_advances_the_stream_and_no_default_updates_keeps_it(mode):
    srng = sg.RandomStream(3)
    u = srng.uniform(size=(3,))
    f = sg.function([], u, mode=mode)
    first, second = f(), f()
    assert not np.array_equal(first, second)
    # the same numbers as NumPy's generator seeded with the draw's own state
    srng.seed(3)
    expected = decode_state(u.rng.get_value()).uniform(0.0, 1.0, size=(2, 3))
    np.testing.assert_array_equal([f(), f()], expected)
    fixed = sg.function([], u, no_default_updates=True, mode=mode)
    np.testing.assert_array_equal(fixed(), fixed())


def test_draws_from_constant_parameters_are_not_constant_folded():
    srng = sg.RandomStream(0)
    f = sg.function([], srng.normal(0.0, 1.0, size=(4,)) * 2 + 1, mode="c")
    assert not np.array_equal(f(), f())
    assert any(isinstance(n.op, RandomDraw) for n in f.maker.fgraph.apply_nodes)


def test_same_seed_same_numbers_in_py_and_c():
    x = T.dmatrix("x")
    loc = T.dvector("loc")
    srng = sg.RandomStream(11)
    outs = [srng.uniform(-2, 2, size=x.shape), srng.binomial(1, 0.5, size=(x.shape[0],), dtype="float32"),
            srng.integers(10, size=(3, 2)), srng.normal(loc, 0.1)]
    runs = []
    for mode in ("py", "c"):
        srng.seed(11)
        runs.append(sg.function([x, loc], outs, mode=mode)(np.zeros((4, 2)), np.arange(5.0)))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    assert runs[0][1].dtype == np.float32 and runs[0][2].dtype == np.int64
    assert runs[0][3].shape == (5,) and np.abs(runs[0][3] - np.arange(5.0)).max() < 1.0


def test_static_shapes_and_default_float_dtype():
    x = T.dmatrix("x")
    srng = sg.RandomStream(1)
    assert srng.uniform(size=(x.shape[0], 3)).type.shape == (None, 3)
    assert srng.binomial(1, T.dvector("p")).ndim == 1
    old = sg.config.floatX
    sg.config.floatX = "float32"
    try:
        assert srng.normal(size=(2,)).dtype == "float32"
    finally:
        sg.config.floatX = old
    with pytest.raises(TypeError, match="float dtype"):
        srng.uniform(size=(2,), dtype="int32")
    with pytest.raises(TypeError, match="integer dtype"):
        srng.integers(3, size=(2,), dtype="float64")


def test_no_gradient_flows_through_a_draw_but_the_mask_scales_the_gradient():
    x = T.dvector("x")
    srng = sg.RandomStream(2)
    p = T.dscalar("p")
    mask = srng.binomial(1, p, size=x.shape, dtype="float64")
    cost = (mask * x ** 2).sum()
    gx, gp = T.grad(cost, [x, p])
    srng.seed(2)
    f = sg.function([x, p], [mask, gx, gp], mode="c")
    m, gxv, gpv = f(np.arange(6.0), 0.5)
    np.testing.assert_array_equal(gxv, m * 2 * np.arange(6.0))
    assert gpv == 0.0


def test_a_pickled_function_carries_its_stream_state():
    srng = sg.RandomStream(8)
    f = sg.function([], srng.uniform(size=(2,)), mode="py")
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(g(), f())
    np.testing.assert_array_equal(g(), f())


def test_bad_parameters_raise_when_called():
    srng = sg.RandomStream(0)
    p = T.dscalar("p")
    f = sg.function([p], srng.binomial(1, p, size=(2,)), mode="py")
    with pytest.raises(ValueError):
        f(1.5)


@pytest.mark.parametrize("mode", ["py", "c"])
def test_choice_and_permutation_follow_numpy(mode):
    srng = sg.RandomStream(21)
    v = T.dvector("v")
    m = T.dmatrix("m")
    n = T.lscalar("n")
    draws = [srng.choice(5, size=(3,)), srng.choice(v, size=(4,), replace=False),
             srng.choice(3, size=(50,), p=[0.5, 0.0, 0.5]), srng.permutation(n), srng.permutation(m)]
    assert [d.dtype for d in draws] == ["int64", "float64", "int64", "int64", "float64"]
    assert draws[0].type.shape == (3,) and draws[4].type.shape == (None, None)
    states = [d.rng.get_value() for d in draws]
    vv, mv = np.arange(10.0), np.arange(12.0).reshape(6, 2)
    got = sg.function([v, n, m], draws, mode=mode)(vv, 7, mv)
    expected = [decode_state(states[0]).choice(5, size=(3,)),
                decode_state(states[1]).choice(vv, size=(4,), replace=False),
                decode_state(states[2]).choice(3, size=(50,), p=[0.5, 0.0, 0.5]),
                decode_state(states[3]).permutation(7), decode_state(states[4]).permutation(mv)]
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
    assert len(set(got[1].tolist())) == 4 and 1 not in got[2]
    assert sorted(got[3].tolist()) == list(range(7))
    assert sorted(map(tuple, got[4].tolist())) == sorted(map(tuple, mv.tolist()))
    with pytest.raises(TypeError, match="an int or a vector"):
        srng.choice(m)


@pytest.mark.parametrize("mode", ["py", "c"])
def test_multinomial_counts_follow_numpy(mode):
    srng = sg.RandomStream(9)
    P = T.dmatrix("P")
    p = T.dvector("p")
    one_hot = srng.multinomial(1, P, dtype="float64")
    counts = srng.multinomial(5, p, size=(4,))
    assert one_hot.type.shape == (None, None) and counts.type.shape == (4, None)
    states = [one_hot.rng.get_value(), counts.rng.get_value()]
    Pv, pv = np.array([[0.1, 0.9, 0.0], [1.0, 0.0, 0.0]]), np.array([0.2, 0.8])
    got = sg.function([P, p], [one_hot, counts], mode=mode)(Pv, pv)
    np.testing.assert_array_equal(got[0], decode_state(states[0]).multinomial(1, Pv))
    np.testing.assert_array_equal(got[1], decode_state(states[1]).multinomial(5, pv, size=(4,)))
    assert got[0][1].tolist() == [1.0, 0.0, 0.0] and (got[1].sum(axis=1) == 5).all()
