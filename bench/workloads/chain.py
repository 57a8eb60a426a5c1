"""W6: compile time of a chain of N elementwise ops plus its gradient, for growing N.

The chain is ``bench/rewrite_scaling.py``'s: ``y = f_N(... f_1(x))`` with f cycling through
tanh, sin, ``*1.5``, ``+0.5``, exp; the compiled outputs are ``sum(y)`` and its gradient.
Stresses: how the rewrite engine, the scheduler, code generation and gcc scale with graph
size. Each N runs in a new process with an empty cache (symgraph: ``compile_function``,
gcc included; JAX: ``jax.jit(jax.value_and_grad(...)).lower(x).compile()``, tracing
included). Each implementation gets a time budget (``--w6-budget``); once a size runs past
what is left, the larger sizes are skipped and reported as such.
Targets: linear in N (log-log slope of time against N at most 1.15), N=1000 under 2 s and
N=10000 under 20 s.
"""

from __future__ import annotations

import math
import tempfile
from typing import Any

from bench.workloads.compile_time import _symgraph_flags
from bench.workloads.context import Context
from bench.workloads.result import Row, format_value, symgraph_impl
from bench.workloads.timing import run_python

#: N -> the most seconds symgraph may take (the issue's targets)
SIZE_TARGETS_S = {1000: 2.0, 10000: 20.0}
MAX_LINEAR_SLOPE = 1.15
#: seconds a child may spend starting Python and importing before it compiles
_STARTUP_S = 30.0

_SYMGRAPH = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20 * {n} + 1000))
import symgraph as sg
import symgraph.tensor as T
from bench.rewrite_scaling import STEPS
start = time.perf_counter()
x = T.dvector("x")
y = x
for i in range({n}):
    y = STEPS[i % len(STEPS)](y)
cost = y.sum()
grad = T.grad(cost, x)
built = time.perf_counter()
f = sg.compile_function([x], [cost, grad], mode={backend!r})
done = time.perf_counter()
phases = dict(f.maker.rewrite_log.phase_times)
print(json.dumps({{"build_s": built - start, "compile_s": done - built,
                  "nodes": f.maker.user_fgraph_size, "nodes_after": len(f.maker.fgraph.apply_nodes),
                  "rewrite_s": sum(phases.values()), "phases_s": phases}}))
"""

_JAX = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20 * {n} + 1000))
from bench.workloads.peers import load_jax
jax = load_jax()
jnp = jax.numpy
steps = [jnp.tanh, jnp.sin, lambda v: v * 1.5, lambda v: v + 0.5, jnp.exp]

def cost(x):
    y = x
    for i in range({n}):
        y = steps[i % len(steps)](y)
    return y.sum()

x = jnp.ones(16)
jax.devices()
start = time.perf_counter()
jax.jit(jax.value_and_grad(cost)).lower(x).compile()
print(json.dumps({{"compile_s": time.perf_counter() - start}}))
"""


def _program(impl: str, n: int, cache: str) -> tuple[str, dict[str, str]]:
    if impl.startswith("symgraph["):
        backend = impl[len("symgraph["):-1]
        return _SYMGRAPH.format(n=n, backend=backend), {"SYMGRAPH_FLAGS": _symgraph_flags(cache)}
    return _JAX.format(n=n), {}


def loglog_slope(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of log(seconds) against log(N); 1 means linear."""
    if len(points) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(max(t, 1e-9)) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((a - mx) ** 2 for a in xs)
    return sum((a - mx) * (b - my) for a, b in zip(xs, ys)) / var if var else None


def run(ctx: Context) -> list[Row]:
    impls = [i for i in ctx.impls if i.startswith("symgraph[") or i == "jax"]
    rows = {n: Row(key=f"W6 N={n}", label=f"W6 chain of N={n} elementwise ops + grad, compile",
                   target=(f"<= {SIZE_TARGETS_S[n]:g} s" if n in SIZE_TARGETS_S else "linear in N"))
            for n in ctx.w6_sizes}
    points: dict[str, list[tuple[int, float]]] = {impl: [] for impl in impls}
    for impl in impls:
        left = ctx.w6_budget_s
        stopped_at: int | None = None
        for n in ctx.w6_sizes:
            row = rows[n]
            if stopped_at is not None:
                row.notes[impl] = "skipped"
                continue
            if left <= 0:
                row.notes[impl] = "skipped (budget spent)"
                stopped_at = n
                continue
            with tempfile.TemporaryDirectory(prefix="cache_", dir=ctx.scratch) as cache:
                program, env = _program(impl, n, cache)
                try:
                    result: dict[str, Any] = run_python(program, env=env,
                                                        timeout=left + _STARTUP_S)
                except TimeoutError:
                    row.notes[impl] = f"> {left:.0f} s (budget)"
                    ctx.log(f"{row.key} {impl}: past the budget ({left:.0f} s left)")
                    stopped_at = n
                    continue
                except RuntimeError as exc:
                    ctx.record_error(row, impl, exc)
                    stopped_at = n
                    continue
            seconds = result["compile_s"]
            left -= seconds
            row.values[impl] = seconds
            row.detail[impl] = result
            points[impl].append((n, seconds))
            ctx.log(f"{row.key} {impl}: {format_value(seconds, 's')}")
            if "rewrite_s" in result:
                row.detail["note"] = (f"{impl}: {result['nodes']} nodes as written, "
                                      f"{result['nodes_after']} after rewriting; rewrite phases "
                                      f"{result['rewrite_s']:.2f} s of {seconds:.2f} s")

    linear = Row(key="W6 linear", label="W6 compile time per chain op (largest N measured)",
                 target=f"linear: log-log slope <= {MAX_LINEAR_SLOPE}")
    for impl in impls:
        if points[impl]:
            n_max, t_max = points[impl][-1]
            linear.values[impl] = t_max / n_max
            slope = loglog_slope(points[impl])
            linear.notes[impl] = (f"N={n_max}, slope {slope:.2f}" if slope is not None
                                  else f"N={n_max}")
            linear.detail[impl] = {"points": points[impl], "slope": slope}
    for backend in ctx.backends:
        impl = symgraph_impl(backend)
        for n, row in rows.items():
            t = row.values.get(impl)
            if n in SIZE_TARGETS_S:
                row.met[impl] = t is not None and t <= SIZE_TARGETS_S[n]
            else:
                row.met[impl] = None
        slope = linear.detail.get(impl, {}).get("slope")
        timed_out = any(rows[n].notes.get(impl) for n in rows)
        linear.met[impl] = (False if timed_out else
                            None if slope is None else slope <= MAX_LINEAR_SLOPE)
        if slope is not None:
            linear.verdict[impl] = f"slope {slope:.2f}"
    return [*rows.values(), linear]
