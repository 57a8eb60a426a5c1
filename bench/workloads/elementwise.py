"""W1: a fused elementwise expression, ``exp(x)*sin(y)+log1p(z*z)-tanh(x*y)``, float64.

Stresses: fusion into one loop (three reads, one write), vectorized transcendental math and
OpenMP across cores. The memory-traffic limit is one pass of a 3-input STREAM kernel
(``out = x + y*z``, 32 bytes per element) at the same size, measured in this run; the
transcendental math, not the traffic, is what really bounds this expression.
Target: at least 3x faster than the fastest peer and at least 10x faster than NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.workloads.context import Builder, Context, time_impls
from bench.workloads.result import Row, symgraph_impl

EXPRESSION = "exp(x)*sin(y)+log1p(z*z)-tanh(x*y)"
SIZES = (10 ** 6, 10 ** 7)


def _inputs(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.uniform(-2.0, 2.0, n) for _ in range(3)]


def _reference(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    return np.exp(x) * np.sin(y) + np.log1p(z * z) - np.tanh(x * y)


def builders(ctx: Context, xs: list[np.ndarray], detail: dict[str, Any]) -> dict[str, Builder]:
    """One builder per implementation of W1 on the arrays ``xs``."""
    out: dict[str, Builder] = {}
    for backend in ctx.backends:
        def build_symgraph(backend: str = backend) -> Any:
            import symgraph as sg
            import symgraph.tensor as T

            x, y, z = T.dvectors("x", "y", "z")
            f = sg.compile_function([x, y, z], T.exp(x) * T.sin(y) + T.log1p(z * z)
                                    - T.tanh(x * y), mode=backend)
            detail[f"{symgraph_impl(backend)} nodes"] = [str(node.op) for node in
                                                         f.maker.fgraph.toposort()]
            return lambda: f(*xs)
        out[symgraph_impl(backend)] = build_symgraph

    out["numpy"] = lambda: (lambda: _reference(*xs))

    def build_pytensor() -> Any:
        import pytensor
        import pytensor.tensor as pt

        from bench.workloads.peers import pytensor_mode

        x, y, z = pt.dvectors("x", "y", "z")
        f = pytensor.function([x, y, z], pt.exp(x) * pt.sin(y) + pt.log1p(z * z)
                              - pt.tanh(x * y), mode=pytensor_mode())
        return lambda: f(*xs)
    out["pytensor"] = build_pytensor

    def build_jax() -> Any:
        from bench.workloads.peers import load_jax

        jax = load_jax()
        jnp = jax.numpy
        f = jax.jit(lambda x, y, z: jnp.exp(x) * jnp.sin(y) + jnp.log1p(z * z) - jnp.tanh(x * y))
        args = [jax.device_put(a) for a in xs]
        return lambda: f(*args).block_until_ready()
    out["jax"] = build_jax

    def torch_fn() -> tuple[Any, list[Any]]:
        import torch

        def fn(x: Any, y: Any, z: Any) -> Any:
            return torch.exp(x) * torch.sin(y) + torch.log1p(z * z) - torch.tanh(x * y)
        return fn, [torch.from_numpy(a) for a in xs]

    def build_torch() -> Any:
        fn, args = torch_fn()
        return lambda: fn(*args)
    out["torch"] = build_torch

    def build_torch_compile() -> Any:
        import torch

        fn, args = torch_fn()
        compiled = torch.compile(fn)
        return lambda: compiled(*args)
    out["torch.compile"] = build_torch_compile
    return out


def run(ctx: Context) -> list[Row]:
    rows = []
    sizes = SIZES
    for n in sizes:
        size = f"1e{len(str(n)) - 1}"
        key = "W1" if n == SIZES[0] else f"W1 n={size}"
        row = Row(key=key, label=f"W1 `{EXPRESSION}`, {size} float64",
                  target=">= 10x NumPy and >= 3x fastest peer")
        machine = ctx.machine()
        row.limit = machine.kernel_seconds("triad3", n)
        row.limit_note = f"{32 * n / 1e6:.0f} MB at {32 * n / row.limit / 1e9:.1f} GB/s"
        xs = _inputs(n)
        expected = _reference(*xs)

        def check(impl: str, out: Any, expected: np.ndarray = expected) -> str | None:
            got = np.asarray(out)
            if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-10,
                                                              atol=1e-12):
                return "wrong result"
            return None

        time_impls(ctx, row, builders(ctx, xs, row.detail), check)
        row.detail["note"] = "; ".join(
            f"{impl}: {len(row.detail[f'{impl} nodes'])} node(s) after rewriting"
            for impl in map(symgraph_impl, ctx.backends) if f"{impl} nodes" in row.detail)
        fastest = row.fastest_peer()
        for backend in ctx.backends:
            impl = symgraph_impl(backend)
            t = row.values.get(impl)
            numpy_t = row.values.get("numpy")
            if t is None or row.notes.get(impl):
                row.met[impl] = False
            elif numpy_t is None or fastest is None:
                row.met[impl] = None
            else:
                row.met[impl] = numpy_t / t >= 10 and fastest[1] / t >= 3
        rows.append(row)
    return rows
