"""Updates of shared variables computed in the variable's own buffer (backends/c/inplace.py).

A BLAS update ``W - lr * dot(a, b)`` (a Gemm whose accumulator is W) writes over W when
that is safe, instead of copying W into a fresh buffer every step (issue 6, W2). Each test
compares the 'c' function with the 'py' reference over several calls, and checks whether
the buffer was reused where the rule says it must be, and was not where it must not be.
"""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.backends.c import build as cbuild
from symgraph.tensor.blas import Gemm, Gemv, Ger

pytestmark = pytest.mark.needs_gcc

LR = 0.1


def _pair(build, steps=3, args=()):
    """Compile ``build()`` -> (inputs, outputs, updates, shared vars) for 'py' and 'c', call
    each ``steps`` times; returns (py results, c results, c function, py shared, c shared,
    whether each c shared variable kept its buffer)."""
    out = {}
    for mode in ("py", "c"):
        inputs, outputs, updates, shared = build()
        f = sg.compile_function(inputs, outputs, updates=updates, mode=mode)
        before = [s.get_value(borrow=True).ctypes.data for s in shared]
        results = [f(*args) for _ in range(steps)]
        kept = [s.get_value(borrow=True).ctypes.data == b for s, b in zip(shared, before)]
        out[mode] = (results, f, shared, kept)
    return out["py"], out["c"]


def _assert_same(py, c):
    for a, b in zip(py[0], c[0]):
        for ai, bi in zip(a if isinstance(a, list) else [a], b if isinstance(b, list) else [b]):
            np.testing.assert_allclose(bi, ai, rtol=1e-12, atol=1e-12)
    for s_py, s_c in zip(py[2], c[2]):
        np.testing.assert_allclose(s_c.get_value(), s_py.get_value(), rtol=1e-12, atol=1e-12)


def _ops(f):
    return [type(n.op) for n in f.maker.fgraph.toposort()]


def _weights(seed=0, shape=(5, 4)):
    return np.random.default_rng(seed).standard_normal(shape)


def test_the_mlp_step_updates_its_weights_in_place_and_matches_py():
    rng = np.random.default_rng(1)
    xv, yv = rng.standard_normal((8, 6)), rng.integers(0, 3, 8).astype("int32")

    def build():
        x, y = T.dmatrix("x"), T.ivector("y")
        w1 = sg.shared(np.random.default_rng(2).standard_normal((6, 5)) * 0.3, name="w1")
        b1 = sg.shared(np.zeros(5), name="b1")
        w2 = sg.shared(np.random.default_rng(3).standard_normal((5, 3)) * 0.3, name="w2")
        h = T.tanh(T.dot(x, w1) + b1)
        p = T.nnet.softmax(T.dot(h, w2))
        loss = T.nnet.categorical_crossentropy(p, y).mean()
        gw1, gb1, gw2 = T.grad(loss, [w1, b1, w2])
        return [x, y], loss, [(w1, w1 - LR * gw1), (b1, b1 - LR * gb1), (w2, w2 - LR * gw2)], [w1, b1, w2]

    py, c = _pair(build, steps=4, args=(xv, yv))
    _assert_same(py, c)
    f = c[1]
    assert Gemm in _ops(f)
    w1, b1, w2 = c[2]
    # the weights' buffers are written in place: no copy of any weight per step
    assert c[3] == [True, True, True], c[3]
    inputs = f.maker.fgraph.inputs
    assert [inputs[j].name for j in f.maker.runner.destroyed_inputs] == ["w1", "b1", "w2"]
    assert w1.updated_in_place and w2.updated_in_place and b1.updated_in_place
    # the Gemm that updates w2 is lent w2's buffer through its output's workspace slot
    assert any(re.search(r"sg_gemm_f64\(err, \d+, &sg_blas, &sg_over,", s.source) for s in f.maker.runner.sources)


def test_a_reader_of_the_old_value_runs_before_the_update():
    # the output reads W after the update could have run in graph order; it must see the
    # old W (the update is moved after it)
    a, b = _weights(4, (3, 5)), _weights(5, (3, 4))

    def build():
        w = sg.shared(_weights(), name="w")
        x, y = T.dmatrix("x"), T.dmatrix("y")
        new = w - LR * T.dot(x.T, y)
        out = T.dot(x, w).sum() + w.T.sum()  # a view of W, too
        return [x, y], out, [(w, new)], [w]

    py, c = _pair(build, steps=3, args=(a, b))
    _assert_same(py, c)
    assert c[3] == [True]


def test_updates_are_reordered_after_the_other_updates_that_read_the_old_value():
    # in graph order the update of w1 comes first, but the update of w2 reads the old w1:
    # the w1 update must move after it (both still in place)
    a, b = _weights(4, (3, 5)), _weights(5, (3, 4))

    def build():
        w1 = sg.shared(_weights(), name="w1")
        w2 = sg.shared(_weights(6, (3, 4)), name="w2")
        x, y = T.dmatrix("x"), T.dmatrix("y")
        return [x, y], [], [(w1, w1 - LR * T.dot(x.T, y)), (w2, w2 + T.dot(x, w1))], [w1, w2]

    py, c = _pair(build, steps=3, args=(a, b))
    _assert_same(py, c)
    assert c[3] == [True, True]
    order = [n for n in c[1].maker.runner.fgraph.toposort() if isinstance(n.op, Gemm)]
    assert len(order) == 2


def test_no_update_in_place_when_a_reader_needs_the_new_value():
    def build():
        w = sg.shared(_weights(), name="w")
        x = T.dmatrix("x")
        new = w - LR * T.dot(x.T, x[:, :4])
        # (w + new) reads the old W after the update: the old value must survive
        return [x], (w + new).sum(), [(w, new)], [w]

    x = _weights(6, (3, 5))
    py, c = _pair(build, steps=3, args=(x,))
    _assert_same(py, c)
    assert c[3] == [False]
    assert c[1].maker.runner.destroyed_inputs == []


@pytest.mark.parametrize("returned", ["itself", "view"])
def test_no_update_in_place_when_the_old_value_is_an_output(returned):
    def build():
        w = sg.shared(_weights(), name="w")
        x = T.dmatrix("x")
        new = w - LR * T.dot(x.T, x[:, :4])
        old = w if returned == "itself" else w.T
        return [x], [old, new.sum()], [(w, new)], [w]

    x = _weights(7, (3, 5))
    py, c = _pair(build, steps=3, args=(x,))
    _assert_same(py, c)
    for old_c, _ in c[0]:
        assert not np.shares_memory(old_c, c[2][0].get_value(borrow=True))


def test_an_output_equal_to_the_update_is_a_separate_array():
    def build():
        w = sg.shared(_weights(), name="w")
        x = T.dmatrix("x")
        new = w - LR * T.dot(x.T, x[:, :4])
        return [x], new, [(w, new)], [w]

    x = _weights(8, (3, 5))
    py, c = _pair(build, steps=3, args=(x,))
    _assert_same(py, c)
    first = c[0][0]
    # the array returned by the first call is not the buffer later calls write over
    np.testing.assert_allclose(first, py[0][0], rtol=1e-12)


def _gemm_function(w):
    x = T.dmatrix("x")
    return sg.compile_function([x], [], updates=[(w, w - LR * T.dot(x.T, x[:, :4]))], mode="c")


def test_a_read_only_or_non_contiguous_value_is_copied_not_written():
    x = _weights(9, (3, 5))
    expected = _weights() - LR * x.T @ x[:, :4]
    for make in (lambda a: np.require(a, requirements="C"), lambda a: np.asfortranarray(a)):
        value = make(_weights())
        if value.flags.c_contiguous:
            value.flags.writeable = False
        w = sg.shared(value, name="w", borrow=True)
        f = _gemm_function(w)
        assert f.maker.runner.destroyed_inputs
        f(x)
        np.testing.assert_allclose(w.get_value(), expected, rtol=1e-12)
        np.testing.assert_array_equal(value, _weights())  # the caller's array is untouched
        assert not np.shares_memory(w.get_value(borrow=True), value)


def test_values_changed_between_calls_are_checked_again():
    # the layout check is skipped while the shared values are the previous call's arrays:
    # a new value, or the same array made read-only, must still be protected
    x = _weights(9, (3, 5))
    step = LR * x.T @ x[:, :4]
    w = sg.shared(_weights(), name="w")
    f = _gemm_function(w)
    f(x)
    fortran = np.asfortranarray(_weights(1))
    w.set_value(fortran, borrow=True)
    f(x)
    np.testing.assert_array_equal(fortran, _weights(1))  # not written over
    np.testing.assert_allclose(w.get_value(), _weights(1) - step, rtol=1e-12)
    # another shared variable made an alias of the weights after the first calls: the
    # later reader of v must see the weights before this call's update
    a, b = _weights(4, (3, 5)), _weights(5, (3, 4))
    w1, v = sg.shared(_weights(), name="w1"), sg.shared(_weights(2), name="v")
    w2 = sg.shared(np.zeros((3, 4)), name="w2")
    xs, ys = T.dmatrix("x"), T.dmatrix("y")
    g = sg.compile_function([xs, ys], [], updates=[(w1, w1 - LR * T.dot(xs.T, ys)), (w2, w2 + T.dot(xs, v))],
                            mode="c")
    assert g.maker.runner.destroyed_inputs
    g(a, b)
    v.set_value(w1.get_value(borrow=True), borrow=True)
    old_w1, old_w2 = w1.get_value(), w2.get_value()
    g(a, b)
    np.testing.assert_allclose(w2.get_value(), old_w2 + a @ old_w1, rtol=1e-12)
    np.testing.assert_allclose(w1.get_value(), old_w1 - LR * a.T @ b, rtol=1e-12)
    frozen = w.get_value(borrow=True)
    f(x)  # frozen is now the variable's own buffer, updated in place
    assert w.get_value(borrow=True) is frozen
    frozen.flags.writeable = False
    before = frozen.copy()
    f(x)
    np.testing.assert_array_equal(frozen, before)
    np.testing.assert_allclose(w.get_value(), before - step, rtol=1e-12)


def test_an_input_sharing_memory_with_the_weights_sees_the_old_values():
    w = sg.shared(_weights(shape=(5, 5)), name="w")
    x = T.dmatrix("x")
    new = w - LR * T.dot(x.T, x)
    f = sg.compile_function([x], x.sum(), updates=[(w, new)], mode="c")
    assert f.maker.runner.destroyed_inputs
    alias = w.get_value(borrow=True)[:3]  # a borrowed view of the shared value as an input
    expected_sum = alias.sum()
    expected_w = _weights(shape=(5, 5)) - LR * alias.T @ alias
    got = f(alias)
    assert got == pytest.approx(expected_sum, rel=1e-12)
    np.testing.assert_allclose(w.get_value(), expected_w, rtol=1e-12)


@pytest.mark.parametrize("kind", ["gemv", "ger"])
def test_gemv_and_ger_updates_are_in_place(kind):
    av, xv = _weights(10, (4, 3)), _weights(11, (3,))

    def build():
        if kind == "gemv":
            v = sg.shared(_weights(12, (4,)), name="v")
            a, x = T.dmatrix("a"), T.dvector("x")
            return [a, x], v.sum(), [(v, v - LR * T.dot(a, x))], [v]
        m = sg.shared(_weights(12, (4, 3)), name="m")
        a, x = T.dmatrix("a"), T.dvector("x")
        return [a, x], m.sum(), [(m, m - LR * T.outer(a[:, 0], x))], [m]

    py, c = _pair(build, steps=3, args=(av, xv))
    _assert_same(py, c)
    assert (Gemv if kind == "gemv" else Ger) in _ops(c[1])
    assert c[3] == [True]


def test_the_cffi_call_path_returns_the_updated_buffer_too():
    w = sg.shared(_weights(), name="w")
    f = _gemm_function(w)
    for _, seg in f.maker.runner.steps:
        seg.caller = None  # as when the extension cannot be built
    x = _weights(13, (3, 5))
    before = w.get_value(borrow=True)
    f(x)
    f(x)
    assert w.get_value(borrow=True) is before
    expected = _weights()
    for _ in range(2):
        expected = expected - LR * x.T @ x[:, :4]
    np.testing.assert_allclose(before, expected, rtol=1e-12)


def test_a_function_loaded_from_the_function_cache_updates_in_place_too():
    x = _weights(14, (3, 5))
    fs = []
    for _ in range(2):
        w = sg.shared(_weights(), name="w")
        fs.append((w, _gemm_function(w)))
    (_, f0), (w1, f1) = fs
    assert f1.maker.function_cache_status == "hit", f1.maker.function_cache_status
    assert f1.maker.runner.destroyed_inputs == f0.maker.runner.destroyed_inputs != []
    before = w1.get_value(borrow=True)
    f1(x)
    assert w1.get_value(borrow=True) is before


def test_the_same_graph_with_a_plain_output_instead_of_an_update_is_not_in_place():
    # the function cache must not hand the in-place entry to a function that returns the
    # value instead of updating the variable with it
    w = sg.shared(_weights(), name="w")
    x = T.dmatrix("x")
    new = w - LR * T.dot(x.T, x[:, :4])
    f_update = sg.compile_function([x], [], updates=[(w, new)], mode="c")
    f_plain = sg.compile_function([x], new, mode="c")
    assert f_update.maker.runner.destroyed_inputs and not f_plain.maker.runner.destroyed_inputs
    before = w.get_value()
    f_plain(_weights(15, (3, 5)))
    np.testing.assert_array_equal(w.get_value(), before)


def test_concurrent_calls_never_see_a_half_written_weight():
    # calls of a function that updates in place are serialized with every call reading
    # the variable: a reader sees the weights after a whole number of updates
    w = sg.shared(np.zeros((64, 64)), name="w")
    x = T.dmatrix("x")
    ones = np.ones((64, 64))
    step = sg.compile_function([x], [], updates=[(w, w + T.dot(x, x) * (1.0 / 64))], mode="c")
    assert step.maker.runner.destroyed_inputs
    read = sg.compile_function([], [w.min(), w.max()], mode="c")
    bad = []

    def writer():
        for _ in range(200):
            step(ones)

    def reader():
        for _ in range(400):
            lo, hi = read()
            if lo != hi:
                bad.append((lo, hi))

    threads = [threading.Thread(target=writer) for _ in range(2)] + [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bad == []
    assert w.get_value()[0, 0] == 400.0


def test_elementwise_updates_are_in_place():
    # plain SGD on a bias and a momentum step: both elementwise over the variable
    gv = _weights(16, (5, 4))

    def build():
        w = sg.shared(_weights(), name="w")
        v = sg.shared(np.zeros((5, 4)), name="v")
        b = sg.shared(np.ones(4), name="b")
        g = T.dmatrix("g")
        v_new = 0.9 * v - LR * g
        return [g], (w * w).sum(), [(v, v_new), (w, w + v_new), (b, b - LR * g.sum(axis=0))], [v, w, b]

    py, c = _pair(build, steps=4, args=(gv,))
    _assert_same(py, c)
    # w + v_new reads v's new value: v and b are updated in place; w too (it reads the
    # new v, not the old w twice)
    assert c[3] == [True, True, True], c[3]


def test_an_update_reading_a_view_of_the_variable_is_not_in_place():
    # Gemm(w, -lr, w.T, x, 1) and w + w.T read w through a second input: BLAS or the loop
    # would read values it has already overwritten
    xv = _weights(17, (5, 5))

    def build():
        w = sg.shared(_weights(shape=(5, 5)), name="w")
        u = sg.shared(_weights(18, (5, 5)), name="u")
        x = T.dmatrix("x")
        return [x], [], [(w, w - LR * T.dot(w.T, x)), (u, u + u.T * 0.5)], [w, u]

    py, c = _pair(build, steps=3, args=(xv,))
    _assert_same(py, c)
    assert c[3] == [False, False]


_BORROWED_SLOT_PROGRAM = r"""
#include <assert.h>
#include <stdio.h>
#include "symgraph_runtime.h"
int main(void) {
    double *owned = malloc(6 * sizeof(double));
    for (int k = 0; k < 6; ++k) owned[k] = k;
    sg_array a;
    int64_t same[2] = {2, 3}, bigger[2] = {4, 3}, smaller[1] = {2};
    /* a result of the lent buffer's size is computed in it */
    sg_ws_slot slot = {owned, (6 * sizeof(double)) | SG_WS_BORROWED};
    assert(sg_ws_alloc(&slot, &a, 2, same, sizeof(double)) && a.data == owned);
    /* any other size gets a fresh buffer; the lent one is neither freed nor reused */
    slot = (sg_ws_slot){owned, (6 * sizeof(double)) | SG_WS_BORROWED};
    assert(sg_ws_alloc(&slot, &a, 2, bigger, sizeof(double)) && a.data != owned);
    assert(slot.ptr == a.data && slot.cap == 12 * sizeof(double));
    ((double *)a.data)[11] = 1.0;
    free(a.data);
    slot = (sg_ws_slot){owned, (6 * sizeof(double)) | SG_WS_BORROWED};
    assert(sg_ws_alloc(&slot, &a, 1, smaller, sizeof(double)) && a.data != owned);
    free(a.data);
    for (int k = 0; k < 6; ++k) assert(owned[k] == k);
    free(owned);  /* a second free of it would abort under AddressSanitizer */
    puts("ok");
    return 0;
}
"""


def test_a_lent_buffer_of_another_size_is_never_freed(tmp_path: Path) -> None:
    # The in-place elementwise update lends the variable's buffer to the kernel's slot. The
    # graph guarantees the result has the variable's size; should it not, the runtime must
    # allocate afresh, not free (or write past) the variable's buffer.
    source = tmp_path / "borrowed.c"
    source.write_text(_BORROWED_SLOT_PROGRAM)
    exe = tmp_path / "borrowed"
    cc = cbuild.compiler()
    flags = ["-fsanitize=address", "-fno-omit-frame-pointer"]
    probe = subprocess.run([cc, *flags, "-x", "c", "-", "-o", str(tmp_path / "probe")],
                           input="int main(void){return 0;}", capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        flags = []  # no AddressSanitizer: the pointer checks still run
    subprocess.run([cc, "-O1", "-std=gnu11", *flags, f"-I{cbuild.csrc_dir()}", str(source),
                    "-o", str(exe), "-lm"], check=True, capture_output=True, text=True)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-2000:]
