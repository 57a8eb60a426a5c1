"""Tutorial 1: the basics -- symbolic variables, compiled functions, state.

This is the classic Theano tutorial ("Baby steps", "More examples") written against
symgraph's API: adding scalars and matrices, the logistic function, several outputs at
once, default argument values, a shared-variable accumulator with updates, and givens.

Every function is compiled with ``mode='py'``, the NumPy reference backend. (The default
mode, 'c', is planned; until it exists it falls back to 'py' with a RuntimeWarning.)

Run it with ``python tutorials/01_basics.py``. Each step asserts what it shows, so
running the script is also a test.
"""

from __future__ import annotations

import numpy as np

import symgraph as sg
import symgraph.tensor as T

MODE = "py"


def section(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))


# ----------------------------------------------------------------------------------------
section("Adding two scalars")
# A symbolic variable has a name, a dtype and a number of axes. 'd' means float64.
x = T.dscalar("x")
y = T.dscalar("y")
z = x + y  # nothing is computed: z is a graph with x and y as inputs
print("z is", sg.pp(z), "of type", z.type)

f = sg.compile_function([x, y], z, mode=MODE)
print("f(2, 3) =", f(2, 3))
print("f(16.3, 12.1) =", f(16.3, 12.1))
assert f(2, 3) == 5.0
assert np.isclose(f(16.3, 12.1), 28.4)

# For a quick look, .eval compiles (once) and runs an expression.
print("z.eval({x: 16.3, y: 12.1}) =", z.eval({x: 16.3, y: 12.1}, mode=MODE))
assert np.isclose(z.eval({x: 16.3, y: 12.1}, mode=MODE), 28.4)

# ----------------------------------------------------------------------------------------
section("Adding two matrices")
X = T.dmatrix("X")
Y = T.dmatrix("Y")
add_matrices = sg.compile_function([X, Y], X + Y, mode=MODE)
result = add_matrices([[1, 2], [3, 4]], [[10, 20], [30, 40]])
print(result)
assert np.array_equal(result, [[11, 22], [33, 44]])

# Exercise from the Theano tutorial: a ** 2 + b ** 2 + 2 * a * b on vectors.
a = T.dvector("a")
b = T.dvector("b")
square_of_sum = sg.compile_function([a, b], a**2 + b**2 + 2 * a * b, mode=MODE)
print("(a + b) ** 2 for a=[1, 2], b=[4, 5]:", square_of_sum([1, 2], [4, 5]))
assert np.allclose(square_of_sum([1, 2], [4, 5]), [25, 49])

# ----------------------------------------------------------------------------------------
section("The logistic function")
x = T.dmatrix("x")
s = 1 / (1 + T.exp(-x))
logistic = sg.compile_function([x], s, mode=MODE)
values = logistic([[0, 1], [-1, -2]])
print(values)
assert np.allclose(values, [[0.5, 0.73105858], [0.26894142, 0.11920292]])

# The same function written with tanh gives the same numbers.
s2 = (1 + T.tanh(x / 2)) / 2
logistic2 = sg.compile_function([x], s2, mode=MODE)
assert np.allclose(logistic2([[0, 1], [-1, -2]]), values)
print("(1 + tanh(x / 2)) / 2 agrees")

# ----------------------------------------------------------------------------------------
section("Several outputs at once")
a, b = T.dmatrices("a", "b")
diff = a - b
abs_diff = abs(diff)
diff_squared = diff**2
f = sg.compile_function([a, b], [diff, abs_diff, diff_squared], mode=MODE)
d, ad, d2 = f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
for label, value in (("diff", d), ("abs_diff", ad), ("diff_squared", d2)):
    print(f"{label}:\n{value}")
assert np.array_equal(d, [[1, 0], [-1, -2]])
assert np.array_equal(ad, [[1, 0], [1, 2]])
assert np.array_equal(d2, [[1, 0], [1, 4]])

# ----------------------------------------------------------------------------------------
section("Default values with sg.In")
x, y, w = T.dscalars("x", "y", "w")
z = (x + y) * w
f = sg.compile_function(
    [x, sg.In(y, value=1), sg.In(w, value=2, name="w_by_name")], z, mode=MODE
)
print("f(33) =", f(33), "  f(33, 2) =", f(33, 2), "  f(33, 0, 1) =", f(33, 0, 1))
print("f(33, w_by_name=1) =", f(33, w_by_name=1), "  f(33, w_by_name=1, y=0) =",
      f(33, w_by_name=1, y=0))
assert f(33) == 68.0  # (33 + 1) * 2
assert f(33, 2) == 70.0  # (33 + 2) * 2
assert f(33, 0, 1) == 33.0
assert f(33, w_by_name=1) == 34.0
assert f(33, w_by_name=1, y=0) == 33.0

# ----------------------------------------------------------------------------------------
section("A shared-variable accumulator with updates")
# A shared variable keeps its value between calls; it is an implicit input.
state = sg.shared(0, name="state")
inc = T.iscalar("inc")
accumulator = sg.compile_function([inc], state, updates=[(state, state + inc)], mode=MODE)
# The output is computed from the value *before* the update.
returned = accumulator(1)
print("accumulator(1) returns", returned, "-> state", state.get_value())
assert returned == 0 and state.get_value() == 1
returned = accumulator(300)
print("accumulator(300) returns", returned, "-> state", state.get_value())
assert returned == 1 and state.get_value() == 301

state.set_value(-1)
returned = accumulator(3)
print("after set_value(-1), accumulator(3) returns", returned, "-> state", state.get_value())
assert returned == -1 and state.get_value() == 2

# Several functions can share the same state.
decrementor = sg.compile_function([inc], state, updates=[(state, state - inc)], mode=MODE)
decrementor(2)
print("after decrementor(2): state", state.get_value())
assert state.get_value() == 0

# ----------------------------------------------------------------------------------------
section("Givens: compute with a replacement for a variable")
# The graph uses `state`, but this function takes the value for it as an argument.
fn_of_state = state * 2 + inc
foo = T.scalar("foo", dtype=state.dtype)  # the replacement must match dtype and ndim
skip_shared = sg.compile_function([inc, foo], fn_of_state, givens=[(state, foo)], mode=MODE)
print("skip_shared(1, 3) =", skip_shared(1, 3), "  state is still", state.get_value())
assert skip_shared(1, 3) == 7
assert state.get_value() == 0

# ----------------------------------------------------------------------------------------
section("What the compiled function looks like")
print("optimized graph of skip_shared:")
sg.debugprint(skip_shared)
print("input names:", skip_shared.input_names)
assert skip_shared.input_names == ["inc", "foo"]

# (The Theano tutorial goes on to random streams; sg.RandomStream is planned.)
print("\n01_basics: all checks passed")
