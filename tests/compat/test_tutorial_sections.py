"""Sections of Theano's tutorial: the random-number ones, which handle a draw's generator
state directly (seeding one stream, sharing streams between functions, copying random state
between graphs, saving a state with a pickled function), and the debugging one (the Print
op, NanGuardMode)."""

import pickle

import numpy as np
import pytest

from symgraph.compat import theano
from symgraph.compat.theano.tensor.shared_randomstreams import RandomStreams


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "FAST_RUN"])
def test_seeding_and_sharing_streams_as_in_the_tutorial(mode):
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    f = theano.function([], rv_u, mode=mode)
    nearly_zeros = theano.function([], rv_u + rv_u - 2 * rv_u, mode=mode)

    # seeding one stream: the borrowed state's seed() reaches the variable
    rng_val = rv_u.rng.get_value(borrow=True)
    rng_val.seed(89234)
    rv_u.rng.set_value(rng_val, borrow=True)
    first = f()
    rv_u.rng.get_value(borrow=True).seed(89234)  # even without set_value, as Theano's borrow
    np.testing.assert_array_equal(f(), first)

    # sharing streams between functions: nearly_zeros advances rv_u's generator too
    state_after_v0 = rv_u.rng.get_value().get_state()
    assert np.allclose(nearly_zeros(), 0.0)
    v1 = f()
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state_after_v0)
    rv_u.rng.set_value(rng, borrow=True)
    v2 = f()  # the draw nearly_zeros used
    v3 = f()  # v1 again
    assert not np.array_equal(v2, v1)
    np.testing.assert_array_equal(v3, v1)


def test_copying_random_state_between_graphs():
    class Graph:
        def __init__(self, seed=123):
            self.rng = RandomStreams(seed)
            self.y = self.rng.uniform(size=(1,))

    g1, g2 = Graph(seed=123), Graph(seed=987)
    f1, f2 = theano.function([], g1.y), theano.function([], g2.y)
    assert f1() != f2()
    for su1, su2 in zip(g1.rng.state_updates, g2.rng.state_updates):
        su2[0].set_value(su1[0].get_value())
    np.testing.assert_array_equal(f1(), f2())


def test_a_state_round_trips_through_set_value_and_pickle():
    srng = RandomStreams(seed=5)
    u = srng.normal((3,))
    f = theano.function([], u)
    saved = u.rng.get_value()
    expected = [f(), f()]
    u.rng.set_value(saved)
    np.testing.assert_array_equal(f(), expected[0])
    again = pickle.loads(pickle.dumps(f))  # the state travels with the function
    np.testing.assert_array_equal(again(), f())
    # a NumPy Generator's state is accepted, a wrong one is refused with a clear error
    u.rng.set_value(np.random.Generator(np.random.PCG64(7)))
    np.testing.assert_array_equal(f(), np.random.Generator(np.random.PCG64(7)).normal(0.0, 1.0, size=3))
    with pytest.raises(ValueError, match="int64 words"):
        u.rng.get_value().set_state(np.zeros(3))
    assert isinstance(u.rng.get_value(return_internal_type=True), np.ndarray)


def test_debugging_tutorial_print_op_and_nanguardmode(capfd):
    import symgraph.compat.theano.tensor as T
    from symgraph.compat.theano.compile.nanguardmode import NanGuardMode
    from symgraph.errors import NaNGuardError

    x = T.dvector("x")
    x_printed = theano.printing.Print("this is a very important value")(x)
    f = theano.function([x], x * 5)
    f_with_print = theano.function([x], x_printed * 5)
    assert np.all(f([1, 2, 3]) == [5, 10, 15])
    assert "important" not in capfd.readouterr().out
    assert np.all(f_with_print([1, 2, 3]) == [5, 10, 15])
    assert "this is a very important value __str__ = [1. 2. 3.]" in capfd.readouterr().out
    # printing shapes, and the gradient passes straight through the Print
    shaped = theano.printing.Print("x is", attrs=("shape",))(x)
    g = theano.function([x], T.grad((shaped ** 2).sum(), x))
    np.testing.assert_array_equal(g([1.0, 2.0]), [2.0, 4.0])
    assert "x is shape = (2,)" in capfd.readouterr().out

    w = theano.shared(np.ones((3, 3)))
    m = T.dmatrix("m")
    guarded = theano.function([m], T.log(T.dot(m, w)),
                              mode=NanGuardMode(nan_is_error=True, inf_is_error=True, big_is_error=True))
    np.testing.assert_allclose(guarded(np.ones((2, 3))), np.log(3.0))
    with pytest.raises(NaNGuardError, match="log"):
        guarded(-np.ones((2, 3)))


class DoubleOp(theano.Op):
    """The Op of Theano's "Creating a new Op: Python implementation" tutorial."""

    __props__ = ()

    def make_node(self, x):
        x = theano.tensor.as_tensor_variable(x)
        return theano.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * 2

    def infer_shape(self, node, i0_shapes):
        return i0_shapes

    def grad(self, inputs, output_grads):
        return [output_grads[0] * 2]


class ScaleOp(theano.gof.Op):
    __props__ = ("factor",)

    def __init__(self, factor):
        self.factor = factor

    def make_node(self, x):
        x = theano.tensor.as_tensor_variable(x)
        return theano.Apply(self, [x], [x.type(), x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * self.factor
        output_storage[1][0] = inputs[0] + self.factor


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "FAST_RUN"])
def test_a_new_op_written_as_in_theanos_tutorial(mode):
    import symgraph.compat.theano.tensor as T
    from symgraph.compat.theano.gradient import verify_grad

    x = T.matrix()
    f = theano.function([x], DoubleOp()(x), mode=mode)
    inp = np.random.default_rng(0).random((5, 4))
    np.testing.assert_allclose(f(inp), inp * 2)
    g = theano.function([x], T.grad((DoubleOp()(x) * x).sum(), x), mode=mode)
    np.testing.assert_allclose(g(inp), 4 * inp)
    verify_grad(DoubleOp(), [np.random.default_rng(1).random((3, 2))], rng=np.random.RandomState(1))
    # ops compare by __props__; a two-output op; an op without grad says so
    assert ScaleOp(2.0) == ScaleOp(2.0) and ScaleOp(2.0) != ScaleOp(3.0) and DoubleOp() == DoubleOp()
    scaled, shifted = ScaleOp(3.0)(x)
    h = theano.function([x], [scaled, shifted], mode=mode)
    got = h(inp)
    np.testing.assert_allclose(got[0], inp * 3.0)
    np.testing.assert_allclose(got[1], inp + 3.0)
    with pytest.raises(NotImplementedError, match="neither grad nor L_op"):
        T.grad(scaled.sum(), x)


def test_print_names_an_attribute_it_cannot_show():
    with pytest.raises(ValueError, match=r"attrs must name attributes of a NumPy array.*'shpe'"):
        theano.printing.Print("x", attrs=("shpe",))
    assert theano.printing.Print("x", attrs="shape").attrs == ("shape",)
