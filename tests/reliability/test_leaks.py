"""Memory stays flat over 1e5 calls of compiled C functions.

Each test warms a function up, reads the resident set size (RSS) from /proc/self/statm,
calls the function 100,000 times and reads RSS again. A leak anywhere on the call path
(argument marshalling, intermediate buffers, outputs handed to NumPy, the error path's
cleanup) grows RSS by at least (bytes lost per call) x 1e5.

Threshold: 4 MiB. The arrays below hold 1,000 float64 (8 KB), so losing one buffer per
call would add ~800 MB, and losing even one 42-byte object per call (a struct, a Python
wrapper) adds 4 MiB over 1e5 calls. After the warm-up the allocators (pymalloc arenas,
glibc free lists, OpenBLAS work buffers, the C runner's reusable workspace) are in their
steady state: the growth measured on this machine is 0 to a few hundred KiB, so 4 MiB
separates "flat" from "leaks a little every call". (A deliberate 64-byte leak per call
grows RSS by ~11 MiB in this harness.)

Under AddressSanitizer (bench/sanitize_c.sh) freed memory sits in a quarantine of up to
256 MB before reuse, so RSS grows without any leak: there the calls still run (checking
memory safety) and only the RSS assertion is skipped.
"""

from __future__ import annotations

import collections
import gc
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T

pytestmark = [
    pytest.mark.needs_gcc,
    pytest.mark.skipif(not os.path.exists("/proc/self/statm"),
                       reason="reads RSS from /proc/self/statm (Linux)"),
]

CALLS = 100_000
WARMUP = 2_000
LIMIT = 4 * 2**20
_UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _rss_growth(call: Callable[[], object], calls: int = CALLS) -> int:
    """RSS after ``calls`` calls minus RSS after a warm-up, in bytes."""
    for _ in range(WARMUP):
        call()
    gc.collect()
    before = _rss()
    for _ in range(calls):
        call()
    gc.collect()
    return _rss() - before


def _assert_flat(growth: int, what: str) -> None:
    if _UNDER_ASAN:
        pytest.skip("RSS is not meaningful under ASan's quarantine; the calls ran for memory safety")
    assert growth < LIMIT, f"{what}: RSS grew by {growth / 2**20:.1f} MiB (limit {LIMIT / 2**20:.0f} MiB)"


def _compile_c(inputs: list[Any], outputs: Any) -> Any:
    f = sg.compile_function(inputs, outputs, mode="c")
    assert not f.maker.runner.python_nodes, "every node must run in C for this test to mean anything"
    return f


def test_elementwise_and_reduction_calls_keep_rss_flat(rng):
    x = T.dvector("x")
    # two fused loops with intermediate buffers, then reductions to a scalar
    f = _compile_c([x], (T.exp(x) * 2 + T.sqrt(abs(x))).sum() + (x * x).max())
    value = rng.standard_normal(1000)
    assert np.isclose(f(value), (np.exp(value) * 2 + np.sqrt(np.abs(value))).sum() + (value * value).max())
    _assert_flat(_rss_growth(lambda: f(value)), "elementwise + reduction")


def test_matrix_product_calls_keep_rss_flat(rng):
    a, b = T.dmatrices("a", "b")
    v = T.dvector("v")
    # gemm, gemv (vector @ matrix), a fused loop on the gemm result and a reduction; every
    # intermediate and the output hold 1,000 float64 or more
    f = _compile_c([a, b, v], T.maximum(T.dot(b, a), 0).sum(axis=0) + T.dot(v, a))
    av, bv, vv = rng.standard_normal((8, 1000)), rng.standard_normal((8, 8)), rng.standard_normal(8)
    np.testing.assert_allclose(f(av, bv, vv), np.maximum(bv @ av, 0).sum(axis=0) + vv @ av, rtol=1e-10)
    _assert_flat(_rss_growth(lambda: f(av, bv, vv)), "matrix product")


def test_returned_outputs_are_freed_when_the_caller_drops_them(rng):
    x = T.dvector("x")
    # two outputs handed to the caller on every call: a 1,000-element vector and a scalar
    f = _compile_c([x], [T.exp(x) * 2, x.sum()])
    value = rng.standard_normal(1000)
    recent: collections.deque = collections.deque(maxlen=16)  # callers keep some results a while

    def call() -> None:
        recent.append(f(value))

    call()
    np.testing.assert_allclose(recent[-1][0], np.exp(value) * 2, rtol=1e-15)
    _assert_flat(_rss_growth(call), "returned outputs")


def test_failing_calls_free_what_they_allocated(rng):
    x = T.dvector("x")
    a = T.dmatrix("a")
    # exp(x) * 2 is computed into a fresh buffer before the dot finds that shapes disagree,
    # so the error path has to free it
    f = _compile_c([a, x], T.dot(a, T.exp(x) * 2).sum())
    av, xv = rng.standard_normal((3, 999)), rng.standard_normal(1000)

    def call() -> None:
        with pytest.raises(ValueError, match="not aligned"):
            f(av, xv)

    # the Python exception machinery makes these calls ~5x slower: 2e4 of them still lose
    # 160 MB if the 8 KB buffer leaks
    _assert_flat(_rss_growth(call, calls=CALLS // 5), "failing calls")
