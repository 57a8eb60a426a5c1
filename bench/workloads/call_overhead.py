"""W3: the cost of calling a tiny compiled function, ``x*2+1`` on a float64 scalar.

Stresses: everything on the Python side of a call (argument checks and conversion, pointer
marshalling, output wrapping), since the arithmetic itself takes nanoseconds. Two rows:
the default call with a Python float (safe argument checks), and the ``trust_input`` fast
path (``f.trust_input = True``, the caller passes a float64 0-d array) when the Function
has that attribute. NumPy's figure is the eager expression on a 0-d array.
Targets: at most 2 µs per default call, at most 1 µs through ``trust_input``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.workloads.context import Builder, Context, time_impls
from bench.workloads.result import Row, symgraph_impl

DEFAULT_TARGET_S = 2e-6
TRUSTED_TARGET_S = 1e-6


def _symgraph_function(backend: str) -> Any:
    import symgraph as sg
    import symgraph.tensor as T

    x = T.dscalar("x")
    return sg.compile_function([x], x * 2 + 1, mode=backend)


def _pytensor_function() -> Any:
    import pytensor
    import pytensor.tensor as pt

    from bench.workloads.peers import pytensor_mode

    x = pt.dscalar("x")
    return pytensor.function([x], x * 2 + 1, mode=pytensor_mode())


def _check(impl: str, out: Any) -> str | None:
    return None if float(np.asarray(out)) == 3.0 else f"returned {out!r}"


def _peer_builders(trusted: bool) -> dict[str, Builder]:
    array = np.array(1.0)

    def build_pytensor() -> Any:
        f = _pytensor_function()
        if trusted:
            f.trust_input = True
            return lambda: f(array)
        return lambda: f(1.0)

    def build_jax() -> Any:
        from bench.workloads.peers import load_jax

        jax = load_jax()
        f = jax.jit(lambda x: x * 2 + 1)
        arg = jax.device_put(array) if trusted else 1.0
        return lambda: f(arg).block_until_ready()

    def build_torch(compiled: bool) -> Any:
        import torch

        tensor = torch.tensor(1.0, dtype=torch.float64)

        def fn(x: Any) -> Any:
            return x * 2 + 1
        f = torch.compile(fn) if compiled else fn
        return lambda: f(tensor)

    return {
        "numpy": lambda: (lambda: array * 2 + 1),
        "pytensor": build_pytensor,
        "jax": build_jax,
        "torch": lambda: build_torch(False),
        "torch.compile": lambda: build_torch(True),
    }


def run(ctx: Context) -> list[Row]:
    default = Row(key="W3", label="W3 call of `x*2+1` on a scalar, default call",
                  target="<= 2 µs")
    trusted = Row(key="W3 trusted", label="W3 call of `x*2+1`, `trust_input` fast path",
                  target="<= 1 µs")
    default_builders = _peer_builders(trusted=False)
    trusted_builders = _peer_builders(trusted=True)
    array = np.array(1.0)
    for backend in ctx.backends:
        impl = symgraph_impl(backend)

        def build_default(backend: str = backend) -> Any:
            f = _symgraph_function(backend)
            return lambda: f(1.0)
        default_builders[impl] = build_default

        def build_trusted(backend: str = backend) -> Any:
            f = _symgraph_function(backend)
            f.trust_input = True
            return lambda: f(array)
        try:
            has_fast_path = hasattr(_symgraph_function(backend), "trust_input")
        except Exception:  # noqa: BLE001 (the default row reports the compile error)
            has_fast_path = True
        if has_fast_path:
            trusted_builders[impl] = build_trusted
        else:
            trusted.notes[impl] = "n/a (Function has no trust_input)"

    time_impls(ctx, default, default_builders, _check)
    time_impls(ctx, trusted, trusted_builders, _check)
    for row, limit in ((default, DEFAULT_TARGET_S), (trusted, TRUSTED_TARGET_S)):
        for backend in ctx.backends:
            impl = symgraph_impl(backend)
            t = row.values.get(impl)
            row.met[impl] = t is not None and not row.notes.get(impl) and t <= limit
    return [default, trusted]
