"""The fast call path: a small CPython extension (csrc/symgraph_call.c), built at install.

Generated segments are plain C called through cffi. Marshalling NumPy arrays into the
segment's ``sg_array`` structs from Python costs ~10 us per call; the extension does the
same in C in well under a microsecond. ``pip install`` builds it as ``symgraph._sgcall``
(pyproject.toml; csrc/build_backend.py puts NumPy's headers on gcc's path). Where that
build is missing or stale (backends/c/runtime.py), it is built once per Python and NumPy
version into the compile cache, like any generated code; where it cannot be built (no
Python headers, say), :func:`caller_module` returns None and segments use the cffi path,
which gives the same results, only with more overhead per call.

gcc takes about a quarter of a second on it, a quarter of a cold compile of a training
step (issue 6, W4 cold), hence the build at install. When it is built into the cache, a
cold compile needs the module only once its segments are built: build.py therefore
starts that gcc (:func:`start_build`) next to the segments' own, and
:func:`caller_module` waits for it.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import sysconfig
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from symgraph.backends.c import build as cbuild


@dataclass
class _Background:
    """A build of the extension that :func:`start_build` started."""

    key: str
    proc: subprocess.Popen[bytes]
    cmd: list[str]
    out: Path
    owner: int  # the process that started it (a forked child must leave it alone)


#: builds started by start_build and not yet taken by caller_module, by cache root
_in_flight: dict[str, _Background] = {}
#: cache roots caller_module has answered for in this process (nothing left to start)
_settled: set[str] = set()
#: start_build runs on the threads that build a function's segments at once (runner.py)
_start_lock = threading.Lock()


def _command(source: Path, out: Path) -> list[str]:
    cc = cbuild.compiler()
    return [cc or "gcc", "-O2", "-fPIC", "-shared", "-std=gnu11", "-w", f"-I{cbuild.csrc_dir()}",
            f"-I{sysconfig.get_paths()['include']}", f"-I{np.get_include()}", str(source), "-o", str(out)]


def _cache_and_key(cache_root: str) -> tuple[Any, str]:
    from symgraph.compile.cache import ArtifactCache

    # its own folder beside the generated code's entries, so it is not listed as one of them
    cache = ArtifactCache(Path(cache_root) / "runtime")
    key = cache.key((cbuild.csrc_dir() / "symgraph_call.c").read_text(),
                    (cbuild.csrc_dir() / "symgraph_runtime.h").read_text(), sys.version, np.__version__,
                    cbuild.compiler_version(), "sgcall")
    return cache, key


def start_build(cache_root: str) -> bool:
    """Start gcc on the extension in the background, unless the cache at ``cache_root`` has
    it or this process has it or is building it. Returns whether a build started; never
    waits. :func:`caller_module` takes the result (or, if none, builds as usual)."""
    with _start_lock:
        return _start_build(os.path.abspath(cache_root))


def _start_build(root: str) -> bool:
    if root in _in_flight or root in _settled or cbuild.compiler() is None or _prebuilt_module() is not None:
        return False
    try:
        cache, key = _cache_and_key(root)
        entry = cache.entry_dir(key)
        if cache._valid(entry):  # the cache's own test of a finished entry
            return False
        entry.mkdir(parents=True, exist_ok=True)
        out = entry / f".bg-{os.getpid()}-{os.urandom(4).hex()}.so"
        cmd = _command(cbuild.csrc_dir() / "symgraph_call.c", out)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except OSError:
        return False  # caller_module builds it the ordinary way, and says what fails
    _in_flight[root] = _Background(key, proc, cmd, out, os.getpid())
    return True


def _take(job: _Background, out: Path) -> None:
    """Wait for a background build and move its library to ``out``."""
    _, stderr = job.proc.communicate()
    if job.proc.returncode != 0:
        raise RuntimeError(f"{' '.join(job.cmd)}\n{stderr.decode(errors='replace')[:2000]}")
    os.replace(job.out, out)


def _discard(job: _Background) -> None:
    """Stop a background build nobody needs (another process installed the module first,
    or the process exits) and remove what it wrote."""
    if job.proc.poll() is None:
        job.proc.kill()
    job.proc.wait()
    if job.proc.stderr is not None:
        job.proc.stderr.close()
    job.out.unlink(missing_ok=True)


@atexit.register
def _discard_all() -> None:
    while _in_flight:
        job = _in_flight.popitem()[1]
        if job.owner == os.getpid():
            _discard(job)


def _build(source: Path, out: Path) -> None:
    cmd = _command(source, out)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}\n{proc.stderr[:2000]}")


@functools.cache
def _prebuilt_module() -> ModuleType | None:
    """The extension as installing symgraph built it (``symgraph._sgcall``), if there is one
    built from the current sources (backends/c/runtime.py)."""
    if os.environ.get("SYMGRAPH_NO_PREBUILT_RUNTIME"):
        return None
    from symgraph.backends.c import runtime

    if runtime.prebuilt("symgraph._sgcall", ["symgraph_call.c", "symgraph_runtime.h"]) is None:
        return None
    try:
        return importlib.import_module("symgraph._sgcall")
    except ImportError:  # built against an incompatible NumPy, say: build it as usual
        return None


@functools.cache
def caller_module(cache_root: str) -> ModuleType | None:
    """The ``_sgcall`` extension module: the one installing symgraph built, else one built
    into the cache at ``cache_root`` if needed."""
    prepared = _prebuilt_module()
    if prepared is not None:
        return prepared
    if cbuild.compiler() is None:
        return None
    root = os.path.abspath(cache_root)
    _settled.add(root)
    job = _in_flight.pop(root, None)
    if job is not None and job.owner != os.getpid():
        job = None  # started by the process this one was forked from
    try:
        cache, key = _cache_and_key(cache_root)
        if job is not None and job.key != key:  # csrc changed while it ran
            _discard(job)
            job = None

        taken = []

        def build(entry: Path, out: Path) -> None:
            if job is not None:
                taken.append(job)
                try:
                    _take(job, out)
                    return
                except (RuntimeError, OSError):
                    pass  # build it again here, where a failure is reported as usual
            _build(cbuild.csrc_dir() / "symgraph_call.c", out)

        path, _ = cache.get_or_build(key, build)
        if job is not None and not taken:
            _discard(job)  # another process installed the module first
        loader = importlib.machinery.ExtensionFileLoader("_sgcall", str(path))
        spec = importlib.util.spec_from_file_location("_sgcall", str(path), loader=loader)
        assert spec is not None
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
        return module
    except Exception as exc:  # noqa: BLE001 - any failure means: use the cffi path
        warnings.warn(f"symgraph's fast call path could not be built ({str(exc).splitlines()[0]}); "
                      "compiled functions use the slower cffi call path", RuntimeWarning, stacklevel=3)
        return None
    finally:
        if job is not None and (job.proc.returncode is None or job.out.exists()):
            _discard(job)  # not taken: the cache had the module after all
