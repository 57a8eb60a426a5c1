"""The direct call path (argument tuple -> C extension -> segment) and serial small loops."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.backends.c.omp import serial_branches
from symgraph.errors import ShapeMismatchError

pytestmark = pytest.mark.needs_gcc


# -- serial_branches ------------------------------------------------------------------------
def test_a_simd_loop_gets_a_serial_simd_copy_with_its_reductions() -> None:
    src = "\n".join([
        "  s = 0;",
        "  #pragma omp parallel for simd reduction(+:s) schedule(static) if(parallel: n > 1000) num_threads(2)",
        "  for (int64_t k = 0; k < n; ++k) { const int64_t r = 0; s += x[k]; }",
        "  out = s;",
    ])
    got = serial_branches(src).split("\n")
    assert got == [
        "  s = 0;",
        "  if (n > 1000) {",
        "  #pragma omp parallel for simd reduction(+:s) schedule(static) num_threads(2)",
        "  for (int64_t k = 0; k < n; ++k) { const int64_t r = 0; s += x[k]; }",
        "  } else {",
        "  #pragma omp simd reduction(+:s)",
        "  for (int64_t k = 0; k < n; ++k) { const int64_t r = 0; s += x[k]; }",
        "  }",
        "  out = s;",
    ]


def test_a_loop_over_two_lines_and_a_block_are_copied_whole() -> None:
    src = "\n".join([
        "#pragma omp parallel for simd schedule(static) if(parallel: (a * b) > 5)",
        "for (int64_t k = 0; k < n; ++k)",
        "  y[k] = f(x[k]);",
        "#pragma omp parallel for schedule(static) if(parallel: big)",
        "for (int64_t r = 0; r < rows; ++r) {",
        '  if (bad) { snprintf(msg, 9, "}{"); }',
        "  #pragma omp simd",
        "  for (int64_t k = 0; k < n; ++k) y[r] += x[k];",
        "}",
        "tail();",
    ])
    got = serial_branches(src)
    assert got.count("if ((a * b) > 5) {") == 1 and got.count("if (big) {") == 1
    assert got.count("y[k] = f(x[k]);") == 2
    # the serial copy of a plain `parallel for` has no pragma of its own; the inner simd stays
    serial_part = got.split("} else {")[2]
    assert "#pragma omp parallel" not in serial_part and "#pragma omp simd" in serial_part
    assert got.count('snprintf(msg, 9, "}{");') == 2
    assert got.rstrip().endswith("tail();") and "if(parallel:" not in got


def test_source_without_the_clause_or_with_a_broken_statement_is_left_alone() -> None:
    plain = "#pragma omp parallel for\nfor (k = 0; k < n; ++k) y[k] = 1;\n"
    assert serial_branches(plain) == plain
    dangling = "#pragma omp parallel for if(parallel: n > 1)\n#pragma omp simd\n"
    assert serial_branches(dangling) == dangling


@pytest.mark.parametrize("n", [1, 7, 1000, 300_000])
def test_both_branches_compute_the_same_as_numpy(n: int) -> None:
    x = T.dvector("x")
    f = sg.compile_function([x], [T.exp(x) * 2 + 1, T.sum(T.tanh(x))], mode="c")
    values = np.linspace(-3, 2, n)
    elementwise, total = f(values)
    np.testing.assert_allclose(elementwise, np.exp(values) * 2 + 1, rtol=1e-14)
    np.testing.assert_allclose(total, np.tanh(values).sum(), rtol=1e-12)
    source = "".join(s.source for s in f.maker.runner.sources)
    assert "if(parallel:" not in source and "} else {" in source


# -- the direct call path -------------------------------------------------------------------
def _scalar_function() -> sg.Function:  # type: ignore[name-defined]
    x = T.dscalar("x")
    return sg.compile_function([x], x * 2 + 1, mode="c")


def test_a_single_segment_function_is_called_without_the_python_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    f = _scalar_function()
    assert f._c_call is not None

    def refuse(*args: object) -> None:
        raise AssertionError("the Python runner ran")

    monkeypatch.setattr(type(f._runner), "__call__", refuse)
    out = f(1.0)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == () and out == 3.0
    assert f(np.array(2.0)) == 5.0
    f.trust_input = True
    assert f(np.array(3.0)) == 7.0


def test_arguments_the_c_side_declines_take_the_checked_python_path() -> None:
    f = _scalar_function()
    assert f(2) == 5.0  # a Python int for a float64 scalar is converted
    assert f(np.float32(1.5)) == 4.0
    assert f(x=1.0) == 3.0
    with pytest.raises(TypeError, match="x"):
        f(np.zeros(3))  # wrong ndim: the usual error naming the input
    with pytest.raises(TypeError):
        f(1.0, 2.0)


def test_int64_scalars_and_static_shapes() -> None:
    i = T.lscalar("i")
    v = T.tensor("float64", shape=(3,), name="v")
    f = sg.compile_function([i, v], v * i, mode="c")
    assert f._c_call is not None
    np.testing.assert_array_equal(f(2, np.ones(3)), [2.0, 2.0, 2.0])
    assert f(2**70 // 2**70, np.ones(3))[0] == 1.0
    with pytest.raises(TypeError, match="'i'"):
        f(2**70, np.ones(3))  # too big for int64: the Python path explains
    with pytest.raises((TypeError, ValueError), match="v"):
        f(2, np.ones(4))  # the static length 3 is checked, not read past


def test_errors_inside_the_segment_are_reported_by_the_python_path() -> None:
    a, b = T.dvectors("a", "b")
    f = sg.compile_function([a, b], a + b, mode="c")
    assert f._c_call is not None
    with pytest.raises(ShapeMismatchError, match="test_call_path.py"):
        f(np.ones(3), np.ones(4))


def test_multiple_outputs_are_a_list_and_never_alias_the_inputs() -> None:
    x = T.dvector("x")
    f = sg.compile_function([x], [x + 1, x * 2], mode="c")
    values = np.arange(4.0)
    first, second = f(values)
    assert first is not values and not np.shares_memory(first, values)
    np.testing.assert_array_equal(second, values * 2)


def test_functions_with_updates_or_a_nan_guard_keep_the_python_path() -> None:
    x = T.dvector("x")
    w = sg.shared(np.ones(3), name="w")
    with_update = sg.compile_function([x], (x * w).sum(), updates=[(w, w * 2)], mode="c")
    assert with_update._c_call is None
    assert with_update(np.ones(3)) == 3.0 and with_update(np.ones(3)) == 6.0
    with sg.config.change_flags(nan_guard=True):
        guarded = sg.compile_function([x], T.log(x), mode="c")
    assert guarded._c_call is None


# -- the pre-parsed cffi declarations ---------------------------------------------------------
def test_the_preparsed_ffi_module_describes_the_same_types_as_cdef() -> None:
    # symgraph/backends/c/_ffi.py is build.CDEF parsed ahead of time (no pycparser at import);
    # a CDEF changed without regenerating it (python -m symgraph.backends.c.build --write-ffi)
    # fails here
    from symgraph.backends.c import _ffi, build

    parsed = build._parsed_ffi()
    assert build.ffi is _ffi.ffi
    for struct in ("sg_array", "sg_error", "sg_ws_slot"):
        assert _ffi.ffi.sizeof(struct) == parsed.sizeof(struct)
        fields = parsed.typeof(struct).fields
        assert [name for name, _ in _ffi.ffi.typeof(struct).fields] == [name for name, _ in fields]
        for name, field in fields:
            assert _ffi.ffi.offsetof(struct, name) == field.offset
            assert _ffi.ffi.typeof(struct).fields[[n for n, _ in fields].index(name)][1].type.cname == field.type.cname
    lib = _ffi.ffi.dlopen(None)
    assert _ffi.ffi.typeof(lib.free).cname == parsed.typeof(parsed.dlopen(None).free).cname
    # the entry points generated code defines: same signatures
    for fn in ("sg_segment", "sg_ws_release"):
        declared = [line for line in build.CDEF.splitlines() if f" {fn}(" in line]
        assert len(declared) == 1
