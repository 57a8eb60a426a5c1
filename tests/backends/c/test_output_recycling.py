"""Big results are written into the buffer of an earlier result nobody holds any more
(csrc/symgraph_call.c, output slots and recycling), and never into one that somebody does."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T

pytestmark = pytest.mark.needs_gcc

BIG = (1024, 1024)  # 8 MB of float64: above the 4 MB recycling threshold


def _softmax_and_sum():
    x = T.dmatrix("x")
    return sg.compile_function([x], [T.nnet.softmax(x), T.exp(x).sum()], mode="c")


def _expected(xv):
    e = np.exp(xv - xv.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True), np.exp(xv).sum()


def _inputs(k):
    return np.random.default_rng(k).standard_normal(BIG)


def test_a_dropped_result_lends_its_buffer_to_the_next_call():
    f = _softmax_and_sum()
    assert f.maker.runner.sources[0].out_slots[0] >= 0
    first, _ = f(_inputs(0))
    address = first.ctypes.data
    del first
    gc.collect()
    again, total = f(_inputs(1))
    assert again.ctypes.data == address
    soft, tot = _expected(_inputs(1))
    np.testing.assert_allclose(again, soft, rtol=1e-12, atol=1e-300)
    assert total == pytest.approx(tot, rel=1e-12)


def test_results_still_held_directly_or_through_views_are_never_overwritten():
    f = _softmax_and_sum()
    held = []
    views = []
    buffers = []
    for k in range(6):
        soft, _ = f(_inputs(k))
        if k % 3 == 0:
            held.append((k, soft))
        elif k % 3 == 1:
            views.append((k, soft[5:9, ::2]))  # only a view survives
            buffers.append((k, memoryview(soft)))
        del soft
    for k, soft in held:
        np.testing.assert_allclose(soft, _expected(_inputs(k))[0], rtol=1e-12, atol=1e-300)
    for k, view in views:
        np.testing.assert_allclose(view, _expected(_inputs(k))[0][5:9, ::2], rtol=1e-12, atol=1e-300)
    for k, mem in buffers:
        np.testing.assert_allclose(np.asarray(mem), _expected(_inputs(k))[0], rtol=1e-12, atol=1e-300)


def test_rebinding_the_result_in_a_loop_recycles_without_clobbering_it():
    f = _softmax_and_sum()
    addresses = set()
    y = None
    for k in range(6):
        y, _ = f(_inputs(k))
        addresses.add(y.ctypes.data)
        np.testing.assert_allclose(y, _expected(_inputs(k))[0], rtol=1e-12, atol=1e-300)
    # the result of call k-2 is free when call k runs: two buffers take turns
    assert len(addresses) <= 3


def test_small_results_are_not_kept():
    x = T.dvector("x")
    f = sg.compile_function([x], T.exp(x), mode="c")
    first = f(np.ones(10))
    address = first.ctypes.data
    import sys

    assert sys.getrefcount(first) == 2  # only this frame: the Caller keeps none of it
    del first, address


def test_a_failing_call_after_a_lend_keeps_working():
    x = T.dmatrix("x")
    w = T.dmatrix("w")
    f = sg.compile_function([x, w], [T.exp(x), T.dot(x, w)], mode="c")
    xv = _inputs(2)
    a, _ = f(xv, np.ones((BIG[1], 2)))
    del a
    with pytest.raises(Exception, match="not aligned|shape"):
        f(xv, np.ones((3, 2)))  # the buffer was lent, then the dot's shape check fails
    b, d = f(xv, np.ones((BIG[1], 2)))
    np.testing.assert_allclose(b, np.exp(xv), rtol=1e-12)
    np.testing.assert_allclose(d, xv @ np.ones((BIG[1], 2)), rtol=1e-12)


def test_concurrent_calls_each_get_their_own_result():
    f = _softmax_and_sum()
    errors = []

    def work(k):
        for j in range(4):
            soft, _ = f(_inputs(k + 10 * j))
            if not np.allclose(soft, _expected(_inputs(k + 10 * j))[0], rtol=1e-12, atol=1e-300):
                errors.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_the_cffi_path_empties_output_slots_after_each_call():
    f = _softmax_and_sum()
    for _, seg in f.maker.runner.steps:
        seg.caller = None  # as when the extension cannot be built
    results = [f(_inputs(k))[0] for k in range(3)]
    assert len({r.ctypes.data for r in results}) == 3  # no result shares another's buffer
    for k, soft in enumerate(results):
        np.testing.assert_allclose(soft, _expected(_inputs(k))[0], rtol=1e-12, atol=1e-300)


def test_all_callers_together_keep_at_most_512_mb():
    from symgraph.backends.c.fastcall import caller_module
    from symgraph.compile.cache import default_cache

    fast = caller_module(str(default_cache().root))
    assert fast is not None
    x = T.dvector("x")
    n = 10_000_000  # 80 MB results
    xv = np.zeros(n)
    functions = [sg.compile_function([x], T.exp(x) + k, mode="c") for k in range(5)]
    for f in functions:
        held = [f(xv), f(xv)]  # two results of 80 MB each, kept by each function's Caller
        del held  # now dead: 800 MB would stay kept without the cap
    assert fast.kept_bytes() <= 512 << 20
    assert fast.kept_bytes() >= 80 << 20  # but recycling still keeps some
    del functions
    gc.collect()
