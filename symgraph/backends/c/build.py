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

#: what build.py declares to cffi beside CDEF
LIBC_CDEF = "void free(void *);"


def _parsed_ffi() -> Any:
    parsed = cffi.FFI()
    parsed.cdef(CDEF)
    parsed.cdef(LIBC_CDEF)
    return parsed


def _load_ffi() -> Any:
    """The FFI of CDEF: the pre-parsed one of _ffi.py, else parsed here (slower to import)."""
    try:
        from symgraph.backends.c._ffi import ffi as prepared

        return prepared
    except Exception:  # noqa: BLE001 - another cffi version, say: parse the declarations
        return _parsed_ffi()


def write_ffi_module(path: Path) -> None:
    """Write CDEF's pre-parsed FFI (cffi's out-of-line ABI mode) to ``path``, as _ffi.py."""
    builder = _parsed_ffi()
    builder.set_source("symgraph.backends.c._ffi", None)
    builder.emit_python_code(str(path))


ffi = _load_ffi()
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
    """(compile flags, link flags, fingerprint) for the pip-installed OpenBLAS.

    Read from the package's folder (its ``include`` and ``lib`` subfolders, as its own
    get_include_dir and get_lib_dir say) rather than by importing it: its ``__init__`` reads
    package metadata, about 40 ms of every cold compile (issue 6, W4). The fingerprint is
    the library file's size and time, which change with its version."""
    import importlib.util

    spec = importlib.util.find_spec("scipy_openblas32")
    if spec is None or not spec.submodule_search_locations:
        raise CompileError("the scipy-openblas32 package is needed for matrix products: pip install scipy-openblas32")
    root = Path(next(iter(spec.submodule_search_locations)))
    lib_dir, include_dir = root / "lib", root / "include"
    libs = sorted(lib_dir.glob("libscipy_openblas*.so")) if lib_dir.is_dir() else []
    if not libs or not (include_dir / "cblas.h").is_file():
        import scipy_openblas32 as sob  # an unexpected layout: ask the package itself

        lib_dir, include_dir = Path(sob.get_lib_dir()), Path(sob.get_include_dir())
        libs = [lib_dir / f"lib{sob.get_library()}.so"]
    lib = libs[0]
    st = lib.stat()
    return ([f"-I{include_dir}"], [str(lib), f"-Wl,-rpath,{lib_dir}"], f"{lib}:{st.st_size}:{st.st_mtime_ns}")


#: generated sources longer than this (characters) are compiled with -O1 instead of -O3
LARGE_SOURCE = 150_000
#: a source longer than this that has elementwise kernels is built as several translation
#: units compiled at once (see build_library); below it, a second gcc costs more than it saves
SPLIT_SOURCE = 20_000
#: the lines that open a generated source's kernel and entry sections, and that come
#: before each piece of the kernel section (backends/c/module.py)
KERNELS_SECTION = "/* ---- symgraph: elementwise kernels ---- */"
ENTRY_SECTION = "/* ---- symgraph: entry point ---- */"
KERNEL_PIECE = "/* ---- symgraph: kernel ---- */"
#: what SG_KERNEL means when the kernels are another translation unit's
_SHARED_KERNEL = '#define SG_KERNEL __attribute__((noinline, visibility("hidden")))'
#: the optimization level of the entry unit: glue around BLAS calls, shape checks and
#: pointer setup, and the other nodes' loops (reductions, softmax), which carry ``omp simd``
#: or are written for the vectorizer, and are vectorized at -O2 too. On the W2 step's entry
#: unit gcc -O3 takes 1.6 s of CPU (inlining the runtime helpers at every node), -O2 0.95 s;
#: the W2 step, W5 and W7 (built split) run equally fast either way (issue 6, W4 cold)
ENTRY_LEVEL = "-O2"
#: the optimization level of the kernel units. Every kernel's loop carries ``omp simd``,
#: which gcc vectorizes at -O2 as at -O3: the W2 step's kernels compile to the same vector
#: loops, AVX main loop, SSE epilogue and scalar tail, either way (objdump); what -O3 adds
#: there (loop versioning and unswitching, larger unrolled error paths) cost 15-20% more gcc
#: time on the W2 step's kernel unit (issue 6, W4 cold) and nothing measurable at run time.
#: A source built as one unit keeps -O3 (base_flags): it is small, so gcc is quick on it
KERNEL_LEVEL = "-O2"
#: gcc's time on a character of the entry point, relative to one of the kernels (a kernel's
#: vector loops cost more than the entry point's calls and views): on the W2 step, at -O2,
#: 0.15 s of CPU for 16.1k characters of entry point, 0.22 s for 13.8k of kernels
ENTRY_WEIGHT = 0.6
#: about this many characters of kernels make one more translation unit (up to cores()),
#: so that a graph with many distinct loops (W6) keeps every core busy; each unit costs
#: gcc ~0.3 s more in all (the headers and the kernels' support code, compiled again)
KERNEL_UNIT = 16_000


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


@functools.cache
def linker_flags() -> list[str]:
    """gcc's flags for linking a generated library: GNU gold where it is installed, which
    links the W2 step's units in 10 ms where ld.bfd takes 30 ms (issue 6, W4 cold); the
    result is the same shared library."""
    return ["-fuse-ld=gold"] if shutil.which("ld.gold") else []


def cores() -> int:
    """How many processors this process may run on (gcc processes worth running at once)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _sections(source: str) -> tuple[str, str, str] | None:
    """(preamble, kernels, entry) of a source with the two section lines, else None."""
    at_kernels, at_entry = source.find(KERNELS_SECTION + "\n"), source.find(ENTRY_SECTION + "\n")
    if at_kernels < 0 or at_entry < at_kernels:
        return None
    return source[:at_kernels], source[at_kernels:at_entry], source[at_entry:]


def _kernel_groups(kernels: str, n_groups: int, loads: list[int] | None = None) -> list[str]:
    """The kernel section as ``n_groups`` (or fewer) sections of about equal length: the
    kernels dealt out longest first to the group with the least to compile, each group with
    the support code (the pieces that define no kernel). ``loads``: what each group already
    has to compile (characters) before any kernel, 0 by default. A group given no kernel is
    left out, unless it is the first one."""
    pieces = kernels.split("\n" + KERNEL_PIECE + "\n")
    shared = [p for p in pieces if "SG_KERNEL " not in p]
    own = sorted((p for p in pieces if "SG_KERNEL " in p), key=len, reverse=True)
    n = max(1, min(n_groups, len(own) + (1 if loads else 0)))
    load = list(loads or [])[:n] + [0] * (n - len(loads or []))
    groups: list[list[str]] = [[] for _ in range(n)]
    for piece in own:
        k = min(range(n), key=lambda g: load[g])
        groups[k].append(piece)
        load[k] += len(piece)
    return ["\n".join(shared + group) + "\n" for k, group in enumerate(groups) if group or (loads and k == 0)]


def _units(source: str) -> list[tuple[str, str, str]] | None:
    """(name, text, optimization level) of each translation unit of a source to build as
    several, else None. Units are compiled at once, so their count is bounded by cores():
    the entry point and kernel groups, the kernels dealt out so that every unit has about as
    much to compile (the entry point's unit takes some when it is the shorter)."""
    sections = _sections(source)
    if sections is None or len(source) <= SPLIT_SOURCE:
        return None
    preamble, kernels, entry = sections
    n_units = min(cores(), 1 + max(1, round(len(kernels) / KERNEL_UNIT)))
    groups = _kernel_groups(kernels, n_units, [round(len(entry) * ENTRY_WEIGHT)])
    entry_level = "-O1" if len(entry) > LARGE_SOURCE else ENTRY_LEVEL
    # the entry point's unit: its kernels (if any) ahead of it, at its level
    units = [("entry", groups[0] + entry, entry_level)]
    rest = groups[1:]
    units += [(f"kernels{k + 1}" if len(rest) > 1 else "kernels", text,
               "-O1" if len(text) > LARGE_SOURCE else KERNEL_LEVEL) for k, text in enumerate(rest)]
    return [(name, f"{_SHARED_KERNEL}\n{preamble}{text}", level) for name, text, level in units]


def _optimized(flags: list[str], level: str) -> list[str]:
    return [level if f == "-O3" else f for f in flags]


def _start_runtime_build(entry_dir: Path) -> None:
    """Start building the fast call extension (fastcall.py) next to this source's units,
    when ``entry_dir`` is an entry of a compile cache (``<root>/<2 hex>/<64 hex>``)."""
    key = entry_dir.name
    if len(key) == 64 and entry_dir.parent.name == key[:2] and all(c in "0123456789abcdef" for c in key):
        from symgraph.backends.c import fastcall

        fastcall.start_build(str(entry_dir.parent.parent))


def build_library(source: str, out_path: Path, entry_dir: Path, use_blas: bool,
                  extra_flags: list[str] | None = None) -> None:
    """Compile ``source`` into ``out_path``; on failure raise CompileError with the details.

    A source with a kernel section, longer than SPLIT_SOURCE, is built as several
    translation units by gcc processes running at once, then linked (issue 6, W4 cold and
    W6): the entry point with every non-elementwise node's code, at ENTRY_LEVEL, and the
    elementwise kernels at KERNEL_LEVEL, in up to cores() groups of about KERNEL_UNIT characters.
    A unit longer than LARGE_SOURCE is compiled with -O1 (gcc's -O3 time grows faster
    than linearly on huge functions; the kernels are small functions, and a repeated loop
    is one kernel, so theirs rarely is). The fast call extension, if the cache lacks it,
    is built at the same time (fastcall.start_build).
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
    from symgraph.backends.c import runtime

    if runtime.links(source):
        library = runtime.library()
        if library is None:
            raise CompileError("this source was generated to link symgraph's runtime library, which is "
                               "missing or out of date: reinstall symgraph (pip install -e .)")
        link = [str(library), *link]  # recorded by its full path: it has no soname
    units = _units(source)
    if units is not None:
        jobs = []
        for name, text, level in units:
            unit = entry_dir / f"{name}.c"
            unit.write_text(text)
            obj = entry_dir / f"{name}.o"
            cmd = [cc, *_optimized(flags, level), *include, "-c", str(unit), "-o", str(obj)]
            jobs.append((cmd, unit, obj, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
        _start_runtime_build(entry_dir)
        errors = [proc.communicate()[1] for _, _, _, proc in jobs]
        for (cmd, unit, _, proc), stderr in zip(jobs, errors):
            _check(proc.returncode, cmd, unit, stderr)
        cmd = [cc, *flags, *linker_flags(), *(str(obj) for _, _, obj, _ in jobs), "-o", str(out_path), "-lm", *link]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        _check(proc.returncode, cmd, src, proc.stderr)
        return
    if len(source) > LARGE_SOURCE:
        # gcc's -O3 time grows faster than linearly on huge functions; -O1 keeps compile
        # time proportional to the graph (issue 6, W6) and still vectorizes little
        flags = _optimized(flags, "-O1")
    cmd = [cc, *flags, *linker_flags(), *include, str(src), "-o", str(out_path), "-lm", *link]
    single = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _start_runtime_build(entry_dir)
    _, stderr = single.communicate()
    _check(single.returncode, cmd, src, stderr)


def _check(returncode: int, cmd: list[str], src: Path, stderr: str) -> None:
    if returncode != 0:
        raise CompileError(
            "gcc failed to compile generated code.\n"
            f"command: {' '.join(cmd)}\n"
            f"source: {src}\n"
            f"stderr (start):\n{stderr[:2000]}"
        )


#: every library loaded, kept open for the life of the process: the fast call path holds
#: raw pointers to their functions (an in-line FFI keeps its libraries the same way; the
#: pre-parsed one of _ffi.py would close one as soon as its object is collected)
_loaded: list[Any] = []


def load_library(path: Path) -> Any:
    lib = ffi.dlopen(str(path))
    _loaded.append(lib)
    return lib


if __name__ == "__main__":  # python -m symgraph.backends.c.build --write-ffi
    import sys

    if sys.argv[1:] != ["--write-ffi"]:
        raise SystemExit("usage: python -m symgraph.backends.c.build --write-ffi")
    target = Path(__file__).with_name("_ffi.py")
    text = target.read_text()
    write_ffi_module(target)
    generated = target.read_text().replace("# auto-generated file\n", "")
    target.write_text(text[: text.index('"""', 3) + 4] + generated)
