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
    """Identifies the compiler for cache keys: the resolved binary (``gcc`` usually links to
    a versioned name) with its size and modification time, so an upgrade changes it. A
    file stat, not ``gcc --version``: starting gcc cost every process 10-20 ms (W4 warm)."""
    cc = compiler()
    if cc is None:
        return "none"
    real = os.path.realpath(cc)
    try:
        st = os.stat(real)
    except OSError:
        return real
    return f"{real} {st.st_size} {st.st_mtime_ns}"


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
#: a source longer than this that has elementwise kernels is built as two translation
#: units compiled at once (see build_library); below it, a second gcc costs more than it saves
SPLIT_SOURCE = 20_000
#: the lines that open a generated source's kernel and entry sections (backends/c/module.py)
KERNELS_SECTION = "/* ---- symgraph: elementwise kernels ---- */"
ENTRY_SECTION = "/* ---- symgraph: entry point ---- */"
#: what SG_KERNEL means when the kernels are another translation unit's
_SHARED_KERNEL = '#define SG_KERNEL __attribute__((noinline, visibility("hidden")))'


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


def _sections(source: str) -> tuple[str, str, str] | None:
    """(preamble, kernels, entry) of a source with the two section lines, else None."""
    at_kernels, at_entry = source.find(KERNELS_SECTION + "\n"), source.find(ENTRY_SECTION + "\n")
    if at_kernels < 0 or at_entry < at_kernels:
        return None
    return source[:at_kernels], source[at_kernels:at_entry], source[at_entry:]


def _optimized(flags: list[str], level: str) -> list[str]:
    return [level if f == "-O3" else f for f in flags]


def build_library(source: str, out_path: Path, entry_dir: Path, use_blas: bool,
                  extra_flags: list[str] | None = None) -> None:
    """Compile ``source`` into ``out_path``; on failure raise CompileError with the details.

    A source with a kernel section longer than SPLIT_SOURCE is built as two translation
    units by two gcc processes at once, then linked (issue 6, W4 cold and W6): the
    elementwise kernels and the entry point with every other node's code. Either part
    longer than LARGE_SOURCE is compiled with -O1 (gcc's -O3 time grows faster than
    linearly on huge functions; the kernels are small functions, and a repeated loop is
    one kernel, so theirs rarely is).
    """
    cc = compiler()
    if cc is None:
        raise CompileError("no C compiler found (install gcc)")
    src = entry_dir / "source.c"
    src.write_text(source)
    flags = base_flags() + list(extra_flags or [])
    include = [f"-I{csrc_dir()}"]
    link: list[str] = []
    if use_blas:
        inc, link, _ = blas_flags()
        include += inc
    sections = _sections(source)
    if sections is not None and len(source) > SPLIT_SOURCE:
        preamble, kernels, entry = sections
        units = [(name, text, "-O1" if len(text) > LARGE_SOURCE else "-O3")
                 for name, text in (("kernels", kernels), ("entry", entry))]
        jobs = []
        for name, text, level in units:
            unit = entry_dir / f"{name}.c"
            unit.write_text(f"{_SHARED_KERNEL}\n{preamble}{text}")
            obj = entry_dir / f"{name}.o"
            cmd = [cc, *_optimized(flags, level), *include, "-c", str(unit), "-o", str(obj)]
            jobs.append((cmd, unit, obj, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
        errors = [proc.communicate()[1] for _, _, _, proc in jobs]
        for (cmd, unit, _, proc), stderr in zip(jobs, errors):
            _check(proc.returncode, cmd, unit, stderr)
        cmd = [cc, *flags, *(str(obj) for _, _, obj, _ in jobs), "-o", str(out_path), "-lm", *link]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        _check(proc.returncode, cmd, src, proc.stderr)
        return
    if len(source) > LARGE_SOURCE:
        # gcc's -O3 time grows faster than linearly on huge functions; -O1 keeps compile
        # time proportional to the graph (issue 6, W6) and still vectorizes little
        flags = _optimized(flags, "-O1")
    cmd = [cc, *flags, *include, str(src), "-o", str(out_path), "-lm", *link]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    _check(proc.returncode, cmd, src, proc.stderr)


def _check(returncode: int, cmd: list[str], src: Path, stderr: str) -> None:
    if returncode != 0:
        raise CompileError(
            "gcc failed to compile generated code.\n"
            f"command: {' '.join(cmd)}\n"
            f"source: {src}\n"
            f"stderr (start):\n{stderr[:2000]}"
        )


def load_library(path: Path) -> Any:
    return ffi.dlopen(str(path))
