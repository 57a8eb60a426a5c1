"""The function cache: a second compile of the same graph loads the rewritten graph and the
compiled segments instead of rewriting and generating C again, and behaves the same."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.backends.c.build import compiler
from symgraph.backends.py.dispatch import perform
from symgraph.compile import function_cache
from symgraph.compile.cache import FUNCTIONS_DIR, ArtifactCache
from symgraph.errors import NaNGuardError, ShapeMismatchError
from symgraph.gradient.rules import mark_non_differentiable
from symgraph.graph.node import Apply
from symgraph.graph.op import Op
from symgraph.printing import debugprint

needs_gcc = pytest.mark.skipif(compiler() is None, reason="needs gcc to build C segments")


@pytest.fixture
def compiledir(tmp_path):
    with sg.config.change_flags(compiledir=str(tmp_path)):
        yield tmp_path


def _records(root: Path) -> list[Path]:
    return sorted((root / FUNCTIONS_DIR).glob("??/*/record"))


def _step_graph(rng):
    """A small training step: shared weights, updates, a softmax loss, a constant."""
    W = sg.shared(rng.standard_normal((4, 3)), name="W")
    b = sg.shared(np.zeros(3), name="b")
    x = T.dmatrix("x")
    y = T.ivector("y")
    prob = T.nnet.softmax(T.dot(x, W) + b)
    loss = T.nnet.categorical_crossentropy(prob, y).mean()
    gW, gb = T.grad(loss, [W, b])
    return [x, y], loss, [(W, W - 0.1 * gW), (b, b - 0.1 * gb)], (W, b)


def _compile(inputs, outputs, **kwargs):
    # one line compiles every function of these tests: the line is part of the key
    return sg.function(inputs, outputs, **kwargs)


def _structure(f) -> str:
    return debugprint(f.maker.fgraph.outputs, file="str")


@needs_gcc
def test_second_compile_is_loaded_and_behaves_the_same(compiledir, rng):
    x_val = rng.standard_normal((5, 4))
    y_val = np.array([0, 2, 1, 1, 0], dtype=np.int32)
    inputs, loss, updates, (W, b) = _step_graph(np.random.default_rng(0))
    first = _compile(inputs, loss, updates=updates, mode="c")
    assert first.maker.function_cache_status == "stored"
    assert len(_records(compiledir)) == 1

    inputs2, loss2, updates2, (W2, b2) = _step_graph(np.random.default_rng(0))
    second = _compile(inputs2, loss2, updates=updates2, mode="c")
    assert second.maker.function_cache_status == "hit"

    # the same rewritten graph, log, segments and runner
    assert _structure(second) == _structure(first)
    assert second.rewrites_applied == first.rewrites_applied and sum(first.rewrites_applied.values()) > 0
    assert [e.name for e in second.maker.rewrite_log.events] == [e.name for e in first.maker.rewrite_log.events]
    assert second.maker.rewrite_log.from_cache and not getattr(first.maker.rewrite_log, "from_cache", False)
    assert set(second.maker.rewrite_log.phase_times) == set(first.maker.rewrite_log.phase_times)
    assert all(t == 0.0 for t in second.maker.rewrite_log.phase_times.values())
    assert second.maker.user_fgraph_size == first.maker.user_fgraph_size
    assert [s.source for s in second.maker.runner.sources] == [s.source for s in first.maker.runner.sources]
    assert set(vars(second.maker.runner)) == set(vars(first.maker.runner))
    assert "loaded from the function cache" in second.explain()

    # same results, and the updates land in the second graph's own shared variables
    for _ in range(3):
        np.testing.assert_array_equal(second(x_val, y_val), first(x_val, y_val))
        np.testing.assert_array_equal(W2.get_value(), W.get_value())
        np.testing.assert_array_equal(b2.get_value(), b.get_value())
    assert not np.array_equal(W2.get_value(), np.random.default_rng(0).standard_normal((4, 3)))
    assert second.maker.fgraph.inputs[2] is not W2  # a clone, as a normal compile makes

    # and it pickles like any function
    again = pickle.loads(pickle.dumps(second))
    np.testing.assert_array_equal(again(x_val, y_val), second(x_val, y_val))


def test_py_mode_and_nan_guard_are_cached_and_errors_name_the_users_line(compiledir):
    x = T.dvector("x")
    out = T.log(x) * 2  # the line errors point at
    line = sys._getframe().f_lineno - 1
    first = _compile([x], out, mode="NanGuardMode")
    second = _compile([x], out, mode="NanGuardMode")
    assert (first.maker.function_cache_status, second.maker.function_cache_status) == ("stored", "hit")
    assert second.maker.backend_name == "py" and second.maker.nan_guard
    np.testing.assert_allclose(second(np.array([1.0, 2.0])), np.log([1.0, 2.0]) * 2)
    with pytest.raises(NaNGuardError, match=rf"(?s)nan_guard.*test_function_cache.py.*line {line}"):
        second(np.array([-1.0]))


@needs_gcc
def test_c_errors_after_a_hit_name_the_users_line(compiledir):
    x, y = T.dvectors("x", "y")
    out = T.exp(x) + y  # the line errors point at
    line = sys._getframe().f_lineno - 1
    _compile([x, y], out, mode="c")
    f = _compile([x, y], out, mode="c")
    assert f.maker.function_cache_status == "hit"
    with pytest.raises(ShapeMismatchError, match=rf"(?s)test_function_cache.py.*line {line}"):
        f(np.ones(3), np.ones(4))


@dataclass(frozen=True)
class _PythonOnlyTriple(Op):
    """A user's own op with only a NumPy implementation (runs between C segments)."""

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type.make_variable()])


perform.register(_PythonOnlyTriple)(lambda op, node, inputs: [inputs[0] * 3])
mark_non_differentiable(_PythonOnlyTriple)


@needs_gcc
def test_python_nodes_between_segments_are_restored(compiledir):
    x = T.dvector("x")
    out = T.exp(_PythonOnlyTriple()(T.sin(x))) + 1
    first = _compile([x], out, mode="c")
    second = _compile([x], out, mode="c")
    assert second.maker.function_cache_status == "hit"
    assert [type(n.op) for n in second.maker.runner.python_nodes] == [_PythonOnlyTriple]
    assert len(second.maker.runner.sources) == len(first.maker.runner.sources) == 2
    v = np.linspace(0, 1, 5)
    np.testing.assert_allclose(second(v), np.exp(3 * np.sin(v)) + 1, rtol=1e-15)


def _key(build, **options):
    inputs, outputs = build()
    settings = {"backend": "c", "optimizer": "fast_run", "nan_guard": False, "compile_site": None, **options}
    return function_cache.function_key(inputs, outputs, **settings)


def test_the_key_tells_apart_what_changes_the_compiled_function():
    def graph(constant=2.0, dtype="float64", name="x", axis=0, source_line=True):
        def build():
            x = T.matrix(name, dtype=dtype)
            out = (x * constant).sum(axis=axis)
            if not source_line:
                for node in (out.owner, out.owner.inputs[0].owner):
                    object.__setattr__(node, "source", None)
            return [x], [out]
        return build

    base = _key(graph())
    assert _key(graph()) == base  # built again: the same key
    variants = [_key(graph(constant=3.0)), _key(graph(constant=2.0000000000000004)), _key(graph(dtype="float32")),
                _key(graph(name="z")), _key(graph(axis=1)), _key(graph(source_line=False)),
                _key(graph(), backend="py"), _key(graph(), optimizer="stabilize"), _key(graph(), nan_guard=True)]
    assert len({base, *variants}) == len(variants) + 1
    with sg.config.change_flags(vecmath=False):
        assert _key(graph()) != base
    with sg.config.change_flags(compiledir="/somewhere/else"):
        assert _key(graph()) == base  # where the cache is does not change what is in it


def test_the_key_tells_apart_which_inputs_are_outputs_and_updates():
    def build_swapped(swap):
        def build():
            a, b = T.dvectors("a", "b")
            return ([b, a] if swap else [a, b]), [a + b]
        return build

    assert _key(build_swapped(False)) != _key(build_swapped(True))


def test_indexing_with_slices_and_ellipsis_is_cached(compiledir):
    x = T.dtensor3("x")
    out = x[..., 1:3, ::2].sum() + x[0, ..., -1].max()
    first = _compile([x], out, mode="py")
    second = _compile([x], out, mode="py")
    assert (first.maker.function_cache_status, second.maker.function_cache_status) == ("stored", "hit")
    v = np.arange(24.0).reshape(2, 3, 4)
    assert second(v) == v[..., 1:3, ::2].sum() + v[0, ..., -1].max()


def test_graphs_the_key_cannot_describe_are_compiled_normally(compiledir):
    @dataclass(frozen=True)
    class LocalDouble(Op):  # defined in a function: cannot be found again by name
        def make_node(self, x):
            x = T.as_tensor_variable(x)
            return Apply(self, [x], [x.type.make_variable()])

    perform.register(LocalDouble)(lambda op, node, inputs: [inputs[0] * 2])
    x = T.dvector("x")
    f = _compile([x], LocalDouble()(x) + 1, mode="py")
    assert f.maker.function_cache_status.startswith("not cached: class")
    np.testing.assert_array_equal(f(np.ones(2)), [3.0, 3.0])
    assert _records(compiledir) == []


@pytest.mark.parametrize("damage", ["flipped byte", "valid digest, not a pickle", "truncated"])
def test_a_damaged_record_is_a_miss_and_is_replaced(compiledir, damage):
    x = T.dvector("x")
    out = T.exp(x) * 3
    _compile([x], out, mode="py")
    (record,) = _records(compiledir)
    data = record.read_bytes()
    if damage == "flipped byte":
        record.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    elif damage == "truncated":
        record.write_bytes(data[: len(data) // 2])
    else:
        import hashlib

        payload = b"not a pickle"
        record.write_bytes(hashlib.sha256(payload).digest() + payload)
    f = _compile([x], out, mode="py")
    assert f.maker.function_cache_status == "stored"  # rewritten and stored again
    np.testing.assert_allclose(f(np.array([0.5])), np.exp([0.5]) * 3)
    assert _compile([x], out, mode="py").maker.function_cache_status == "hit"


@needs_gcc
def test_a_missing_library_is_rebuilt_from_the_stored_source(compiledir):
    x = T.dvector("x")
    out = T.tanh(x) * 5 - x
    _compile([x], out, mode="c")
    for entry in ArtifactCache(compiledir).entries():
        shutil.rmtree(entry)
    f = _compile([x], out, mode="c")
    assert f.maker.function_cache_status == "hit"
    v = np.linspace(-1, 1, 4)
    np.testing.assert_allclose(f(v), np.tanh(v) * 5 - v, rtol=1e-15)
    assert len(ArtifactCache(compiledir).entries()) == 1


def test_clearing_the_cache_removes_function_records(compiledir):
    x = T.dvector("x")
    _compile([x], x + 1, mode="py")
    assert len(_records(compiledir)) == 1
    ArtifactCache(compiledir).clear()
    assert _records(compiledir) == []


def test_nothing_is_stored_once_symgraphs_code_changed_on_disk(compiledir, monkeypatch):
    monkeypatch.setattr(function_cache, "_code_fingerprint_now", lambda: "edited since this process started")
    x = T.dvector("x")
    f = _compile([x], x * 7, mode="py")
    assert f.maker.function_cache_status.startswith("not stored: symgraph's code changed")
    assert _records(compiledir) == []


_PROCESS = textwrap.dedent("""
    import numpy as np, symgraph as sg, symgraph.tensor as T
    w = sg.shared(np.arange(3.0), name="w")
    x = T.dvector("x")
    f = sg.function([x], (T.exp(x) * w).sum(), updates=[(w, w * 2)], mode="py")
    out = f(np.ones(3))
    assert np.allclose(out, np.e * 3) and np.allclose(w.get_value(), [0, 2, 4])
    print(f.maker.function_cache_status)
""")


def test_processes_share_entries(tmp_path):
    env = {**os.environ, "SYMGRAPH_FLAGS": f"compiledir={tmp_path}"}

    def start() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", _PROCESS], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    together = [start() for _ in range(3)]  # compile at the same moment: all store
    for proc in together:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() in ("stored", "hit")
    later = start()  # hashes differ between processes (PYTHONHASHSEED): the key must not
    out, err = later.communicate(timeout=120)
    assert later.returncode == 0, err
    assert out.strip() == "hit"
    assert len(_records(tmp_path)) == 1


@needs_gcc
def test_segments_built_out_of_order_are_still_stored_and_restored(compiledir, monkeypatch):
    # the C runner builds a function's segments at once, so their libraries are asked for in
    # no particular order; the record must still pair each segment with its own library
    import time

    from symgraph.backends.c.runner import CRunner

    real = CRunner._compile_segment
    calls = []

    def late_first(self, source, cache):
        calls.append(source)
        if len(calls) == 1:
            time.sleep(0.3)  # the first segment asks for its library last
        return real(self, source, cache)

    monkeypatch.setattr(CRunner, "_compile_segment", late_first)
    x = T.dvector("x")
    out = T.exp(_PythonOnlyTriple()(T.sin(x) * 2)) + _PythonOnlyTriple()(T.cos(x))
    first = _compile([x], out, mode="c")
    assert first.maker.function_cache_status == "stored", first.maker.function_cache_status
    assert len(first.maker.runner.sources) >= 2
    second = _compile([x], out, mode="c")
    assert second.maker.function_cache_status == "hit"
    v = np.linspace(0, 1, 5)
    np.testing.assert_allclose(second(v), np.exp(3 * np.sin(v) * 2) + 3 * np.cos(v), rtol=1e-14)
    np.testing.assert_allclose(first(v), second(v), rtol=0)


@needs_gcc
def test_a_restored_scan_runs_its_step_as_c_too(compiledir):
    import symgraph as sg

    a = T.dvector("a")
    acc, _ = sg.scan(lambda v, s: T.tanh(s) + v, sequences=a, outputs_info=T.constant(0.0))
    first = _compile([a], acc, mode="c")
    second = _compile([a], acc, mode="c")
    assert second.maker.function_cache_status == "hit"
    nodes = second.maker.runner.python_nodes
    assert nodes and all(getattr(n.tag, "backend", None) == "c" for n in nodes)
    v = np.linspace(-1, 1, 6)
    np.testing.assert_allclose(second(v), first(v), rtol=1e-15)
