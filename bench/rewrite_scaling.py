"""Rewrite time against graph size: a chain of N elementwise ops plus its gradient.

The rewrite engine is worklist driven (no full re-sort per change) and rules that
flatten sums and products do so once per tree, so the time per node should stay about
constant as N grows. This script builds, for each N, the chain

    y = f_N(... f_2(f_1(x)))     with f cycling through tanh, sin, *1.5, +0.5, exp
    cost = sum(y); g = grad(cost, x)

puts ``[cost, g]`` in a FunctionGraph and times ``rewrite_graph(fgraph, 'fast_run')``,
phase by phase.

Run: ``python bench/rewrite_scaling.py`` (N = 100, 1000, 10000), or give sizes:
``python bench/rewrite_scaling.py 100 3000``; ``--skip fuse`` leaves a phase out.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import symgraph.tensor as T
from symgraph.graph.fgraph import FunctionGraph
from symgraph.rewrite.engine import RewriteLog, run_phase
from symgraph.rewrite.pipeline import phases_for

STEPS: list[Callable[[Any], Any]] = [T.tanh, T.sin, lambda v: v * 1.5, lambda v: v + 0.5, T.exp]


def chain_with_gradient(n: int) -> FunctionGraph:
    """The FunctionGraph of a chain of ``n`` elementwise ops and of its gradient."""
    x = T.dvector("x")
    y = x
    for i in range(n):
        y = STEPS[i % len(STEPS)](y)
    cost = y.sum()
    return FunctionGraph([x], [cost, T.grad(cost, x)])


def measure(n: int, skip: Sequence[str] = ()) -> dict[str, Any]:
    """Rewrite the chain of size ``n`` (the 'fast_run' phases but ``skip``); return sizes,
    per-phase seconds and the total."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * n + 1000))
    fgraph = chain_with_gradient(n)
    before = len(fgraph.apply_nodes)
    log = RewriteLog()
    start = time.perf_counter()
    for phase in phases_for("fast_run"):
        if phase.name not in skip:
            run_phase(fgraph, phase.name, phase.rules, log)
    total = time.perf_counter() - start
    return {
        "n": n, "before": before, "after": len(fgraph.apply_nodes), "total": total,
        "phases": dict(log.phase_times), "stops": dict(log.stop_reasons),
    }


def table(results: Sequence[dict[str, Any]]) -> str:
    phases = list(results[0]["phases"])
    head = f"{'N':>7} {'nodes':>7} {'after':>6} " + " ".join(f"{p[:12]:>12}" for p in phases)
    head += f" {'total s':>9} {'us/node':>8}"
    lines = [head, "-" * len(head)]
    for r in results:
        cells = " ".join(f"{r['phases'].get(p, 0.0):>12.3f}" for p in phases)
        per_node = 1e6 * r["total"] / r["before"]
        sizes = f"{r['n']:>7} {r['before']:>7} {r['after']:>6}"
        lines.append(f"{sizes} {cells} {r['total']:>9.3f} {per_node:>8.1f}")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> None:
    args = list(argv)
    skip = []
    while "--skip" in args:
        at = args.index("--skip")
        skip.append(args[at + 1])
        del args[at:at + 2]
    sizes = [int(a) for a in args] or [100, 1000, 10000]
    measure(50, skip)  # warm up: imports, dispatch caches
    results = []
    for n in sizes:
        results.append(measure(n, skip))
        print(f"N={n}: {results[-1]['total']:.3f} s", flush=True)
    print()
    print("rewrite time (seconds per phase) for a chain of N elementwise ops plus its gradient")
    print(table(results))
    stops = {r["n"]: r["stops"] for r in results}
    if any(reason != "fixpoint" for s in stops.values() for reason in s.values()):
        print("phases stopped early:", stops)


if __name__ == "__main__":
    main(sys.argv[1:])
