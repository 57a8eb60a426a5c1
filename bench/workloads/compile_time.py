"""W4: compiling the W2 step, cold (new process, empty cache) and warm (new process, cache hit).

Stresses: the rewrite pipeline, code generation and gcc (cold), and the on-disk cache lookup
and library load (warm). Each figure is the time from just before the compile call
(``compile_function``, ``jax.jit``, ``pytensor.function``, ``torch.compile``) to the return
of the first call, measured inside a fresh Python process whose cache directory is a new
empty folder (symgraph: ``SYMGRAPH_FLAGS=compiledir=...``; JAX: its persistent compilation
cache; PyTensor: ``base_compiledir``; inductor: ``TORCHINDUCTOR_CACHE_DIR``). The warm
figure is a second process on the same folder. Imports are not timed.
Targets: cold no slower than JAX's cold compile, warm at most 100 ms.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from bench.workloads.context import Context
from bench.workloads.result import Row, format_value, symgraph_impl
from bench.workloads.timing import run_python

WARM_TARGET_S = 0.1

_SYMGRAPH = """
import json, time, warnings
warnings.simplefilter("ignore")
import symgraph as sg
from bench.workloads.mlp import initial_state, symgraph_step_graph
state = initial_state()
inputs, loss, updates = symgraph_step_graph(state)
start = time.perf_counter()
f = sg.compile_function(inputs, loss, updates=updates, mode={backend!r})
f(state["x"], state["y"])
seconds = time.perf_counter() - start
phases = dict(f.maker.rewrite_log.phase_times)
print(json.dumps({{"seconds": seconds, "rewrite_s": sum(phases.values()), "phases_s": phases}}))
"""

_JAX = """
import json, time, warnings
warnings.simplefilter("ignore")
from bench.workloads.peers import load_jax
jax = load_jax()
jax.config.update("jax_compilation_cache_dir", {cache!r})
for option in ("jax_persistent_cache_min_compile_time_secs",
               "jax_persistent_cache_min_entry_size_bytes"):
    try:
        jax.config.update(option, 0)
    except (AttributeError, KeyError, ValueError):
        pass
jax.devices()  # start the CPU client: part of importing, not of compiling
from bench.workloads.mlp import initial_state, _jax_step
state = initial_state()
start = time.perf_counter()
_jax_step(state)()
print(json.dumps({{"seconds": time.perf_counter() - start}}))
"""

_PYTENSOR = """
import json, time, warnings
warnings.simplefilter("ignore")
import pytensor, pytensor.tensor
from bench.workloads.mlp import initial_state, _pytensor_step
state = initial_state()
start = time.perf_counter()
_pytensor_step(state)()
print(json.dumps({{"seconds": time.perf_counter() - start}}))
"""

_TORCH_COMPILE = """
import json, time, warnings
warnings.simplefilter("ignore")
import torch
from bench.workloads.mlp import initial_state, _torch_step
state = initial_state()
start = time.perf_counter()
_torch_step(state, compiled=True)()
print(json.dumps({{"seconds": time.perf_counter() - start}}))
"""


def _symgraph_flags(compiledir: str) -> str:
    """The user's SYMGRAPH_FLAGS with ``compiledir`` replaced."""
    kept = [part for part in os.environ.get("SYMGRAPH_FLAGS", "").split(",")
            if part.strip() and not part.strip().startswith("compiledir=")]
    return ",".join([*kept, f"compiledir={compiledir}"])


def _child(impl: str, cache: str) -> tuple[str, dict[str, str]]:
    """(program, environment overrides) that compile the W2 step for ``impl`` once."""
    if impl.startswith("symgraph["):
        backend = impl[len("symgraph["):-1]
        return _SYMGRAPH.format(backend=backend), {"SYMGRAPH_FLAGS": _symgraph_flags(cache)}
    if impl == "jax":
        return _JAX.format(cache=cache), {}
    if impl == "pytensor":
        flags = os.environ.get("PYTENSOR_FLAGS", "")
        return _PYTENSOR.format(), {
            "PYTENSOR_FLAGS": ",".join(p for p in (flags, f"base_compiledir={cache}") if p)}
    if impl == "torch.compile":
        return _TORCH_COMPILE.format(), {"TORCHINDUCTOR_CACHE_DIR": cache}
    raise KeyError(impl)


def run(ctx: Context) -> list[Row]:
    cold = Row(key="W4 cold", label="W4 compile the W2 step, cold (new process, empty cache)",
               target="<= JAX's cold compile")
    warm = Row(key="W4 warm", label="W4 compile the W2 step, warm (new process, cache hit)",
               target="<= 100 ms")
    impls = [i for i in ctx.impls if i.startswith("symgraph[") or i in
             ("jax", "pytensor", "torch.compile")]
    for impl in impls:
        with tempfile.TemporaryDirectory(prefix="cache_", dir=ctx.scratch) as cache:
            program, env = _child(impl, cache)
            for row in (cold, warm):
                try:
                    result: dict[str, Any] = run_python(program, env=env,
                                                        timeout=ctx.child_timeout_s)
                except (RuntimeError, TimeoutError) as exc:
                    ctx.record_error(row, impl, exc)
                    continue
                row.values[impl] = result["seconds"]
                row.detail[impl] = result
                if "rewrite_s" in result:
                    row.detail["note"] = (f"{impl}: rewrite phases {result['rewrite_s']:.2f} s "
                                          f"of {result['seconds']:.2f} s")
                ctx.log(f"{row.key} {impl}: {format_value(result['seconds'], 's')}")
    for backend in ctx.backends:
        impl = symgraph_impl(backend)
        mine_cold, jax_cold = cold.values.get(impl), cold.values.get("jax")
        cold.met[impl] = (False if mine_cold is None else
                          None if jax_cold is None else mine_cold <= jax_cold)
        mine_warm = warm.values.get(impl)
        warm.met[impl] = mine_warm is not None and mine_warm <= WARM_TARGET_S
    return [cold, warm]
