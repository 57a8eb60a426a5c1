"""C backend against NumPy: fused elementwise bandwidth, an MLP step, call overhead, compile time.

Run: ``python bench/c_backend.py`` (``--quick`` for a short run). Prints a markdown table
of medians and ratios. The machine is shared and noisy: trust ratios taken in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from collections.abc import Callable

import numpy as np

import symgraph as sg
import symgraph.tensor as T


def median_time(fn: Callable[[], object], repeat: int, number: int = 1) -> float:
    fn()  # warm up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def stream_bandwidth(n: int, repeat: int) -> float:
    """Bytes per second of a NumPy triad a = b + 2.5 * c (reads 2 arrays, writes 1)."""
    b = np.random.rand(n)
    c = np.random.rand(n)
    a = np.empty(n)

    def triad() -> None:
        np.multiply(c, 2.5, out=a)
        np.add(a, b, out=a)

    t = median_time(triad, repeat)
    return 4 * 8 * n / t  # multiply reads c writes a; add reads a, b writes a


def bench_elementwise(n: int, repeat: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    xs = [rng.random(n) for _ in range(3)]
    x, y, z = T.dvectors("x", "y", "z")
    expr = T.exp(x) * T.sin(y) + T.log1p(z * z) - T.tanh(x * y)
    f = sg.function([x, y, z], expr, mode="c")
    t_c = median_time(lambda: f(*xs), repeat)
    t_np = median_time(lambda: np.exp(xs[0]) * np.sin(xs[1]) + np.log1p(xs[2] * xs[2]) - np.tanh(xs[0] * xs[1]), repeat)
    loops = sum(1 for node in f.maker.fgraph.apply_nodes)
    return {"c_s": t_c, "numpy_s": t_np, "bytes": 4 * 8 * n, "loops": loops}


def _mlp(batch: int = 256, n_in: int = 784, n_hidden: int = 500, n_out: int = 10) -> dict[str, float]:
    rng = np.random.default_rng(1)
    dt = "float32"
    data = rng.standard_normal((batch, n_in)).astype(dt)
    labels = rng.integers(0, n_out, size=batch).astype("int32")
    w1 = (rng.standard_normal((n_in, n_hidden)) * 0.01).astype(dt)
    b1 = np.zeros(n_hidden, dt)
    w2 = (rng.standard_normal((n_hidden, n_out)) * 0.01).astype(dt)
    b2 = np.zeros(n_out, dt)
    lr = np.float32(0.01)

    sW1, sb1, sW2, sb2 = (sg.shared(v.copy(), name=n) for v, n in ((w1, "W1"), (b1, "b1"), (w2, "W2"), (b2, "b2")))
    x = T.fmatrix("x")
    y = T.ivector("y")
    hidden = T.tanh(T.dot(x, sW1) + sb1)
    p = T.nnet.softmax(T.dot(hidden, sW2) + sb2)
    loss = T.nnet.categorical_crossentropy(p, y).mean()
    grads = T.grad(loss, [sW1, sb1, sW2, sb2])
    updates = [(v, v - lr * g) for v, g in zip((sW1, sb1, sW2, sb2), grads)]
    step = sg.function([x, y], loss, updates=updates, mode="c")

    params = [w1.copy(), b1.copy(), w2.copy(), b2.copy()]

    def numpy_step() -> float:
        W1, B1, W2, B2 = params
        h = np.tanh(data @ W1 + B1)
        logits = h @ W2 + B2
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        prob = e / e.sum(axis=1, keepdims=True)
        out = -np.log(prob[np.arange(batch), labels]).mean()
        d = prob
        d[np.arange(batch), labels] -= 1
        d /= batch
        gW2 = h.T @ d
        gb2 = d.sum(axis=0)
        dh = (d @ W2.T) * (1 - h * h)
        gW1 = data.T @ dh
        gb1 = dh.sum(axis=0)
        params[0] = W1 - lr * gW1
        params[1] = B1 - lr * gb1
        params[2] = W2 - lr * gW2
        params[3] = B2 - lr * gb2
        return float(out)

    return {"step": step, "numpy_step": numpy_step, "data": data, "labels": labels}


def bench_mlp(repeat: int) -> dict[str, float]:
    m = _mlp()
    t_c = median_time(lambda: m["step"](m["data"], m["labels"]), repeat)
    t_np = median_time(m["numpy_step"], repeat)
    python_nodes = [str(n.op) for n in m["step"].maker.runner.python_nodes]
    return {"c_s": t_c, "numpy_s": t_np, "python_nodes": python_nodes}


def bench_call_overhead(repeat: int) -> dict[str, float]:
    x = T.dscalar("x")
    f = sg.function([x], x * 2 + 1, mode="c")
    t_c = median_time(lambda: f(1.0), repeat, number=2000)
    v = np.float64(1.0)
    t_np = median_time(lambda: v * 2 + 1, repeat, number=2000)
    return {"c_s": t_c, "numpy_s": t_np}


_COMPILE_PROGRAM = textwrap.dedent("""
    import time, warnings
    start = time.perf_counter()
    import bench.c_backend as b
    m = b._mlp()
    print(time.perf_counter() - start)
""")


def bench_compile() -> dict[str, float]:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "SYMGRAPH_FLAGS": f"compiledir={cache}", "PYTHONPATH": root}
        times = []
        for _ in range(2):
            out = subprocess.run([sys.executable, "-c", _COMPILE_PROGRAM], env=env, capture_output=True,
                                 text=True, check=True, cwd=root)
            times.append(float(out.stdout.strip().splitlines()[-1]))
    return {"cold_s": times[0], "warm_s": times[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and smaller arrays")
    parser.add_argument("--json", default="bench/c_backend.json", help="where to write the results")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    repeat = 5 if args.quick else 15
    results: dict[str, object] = {}
    bandwidth = stream_bandwidth(10**7, repeat)
    results["stream_GBps"] = bandwidth / 1e9
    rows = ["| workload | symgraph c | NumPy | NumPy / c | note |", "|---|---|---|---|---|"]
    for n in (10**6, 10**7):
        r = bench_elementwise(n, repeat)
        results[f"elementwise_{n}"] = r
        gbps = r["bytes"] / r["c_s"] / 1e9
        rows.append(f"| fused elementwise, n={n:.0e} | {r['c_s'] * 1e3:.2f} ms ({gbps:.2f} GB/s) | "
                    f"{r['numpy_s'] * 1e3:.2f} ms | {r['numpy_s'] / r['c_s']:.2f}x | "
                    f"{int(r['loops'])} node(s); triad bandwidth {bandwidth / 1e9:.1f} GB/s |")
    r = bench_mlp(repeat)
    results["mlp_step"] = r
    rows.append(f"| 784-500-10 MLP SGD step, batch 256, float32 | {r['c_s'] * 1e3:.2f} ms | {r['numpy_s'] * 1e3:.2f} ms | "
                f"{r['numpy_s'] / r['c_s']:.2f}x | python nodes: {r['python_nodes'] or 'none'} |")
    r = bench_call_overhead(repeat)
    results["call_overhead"] = r
    rows.append(f"| call of x*2+1 (scalar) | {r['c_s'] * 1e6:.2f} us | {r['numpy_s'] * 1e6:.2f} us (eager) | "
                f"{r['numpy_s'] / r['c_s']:.2f}x | |")
    r = bench_compile()
    results["compile"] = r
    rows.append(f"| compile the MLP step, new process | cold {r['cold_s']:.2f} s / warm {r['warm_s']:.2f} s | | | "
                "cold = empty cache |")
    print("\n".join(rows))
    with open(args.json, "w") as fh:
        json.dump(results, fh, indent=2, default=str)


if __name__ == "__main__":
    main()
