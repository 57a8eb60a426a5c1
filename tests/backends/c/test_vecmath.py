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

import cffi
import numpy as np
import pytest

from symgraph import scalar as ps
from symgraph.backends.c import build
from symgraph.backends.c.emit.vecmath import VECTOR_FUNCTIONS, range_guard, vector_call

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
            top = 20 if f32 else 40  # the documented accurate range, 2^20 / 2^40
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
    rng = np.random.default_rng(abs(hash((name, tag))) % 2**32)
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
        ("log1p", nan, nan), ("log1p", -inf, nan),
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
        ]
    else:
        rows += [
            ("exp", 88.72283, np.exp(np.float64(np.float32(88.72283)))), ("exp", 88.72284, inf),
            ("exp", -103.97208, 1.4e-45), ("exp", -103.98, 0.0), ("log", 1.4e-45, -103.27893),
            ("exp2", 128.0, inf), ("log1p", 3.4028235e38, 88.72284),
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
