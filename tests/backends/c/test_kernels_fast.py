"""Fast C kernels for reductions and softmax (issue 6, W5 and W7): the generated code takes
the vectorized row paths, and its values equal the py backend's on every layout, dtype and
special value (NaN, +-inf, all -inf lines, empty lines, a single long row split across
threads)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.special as sps

import symgraph as sg
import symgraph.tensor as T

pytestmark = pytest.mark.needs_gcc

TOL = {"float64": {"rtol": 1e-12, "atol": 1e-14}, "float32": {"rtol": 2e-6, "atol": 1e-6}}


def _source(f) -> str:
    return "".join(s.source for s in f.maker.runner.sources)


def _agree(inputs, output, *values, tol) -> None:
    """The C function's result equals the py backend's (values, dtype, shape, NaN places)."""
    c = sg.compile_function(inputs, output, mode="c")
    py = sg.compile_function(inputs, output, mode="py")
    with np.errstate(all="ignore"):
        got, want = c(*values), py(*values)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, **tol)


def _special_rows(shape: tuple[int, int], dtype: str) -> np.ndarray:
    a = np.random.default_rng(0).standard_normal(shape).astype(dtype) * 4
    a[1] = np.nan          # all NaN
    a[2, 3] = np.nan       # one NaN
    a[3, 1] = np.inf       # +inf among finite values
    a[4, 2] = -np.inf      # -inf among finite values
    a[5] = -np.inf         # all -inf: softmax gives NaN (inf - inf), as NumPy's
    a[6] = -np.inf
    a[6, 4] = 1.5          # one finite value among -inf
    a[7] = 1e300 if dtype == "float64" else 1e30  # huge but equal: uniform softmax
    return a


def _layouts(a: np.ndarray) -> list[np.ndarray]:
    return [a, np.asfortranarray(a), a[::2, ::-1], a.T.copy().T[1:, :-1]]


# -- W5: logsumexp as written -----------------------------------------------------------

def test_w5_sums_an_inline_vector_exp_after_a_vectorized_row_max():
    z = T.dmatrix("z")
    f = sg.compile_function([z], T.log(T.sum(T.exp(z), 1)), mode="c")
    source = _source(f)
    # the fused sum calls the branch-free sg_vexp inside an omp simd reduction: no libm exp
    # (libmvec's exp sends every underflowing lane to scalar libm, 25x slower here)
    assert re.search(r"#pragma omp simd reduction\(\+:s\)\n\s*for .*sg_vexp_f64\(", source)
    assert not re.search(r"(?<![\w])exp\(", source)
    # the max is the NaN-flagged vector max over rows, not the generic reduction walk
    assert "reduction(max:m) reduction(|:nan)" in source
    rng = np.random.default_rng(5)
    v = rng.uniform(-1e3, 1e3, (300, 1000))  # 3e5 elements: past the OpenMP threshold
    got = f(v)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, sps.logsumexp(v, axis=1), rtol=1e-13)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fused_logsumexp_agrees_with_py_on_special_rows_and_layouts(dtype):
    z = T.matrix("z", dtype=dtype)
    for a in _layouts(_special_rows((9, 7), dtype)):
        _agree([z], T.log(T.sum(T.exp(z), 1)), a, tol=TOL[dtype])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fused_exp_sum_underflows_exactly_like_numpy(dtype):
    # one term per row: each output is one sg_vexp value, near and past the underflow
    # threshold (subnormal results, then zero), where the kernel switches lanes to exp(0)
    z = T.matrix("z", dtype=dtype)
    f = sg.compile_function([z], T.sum(T.exp(z), 1), mode="c")
    lo, hi = (-760.0, -700.0) if dtype == "float64" else (-110.0, -80.0)
    v = np.concatenate([np.linspace(lo, hi, 4001), [-np.inf, np.nan, 0.0, -746.0, -104.0]])
    v = v.astype(dtype).reshape(-1, 1)
    with np.errstate(all="ignore"):
        want = np.exp(v[:, 0])
    got = f(v)
    np.testing.assert_array_max_ulp(got[np.isfinite(want)], want[np.isfinite(want)], maxulp=2)
    assert np.isnan(got[-4]) and got[-5] == 0.0
    tiny = v[:, 0] < (-746.0 if dtype == "float64" else -104.0)
    assert np.all(got[tiny] == 0.0) and not np.any(np.signbit(got[tiny]))


# -- Max / Min over rows -----------------------------------------------------------------

@pytest.mark.parametrize("kind", ["max", "min"])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "uint8"])
def test_row_extremes_agree_with_py(kind, dtype):
    x = T.matrix("x", dtype=dtype)
    f_rows = getattr(T, kind)(x, axis=1)
    f_all = getattr(T, kind)(x)
    c = sg.compile_function([x], f_rows, mode="c")
    assert f"reduction({kind}:m)" in _source(c)
    if dtype.startswith("float"):
        a = _special_rows((9, 7), dtype)
    else:
        a = np.random.default_rng(1).integers(0, 200, (9, 7)).astype(dtype)
    for v in _layouts(a):
        _agree([x], f_rows, v, tol=TOL.get(dtype, {"rtol": 0, "atol": 0}))
        _agree([x], f_all, v, tol=TOL.get(dtype, {"rtol": 0, "atol": 0}))


@pytest.mark.parametrize("shape", [(400, 800), (1, 300_000), (300_000, 1)])
def test_row_max_split_across_threads_keeps_nan_and_inf(shape):
    x = T.dmatrix("x")
    a = np.random.default_rng(2).standard_normal(shape)
    a.flat[a.size // 3] = np.inf
    a.flat[a.size // 2] = np.nan
    for sym in [T.max(x, axis=1), T.max(x), T.min(x, axis=1), T.max(T.exp(x) * 2.0, axis=1)]:
        _agree([x], sym, a, tol=TOL["float64"])


def test_row_max_of_a_3d_tensor_over_its_last_two_axes():
    x = T.dtensor3("x")
    a = np.random.default_rng(3).standard_normal((5, 4, 6))
    a[2, 1, 3] = np.nan
    for v in [a, a[:, ::-1], np.asfortranarray(a)]:
        _agree([x], T.max(x, axis=(1, 2)), v, tol=TOL["float64"])


def test_row_max_of_an_empty_axis_is_still_an_error():
    x = T.dmatrix("x")
    f = sg.compile_function([x], T.max(x, axis=1), mode="c")
    assert f(np.zeros((0, 3))).shape == (0,)
    with pytest.raises(Exception, match="zero-size array"):
        f(np.zeros((3, 0)))


# -- softmax and log-softmax -------------------------------------------------------------

@pytest.mark.parametrize("fn", [T.nnet.softmax, T.nnet.log_softmax])
def test_softmax_emitter_runs_the_vectorized_row_kernel(fn):
    x = T.dmatrix("x")
    f = sg.compile_function([x], fn(x), mode="c")
    source = _source(f)
    name = f"sg_{'log_softmax' if fn is T.nnet.log_softmax else 'softmax'}_row_float64_float64"
    # the row kernel of csrc/symgraph_nnet.h (vectorized max, sg_vexp, rows across threads):
    # defined in the segment, or declared from the prebuilt runtime library
    assert re.search(rf"SG_(DEFINE|DECLARE)_SOFTMAX_ROW\({name}, double, double", source)
    # the node is one call of the header's NAME_node, which runs NAME_rows on the rows of a
    # C-contiguous input and, for other layouts, gathers every line into a buffer (NAME_lines)
    assert re.search(rf"if \({name}_node\(err, \d+, &sg_ws\[\d+\]|NULL, &\w+, &\w+, 1, ", source)
    if "SG_DEFINE_SOFTMAX_ROW" in source:
        assert "sg_vexp_f64, sg_shifted_exp_f64, 1, 8)" in source
    assert not re.search(r"(?<![\w])exp\(", source)


@pytest.mark.parametrize("fn", [T.nnet.softmax, T.nnet.log_softmax])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("axis", [1, 0])
def test_softmax_family_agrees_with_py_on_special_rows_and_layouts(fn, dtype, axis):
    x = T.matrix("x", dtype=dtype)
    for v in _layouts(_special_rows((9, 7), dtype)):
        _agree([x], fn(x, axis=axis), v, tol=TOL[dtype])


@pytest.mark.parametrize("fn", [T.nnet.softmax, T.nnet.log_softmax])
def test_softmax_family_on_empty_lines_vectors_3d_and_integers(fn):
    x, v3, vec = T.dmatrix("x"), T.dtensor3("v3"), T.dvector("vec")
    for shape in [(0, 5), (5, 0), (0, 0)]:
        _agree([x], fn(x), np.zeros(shape), tol=TOL["float64"])
        _agree([x], fn(x, axis=0), np.zeros(shape), tol=TOL["float64"])
    a = np.random.default_rng(4).standard_normal((3, 5, 4)) * 3
    for axis in [0, 1, 2]:
        _agree([v3], fn(v3, axis=axis), a, tol=TOL["float64"])
        _agree([v3], fn(v3, axis=axis), a[:, ::-2], tol=TOL["float64"])
    line = np.random.default_rng(5).standard_normal(11) * 10
    _agree([vec], fn(vec), line, tol=TOL["float64"])
    _agree([vec], fn(vec), line[::-3], tol=TOL["float64"])
    ints, i = T.imatrix("ints"), np.arange(-10, 10, dtype="int32").reshape(4, 5)
    for axis in [0, 1]:  # unit-stride lines, then lines gathered into a float64 buffer
        _agree([ints], fn(ints, axis=axis), i, tol=TOL["float64"])
        _agree([ints], fn(ints, axis=axis), i[:, ::-1], tol=TOL["float64"])


@pytest.mark.parametrize("fn", [T.nnet.softmax, T.nnet.log_softmax])
def test_softmax_family_split_across_threads(fn):
    x = T.dmatrix("x")
    rng = np.random.default_rng(6)
    a = rng.standard_normal((500, 700)) * 30
    a[17] = -np.inf
    a[18, 5] = np.nan
    for v in [a, np.asfortranarray(a), a[:, ::2]]:
        _agree([x], fn(x), v, tol=TOL["float64"])
        _agree([x], fn(x, axis=0), v, tol=TOL["float64"])
    f = sg.compile_function([x], T.nnet.softmax(x), mode="c")
    np.testing.assert_allclose(f(a[:3]).sum(axis=1)[[0, 2]], 1.0, rtol=1e-14)


# -- Max/Min with `initial` (NumPy's np.max(x, axis, initial=...)) ---------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape,axis", [((3, 0), (1,)), ((0, 3), (0,)), ((4, 5), (1,)), ((4, 5), (0,)),
                                        ((2, 0, 3), (1, 2)), ((4, 5), (0, 1))])
def test_max_and_min_with_an_infinite_initial_match_numpy_on_empty_axes(dtype, shape, axis) -> None:
    from symgraph.tensor.reduce import Max, Min

    x = T.tensor(dtype, shape=(None,) * len(shape), name="x")
    outs = [Max(axis, initial=-np.inf)(x), Min(axis, initial=np.inf)(x)]
    values = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    if values.size:
        values.flat[0] = np.nan
    got = sg.compile_function([x], outs, mode="c")(values)
    expected = sg.compile_function([x], outs, mode="py")(values)
    assert not any(f.maker.runner.python_nodes
                   for f in [sg.compile_function([x], outs, mode="c")])
    for g, e, fn, init in zip(got, expected, (np.max, np.min), (-np.inf, np.inf)):
        assert g.dtype == e.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(g, e)
        np.testing.assert_array_equal(e, fn(values, axis=axis, initial=init))


def test_max_with_a_finite_initial_runs_in_python_and_matches_numpy() -> None:
    from symgraph.tensor.reduce import Max

    x = T.dmatrix("x")
    f = sg.compile_function([x], Max((1,), initial=0.5)(x), mode="c")
    assert [type(n.op).__name__ for n in f.maker.runner.python_nodes] == ["Max"]
    values = np.array([[0.1, 0.2], [0.7, -1.0]])
    np.testing.assert_array_equal(f(values), np.max(values, axis=1, initial=0.5))


# -- W7: the softmax row kernel's exp pass and the threaded sums ------------------------------

def test_softmax_row_kernel_prefetches_the_next_line_and_takes_the_shifted_exp():
    from symgraph.backends.c import build

    header = (build.csrc_dir() / "symgraph_nnet.h").read_text()
    assert "__builtin_prefetch(next + q" in header
    assert "i + 1 < lines ? px + (i + 1) * L : NULL" in header
    assert re.search(r"if \(HAS_SHIFTED && shifted\) \{ *\\\n\s*_Pragma\(\"omp simd reduction\(\+:total\)\"\)",
                     header)
    x = T.dmatrix("x")
    for fn in [T.nnet.softmax, T.nnet.log_softmax]:
        with sg.config.change_flags(cflags="-DSG_TEST_EXTRA_FLAG=1"):  # the kernel compiled in
            source = _source(sg.compile_function([x], fn(x), mode="c"))
        # float64 lines take the shifted exp where their max is finite
        assert re.search(r"SG_DEFINE_SOFTMAX_ROW\(\w+_float64_float64, double, double, [01], sg_vexp_f64, "
                         r"sg_shifted_exp_f64, 1, 8\)", source)


@pytest.mark.parametrize("fn", [T.nnet.softmax, T.nnet.log_softmax])
def test_softmax_shifted_exp_underflows_like_numpy(fn):
    # rows [0, d...]: the max is 0 and the sum rounds to 1, so softmax returns the
    # exponentials themselves, near and past the underflow threshold (subnormal, then +0),
    # and log-softmax returns d
    x = T.dmatrix("x")
    f = sg.compile_function([x], fn(x), mode="c")
    d = np.concatenate([np.linspace(-760.0, -700.0, 3999), [-np.inf, -746.0, -745.5]])
    rows = np.concatenate([[0.0], d]).reshape(1, -1).repeat(3, axis=0)
    rows[1, 5] = np.nan  # a NaN makes its whole row NaN, as NumPy's
    got = f(rows)
    assert np.all(np.isnan(got[1])) and not np.any(np.isnan(got[[0, 2]]))
    if fn is T.nnet.log_softmax:
        np.testing.assert_array_equal(got[[0, 2], 1:], np.stack([d, d]))
        return
    with np.errstate(under="ignore"):
        want = np.exp(d)
    for row in got[[0, 2], 1:]:
        np.testing.assert_array_max_ulp(row[want > 0], want[want > 0], maxulp=2)
        tiny = d < -746.0
        assert np.all(row[tiny] == 0.0) and not np.any(np.signbit(row[tiny]))


def test_softmax_rows_with_an_infinite_max_take_the_general_exp():
    # +inf in a row: the shift is 0 and x - m may be positive (overflowing to inf)
    x = T.dmatrix("x")
    a = np.array([[np.inf, 1.0, 800.0, -3.0], [-np.inf] * 4, [710.0, 700.0, -1.0, np.inf],
                  [np.nan, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0]])
    for fn in [T.nnet.softmax, T.nnet.log_softmax]:
        _agree([x], fn(x), a, tol=TOL["float64"])
        _agree([x], fn(x), np.tile(a, (60_000, 1)), tol=TOL["float64"])  # across threads


def _walk_order_column_sums(a: np.ndarray) -> np.ndarray:
    """The single-threaded walk's sum over axis 0 of a C-contiguous matrix, in its order:
    4 rows at a time, ((a0 + a1) + (a2 + a3)), into the output row, then the rest one by one."""
    out = np.full(a.shape[1], -0.0)
    r = 0
    while r + 4 <= a.shape[0]:
        out += (a[r] + a[r + 1]) + (a[r + 2] + a[r + 3])
        r += 4
    for row in a[r:]:
        out += row
    return out


def _padded(a: np.ndarray) -> np.ndarray:
    """``a``'s values in a view whose rows are padded: not contiguous, unit-stride rows."""
    wide = np.zeros(a.shape[:-1] + (a.shape[-1] + 8,))
    wide[..., : a.shape[-1]] = a
    return wide[..., : a.shape[-1]]


@pytest.fixture(params=["prebuilt", "compiled"])
def runtime_kind(request, monkeypatch):
    """Each test twice: with the sum kernels of the prebuilt runtime library (where this
    install has one) and with the same kernels compiled into the generated code."""
    from symgraph.backends.c import runtime

    if request.param == "compiled":
        monkeypatch.setattr(runtime, "library", lambda: None)
    elif runtime.library() is None or sg.config.cflags or not sg.config.vecmath:
        pytest.skip("no prebuilt runtime library in this install (pip install -e .), or extra gcc "
                    "flags (sanitizer runs), which compile the runtime in")
    return request.param


def _threaded(f, layout: str, runtime_kind: str) -> None:
    """The function sums by the threaded driver, from the library or compiled in."""
    source = _source(f)
    # the node is one call of the sum's node function, told the layout (1: the last axes,
    # 2: the first ones), which tries the threaded driver NAME_trailing or NAME_leading
    code = {"trailing": 1, "leading": 2}[layout]
    assert re.search(rf"sg_sum_float64_float64_node\(&v\d+, sg_reduced, {code}, ", source), source
    macro = "SG_DECLARE_SUM" if runtime_kind == "prebuilt" else "SG_DEFINE_SUM"
    assert f"{macro}(sg_sum_float64_float64, double, double, double)" in source


@pytest.mark.parametrize("shape", [(601, 700), (200_000, 3), (2, 130_003), (5, 300_001)])
def test_threaded_row_sums_add_in_the_walks_order(shape, runtime_kind):
    # the walk on a non-contiguous view with unit-stride rows sums each row by the same
    # pairwise kernel: the threaded path must give the same bits, with any number of threads
    x = T.dmatrix("x")
    a = np.random.default_rng(8).standard_normal(shape) * 1e3
    f = sg.compile_function([x], T.sum(x, axis=1), mode="c")
    _threaded(f, "trailing", runtime_kind)
    got = f(a)
    np.testing.assert_array_equal(got, f(_padded(a)))
    with sg.config.change_flags(openmp_threads=1):
        one = sg.compile_function([x], T.sum(x, axis=1), mode="c")
    np.testing.assert_array_equal(one(a), got)
    t3 = T.dtensor3("t3")
    f3 = sg.compile_function([t3], T.sum(t3, axis=(1, 2)), mode="c")
    np.testing.assert_array_equal(f3(a.reshape(shape[0], 1, -1)), got)


@pytest.mark.parametrize("shape", [(600, 700), (701, 601), (3, 200_000), (130_003, 2)])
def test_threaded_column_sums_add_in_the_walks_order(shape, runtime_kind):
    x = T.dmatrix("x")
    a = np.random.default_rng(9).standard_normal(shape) * 1e3
    f = sg.compile_function([x], T.sum(x, axis=0), mode="c")
    _threaded(f, "leading", runtime_kind)
    got = f(a)
    np.testing.assert_array_equal(got, _walk_order_column_sums(a))
    with sg.config.change_flags(openmp_threads=1):
        one = sg.compile_function([x], T.sum(x, axis=0), mode="c")
    np.testing.assert_array_equal(one(a), got)
    t3 = T.dtensor3("t3")
    f3 = sg.compile_function([t3], T.sum(t3, axis=(0, 1)), mode="c")
    np.testing.assert_array_equal(f3(a.reshape(1, shape[0], -1)), got)


@pytest.mark.parametrize("n", [129, 1000, 300_001])
def test_threaded_full_sum_splits_the_pairwise_sum_into_its_halves(n, runtime_kind):
    # the walk's strided kernel adds in the same pairwise order as the unit-stride one
    v, x = T.dvector("v"), T.dmatrix("x")
    a = np.random.default_rng(10).standard_normal(n) * 1e3
    f, fx = sg.compile_function([v], T.sum(v), mode="c"), sg.compile_function([x], T.sum(x), mode="c")
    spaced = np.zeros(2 * n)
    spaced[::2] = a
    want = f(spaced[::2])
    np.testing.assert_array_equal(f(a), want)
    np.testing.assert_array_equal(fx(a.reshape(1, n)), want)


@pytest.mark.parametrize("dtype", ["float32", "int32", "uint8", "float64"])
@pytest.mark.parametrize("axis", [0, 1, None])
def test_threaded_sums_of_other_dtypes_and_layouts_agree_with_py(dtype, axis, runtime_kind):
    x = T.matrix("x", dtype=dtype)
    rng = np.random.default_rng(9)
    tol = {"float32": {"rtol": 1e-5, "atol": 1e-3}, "float64": TOL["float64"]}
    for shape in [(500, 700), (1, 300_001), (300_001, 1), (3, 5), (0, 7), (7, 0), (1, 1)]:
        if dtype.startswith("float"):
            a = rng.standard_normal(shape).astype(dtype)
        else:
            a = rng.integers(0, 100, shape).astype(dtype)
        for v in [a, np.asfortranarray(a), a[::-1]]:
            _agree([x], T.sum(x, axis=axis), v, tol=tol.get(dtype, {"rtol": 0, "atol": 0}))


def test_shifted_exp_is_sg_vexp_bit_for_bit_on_nonpositive_arguments(tmp_path):
    # the softmax kernel's exp for x - max <= 0 (or NaN) must stay sg_vexp_f64 there,
    # whatever becomes of either: both compiled side by side in vector loops, as generated
    import subprocess

    import cffi

    from symgraph.backends.c import build
    loop = ("void t_{0}(int64_t n, const double *restrict x, double *restrict y) "
            "{{ _Pragma(\"omp simd\") for (int64_t i = 0; i < n; ++i) y[i] = {1}(x[i]); }}")
    src = tmp_path / "shifted.c"
    src.write_text("\n".join(['#include <stdint.h>', '#include "symgraph_nnet.h"',
                              loop.format("shifted", "sg_shifted_exp_f64"),
                              loop.format("general", "sg_vexp_f64")]) + "\n")
    lib = tmp_path / "shifted.so"
    proc = subprocess.run([build.compiler(), *build.base_flags(), f"-I{build.csrc_dir()}", str(src),
                           "-o", str(lib), "-lm"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[:3000]
    ffi = cffi.FFI()
    ffi.cdef("void t_shifted(int64_t, const double *, double *);"
             "void t_general(int64_t, const double *, double *);")
    c = ffi.dlopen(str(lib))
    rng = np.random.default_rng(11)
    d = np.concatenate([np.linspace(-800.0, 0.0, 200_001), -rng.exponential(5.0, 100_000),
                        -rng.uniform(0.0, 1e-300, 1000), [-0.0, 0.0, -np.inf, np.nan, -745.13, -746.0,
                                                           -708.4, -5e-324, -1e308]])
    got, want = np.empty_like(d), np.empty_like(d)
    c.t_shifted(d.size, ffi.cast("double *", d.ctypes.data), ffi.cast("double *", got.ctypes.data))
    c.t_general(d.size, ffi.cast("double *", d.ctypes.data), ffi.cast("double *", want.ctypes.data))
    np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))
