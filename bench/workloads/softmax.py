"""W7: row softmax and sums over axis 0 / axis 1 of a (4000, 4000) float64 matrix.

Stresses: reductions along either axis (a column sum must stream rows, not stride down
columns) and a softmax that keeps each row in cache between its max, exp-sum and divide
passes. The limit is memory traffic measured in this run at the same size: softmax must
read the matrix and write one of the same size (a STREAM copy, 16 bytes per element); a
sum only reads it (the read kernel, 8 bytes per element).
Targets: softmax within 3x of its limit; each sum within 1.3x of its limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bench.workloads.context import Builder, Context, time_impls
from bench.workloads.result import Row, symgraph_impl

SHAPE = (4000, 4000)


def _numpy_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    result: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return result


def _cases() -> dict[str, dict[str, Callable[..., Any]]]:
    """Each case written for every framework (module first, then the matrix)."""
    return {
        "softmax": {
            "symgraph": lambda T, v: T.nnet.softmax(v),
            "numpy": _numpy_softmax,
            "pytensor": lambda pt, v: pt.special.softmax(v, axis=-1),
            "jax": lambda jax, v: jax.nn.softmax(v, axis=-1),
            "torch": lambda torch, v: torch.softmax(v, dim=-1),
        },
        "sum0": {
            "symgraph": lambda T, v: v.sum(axis=0),
            "numpy": lambda x: x.sum(axis=0),
            "pytensor": lambda pt, v: v.sum(axis=0),
            "jax": lambda jax, v: v.sum(axis=0),
            "torch": lambda torch, v: torch.sum(v, 0),
        },
        "sum1": {
            "symgraph": lambda T, v: v.sum(axis=1),
            "numpy": lambda x: x.sum(axis=1),
            "pytensor": lambda pt, v: v.sum(axis=1),
            "jax": lambda jax, v: v.sum(axis=1),
            "torch": lambda torch, v: torch.sum(v, 1),
        },
    }


def builders(ctx: Context, case: dict[str, Callable[..., Any]], x: np.ndarray
             ) -> dict[str, Builder]:
    out: dict[str, Builder] = {}
    for backend in ctx.backends:
        def build_symgraph(backend: str = backend) -> Any:
            import symgraph as sg
            import symgraph.tensor as T

            v = T.dmatrix("x")
            f = sg.compile_function([v], case["symgraph"](T, v), mode=backend)
            return lambda: f(x)
        out[symgraph_impl(backend)] = build_symgraph

    out["numpy"] = lambda: (lambda: case["numpy"](x))

    def build_pytensor() -> Any:
        import pytensor
        import pytensor.tensor as pt

        from bench.workloads.peers import pytensor_mode

        v = pt.dmatrix("x")
        f = pytensor.function([v], case["pytensor"](pt, v), mode=pytensor_mode())
        return lambda: f(x)
    out["pytensor"] = build_pytensor

    def build_jax() -> Any:
        from bench.workloads.peers import load_jax

        jax = load_jax()
        f = jax.jit(lambda v: case["jax"](jax, v))
        arg = jax.device_put(x)
        return lambda: f(arg).block_until_ready()
    out["jax"] = build_jax

    def build_torch(compiled: bool) -> Any:
        import torch

        def fn(v: Any) -> Any:
            return case["torch"](torch, v)
        f = torch.compile(fn) if compiled else fn
        arg = torch.from_numpy(x)
        return lambda: f(arg)
    out["torch"] = lambda: build_torch(False)
    out["torch.compile"] = lambda: build_torch(True)
    return out


def run(ctx: Context) -> list[Row]:
    rng = np.random.default_rng(7)
    x = rng.standard_normal(SHAPE)
    n = x.size
    machine = ctx.machine()
    copy_s = machine.kernel_seconds("copy", n)
    read_s = machine.kernel_seconds("read", n)
    specs = {
        "softmax": ("W7 softmax", "W7 row softmax, (4000,4000) float64", copy_s, 16, 3.0),
        "sum0": ("W7 sum0", "W7 sum over axis 0, (4000,4000) float64", read_s, 8, 1.3),
        "sum1": ("W7 sum1", "W7 sum over axis 1, (4000,4000) float64", read_s, 8, 1.3),
    }
    rows = []
    for name, case in _cases().items():
        key, label, limit, bytes_per_element, factor = specs[name]
        row = Row(key=key, label=label, target=f"<= {factor:g}x limit", limit=limit,
                  limit_note=f"{bytes_per_element * n / 1e6:.0f} MB at "
                             f"{bytes_per_element * n / limit / 1e9:.1f} GB/s")
        expected = case["numpy"](x)

        def check(impl: str, out: Any, expected: np.ndarray = expected) -> str | None:
            got = np.asarray(out)
            ok = got.shape == expected.shape and np.allclose(got, expected, rtol=1e-10, atol=1e-12)
            return None if ok else "wrong result"

        time_impls(ctx, row, builders(ctx, case, x), check)
        for backend in ctx.backends:
            impl = symgraph_impl(backend)
            t = row.values.get(impl)
            row.met[impl] = t is not None and not row.notes.get(impl) and t <= factor * limit
        rows.append(row)
    return rows
