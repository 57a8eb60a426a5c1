"""Tutorial 4: graph rewrites -- watching the optimizer make formulas stable.

Before a graph runs, symgraph rewrites it in phases (canonicalize, stabilize, specialize,
fuse). The stabilize phase replaces formulas that overflow, underflow or cancel with
equivalent ones that do not: log(1 + x) becomes log1p(x), 1 / (1 + exp(-x)) becomes
sigmoid(x), and so on. Here we compile the same expressions twice, with
``optimizer='none'`` (the graph exactly as written) and with the default ``'fast_run'``,
and compare the numbers at extreme inputs.

Every function is compiled with ``mode=MODE``, here 'py', the NumPy reference backend, so
the tutorial runs without a C compiler; the rewrites are the same for every backend,
including the default, 'c' (generated C, built by gcc).
Run it with ``python tutorials/04_graph_rewrites.py``; it asserts what it shows.
"""

from __future__ import annotations

import numpy as np

import symgraph as sg
import symgraph.tensor as T
from symgraph.tensor.elemwise import Elemwise

MODE = "py"


def section(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))


def compile_both(inputs: list, output: T.TensorVariable) -> tuple[sg.Function, sg.Function]:
    """The same graph compiled as written and with the full rewrite pipeline."""
    as_written = sg.compile_function(inputs, output, mode=MODE, optimizer="none")
    rewritten = sg.compile_function(inputs, output, mode=MODE)  # optimizer='fast_run'
    return as_written, rewritten


def compare(title: str, expr: T.TensorVariable, x: T.TensorVariable,
            values: list[float]) -> tuple[np.ndarray, np.ndarray, sg.Function]:
    """Print and return both functions' results at ``values``."""
    as_written, rewritten = compile_both([x], expr)
    plain, stable = as_written(values), rewritten(values)
    section(title)
    print("as written:  ", sg.pp(as_written))
    print("rewritten:   ", sg.pp(rewritten))
    print("rules fired: ", dict(rewritten.rewrites_applied))
    print(f"{'x':>12} {'as written':>24} {'rewritten':>24}")
    for v, p, s in zip(values, plain, stable):
        print(f"{v:>12.4g} {p:>24.17g} {s:>24.17g}")
    return plain, stable, rewritten


def count_exp(fn: sg.Function) -> int:
    """How many exps a compiled function's graph computes (inside fused loops too)."""
    count = 0
    for node in fn.maker.fgraph.apply_nodes:
        if isinstance(node.op, Elemwise):
            sop = node.op.scalar_op
            steps = [step for step, _ in sop.steps] if hasattr(sop, "steps") else [sop]
            count += sum(1 for step in steps if step.name == "exp")
    return count


x = T.dvector("x")

# ----------------------------------------------------------------------------------------
# log(1 + x): for |x| < 1e-16, 1 + x rounds to exactly 1 and the log is 0.
plain, stable, f = compare("log(1 + x) -> log1p(x)", T.log(1 + x), x, [1e-20, 1e-10, 1.0])
assert f.rewrites_applied["log_one_plus_to_log1p"] == 1
assert plain[0] == 0.0  # all digits lost
assert np.isclose(stable[0], 1e-20, rtol=1e-15, atol=0)  # log1p keeps them
assert np.allclose(plain[1:], stable[1:], rtol=1e-6)  # elsewhere the two agree

# ----------------------------------------------------------------------------------------
# exp(x) - 1: the same cancellation near 0.
plain, stable, f = compare("exp(x) - 1 -> expm1(x)", T.exp(x) - 1, x, [1e-20, 1e-10, 1.0])
assert f.rewrites_applied["exp_minus_one_to_expm1"] == 1
assert plain[0] == 0.0 and np.isclose(stable[0], 1e-20, rtol=1e-15, atol=0)

# ----------------------------------------------------------------------------------------
# The logistic function: exp(-x) overflows to inf for x < -709. Here the plain form
# survives only by luck (1 / inf = 0); the rewritten graph has no exp to overflow at all.
logistic = 1 / (1 + T.exp(-x))
plain, stable, f = compare("1 / (1 + exp(-x)) -> sigmoid(x)", logistic, x,
                           [-1000.0, -30.0, 0.0, 30.0])
assert f.rewrites_applied["logistic_to_sigmoid"] == 1
assert np.allclose(plain, stable, rtol=1e-12, atol=0)

# ... but take its log, as a cross-entropy does, and the difference is total:
# log(1 / (1 + exp(1000))) is log(0) = -inf as written, and -1000 after rewriting.
plain, stable, f = compare("log(1 / (1 + exp(-x))) -> -softplus(-x)", T.log(logistic), x,
                           [-1000.0, -30.0, 0.0])
assert f.rewrites_applied["logistic_to_sigmoid"] == 1
assert f.rewrites_applied["log_of_sigmoid_to_softplus"] == 1
assert plain[0] == -np.inf
assert stable[0] == -1000.0
assert np.allclose(plain[1:], stable[1:], rtol=1e-12)

# log(1 - sigmoid(x)) for large x: sigmoid(40) rounds to 1 and 1 - 1 = 0.
plain, stable, f = compare("log(1 - 1 / (1 + exp(-x))) -> -softplus(x)", T.log(1 - logistic), x,
                           [40.0, 1000.0, 0.0])
assert f.rewrites_applied["one_minus_sigmoid_to_sigmoid_neg"] == 1
assert plain[0] == -np.inf and np.isclose(stable[0], -40.0)
assert stable[1] == -1000.0

# log(1 + exp(x)) overflows for x > 709; softplus(x) does not.
plain, stable, f = compare("log(1 + exp(x)) -> softplus(x)", T.log(1 + T.exp(x)), x,
                           [1000.0, 10.0, -10.0])
assert f.rewrites_applied["log1p_of_exp_to_softplus"] == 1
assert plain[0] == np.inf and stable[0] == 1000.0
assert np.allclose(plain[1:], stable[1:], rtol=1e-12)

# ----------------------------------------------------------------------------------------
section("The whole story of one compilation: f.explain()")
_, f = compile_both([x], T.log(1 + T.exp(x)))
print(f.explain())

# ----------------------------------------------------------------------------------------
section("Optimizer levels: 'none', 'stabilize', 'fast_run'")
# 'stabilize' runs canonicalize and stabilize; 'fast_run' adds specialize, which
# replaces operations with cheaper equivalents, such as x ** 2 -> sqr(x), and fuse, which
# makes what is left of the elementwise chain one loop (printed as composite{...}).
expr = T.log(1 + x**2)
for level in ("none", "stabilize", "fast_run"):
    g = sg.compile_function([x], expr, mode=MODE, optimizer=level)
    rules = sorted(r for r in g.rewrites_applied if r not in ("merge", "constant_folding"))
    print(f"{level:>10}: {sg.pp(g):28s} {rules}")
    assert np.allclose(g([0.5, 2.0]), np.log1p(np.array([0.5, 2.0]) ** 2))
    if level == "none":
        assert not g.rewrites_applied
    if level == "stabilize":
        assert "log_one_plus_to_log1p" in rules and "pow_to_sqr_sqrt_reciprocal" not in rules
    if level == "fast_run":
        assert {"log_one_plus_to_log1p", "pow_to_sqr_sqrt_reciprocal"} <= set(rules)

# ----------------------------------------------------------------------------------------
section("Merging: a subexpression written twice is computed once")
y = T.exp(x) * 2 + T.exp(x) * 2  # two separate but identical subgraphs
as_written, rewritten = compile_both([x], y)
sg.debugprint(rewritten)
# After merging, exp(x) * 2 is one node (one [id], printed twice) that the fuse phase made
# a single loop, Elemwise{composite{exp,mul}}; the sum uses its result twice.
print(f"exp nodes: {count_exp(as_written)} as written, {count_exp(rewritten)} after rewriting; "
      f"merges: {rewritten.rewrites_applied['merge']}")
assert count_exp(as_written) == 2 and count_exp(rewritten) == 1
assert np.allclose(rewritten([0.0, 1.0]), as_written([0.0, 1.0]))

# ----------------------------------------------------------------------------------------
section("Gradients of unstable forms are stabilized too")
# T.grad differentiates the expression as written, so the gradient of the hand-written
# logistic contains exp(-x), which overflows at x = -1000 (inf / inf = NaN as written).
# The stability rewrites also recognise those gradient subgraphs, so the compiled
# gradient is finite; writing T.sigmoid gives the exact form directly.
values = [-1000.0, 0.0, 30.0]
by_hand = sg.compile_function([x], T.grad(logistic.sum(), x), mode=MODE)
with_sigmoid = sg.compile_function([x], T.grad(T.sigmoid(x).sum(), x), mode=MODE)
print("d/dx of 1 / (1 + exp(-x)) at", values, "->", by_hand(values))
print("d/dx of T.sigmoid(x)      at", values, "->", with_sigmoid(values))
assert np.allclose(with_sigmoid(values), [0.0, 0.25, np.exp(-30.0)], rtol=1e-6, atol=0)
assert np.allclose(by_hand(values), with_sigmoid(values), rtol=1e-6, atol=0)
# Moral: when you know you want sigmoid, softplus, log1p or expm1, write it.

print("\n04_graph_rewrites: all checks passed")
