"""Vector math speed: scalar libm vs glibc's libmvec vs csrc/symgraph_vecmath.h.

Run: ``python bench/vecmath.py`` (``--quick`` for fewer repetitions, ``--n`` for the array
length). For every function and dtype it compiles one loop per implementation, the way the
C backend compiles generated code (symgraph.backends.c.build flags: -O3 -march=native
-fno-math-errno -fopenmp, loops under ``#pragma omp parallel for simd``):

- ``libm``: plain scalar calls (exp, sin, ...), which block vectorization;
- ``libmvec``: the same calls with the ``simd`` declarations of csrc/symgraph_math.h, so gcc
  calls glibc's AVX2 variants (_ZGVdN4v_exp, ...);
- ``vecmath``: the inlined branch-free sg_v* functions.

and times them on 1 and 2 threads, plus the fused workload
W1 = exp(x)*sin(y) + log1p(z*z) - tanh(x*y) (row ``w1``: every function from one
implementation; row ``w1gen``: in the ``vecmath`` column, the mix the C backend generates,
emit/vecmath.PREFERRED inline and the rest through libmvec). Prints a markdown table of
milliseconds per call (best of several runs: the machine may be shared); compare numbers
from one run.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cffi
import numpy as np

from symgraph.backends.c import build

# name -> (libm expression with X for the argument (f64; f32 appends 'f'), input range)
FUNCTIONS: dict[str, tuple[str, tuple[float, float]]] = {
    "exp": ("exp(X)", (-20.0, 20.0)),
    "expm1": ("expm1(X)", (-3.0, 3.0)),
    "exp2": ("exp2(X)", (-20.0, 20.0)),
    "log": ("log(X)", (1e-3, 1e3)),
    "log1p": ("log1p(X)", (-0.9, 10.0)),
    "log2": ("log2(X)", (1e-3, 1e3)),
    "log10": ("log10(X)", (1e-3, 1e3)),
    "sin": ("sin(X)", (-10.0, 10.0)),
    "cos": ("cos(X)", (-10.0, 10.0)),
    "tanh": ("tanh(X)", (-5.0, 5.0)),
    "sinh": ("sinh(X)", (-5.0, 5.0)),
    "cosh": ("cosh(X)", (-5.0, 5.0)),
    # the stable forms, as NumPy-semantics code would write them with libm calls
    "sigmoid": ("(X >= 0 ? 1 / (1 + exp(-X)) : exp(X) / (1 + exp(X)))", (-20.0, 20.0)),
    "softplus": ("(fmax(X, 0) + log1p(exp(-fabs(X))))", (-20.0, 20.0)),
}
LIBM_NAMES = ("expm1", "exp2", "exp", "log1p", "log2", "log10", "log", "sinh", "cosh", "tanh",
              "sin", "cos", "fmax", "fabs")

W1 = {"libm": "exp(x) * sin(y) + log1p(z * z) - tanh(x * y)",
      "vecmath": "sg_vexp_T(x) * sg_vsin_T(y) + sg_vlog1p_T(z * z) - sg_vtanh_T(x * y)"}
# W1 as the C backend generates it: the ops in emit/vecmath.PREFERRED inline, exp through
# libmvec (the "vecmath" harness includes symgraph_math.h for it), sin inline with its range
# guard ORed into an int flag, the loop run again with libmvec's sin when the flag is set
# (emit/elemwise.py, _guarded_trig_loop)
W1_GENERATED = "exp(x) * sg_vsin_T(y) + sg_vlog1p_T(z * z) - sg_vtanh_T(x * y)"
W1_GUARD = "!sg_vtrig_ok_T(y)"


def _f32_libm(expr: str) -> str:
    """exp(X) -> expf(X) and float literals, for the float32 loops."""
    out = re.sub(r"\b(" + "|".join(LIBM_NAMES) + r")\(", lambda m: m.group(1) + "f(", expr)
    return re.sub(r"(?<![\w.])(\d+)(?![\w.])", r"\1.0f", out)


def _source(impl: str) -> str:
    lines = ["#include <stdint.h>", "#include <math.h>"]
    if impl == "libmvec":
        lines.append('#include "symgraph_math.h"')
    if impl == "vecmath":
        lines.append('#include "symgraph_math.h"')  # libmvec for the w1gen row
        lines.append('#include "symgraph_vecmath.h"')
    for dtype, ctype, suffix in (("f64", "double", ""), ("f32", "float", "f")):
        for name, (expr, _) in FUNCTIONS.items():
            if impl == "vecmath":
                body = f"sg_v{name}_{dtype}(X)"
            else:
                body = expr if dtype == "f64" else _f32_libm(expr)
            body = body.replace("X", "x[i]")
            lines.append(
                f"void bench_{name}_{dtype}(int64_t n, const {ctype} *restrict x, {ctype} *restrict y, int nt) {{\n"
                f"#pragma omp parallel for simd schedule(static) num_threads(nt)\n"
                f"    for (int64_t i = 0; i < n; ++i) y[i] = {body};\n}}")
        libm_w1 = W1["libm"] if dtype == "f64" else _f32_libm(W1["libm"])
        def c_expr(expr: str, dtype: str = dtype) -> str:
            w1 = expr.replace("_T", "_" + dtype)
            if dtype == "f32":
                w1 = re.sub(r"\b(exp|sin)\(", r"\1f(", w1)
            for var, arr in (("x", "a"), ("y", "b"), ("z", "c")):
                w1 = re.sub(rf"\b{var}\b", f"{arr}[i]", w1)
            return w1

        loop = "#pragma omp parallel for simd schedule(static) num_threads(nt)"
        head = (f"(int64_t n, const {ctype} *restrict a, const {ctype} *restrict b, "
                f"const {ctype} *restrict c, {ctype} *restrict out, int nt) {{\n")
        lines.append(f"void bench_w1_{dtype}{head}{loop}\n    for (int64_t i = 0; i < n; ++i) "
                     f"out[i] = {c_expr(W1['vecmath'] if impl == 'vecmath' else libm_w1)};\n}}")
        if impl == "vecmath":
            lines.append(f"void bench_w1gen_{dtype}{head}  int bad = 0;\n{loop} reduction(|:bad)\n"
                         f"    for (int64_t i = 0; i < n; ++i) {{ bad |= {c_expr(W1_GUARD)}; "
                         f"out[i] = {c_expr(W1_GENERATED)}; }}\n  if (bad) {{\n{loop}\n"
                         f"    for (int64_t i = 0; i < n; ++i) out[i] = "
                         f"{c_expr(W1_GENERATED.replace('sg_vsin_T', 'sin'))};\n  }}\n}}")
        else:
            lines.append(f"void bench_w1gen_{dtype}{head}{loop}\n    for (int64_t i = 0; i < n; ++i) "
                         f"out[i] = {c_expr(libm_w1)};\n}}")
    return "\n".join(lines) + "\n"


def _cdef() -> str:
    decls = []
    for dtype, ctype in (("f64", "double"), ("f32", "float")):
        for name in FUNCTIONS:
            decls.append(f"void bench_{name}_{dtype}(int64_t n, const {ctype} *x, {ctype} *y, int nt);")
        for row in ("w1", "w1gen"):
            decls.append(f"void bench_{row}_{dtype}(int64_t n, const {ctype} *a, const {ctype} *b, "
                         f"const {ctype} *c, {ctype} *out, int nt);")
    return "\n".join(decls)


def compile_harness(impl: str, workdir: Path) -> object:
    """Compile the loops of one implementation into a shared library and load it (cffi)."""
    cc = build.compiler()
    if cc is None:
        raise SystemExit("gcc is needed")
    src = workdir / f"vm_{impl}.c"
    lib = workdir / f"vm_{impl}.so"
    src.write_text(_source(impl))
    cmd = [cc, *build.base_flags(), f"-I{build.csrc_dir()}", str(src), "-o", str(lib), "-lm"]
    subprocess.run(cmd, check=True)
    ffi = cffi.FFI()
    ffi.cdef(_cdef())
    return ffi, ffi.dlopen(str(lib))


def _ptr(ffi: cffi.FFI, a: np.ndarray) -> object:
    return ffi.cast("void *", a.ctypes.data)


def median_ms(fn, repeat: int) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return 1e3 * min(samples)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", help="function names (and/or w1)")
    args = parser.parse_args(argv)
    repeat = 5 if args.quick else 21
    rng = np.random.default_rng(0)
    impls = ("libm", "libmvec", "vecmath")
    threads = (1, 2)
    with tempfile.TemporaryDirectory() as tmp:
        libs = {impl: compile_harness(impl, Path(tmp)) for impl in impls}
        names = [n for n in (*FUNCTIONS, "w1", "w1gen") if not args.only or n in args.only]
        header = ("| function | dtype | " + " | ".join(f"{i} {t}T" for t in threads for i in impls)
                  + " | vecmath vs libmvec (2T) |")
        print(f"n = {args.n}, milliseconds per call (best of {repeat})\n")
        print(header)
        print("|" + "---|" * (header.count("|") - 1))
        for name in names:
            for dtype in (np.float64, np.float32):
                tag = "f64" if dtype == np.float64 else "f32"
                if name in ("w1", "w1gen"):
                    ins = [rng.uniform(-2, 2, args.n).astype(dtype) for _ in range(3)]
                else:
                    lo, hi = FUNCTIONS[name][1]
                    ins = [rng.uniform(lo, hi, args.n).astype(dtype)]
                out = np.empty(args.n, dtype)
                row = {}
                for nt in threads:
                    for impl in impls:
                        ffi, lib = libs[impl]
                        fn = getattr(lib, f"bench_{name}_{tag}")
                        ptrs = [_ptr(ffi, a) for a in (*ins, out)]
                        row[impl, nt] = median_ms(lambda: fn(args.n, *ptrs, nt), repeat)
                cells = " | ".join(f"{row[i, t]:.2f}" for t in threads for i in impls)
                speedup = row["libmvec", 2] / row["vecmath", 2]
                print(f"| {name} | {np.dtype(dtype).name} | {cells} | {speedup:.2f}x |", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
