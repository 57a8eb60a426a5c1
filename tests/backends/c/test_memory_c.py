"""The C backend's memory plan (workspace slots by liveness, in-place elementwise) and its
fast call path (the _sgcall extension and the cffi path it falls back to)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.backends.c.module import plan_memory

pytestmark = pytest.mark.needs_gcc


def sort(v, axis=0):
    """A node that elementwise fusion cannot pass through and that allocates its result
    (a Join of two slices), standing in for any non-elementwise op; NumPy: the identity."""
    return T.concatenate([v[:1], v[1:]], axis=0)


def np_sort(v, axis=0):
    return np.array(v)


def _sources(f):
    return [s.source for s in f.maker.runner.sources]


def test_a_chain_of_elementwise_nodes_reuses_its_buffers_in_place():
    x = T.dvector("x")
    y = T.dvector("y")
    # the sort between the steps stops fusion, so the chain stays separate nodes
    a = T.exp(x) + y
    b = sort(a) * 2.0
    c = T.tanh(b) - y
    f = sg.compile_function([x, y], c.sum(), mode="c")
    src = "\n".join(_sources(f))
    assert "sg_ws_alloc" in src
    xv, yv = np.linspace(-1, 1, 7), np.linspace(2, 3, 7)
    expected = np.sum(np.tanh(np_sort(np.exp(xv) + yv) * 2.0) - yv)
    np.testing.assert_allclose(f(xv, yv), expected, rtol=1e-12)


def test_in_place_elementwise_is_planned_when_an_input_dies():
    x = T.dmatrix("x")
    y = T.exp(x)
    z = sort(y, axis=1)  # an intermediate the next node consumes
    w = sort(T.tanh(z) + 1.0)  # tanh(z) + 1 can overwrite z: nothing reads z afterwards
    f = sg.compile_function([x], w, mode="c")
    runner = f.maker.runner
    in_place = [n for s in runner.sources for n in s.in_place]
    assert in_place, "the elementwise node after sort should overwrite sort's buffer"
    xv = np.random.default_rng(0).standard_normal((5, 6))
    np.testing.assert_allclose(f(xv), np.tanh(np.exp(xv)) + 1.0, rtol=1e-12)


def test_workspace_buffers_grow_and_shrink_with_the_inputs_across_calls():
    x = T.dvector("x")
    out = (sort(T.exp(x)) * 3.0).sum()
    f = sg.compile_function([x], out, mode="c")
    rng = np.random.default_rng(1)
    for n in (10, 100_000, 3, 0, 50_000, 1):
        v = rng.standard_normal(n)
        np.testing.assert_allclose(f(v), np.sum(np_sort(np.exp(v)) * 3.0), rtol=1e-10)


def test_a_view_of_an_intermediate_keeps_its_buffer_alive():
    x = T.dmatrix("x")
    e = sort(T.exp(x), axis=0)
    t = e.T  # a view of e's buffer
    s = sort(t, axis=1)  # allocates while the view is still to be read below
    out = (s + t) * 1.5 + sort(e, axis=1).T
    f = sg.compile_function([x], out, mode="c")
    xv = np.random.default_rng(2).standard_normal((4, 4))
    ev = np_sort(np.exp(xv), axis=0)
    expected = (np_sort(ev.T, axis=1) + ev.T) * 1.5 + np_sort(ev, axis=1).T
    np.testing.assert_allclose(f(xv), expected, rtol=1e-12)


def test_outputs_are_fresh_arrays_that_later_calls_do_not_overwrite():
    x = T.dvector("x")
    f = sg.compile_function([x], [T.exp(x) * 2.0, sort(x) + 1.0], mode="c")
    a1, b1 = f(np.array([1.0, 2.0]))
    a1_copy, b1_copy = a1.copy(), b1.copy()
    f(np.array([5.0, 6.0]))
    np.testing.assert_array_equal(a1, a1_copy)
    np.testing.assert_array_equal(b1, b1_copy)
    assert a1.flags.owndata or a1.base is not None  # wraps C memory without a copy
    assert a1.flags.writeable


def test_an_input_returned_as_an_output_is_a_copy():
    x = T.dvector("x")
    f = sg.compile_function([x], [x, x * 2.0], mode="c")
    v = np.array([1.0, 2.0])
    out, _ = f(v)
    assert out is not v and not np.shares_memory(out, v)


def test_plan_memory_shares_no_slot_between_values_alive_at_once():
    x = T.dvector("x")
    a = sort(x)
    b = sort(a * 2.0)
    c = sort(b + a)  # a is still alive while b is computed
    f = sg.compile_function([x], c, mode="c", optimizer="none")
    seg = f.maker.runner.sources[0]
    assert seg.n_slots >= 2
    np.testing.assert_allclose(f(np.array([3.0, 1.0, 2.0])), np_sort(np_sort(np_sort([3.0, 1, 2]) * 2) + np_sort([3.0, 1, 2])))
    assert callable(plan_memory)


def test_odd_inputs_take_the_checked_path_and_give_the_same_result():
    x = T.dmatrix("x")
    f = sg.compile_function([x], T.exp(x).sum(axis=0), mode="c")
    base = np.random.default_rng(3).standard_normal((6, 8))
    expected = np.exp(base).sum(axis=0)
    # non-contiguous, byte-swapped, misaligned, and a list
    np.testing.assert_allclose(f(base[::2].repeat(2, axis=0)), np.exp(base[::2].repeat(2, axis=0)).sum(axis=0))
    np.testing.assert_allclose(f(np.asfortranarray(base)), expected)
    np.testing.assert_allclose(f(base.astype(">f8")), expected)
    raw = np.zeros(base.size * 8 + 1, dtype=np.uint8)
    misaligned = raw[1:].view(np.float64).reshape(base.shape)
    misaligned[...] = base
    np.testing.assert_allclose(f(misaligned), expected)
    np.testing.assert_allclose(f(base.tolist()), expected)


def test_trust_input_still_refuses_to_read_a_wrong_dtype_unsafely():
    x = T.dvector("x")
    f = sg.compile_function([x], x * 2.0 + 1.0, mode="c")
    f.trust_input = True
    # an int32 array would be misread as doubles; the call path converts it instead
    np.testing.assert_allclose(f(np.arange(5, dtype=np.int32)), np.arange(5) * 2.0 + 1.0)


def test_concurrent_calls_from_threads_use_separate_workspaces():
    x = T.dvector("x")
    f = sg.compile_function([x], (sort(T.exp(x)) * 2.0).sum(), mode="c")
    rng = np.random.default_rng(4)
    inputs = [rng.standard_normal(20_000 + 1000 * k) for k in range(8)]
    expected = [np.sum(np_sort(np.exp(v)) * 2.0) for v in inputs]
    errors = []

    def work(k):
        for _ in range(30):
            got = f(inputs[k])
            if not np.isclose(got, expected[k], rtol=1e-10):
                errors.append((k, got, expected[k]))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_trust_input_with_a_wrong_ndim_raises_naming_the_input():
    x = T.dmatrix("x")
    f = sg.compile_function([x], x * 2.0, mode="c")
    f.trust_input = True
    with pytest.raises(TypeError, match=r"input x expects float64 matrix \(ndim=2\), got an array with ndim=1"):
        f(np.arange(3.0))
