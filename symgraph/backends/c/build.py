"""Compile generated C with gcc into a shared library and load it with cffi (ABI mode)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import cffi

from symgraph.errors import CompileError

CDEF = """
typedef struct {
    void *data;
    int64_t ndim;
    int64_t shape[16];
    int64_t strides[16];
} sg_array;
typedef struct {
    int64_t node;
    char message[1024];
} sg_error;
typedef struct {
    void *ptr;
    size_t cap;
} sg_ws_slot;
int sg_segment(sg_array *sg_in, sg_array *sg_out, sg_error *err, sg_ws_slot *sg_ws);
void sg_ws_release(sg_ws_slot *ws, int64_t n);
"""

ffi = cffi.FFI()
ffi.cdef(CDEF)
ffi.cdef("void free(void *);")
libc = ffi.dlopen(None)


def csrc_dir() -> Path:
    """The folder of C headers: the checkout's ``csrc/`` (editable installs) or the copy a
    regular install puts under ``<prefix>/share/symgraph/csrc``."""
    import sys

    candidates = [Path(__file__).resolve().parents[3] / "csrc", Path(sys.prefix) / "share" / "symgraph" / "csrc"]
    for here in candidates:
        if (here / "symgraph_runtime.h").is_file():
            return here
    raise CompileError(f"symgraph's C headers were not found (looked in {', '.join(map(str, candidates))}); reinstall symgraph")


@functools.cache
def compiler() -> str | None:
    for name in (os.environ.get("CC"), "gcc", "cc"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


@functools.cache
def compiler_version() -> str:
    cc = compiler()
    if cc is None:
        return "none"
    out = subprocess.run([cc, "--version"], capture_output=True, text=True)
    return out.stdout.splitlines()[0] if out.stdout else cc


@functools.cache
def blas_flags() -> tuple[list[str], list[str], str]:
    """(compile flags, link flags, fingerprint) for the pip-installed OpenBLAS."""
    try:
        import scipy_openblas32 as sob
    except ImportError:
        raise CompileError("the scipy-openblas32 package is needed for matrix products: pip install scipy-openblas32") from None
    lib_dir = sob.get_lib_dir()
    lib = os.path.join(lib_dir, f"lib{sob.get_library()}.so")
    return ([f"-I{sob.get_include_dir()}"], [lib, f"-Wl,-rpath,{lib_dir}"], f"{lib}:{sob.__version__}")


#: generated sources longer than this (characters) are compiled with -O1 instead of -O3
LARGE_SOURCE = 150_000


def base_flags() -> list[str]:
    # -fno-math-errno lets gcc vectorize sqrt and friends, and -fno-trapping-math lets it
    # turn selects (x >= 0 ? a : b) into blends inside vector loops; neither changes results
    # (symgraph never reads errno or the floating-point exception flags).
    # -ffp-contract=off: gcc would otherwise fuse a*b-c into one fma, whose single rounding
    # differs from NumPy's two (where the difference cancels, results differ by far more
    # than rounding, and an overflowing product no longer overflows). -fno-builtin-atan:
    # gcc folds cos(atan(x)) into 1/sqrt(x*x+1) and sin(atan(x)) likewise, wrong for NaN.
    return ["-O3", "-march=native", "-fPIC", "-shared", "-std=gnu11", "-fno-math-errno", "-fno-trapping-math",
            "-ffp-contract=off", "-fno-builtin-atan", "-fno-builtin-atanf", "-fopenmp", "-w"]


def build_library(source: str, out_path: Path, entry_dir: Path, use_blas: bool,
                  extra_flags: list[str] | None = None) -> None:
    """Compile ``source`` into ``out_path``; on failure raise CompileError with the details."""
    cc = compiler()
    if cc is None:
        raise CompileError("no C compiler found (install gcc)")
    src = entry_dir / "source.c"
    src.write_text(source)
    flags = base_flags()
    if len(source) > LARGE_SOURCE:
        # gcc's -O3 time grows faster than linearly on huge functions; -O1 keeps compile
        # time proportional to the graph (issue 6, W6) and still vectorizes little
        flags = ["-O1" if f == "-O3" else f for f in flags]
    cmd = [cc, *flags, *(extra_flags or []), f"-I{csrc_dir()}"]
    link: list[str] = []
    if use_blas:
        inc, link, _ = blas_flags()
        cmd += inc
    cmd += [str(src), "-o", str(out_path), "-lm", *link]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CompileError(
            "gcc failed to compile generated code.\n"
            f"command: {' '.join(cmd)}\n"
            f"source: {src}\n"
            f"stderr (start):\n{proc.stderr[:2000]}"
        )


def load_library(path: Path) -> Any:
    return ffi.dlopen(str(path))
