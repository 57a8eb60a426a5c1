"""W2: one SGD step of a 784-500-10 tanh MLP, batch 256, float32, as one compiled function.

Stresses: BLAS calls (five GEMMs: two forward, three backward), bias/activation fused around
them, transposes folded into BLAS flags, buffers reused across calls and in-place updates of
the shared weights. The limit is the step's GEMM FLOPs at the sgemm peak measured in this
run (the "GEMM bound"); everything else in the step is overhead on top of it.
Targets: at most 0.65x the fastest peer's step time, within 1.6x of the GEMM bound, and a
peak RSS of the step at most 1.2x NumPy's (measured in a new process per implementation).

Every implementation is the same step written the natural way for its framework: NumPy by
hand, PyTensor ``function`` with ``updates``, ``jax.jit`` of a step that returns the new
parameters (donated), PyTorch eager with ``autograd.grad`` and in-place updates, and
``torch.compile`` of that step.
"""

from __future__ import annotations

import resource
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.workloads.context import Builder, Context, time_impls
from bench.workloads.result import Row, symgraph_impl
from bench.workloads.timing import measure, run_python

BATCH, N_IN, N_HIDDEN, N_OUT = 256, 784, 500, 10
LR = np.float32(0.01)
#: x@W1, h@W2 forward; h.T@d, d@W2.T, x.T@dh backward
GEMM_FLOPS = 2 * BATCH * (2 * N_IN * N_HIDDEN + 3 * N_HIDDEN * N_OUT)
RSS_STEPS = 20


def initial_state() -> dict[str, np.ndarray]:
    """The batch, its labels and the initial weights (the same for every implementation)."""
    rng = np.random.default_rng(1)
    return {
        "x": rng.standard_normal((BATCH, N_IN)).astype(np.float32),
        "y": rng.integers(0, N_OUT, size=BATCH).astype(np.int32),
        "W1": (rng.standard_normal((N_IN, N_HIDDEN)) * 0.01).astype(np.float32),
        "b1": np.zeros(N_HIDDEN, np.float32),
        "W2": (rng.standard_normal((N_HIDDEN, N_OUT)) * 0.01).astype(np.float32),
        "b2": np.zeros(N_OUT, np.float32),
    }


def reference_loss(state: dict[str, np.ndarray]) -> float:
    """The loss at the initial weights, in float64."""
    x, y = state["x"].astype(np.float64), state["y"]
    h = np.tanh(x @ state["W1"] + state["b1"])
    logits = h @ state["W2"] + state["b2"]
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(BATCH), y].mean())


def symgraph_step_graph(state: dict[str, np.ndarray]) -> tuple[list[Any], Any, list[Any]]:
    """([x, y], loss, updates) of the symgraph step, with the weights as shared variables."""
    import symgraph as sg
    import symgraph.tensor as T

    params = [sg.shared(state[name].copy(), name=name) for name in ("W1", "b1", "W2", "b2")]
    W1, b1, W2, b2 = params
    x = T.fmatrix("x")
    y = T.ivector("y")
    hidden = T.tanh(T.dot(x, W1) + b1)
    prob = T.nnet.softmax(T.dot(hidden, W2) + b2)
    loss = T.nnet.categorical_crossentropy(prob, y).mean()
    grads = T.grad(loss, params)
    updates = [(p, p - LR * g) for p, g in zip(params, grads)]
    return [x, y], loss, updates


def _symgraph_step(state: dict[str, np.ndarray], backend: str,
                   detail: dict[str, Any] | None = None) -> Callable[[], Any]:
    import symgraph as sg

    inputs, loss, updates = symgraph_step_graph(state)
    f = sg.compile_function(inputs, loss, updates=updates, mode=backend)
    if detail is not None:
        runner = f.maker.runner
        detail[f"{symgraph_impl(backend)} python_nodes"] = [
            str(node.op) for node in getattr(runner, "python_nodes", [])]
        detail[f"{symgraph_impl(backend)} nodes"] = len(f.maker.fgraph.apply_nodes)
    x, y = state["x"], state["y"]
    return lambda: f(x, y)


def _symgraph_gemms(state: dict[str, np.ndarray], backend: str) -> Callable[[], Any]:
    """The step's five matrix products alone, as one compiled function with the step's
    shapes and layouts (the transposed operands as views): the part of W2 that BLAS bounds."""
    import symgraph as sg
    import symgraph.tensor as T

    x, h, d, dh = T.fmatrix("x"), T.fmatrix("h"), T.fmatrix("d"), T.fmatrix("dh")
    W1, W2 = T.fmatrix("W1"), T.fmatrix("W2")
    products = [T.dot(x, W1), T.dot(h, W2), T.dot(d, W2.T), T.dot(h.T, d), T.dot(x.T, dh)]
    f = sg.compile_function([x, W1, h, W2, d, dh], products, mode=backend)
    rng = np.random.default_rng(3)
    args = [state["x"], state["W1"], rng.standard_normal((BATCH, N_HIDDEN)).astype("float32"), state["W2"],
            rng.standard_normal((BATCH, N_OUT)).astype("float32"),
            rng.standard_normal((BATCH, N_HIDDEN)).astype("float32")]
    return lambda: f(*args)


def _numpy_step(state: dict[str, np.ndarray]) -> Callable[[], Any]:
    x, y = state["x"], state["y"]
    W1, b1, W2, b2 = (state[name].copy() for name in ("W1", "b1", "W2", "b2"))
    rows = np.arange(BATCH)

    def step() -> np.floating:
        h = np.tanh(x @ W1 + b1)
        logits = h @ W2 + b2
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        prob = e / e.sum(axis=1, keepdims=True)
        loss = -np.log(prob[rows, y]).mean()
        d = prob
        d[rows, y] -= 1
        d /= BATCH
        g_W2 = h.T @ d
        g_b2 = d.sum(axis=0)
        dh = (d @ W2.T) * (1 - h * h)
        g_W1 = x.T @ dh
        g_b1 = dh.sum(axis=0)
        # in place, as the compiled steps update their shared weights
        for param, grad in ((W1, g_W1), (b1, g_b1), (W2, g_W2), (b2, g_b2)):
            param -= LR * grad
        return loss
    return step


def _pytensor_step(state: dict[str, np.ndarray]) -> Callable[[], Any]:
    import pytensor
    import pytensor.tensor as pt

    from bench.workloads.peers import pytensor_mode

    params = [pytensor.shared(state[name].copy(), name=name) for name in ("W1", "b1", "W2", "b2")]
    W1, b1, W2, b2 = params
    x = pt.fmatrix("x")
    y = pt.ivector("y")
    hidden = pt.tanh(x @ W1 + b1)
    prob = pt.special.softmax(hidden @ W2 + b2, axis=-1)
    loss = -pt.mean(pt.log(prob)[pt.arange(y.shape[0]), y])
    grads = pytensor.grad(loss, params)
    lr = pt.constant(LR)
    f = pytensor.function([x, y], loss, updates=[(p, p - lr * g) for p, g in zip(params, grads)],
                          mode=pytensor_mode())
    xv, yv = state["x"], state["y"]
    return lambda: f(xv, yv)


def _jax_step(state: dict[str, np.ndarray]) -> Callable[[], Any]:
    from bench.workloads.peers import load_jax

    jax = load_jax()
    jnp = jax.numpy

    def loss_fn(params: list[Any], x: Any, y: Any) -> Any:
        W1, b1, W2, b2 = params
        hidden = jnp.tanh(x @ W1 + b1)
        logp = jax.nn.log_softmax(hidden @ W2 + b2, axis=-1)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    def step_fn(params: list[Any], x: Any, y: Any) -> tuple[Any, list[Any]]:
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        return loss, [p - LR * g for p, g in zip(params, grads)]

    step_jit = jax.jit(step_fn, donate_argnums=0)
    holder = [[jax.device_put(state[name].copy()) for name in ("W1", "b1", "W2", "b2")]]
    x, y = jax.device_put(state["x"]), jax.device_put(state["y"])

    def step() -> Any:
        loss, holder[0] = step_jit(holder[0], x, y)
        return loss.block_until_ready()
    return step


def _torch_step(state: dict[str, np.ndarray], compiled: bool) -> Callable[[], Any]:
    import torch
    import torch.nn.functional as F

    params = [torch.tensor(state[name].copy(), requires_grad=True)
              for name in ("W1", "b1", "W2", "b2")]
    x = torch.from_numpy(state["x"])
    y = torch.from_numpy(state["y"].astype(np.int64))
    lr = float(LR)

    def step() -> Any:
        W1, b1, W2, b2 = params
        hidden = torch.tanh(x @ W1 + b1)
        loss = F.cross_entropy(hidden @ W2 + b2, y)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(lr * g)
        return loss.detach()
    return torch.compile(step) if compiled else step


def make_step(impl: str, state: dict[str, np.ndarray] | None = None,
              detail: dict[str, Any] | None = None) -> Callable[[], Any]:
    """The zero-argument step of implementation ``impl`` (compiled, weights set up)."""
    state = state if state is not None else initial_state()
    if impl.startswith("symgraph["):
        return _symgraph_step(state, impl[len("symgraph["):-1], detail)
    makers: dict[str, Callable[[], Callable[[], Any]]] = {
        "numpy": lambda: _numpy_step(state),
        "pytensor": lambda: _pytensor_step(state),
        "jax": lambda: _jax_step(state),
        "torch": lambda: _torch_step(state, compiled=False),
        "torch.compile": lambda: _torch_step(state, compiled=True),
    }
    return makers[impl]()


# -- peak memory, one new process per implementation ---------------------------------------
def _status_kb(field_name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field_name}")


def _warm_up_framework(impl: str) -> None:
    """Import ``impl``'s framework and compile something trivial, so the baseline holds the
    libraries and the memory that only measures the step itself is counted."""
    if impl.startswith("symgraph["):
        import symgraph as sg
        import symgraph.tensor as T

        v = T.dvector("v")
        sg.compile_function([v], v + 1, mode=impl[len("symgraph["):-1])(np.ones(2))
    elif impl == "pytensor":
        import pytensor
        import pytensor.tensor as pt

        from bench.workloads.peers import pytensor_mode

        v = pt.dvector("v")
        pytensor.function([v], v + 1, mode=pytensor_mode())(np.ones(2))
    elif impl == "jax":
        from bench.workloads.peers import load_jax

        jax = load_jax()
        jax.jit(lambda v: v + 1)(np.ones(2)).block_until_ready()
    elif impl in ("torch", "torch.compile"):
        import torch

        fn = (lambda v: v + 1)
        (torch.compile(fn) if impl == "torch.compile" else fn)(torch.ones(2))


def measure_rss(impl: str, steps: int = RSS_STEPS) -> dict[str, Any]:
    """Peak RSS of the step in this process: kB above the warmed-up framework baseline.

    The high-water mark is reset (``/proc/self/clear_refs``) after the first step so that
    compiler memory (XLA, inductor) does not count; the weights, the batch, whatever the
    compiled function keeps and the step's temporaries do.
    """
    import warnings

    warnings.simplefilter("ignore")
    _warm_up_framework(impl)
    baseline = _status_kb("VmRSS")
    step = make_step(impl)
    step()
    try:
        Path("/proc/self/clear_refs").write_text("5")
        reset = True
    except OSError:
        reset = False
    for _ in range(steps):
        step()
    peak = _status_kb("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"baseline_kb": baseline, "peak_kb": peak, "hwm_reset": reset, "steps": steps}


_RSS_PROGRAM = """
import json
from bench.workloads.mlp import measure_rss
print(json.dumps(measure_rss({impl!r})))
"""


def run(ctx: Context) -> list[Row]:
    state = initial_state()
    expected = reference_loss(state)
    machine = ctx.machine()
    row = Row(key="W2", label="W2 784-500-10 tanh MLP SGD step, batch 256, float32",
              target="<= 0.65x fastest peer and <= 1.6x GEMM bound")
    row.limit = GEMM_FLOPS / (machine.sgemm_peak * 1e9)
    row.limit_note = f"GEMM bound: {GEMM_FLOPS / 1e9:.3f} GFLOP at {machine.sgemm_peak:.0f} GFLOP/s"

    def check(impl: str, out: Any) -> str | None:
        loss = float(np.asarray(out))
        if abs(loss - expected) <= 1e-4 * abs(expected):
            return None
        return f"loss {loss:.6g} != {expected:.6g}"

    builders: dict[str, Builder] = {impl: (lambda impl=impl: make_step(impl, state, row.detail))
                                    for impl in ctx.impls}
    time_impls(ctx, row, builders, check)
    row.detail["gemm_flops"] = GEMM_FLOPS
    notes = []
    for backend in ctx.backends:
        impl = symgraph_impl(backend)
        if f"{impl} nodes" in row.detail:
            python_nodes = row.detail[f"{impl} python_nodes"]
            where = ("nodes run in Python: " + ", ".join(python_nodes) if python_nodes
                     else "all in C")
            notes.append(f"{impl}: {row.detail[f'{impl} nodes']} nodes after rewriting, {where}")
    row.detail["note"] = "; ".join(notes)
    fastest = row.fastest_peer()
    for backend in ctx.backends:
        impl = symgraph_impl(backend)
        t = row.values.get(impl)
        if t is None or row.notes.get(impl):
            row.met[impl] = False
        elif fastest is None:
            row.met[impl] = None
        else:
            row.met[impl] = t <= 0.65 * fastest[1] and t <= 1.6 * row.limit

    # a profile of the miss: the step's products alone, through the same BLAS, in this run
    gemms = Row(key="W2 GEMMs", label="W2 profile: the step's five GEMMs alone (same shapes, layouts, BLAS)",
                target="profile (what bounds W2)")
    gemms.limit, gemms.limit_note = row.limit, row.limit_note
    for backend in ctx.backends:
        impl = symgraph_impl(backend)
        try:
            gemms.values[impl] = measure(_symgraph_gemms(state, backend), ctx.repeat).median
        except Exception as exc:  # noqa: BLE001 (a profile row must not break the workload)
            ctx.record_error(gemms, impl, exc)
            continue
        gemms.met[impl] = None
        step = row.values.get(impl)
        if step is not None:
            fastest = row.fastest_peer()
            gemms.detail[f"{impl} step_minus_gemms_s"] = step - gemms.values[impl]
            if fastest is not None:
                gemms.detail[f"{impl} gemms_vs_target"] = gemms.values[impl] / (0.65 * fastest[1])
    memory = Row(key="W2 RSS", label="W2 peak RSS of the step (above the warmed-up framework)",
                 unit="MB", target="<= 1.2x NumPy")
    for impl in ctx.impls:
        try:
            result = run_python(_RSS_PROGRAM.format(impl=impl), timeout=ctx.child_timeout_s)
        except (RuntimeError, TimeoutError) as exc:
            ctx.record_error(memory, impl, exc)
            continue
        memory.values[impl] = (result["peak_kb"] - result["baseline_kb"]) / 1024
        memory.detail[impl] = result
        ctx.log(f"W2 RSS {impl}: {memory.values[impl]:.1f} MB")
    for backend in ctx.backends:
        impl = symgraph_impl(backend)
        mine, numpy_mb = memory.values.get(impl), memory.values.get("numpy")
        memory.met[impl] = (None if numpy_mb is None else
                            False if mine is None else mine <= 1.2 * numpy_mb)
    return [row, gemms, memory]
