"""Tutorial 2: derivatives -- grad, jacobian, hessian, Rop, Lop and verify_grad.

symgraph differentiates by building more graph: ``T.grad`` returns a symbolic expression
that is rewritten and compiled like any other (and can be differentiated again).

Every function is compiled with ``mode=MODE``, here 'py', the NumPy reference backend, so
the tutorial runs without a C compiler; the default mode, 'c' (generated C, built by gcc),
gives the same results.
Run it with ``python tutorials/02_gradients.py``; each step asserts what it shows.
"""

from __future__ import annotations

import numpy as np

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import DisconnectedInputError, GradientError

MODE = "py"


def section(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))


# ----------------------------------------------------------------------------------------
section("The derivative of x ** 2")
x = T.dscalar("x")
y = x**2
gy = T.grad(y, x)
print("grad(x ** 2, x), as built:  ", sg.pp(gy))
f = sg.compile_function([x], gy, mode=MODE)
print("after rewriting:            ", sg.pp(f))
print("f(2) =", f(2), "  f(94.2) =", f(94.2))
assert f(2) == 4.0
assert np.isclose(f(94.2), 188.4)

# The gradient is graph, so it can be differentiated again.
second = sg.compile_function([x], T.grad(gy, x), mode=MODE)
print("d2/dx2 of x ** 2 at 5 =", second(5.0))
assert second(5.0) == 2.0

# ----------------------------------------------------------------------------------------
section("The gradient of the logistic function")
# T.grad needs a scalar cost, so differentiate the sum: for an elementwise function,
# the gradient of the sum is the elementwise derivative, here s * (1 - s).
x = T.dmatrix("x")
s = T.sum(1 / (1 + T.exp(-x)))
gs = T.grad(s, x)
dlogistic = sg.compile_function([x], gs, mode=MODE)
values = np.array([[0.0, 1.0], [-1.0, -2.0]])
got = dlogistic(values)
print(got)
sig = 1 / (1 + np.exp(-values))
assert np.allclose(got, sig * (1 - sig))
assert np.allclose(got, [[0.25, 0.19661193], [0.19661193, 0.10499359]])

# Several gradients at once: pass a list of variables.
w = T.dvector("w")
b = T.dscalar("b")
cost = T.sum((T.dot(x, w) + b) ** 2)
gw, gb = T.grad(cost, [w, b])
f = sg.compile_function([x, w, b], [gw, gb], mode=MODE)
X_val, w_val, b_val = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -1.0]), 0.25
r = X_val @ w_val + b_val
gw_val, gb_val = f(X_val, w_val, b_val)
print("gradients wrt w and b:", gw_val, gb_val)
assert np.allclose(gw_val, 2 * X_val.T @ r) and np.isclose(gb_val, 2 * r.sum())

# ----------------------------------------------------------------------------------------
section("The Jacobian")
# jacobian(y, x)[i, j] = dy[i] / dx[j]; symgraph loops over the rows of y.
x = T.dvector("x")
J = T.jacobian(x**2, x)
f = sg.compile_function([x], J, mode=MODE)
print(f([4.0, 4.0]))
assert np.allclose(f([4.0, 4.0]), [[8.0, 0.0], [0.0, 8.0]])

# A Jacobian of a function of a matrix and a vector.
A = T.dmatrix("A")
jac_Ax = sg.compile_function([A, x], T.jacobian(T.dot(A, x), x), mode=MODE)
A_val = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
assert np.allclose(jac_Ax(A_val, [1.0, 1.0]), A_val)  # d(Ax)/dx = A
print("jacobian(A @ x, x) == A: ok")

# ----------------------------------------------------------------------------------------
section("The Hessian")
cost = T.sum(x**2) + x[0] * x[1]
H = T.hessian(cost, x)
f = sg.compile_function([x], H, mode=MODE)
print(f([4.0, 4.0]))
assert np.allclose(f([4.0, 4.0]), [[2.0, 1.0], [1.0, 2.0]])

# ----------------------------------------------------------------------------------------
section("Rop: Jacobian times a vector")
# Rop(f, wrt, v) = (df/dwrt) v, without building the Jacobian.
W = T.dmatrix("W")
V = T.dmatrix("V")
x = T.dvector("x")
y = T.dot(x, W)
JV = T.Rop(y, W, V)
f = sg.compile_function([W, V, x], JV, mode=MODE)
W_val, V_val, x_val = np.ones((2, 2)), np.full((2, 2), 2.0), np.array([0.0, 1.0])
print(f(W_val, V_val, x_val))
assert np.allclose(f(W_val, V_val, x_val), x_val @ V_val)  # y is linear in W
assert np.allclose(f(W_val, V_val, x_val), [2.0, 2.0])

# A nonlinear one: d tanh(x) . v = (1 - tanh(x) ** 2) * v
v = T.dvector("v")
f = sg.compile_function([x, v], T.Rop(T.tanh(x), x, v), mode=MODE)
assert np.allclose(f([0.5, -1.0], [2.0, 3.0]), (1 - np.tanh([0.5, -1.0]) ** 2) * [2.0, 3.0])
print("Rop(tanh(x), x, v) == (1 - tanh(x) ** 2) * v: ok")

# ----------------------------------------------------------------------------------------
section("Lop: a vector times the Jacobian")
# Lop(f, wrt, v) = v^T (df/dwrt): what reverse mode computes directly.
y = T.dot(x, W)
VJ = T.Lop(y, W, v)
f = sg.compile_function([v, x], VJ, mode=MODE)
print(f([2.0, 2.0], [0.0, 1.0]))
assert np.allclose(f([2.0, 2.0], [0.0, 1.0]), np.outer([0.0, 1.0], [2.0, 2.0]))
assert np.allclose(f([2.0, 2.0], [0.0, 1.0]), [[0.0, 0.0], [2.0, 2.0]])

# ----------------------------------------------------------------------------------------
section("Checking gradients numerically with verify_grad")
rng = np.random.default_rng(42)
# fun takes symbolic inputs and returns one symbolic output; the symbolic gradient is
# compared with central finite differences at the given points. No exception: it agrees.
sg.verify_grad(lambda a: T.tanh(a) * T.exp(-a), [rng.normal(size=(3, 4))], mode=MODE)
sg.verify_grad(lambda a, b: T.dot(a, b).sum(), [rng.normal(size=(2, 3)), rng.normal(size=3)],
               mode=MODE)
sg.verify_grad(lambda a: T.log1p(T.exp(a)) / (1 + a**2), [rng.normal(size=5)], mode=MODE)
print("verify_grad passed for three functions")

# A finite-difference step far too large makes the check fail; this shows the report
# that verify_grad gives on a mismatch (it raises GradientError, an AssertionError).
try:
    sg.verify_grad(lambda a: T.exp(3 * a).sum(), [np.array([0.1, 0.7])], eps=0.5, mode=MODE)
except GradientError as err:
    print("GradientError:", err)
else:
    raise AssertionError("verify_grad should have failed with eps=0.5")

# ----------------------------------------------------------------------------------------
section("What grad refuses, and how to say what you mean")
x, unused = T.dscalars("x", "unused")
try:
    T.grad(x**2, unused)
except DisconnectedInputError as err:
    print("DisconnectedInputError:", err)
else:
    raise AssertionError("grad should have raised DisconnectedInputError")
zero = T.grad(x**2, unused, disconnected_inputs="ignore")
assert sg.compile_function([unused], zero, mode=MODE)(1.0) == 0.0
print("with disconnected_inputs='ignore' the gradient is 0")

# consider_constant stops the gradient at a variable: d(c * x)/dx with c = x * x held fixed.
c = x * x
g = T.grad(c * x, x, consider_constant=[c])
assert sg.compile_function([x], g, mode=MODE)(3.0) == 9.0  # c, not 3 * x ** 2 = 27
print("grad(c * x, x, consider_constant=[c]) at x=3 is 9 (not 27)")

print("\n02_gradients: all checks passed")
