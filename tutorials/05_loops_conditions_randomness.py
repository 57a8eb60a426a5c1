"""Tutorial 5: loops (``scan``), lazy conditions (``ifelse``) and random numbers.

A graph is static, so a loop is an operation holding a graph of its own: ``sg.scan``
applies a step function over sequences and over its own previous outputs, and returns
the stacked results (plus the updates its steps ask for). ``sg.ifelse`` picks one of two
graphs at run time and computes only that one, where ``T.switch`` computes both and
picks elementwise. ``sg.RandomStream`` draws random numbers inside a graph; each call of a
compiled function advances its state, through updates the function makes by itself.

This follows the loop section of Theano's tutorial: the power A**k by repeated
multiplication, a polynomial from its coefficients, an Elman recurrent network trained
through time, and a loop that stops early.
Every function is compiled with ``mode=MODE``, here 'py', the NumPy reference backend;
the default, 'c', gives the same results.
Run it with ``python tutorials/05_loops_conditions_randomness.py``; it asserts what it shows.
"""

from __future__ import annotations

import time

import numpy as np

import symgraph as sg
import symgraph.tensor as T

MODE = "py"


def section(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))


# ----------------------------------------------------------------------------------------
section("A**k by repeated multiplication")
k = T.iscalar("k")
A = T.dvector("A")
# fn receives the previous result (outputs_info) and then the non-sequences
powers, updates = sg.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A),
                          non_sequences=A, n_steps=k)
power = sg.compile_function([A, k], powers[-1], updates=updates, mode=MODE)
got = power(np.arange(5.0), 3)
print("A = [0 1 2 3 4], k = 3  ->", got)
np.testing.assert_array_equal(got, np.arange(5.0) ** 3)

# ----------------------------------------------------------------------------------------
section("A polynomial from its coefficients")
coefficients = T.dvector("coefficients")
x = T.dscalar("x")
# a sequence (the coefficients) zipped with a second one (their powers, 0, 1, 2, ...)
terms, _ = sg.scan(lambda c, p, x: c * x ** p,
                   sequences=[coefficients, T.arange(coefficients.shape[0])], non_sequences=x)
polynomial = sg.compile_function([coefficients, x], terms.sum(), mode=MODE)
value = polynomial(np.array([1.0, 0.0, 2.0]), 3.0)
print("1 + 0*x + 2*x**2 at x = 3 ->", value)
assert value == 19.0

# ----------------------------------------------------------------------------------------
section("Fibonacci: two previous outputs (taps -2 and -1)")
n = T.iscalar("n")
start = T.lvector("start")
fib, _ = sg.scan(lambda a, b: a + b, outputs_info=dict(initial=start, taps=[-2, -1]), n_steps=n)
fibonacci = sg.compile_function([start, n], fib, mode=MODE)
got = fibonacci(np.array([0, 1]), 10)
print("the next ten:", got)
assert got.tolist() == [1, 2, 3, 5, 8, 13, 21, 34, 55, 89]

# ----------------------------------------------------------------------------------------
section("An Elman network, trained through time")
rng = np.random.default_rng(0)
n_in, n_hidden, steps = 3, 8, 12
W_in = sg.shared(rng.normal(scale=0.5, size=(n_in, n_hidden)), name="W_in")
W_rec = sg.shared(rng.normal(scale=0.3, size=(n_hidden, n_hidden)), name="W_rec")
w_out = sg.shared(rng.normal(scale=0.5, size=n_hidden), name="w_out")
seq = T.dmatrix("seq")      # (steps, n_in)
target = T.dvector("target")  # (steps,)
h0 = T.zeros((n_hidden,))


def step(x_t, h_prev):
    # W_in, W_rec and w_out are used without being passed: scan finds them itself
    h_t = T.tanh(T.dot(x_t, W_in) + T.dot(h_prev, W_rec))
    return h_t, T.dot(h_t, w_out)


(hidden, predicted), _ = sg.scan(step, sequences=seq, outputs_info=[h0, None])
cost = T.mean((predicted - target) ** 2)
params = [W_in, W_rec, w_out]
grads = T.grad(cost, params)  # back-propagation through time: a loop run backwards
train = sg.compile_function([seq, target], cost, mode=MODE,
                            updates=[(p, p - 0.1 * g) for p, g in zip(params, grads)])
data = rng.normal(size=(steps, n_in))
wanted = np.sin(np.cumsum(data[:, 0]))  # depends on the whole history
costs = [float(train(data, wanted)) for _ in range(60)]
print(f"cost {costs[0]:.4f} -> {costs[-1]:.4f} after {len(costs)} steps")
assert costs[-1] < 0.5 * costs[0]

# ----------------------------------------------------------------------------------------
section("Stopping early with until")
limit = T.dscalar("limit")
doubling, _ = sg.scan(lambda v, limit: (v * 2, sg.until(v * 2 > limit)),
                      outputs_info=T.constant(1.0), non_sequences=limit, n_steps=100)
until_fn = sg.compile_function([limit], doubling, mode=MODE)
got = until_fn(100.0)
print("doubling 1.0 until past 100:", got)
assert got.tolist() == [2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]

# ----------------------------------------------------------------------------------------
section("ifelse computes one branch, switch computes both")
a, b = T.dscalars("a", "b")
big_x, big_y = T.dmatrices("big_x", "big_y")
chosen = sg.ifelse(T.lt(a, b), T.mean(big_x), T.mean(big_y))
both = T.switch(T.lt(a, b), T.mean(big_x), T.mean(big_y))
f_lazy = sg.compile_function([a, b, big_x, big_y], chosen, mode=MODE)
f_switch = sg.compile_function([a, b, big_x, big_y], both, mode=MODE)
ones, twos = np.ones((1000, 1000)), 2 * np.ones((1000, 1000))
assert f_lazy(1.0, 2.0, ones, twos) == f_switch(1.0, 2.0, ones, twos) == 1.0
assert f_lazy(2.0, 1.0, ones, twos) == f_switch(2.0, 1.0, ones, twos) == 2.0
# laziness for real: the untaken branch would fail on these inputs (3x4 times 2x5)
left, right = T.dmatrices("left", "right")
guarded = sg.compile_function([a, left, right], sg.ifelse(T.gt(a, 0), T.dot(left, right).sum(), a),
                              mode=MODE)
print("ifelse skips the branch it does not take:", guarded(-1.0, np.ones((3, 4)), np.ones((2, 5))))
timings = {}
for name, fn in (("ifelse", f_lazy), ("switch", f_switch)):
    start_time = time.perf_counter()
    for _ in range(20):
        fn(1.0, 2.0, ones, twos)
    timings[name] = (time.perf_counter() - start_time) / 20
print(f"one call: ifelse {timings['ifelse'] * 1e3:.2f} ms, switch {timings['switch'] * 1e3:.2f} ms")

# ----------------------------------------------------------------------------------------
section("Random numbers: a stream whose state advances with every call")
srng = sg.RandomStream(seed=234)
rv_u = srng.uniform(0, 1, size=(2, 2))
rv_n = srng.normal(0, 1, size=(2, 2))
f_u = sg.compile_function([], rv_u, mode=MODE)
g_n = sg.compile_function([], rv_n, mode=MODE, no_default_updates=True)  # always the same draw
first, second = f_u(), f_u()
print("two calls of f give different draws:", not np.array_equal(first, second))
assert not np.array_equal(first, second) and ((0 <= first) & (first < 1)).all()
assert np.array_equal(g_n(), g_n())
# one draw used twice in a graph is one value
nearly_zero = sg.compile_function([], rv_u + rv_u - 2 * rv_u, mode=MODE)
assert np.allclose(nearly_zero(), 0.0)
# re-seeding the stream starts the same sequence again
srng.seed(902340)
again = f_u()
srng.seed(902340)
assert np.array_equal(again, f_u())

# dropout as a mask drawn inside the training graph
xs = T.dmatrix("xs")
mask = srng.binomial(n=1, p=0.5, size=xs.shape)
dropped = sg.compile_function([xs], xs * mask, mode=MODE)
out = dropped(np.ones((4, 1000)))
print(f"dropout kept {out.mean():.0%} of the units")
assert set(np.unique(out)) <= {0.0, 1.0} and 0.4 < out.mean() < 0.6

print("\n05_loops_conditions_randomness: all checks passed")
