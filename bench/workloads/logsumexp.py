"""W5: ``log(sum(exp(z), 1))`` written naively, (1000, 1000) float64 with ``abs(z) <= 1e3``.

Stresses: the stability rewrites (the expression overflows as written: ``exp(1000)`` is
inf) and the speed of what they produce. Each implementation runs the expression exactly
as written; the result is checked against ``scipy.special.logsumexp`` (finite and within
1e-9 relative). The cell shows the time and whether the result is finite and correct.
Target: symgraph finite and correct, and no slower than 2x the fastest peer's time for the
same expression (the peers' results are usually inf).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.workloads.context import Builder, Context, time_impls
from bench.workloads.result import Row, symgraph_impl

SHAPE = (1000, 1000)


def builders(ctx: Context, z: np.ndarray, detail: dict[str, Any]) -> dict[str, Builder]:
    out: dict[str, Builder] = {}
    for backend in ctx.backends:
        def build_symgraph(backend: str = backend) -> Any:
            import symgraph as sg
            import symgraph.tensor as T

            zv = T.dmatrix("z")
            f = sg.compile_function([zv], T.log(T.sum(T.exp(zv), 1)), mode=backend)
            detail[f"{symgraph_impl(backend)} rewrites"] = dict(f.rewrites_applied)
            return lambda: f(z)
        out[symgraph_impl(backend)] = build_symgraph

    def numpy_fn() -> Any:
        with np.errstate(over="ignore"):
            return np.log(np.sum(np.exp(z), 1))
    out["numpy"] = lambda: numpy_fn

    def build_pytensor() -> Any:
        import pytensor
        import pytensor.tensor as pt

        from bench.workloads.peers import pytensor_mode

        zv = pt.dmatrix("z")
        f = pytensor.function([zv], pt.log(pt.sum(pt.exp(zv), 1)), mode=pytensor_mode())
        return lambda: f(z)
    out["pytensor"] = build_pytensor

    def build_jax() -> Any:
        from bench.workloads.peers import load_jax

        jax = load_jax()
        jnp = jax.numpy
        f = jax.jit(lambda v: jnp.log(jnp.sum(jnp.exp(v), 1)))
        arg = jax.device_put(z)
        return lambda: f(arg).block_until_ready()
    out["jax"] = build_jax

    def build_torch(compiled: bool) -> Any:
        import torch

        def fn(v: Any) -> Any:
            return torch.log(torch.sum(torch.exp(v), 1))
        f = torch.compile(fn) if compiled else fn
        arg = torch.from_numpy(z)
        return lambda: f(arg)
    out["torch"] = lambda: build_torch(False)
    out["torch.compile"] = lambda: build_torch(True)
    return out


def run(ctx: Context) -> list[Row]:
    from scipy.special import logsumexp

    rng = np.random.default_rng(5)
    z = rng.uniform(-1e3, 1e3, SHAPE)
    expected = logsumexp(z, axis=1)
    row = Row(key="W5", label="W5 `log(sum(exp(z),1))` as written, (1000,1000), abs(z) <= 1e3",
              target="finite and correct, <= 2x fastest peer")
    correct: dict[str, bool] = {}

    def check(impl: str, out: Any) -> str | None:
        got = np.asarray(out, dtype=np.float64)
        if got.shape != expected.shape:
            correct[impl] = False
            return f"wrong shape {got.shape}"
        finite = bool(np.all(np.isfinite(got)))
        correct[impl] = finite and bool(np.allclose(got, expected, rtol=1e-9, atol=0))
        if correct[impl]:
            return "finite, correct"
        return "finite, wrong" if finite else "inf/nan"

    time_impls(ctx, row, builders(ctx, z, row.detail), check)
    fastest = row.fastest_peer()
    for backend in ctx.backends:
        impl = symgraph_impl(backend)
        t = row.values.get(impl)
        if t is None or not correct.get(impl):
            row.met[impl] = False
        elif fastest is None:
            row.met[impl] = None
        else:
            row.met[impl] = t <= 2 * fastest[1]
        if f"{impl} rewrites" in row.detail:
            fired = ", ".join(row.detail[f"{impl} rewrites"]) or "none"
            row.detail["note"] = f"{impl} rewrites applied: {fired}"
    return [row]
