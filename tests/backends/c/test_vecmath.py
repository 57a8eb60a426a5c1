"""csrc/symgraph_vecmath.h: vectorization, accuracy in ulp and special values vs libm.

One small C harness (a ``#pragma omp parallel for simd`` loop per function and dtype, the
shape of generated code) is compiled with the C backend's gcc flags and loaded with cffi.
References: long-double libm through NumPy for float64, float64 libm for float32, so the
reference error is far below the 0.01 ulp resolution of the bounds checked here.
"""

from __future__ import annotations

import math
import re
import subprocess
import zlib

import cffi
import numpy as np
import pytest

from symgraph import scalar as ps
from symgraph.backends.c import build
from symgraph.backends.c.emit.vecmath import PREFERRED, VECTOR_FUNCTIONS, range_guard, vector_call

pytestmark = [pytest.mark.needs_gcc, pytest.mark.skipif(build.compiler() is None, reason="needs gcc")]

NAMES = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tanh", "sinh",
         "cosh", "sigmoid", "softplus"]
DTYPES = {"f64": ("double", np.float64), "f32": ("float", np.float32)}
MAX_ULP = 2.0
N = 100_000


def _source() -> str:
    lines = ['#include <stdint.h>', '#include "symgraph_vecmath.h"']
    for tag, (ctype, _) in DTYPES.items():
        for name in NAMES:
            # one function per line: -fopt-info reports the line of each vectorized loop
            lines.append(f"void t_{name}_{tag}(int64_t n, const {ctype} *restrict x, {ctype} *restrict y) "
                         f'{{ _Pragma("omp parallel for simd schedule(static)") '
                         f"for (int64_t i = 0; i < n; ++i) y[i] = sg_v{name}_{tag}(x[i]); }}")
    return "\n".join(lines) + "\n"


def _cdef() -> str:
    return "\n".join(f"void t_{name}_{tag}(int64_t n, const {ctype} *x, {ctype} *y);"
                     for tag, (ctype, _) in DTYPES.items() for name in NAMES)


def _compile(tmp, tag: str, extra: list[str]) -> tuple[object, str]:
    src = tmp / f"vm_{tag}.c"
    lib = tmp / f"vm_{tag}.so"
    src.write_text(_source())
    cmd = [build.compiler(), *build.base_flags(), *extra, f"-I{build.csrc_dir()}", str(src),
           "-o", str(lib), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[:3000]
    ffi = cffi.FFI()
    ffi.cdef(_cdef())
    return ffi.dlopen(str(lib)), proc.stderr


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("vecmath")
    lib, report = _compile(tmp, "vec", ["-fopt-info-vec-optimized"])
    scalar_lib, _ = _compile(tmp, "scalar", ["-DSG_SCALAR_MATH"])
    return lib, report, scalar_lib


def _call(lib, name: str, x: np.ndarray) -> np.ndarray:
    tag = "f64" if x.dtype == np.float64 else "f32"
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    ffi = cffi.FFI()
    getattr(lib, f"t_{name}_{tag}")(x.size, ffi.cast("void *", x.ctypes.data), ffi.cast("void *", y.ctypes.data))
    return y


def _reference(name: str, x: np.ndarray) -> np.ndarray:
    """The function in higher precision: long double for float64, float64 for float32."""
    wide = x.astype(np.longdouble if x.dtype == np.float64 else np.float64)
    with np.errstate(all="ignore"):
        if name == "sigmoid":
            return 1 / (1 + np.exp(-wide))
        if name == "softplus":
            return np.maximum(wide, 0) + np.log1p(np.exp(-np.abs(wide)))
        return getattr(np, name)(wide)


def _ulp_error(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|got - ref| in units of the spacing of ref in got's dtype (subnormal spacing below)."""
    with np.errstate(all="ignore"):
        rounded = ref.astype(got.dtype)
        err = np.abs(got.astype(ref.dtype) - ref) / np.spacing(np.abs(rounded)).astype(ref.dtype)
    exact = (got == rounded) | (np.isnan(got) & np.isnan(rounded))
    return np.where(exact, 0.0, np.where(np.isnan(err), np.inf, err))


def _inputs(name: str, dtype, rng) -> dict[str, np.ndarray]:
    """Random arguments over the ranges that exercise each function, near 0 and the edges."""
    f32 = dtype == np.float32
    tiny_exp = -40 if f32 else -310
    signed_tiny = np.where(rng.random(N) < 0.5, -1, 1) * 10.0 ** rng.uniform(tiny_exp, 0, N)
    wide = {
        "exp": (-110, 95) if f32 else (-750, 720), "exp2": (-160, 140) if f32 else (-1100, 1100),
        "expm1": (-20, 95) if f32 else (-50, 720), "tanh": (-25, 25),
        "sinh": (-95, 95) if f32 else (-720, 720), "cosh": (-95, 95) if f32 else (-720, 720),
        "sigmoid": (-110, 110) if f32 else (-750, 750), "softplus": (-110, 110) if f32 else (-750, 750),
        "sin": (-1e5, 1e5), "cos": (-1e5, 1e5),
    }
    if name in wide:
        out = {"wide": rng.uniform(*wide[name], N), "unit": rng.uniform(-1, 1, N), "tiny": signed_tiny}
        if name in ("sin", "cos"):
            top = 17 if f32 else 40  # the documented accurate range, 2^17 / 2^40
            out["period"] = rng.uniform(-7, 7, N)
            out["large"] = rng.uniform(-1, 1, N) * 2.0 ** rng.uniform(0, top, N)
    else:
        out = {"positive": 10.0 ** rng.uniform(-45 if f32 else -323, 38 if f32 else 308, N),
               "near_one": 1 + rng.uniform(-0.5, 0.5, N) * 10.0 ** rng.uniform(-16, 0, N)}
        if name == "log1p":
            out["tiny"] = signed_tiny
            out["near_minus_one"] = -1 + 10.0 ** rng.uniform(-7 if f32 else -16, 0, N)
    return {k: v.astype(dtype) for k, v in out.items()}


def test_every_function_vectorizes_with_the_backends_flags(harness):
    _, report, _ = harness
    lines = {int(m.group(1)) for m in re.finditer(r"vm_vec\.c:(\d+):\d+: optimized: loop vectorized using 32 byte", report)}
    expected = set(range(3, 3 + len(NAMES) * len(DTYPES)))
    assert lines >= expected, f"not vectorized (harness lines): {sorted(expected - lines)}"


@pytest.mark.parametrize("tag", ["f64", "f32"])
@pytest.mark.parametrize("name", NAMES)
def test_max_ulp_error_is_within_two_on_random_arguments(harness, name, tag):
    lib, _, _ = harness
    dtype = DTYPES[tag][1]
    rng = np.random.default_rng(zlib.crc32(f"{name} {tag}".encode()))  # the same arguments in every run
    for label, x in _inputs(name, dtype, rng).items():
        err = _ulp_error(_call(lib, name, x), _reference(name, x))
        worst = int(np.argmax(err))
        assert err[worst] <= MAX_ULP, (
            f"{name} {tag} [{label}]: {err[worst]:.3f} ulp at x={x[worst]!r}")


def _specials(tag: str) -> list[tuple[str, float, float]]:
    inf, nan = np.inf, np.nan
    f64 = tag == "f64"
    rows = [
        ("exp", nan, nan), ("exp", inf, inf), ("exp", -inf, 0.0), ("exp", 0.0, 1.0), ("exp", -0.0, 1.0),
        ("exp2", inf, inf), ("exp2", -inf, 0.0), ("exp2", nan, nan), ("exp2", 3.0, 8.0),
        ("expm1", -0.0, -0.0), ("expm1", inf, inf), ("expm1", -inf, -1.0), ("expm1", nan, nan),
        ("log", 0.0, -inf), ("log", -0.0, -inf), ("log", -1.0, nan), ("log", inf, inf), ("log", nan, nan),
        ("log", 1.0, 0.0), ("log", -inf, nan),
        ("log2", 0.0, -inf), ("log2", 8.0, 3.0), ("log2", -2.0, nan), ("log2", inf, inf),
        ("log10", 0.0, -inf), ("log10", 1000.0, 3.0), ("log10", -2.0, nan), ("log10", inf, inf),
        ("log1p", -1.0, -inf), ("log1p", -2.0, nan), ("log1p", -0.0, -0.0), ("log1p", inf, inf),
        ("log1p", nan, nan), ("log1p", -inf, nan), ("log1p", 0.0, 0.0), ("log1p", -1e30, nan),
        ("log1p", 1.0, np.log(2.0)), ("log1p", -0.5, -np.log(2.0)),
        ("sin", inf, nan), ("sin", -inf, nan), ("sin", nan, nan), ("sin", -0.0, -0.0), ("sin", 0.0, 0.0),
        ("cos", inf, nan), ("cos", nan, nan), ("cos", -0.0, 1.0), ("cos", 0.0, 1.0),
        ("tanh", inf, 1.0), ("tanh", -inf, -1.0), ("tanh", -0.0, -0.0), ("tanh", nan, nan), ("tanh", 30.0, 1.0),
        ("sinh", inf, inf), ("sinh", -inf, -inf), ("sinh", -0.0, -0.0), ("sinh", nan, nan),
        ("cosh", inf, inf), ("cosh", -inf, inf), ("cosh", 0.0, 1.0), ("cosh", nan, nan),
        ("sigmoid", inf, 1.0), ("sigmoid", -inf, 0.0), ("sigmoid", nan, nan), ("sigmoid", 0.0, 0.5),
        ("softplus", inf, inf), ("softplus", -inf, 0.0), ("softplus", nan, nan),
    ]
    if f64:
        rows += [
            # overflow and underflow thresholds, exactly as glibc
            ("exp", 709.782712893384, 1.7976931348622732e308), ("exp", 709.7827128933841, inf),
            ("exp", -745.1332191019411, 5e-324), ("exp", -745.1332191019412, 0.0),
            ("exp", -740.0, np.exp(-740.0)), ("expm1", 709.7827128933841, inf),
            ("sinh", 710.4758600739439, 1.7976931348621744e308), ("sinh", 710.475860073944, inf),
            ("cosh", -710.475860073944, inf), ("sigmoid", -745.0, np.exp(-745.0)),
            ("log", 5e-324, -744.4400719213812), ("log1p", 5e-324, 5e-324), ("log1p", 1e308, np.log(1e308)),
            ("log1p", 1.7976931348623157e308, 709.782712893384), ("exp2", 1024.0, inf), ("exp2", -1074.0, 5e-324),
            # log1p's domain edge: the double next to -1 on either side, and subnormals of both signs
            ("log1p", -1 + 2.0 ** -53, -53 * np.log(2.0)), ("log1p", -1 - 2.0 ** -52, nan),
            ("log1p", -5e-324, -5e-324), ("log1p", 2.2250738585072e-308, 2.2250738585072e-308),
            ("log1p", 2.0 ** 53, 53 * np.log(2.0)), ("log1p", 1e-300, 1e-300),
            ("log1p", 2.0 ** 1023, 1023 * np.log(2.0)), ("log1p", 1.5 * 2.0 ** 1023, np.log(1.5 * 2.0 ** 1023)),
            # tanh: 1 from 19.06 on (selected past 19.1; expm1(2x) overflows past 354.9)
            ("tanh", 19.07, 1.0), ("tanh", 19.2, 1.0),
            ("tanh", -355.0, -1.0), ("tanh", 1e300, 1.0), ("tanh", -1.7976931348623157e308, -1.0),
        ]
    else:
        rows += [
            ("exp", 88.72283, np.exp(np.float64(np.float32(88.72283)))), ("exp", 88.72284, inf),
            ("exp", -103.97208, 1.4e-45), ("exp", -103.98, 0.0), ("log", 1.4e-45, -103.27893),
            ("exp2", 128.0, inf), ("log1p", 3.4028235e38, 88.72284),
            ("log1p", -1 + 2.0 ** -24, np.float32(-24 * np.log(2.0))), ("log1p", -1 - 2.0 ** -23, nan),
            ("log1p", -1.4e-45, -1.4e-45), ("log1p", 1e-40, 1e-40),
            ("log1p", 2.0 ** 127, np.float32(127 * np.log(2.0))),
            ("log1p", 1.5 * 2.0 ** 127, np.float32(np.log(1.5 * 2.0 ** 127))),
            ("tanh", 9.2, 1.0), ("tanh", -50.0, -1.0), ("tanh", 3e38, 1.0),
        ]
    return rows


@pytest.mark.parametrize("tag", ["f64", "f32"])
def test_special_values_match_libm_exactly(harness, tag):
    lib, _, scalar_lib = harness
    dtype = DTYPES[tag][1]
    bad = []
    for name, x, want in _specials(tag):
        arg = np.array([x], dtype)
        got = _call(lib, name, arg)[0]
        want = dtype(want)
        libm = _call(scalar_lib, name, arg)[0]  # libm itself agrees with the table
        for label, value in (("vecmath", got), ("libm", libm)):
            same = (np.isnan(value) and np.isnan(want)) or (
                value == want and np.signbit(value) == np.signbit(want))
            if not same:
                bad.append(f"{label} {name}({x!r}) = {value!r}, expected {want!r}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("tag", ["f64", "f32"])
def test_subnormal_arguments_and_results(harness, tag):
    lib, _, _ = harness
    dtype = DTYPES[tag][1]
    info = np.finfo(dtype)
    sub = (np.arange(1, 2000) * info.smallest_subnormal).astype(dtype)
    for name in ("log", "log2", "log10", "log1p", "sin", "tanh", "expm1", "sinh"):
        err = _ulp_error(_call(lib, name, sub), _reference(name, sub))
        assert err.max() <= MAX_ULP, f"{name} on subnormals: {err.max():.3f} ulp"
    # exp and sigmoid results that are subnormal: rounded once, to the nearest subnormal
    lo = np.log(float(info.smallest_subnormal))
    x = np.linspace(lo - 0.5, np.log(float(info.smallest_normal)), 20_000).astype(dtype)
    for name in ("exp", "sigmoid"):
        err = _ulp_error(_call(lib, name, x), _reference(name, x))
        assert err.max() <= 1.0, f"{name} with subnormal results: {err.max():.3f} ulp"


def test_scalar_math_build_is_plain_libm(harness):
    _, _, scalar_lib = harness
    x = np.linspace(-20, 20, 1001)
    # Python's math module calls glibc directly (NumPy has its own SIMD loops)
    for name in ("exp", "tanh", "log1p", "sin"):
        arg = np.abs(x) if name == "log1p" else x
        want = np.array([getattr(math, name)(v) for v in arg])
        np.testing.assert_array_equal(_call(scalar_lib, name, arg), want, err_msg=name)


def test_sin_beyond_the_range_stays_finite(harness):
    lib, _, _ = harness
    for dtype in (np.float64, np.float32):
        x = np.array([1e15, -3e20, 1.5e38, np.finfo(dtype).max], dtype)
        for name in ("sin", "cos"):
            y = _call(lib, name, x)
            assert np.all(np.isfinite(y)) and np.all(np.abs(y) <= 1), (name, y)


def test_vector_call_names_the_header_functions():
    assert vector_call(ps.Exp, ["x"], "float64") == "sg_vexp_f64(x)"
    assert vector_call(ps.Softplus, ["(a + b)"], "float32") == "sg_vsoftplus_f32((a + b))"
    assert vector_call(ps.Exp, ["x"], "int32") is None
    assert vector_call(ps.Add, ["x", "y"], "float64") is None
    assert range_guard(ps.Cos, "v", "float32") == "(!sg_vtrig_ok_f32(v))"
    assert range_guard(ps.Exp, "v", "float64") is None
    header = (build.csrc_dir() / "symgraph_vecmath.h").read_text()
    for stem in VECTOR_FUNCTIONS.values():
        for tag in DTYPES:
            assert f"{stem}_{tag}(" in header


def test_tanh_where_its_ratio_changes_form_and_at_reduction_edges(harness):
    """tanh(a) = E/(E + 2), E = expm1(2a) carried as a sum of two doubles: E crosses 2 (where
    the sum E + 2 changes which addend is larger) at a = atanh(1/2) = 0.549, and the
    reduction 2a = n ln2 + r changes n at 2a = (n + 1/2) ln2.  Dense arguments there, held
    to the 1.5 ulp that carrying the rounding errors promises (the header's comment): without
    the error of E + 2 the worst case there is 1.8 ulp."""
    lib, _, _ = harness
    edges = [np.arctanh(0.5)] + [(k + 0.5) * np.log(2.0) / 2 for k in range(0, 40)]
    for dtype in (np.float64, np.float32):
        x = np.concatenate([e + np.linspace(-1e-3, 1e-3, 2001) for e in edges]).astype(dtype)
        x = np.concatenate([x, -x])
        err = _ulp_error(_call(lib, "tanh", x), _reference("tanh", x))
        worst = int(np.argmax(err))
        assert err[worst] <= 1.5, f"tanh {np.dtype(dtype).name}: {err[worst]:.3f} ulp at x={x[worst]!r}"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_compiled_log1p_is_the_inline_one_and_matches_numpy(dtype, rng):
    """log1p is in vecmath.PREFERRED: generated loops inline sg_vlog1p (no libmvec call)
    and agree with the py backend (NumPy) to 2 ulp on random arguments over its whole
    domain, and exactly on the special values."""
    import symgraph as sg
    import symgraph.tensor as T

    assert ps.Log1p in PREFERRED
    x = T.tensor(dtype, shape=(None,))
    fc = sg.compile_function([x], T.log1p(x), mode="c")
    fp = sg.compile_function([x], T.log1p(x), mode="py")
    tag = "f64" if dtype == "float64" else "f32"
    assert f"sg_vlog1p_{tag}(" in fc.maker.runner.sources[0].source
    f32 = dtype == "float32"
    n = 300_000  # past the OpenMP threshold: the parallel loop
    parts = [10.0 ** rng.uniform(-45 if f32 else -323, 38 if f32 else 308, n),
             -1 + 10.0 ** rng.uniform(-7 if f32 else -16, 0, n),
             rng.uniform(-1, 1, n) * 10.0 ** rng.uniform(-40 if f32 else -310, 0, n)]
    v = np.concatenate(parts).astype(dtype)
    err = _ulp_error(np.asarray(fc(v)), _reference("log1p", v))
    assert err.max() <= MAX_ULP, f"{err.max():.3f} ulp at x={v[int(np.argmax(err))]!r}"
    info, one = np.finfo(dtype), np.ones((), dtype)
    special = np.array([0.0, -0.0, -1.0, np.nextafter(-one, -2 * one), -2.0, -np.inf, np.inf,
                        np.nan, info.max, info.smallest_subnormal, -info.smallest_subnormal,
                        np.nextafter(-one, 0 * one)], dtype)
    got, want = np.asarray(fc(special)), np.asarray(fp(special))
    same = (np.isnan(got) & np.isnan(want)) | ((got == want) & (np.signbit(got) == np.signbit(want)))
    assert same.all(), list(zip(special[~same], got[~same], want[~same]))


def test_w1_compiles_to_one_loop_with_inline_log1p_tanh_and_sin(rng):
    """The W1 benchmark expression: one fused loop, log1p, tanh and (range-guarded) sin
    inline, within a few ulp of NumPy (libmvec's exp is documented to 4 ulp)."""
    import symgraph as sg
    import symgraph.tensor as T

    x, y, z = T.dvectors("x", "y", "z")
    f = sg.compile_function([x, y, z], T.exp(x) * T.sin(y) + T.log1p(z * z) - T.tanh(x * y), mode="c")
    source = f.maker.runner.sources[0].source
    assert "sg_vlog1p_f64(" in source and "sg_vtanh_f64(" in source
    assert "log1p((" not in source
    assert source.count("#pragma omp simd") == 2  # the guarded pass and the libmvec one
    assert "sg_vsin_f64(p1[k])" in source and "sg_trig_bad |= (!sg_vtrig_ok_f64(p1[k]))" in source
    xs = [rng.uniform(-2, 2, 300_000) for _ in range(3)]
    wide = [a.astype(np.longdouble) for a in xs]
    want = np.exp(wide[0]) * np.sin(wide[1]) + np.log1p(wide[2] ** 2) - np.tanh(wide[0] * wide[1])
    scale = np.exp(wide[0]) + np.log1p(wide[2] ** 2) + 1  # the terms' size: cancellation is not our error
    err = np.abs(np.asarray(f(*xs)) - want) / scale
    assert float(err.max()) < 2e-15
