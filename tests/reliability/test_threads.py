"""One compiled C function called from 8 threads at once gives every thread its own result.

The C call releases the GIL, so calls really overlap: whatever a call keeps between calls
(argument structs, the error buffer, reusable intermediate buffers) must not be shared by
two calls in flight. The tests check only what a user sees: every concurrent result equals
the single-threaded result for the same inputs, and nothing crashes.

Each workload runs in a child process, so that a race that crashes the interpreter shows
up as a failing test (with the signal) instead of ending the test session.

The rule for shared variables (checked by the last test): a call reads each shared value
once when it starts and, when it ends, replaces each updated variable by a complete new
array. Concurrent calls may overwrite each other's updates (the last one to finish wins),
so increments can be lost, but a shared value is never a torn mixture of two calls.
"""

from __future__ import annotations

import json

import pytest

from symgraph.backends.c.build import compiler
from tests.reliability.processes import child_env, describe, run_python

pytestmark = [pytest.mark.needs_gcc, pytest.mark.skipif(compiler() is None, reason="needs gcc")]

THREADS = 8

# ROWS x COLS inputs (thread k adds k rows, so shapes differ too); CALLS calls per thread
_CONCURRENT_CALLS = """
    import json, os, threading
    import numpy as np, symgraph as sg, symgraph.tensor as T
    rows, cols, calls, threads = (int(os.environ[k]) for k in ("ROWS", "COLS", "CALLS", "THREADS"))
    a = T.dmatrix("a")
    x = T.dvector("x")
    outputs = [T.exp(a * 0.5).sum(axis=1) + T.dot(a, x), (a * x).max(), T.tanh(x) * 2]
    f = sg.function([a, x], outputs, mode="c")
    assert not f.maker.runner.python_nodes, f.maker.runner.python_nodes
    rng = np.random.default_rng(0)
    inputs = [(rng.standard_normal((rows + k, cols)), rng.standard_normal(cols)) for k in range(threads)]
    expected = [f(*args) for args in inputs]
    start = threading.Barrier(threads)
    mismatches = []

    def work(k):
        start.wait()
        for call in range(calls):
            got = f(*inputs[k])
            for n, (g, e) in enumerate(zip(got, expected[k])):
                # the same inputs through the same code: only a race changes the numbers
                if g.shape != e.shape or not np.allclose(g, e, rtol=1e-13, atol=0):
                    mismatches.append(f"thread {k} call {call} output {n}: {g.shape} vs {e.shape}")
                    return

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    print(json.dumps({"mismatches": mismatches[:5], "count": len(mismatches)}))
"""


def _run_concurrent(rows: int, cols: int, calls: int, tmp_path) -> None:
    env = child_env(tmp_path / "cache", ROWS=str(rows), COLS=str(cols), CALLS=str(calls),
                    THREADS=str(THREADS))
    result = run_python(_CONCURRENT_CALLS, env, timeout=180)
    assert result.returncode == 0, describe(result, result.stdout, result.stderr)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["count"] == 0, report["mismatches"]


def test_large_inputs_from_eight_threads_match_the_single_threaded_results(tmp_path):
    # 600 x 500 = 300,000 elements: above the OpenMP threshold (200,000), so each Python
    # thread also starts an OpenMP team, and the gemv and the reductions take ~1 ms
    _run_concurrent(rows=600, cols=500, calls=15, tmp_path=tmp_path)


def test_tiny_inputs_from_eight_threads_match_the_single_threaded_results(tmp_path):
    # tiny calls are almost all marshalling: the most overlap of argument handling
    _run_concurrent(rows=2, cols=3, calls=1500, tmp_path=tmp_path)


_CONCURRENT_UPDATES = """
    import json, threading
    import numpy as np, symgraph as sg, symgraph.tensor as T
    threads, calls, size = 8, 200, 1000
    w = sg.shared(np.zeros(size), name="w")
    count = sg.shared(np.int64(0), name="count")
    x = T.dvector("x")
    f = sg.function([x], w.sum(), updates=[(w, w + x), (count, count + 1)], mode="c")
    assert not f.maker.runner.python_nodes, f.maker.runner.python_nodes
    ones = np.ones(size)
    start = threading.Barrier(threads)
    bad_outputs = []

    def work():
        start.wait()
        for _ in range(calls):
            seen = float(f(ones))
            # a call sees w after some whole number of complete calls: size * k
            if seen % size != 0 or not 0 <= seen < size * threads * calls:
                bad_outputs.append(seen)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    final = w.get_value()
    print(json.dumps({
        "bad_outputs": bad_outputs[:5],
        "w_uniform": bool(np.all(final == final[0])),
        "w": float(final[0]),
        "count": int(count.get_value()),
        "total": threads * calls,
    }))
"""


def test_shared_variable_updates_from_threads_are_whole_values_and_never_crash(tmp_path):
    result = run_python(_CONCURRENT_UPDATES, child_env(tmp_path / "cache"), timeout=180)
    assert result.returncode == 0, describe(result, result.stdout, result.stderr)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["bad_outputs"] == [], report
    assert report["w_uniform"], f"w is a mixture of two calls' updates: {report}"
    # lost updates are allowed (last writer wins); values from nowhere are not
    assert 1 <= report["w"] <= report["total"] and report["w"] == int(report["w"]), report
    assert 1 <= report["count"] <= report["total"], report
