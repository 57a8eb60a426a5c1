"""The fast call path: a small CPython extension (csrc/symgraph_call.c) built on first use.

Generated segments are plain C called through cffi. Marshalling NumPy arrays into the
segment's ``sg_array`` structs from Python costs ~10 us per call; the extension does the
same in C in well under a microsecond. It is built once per Python and NumPy version into
the compile cache, like any generated code. Where it cannot be built (no Python headers,
say), :func:`caller_module` returns None and segments use the cffi path, which gives the
same results, only with more overhead per call.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import subprocess
import sys
import sysconfig
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np

from symgraph.backends.c import build as cbuild


def _build(source: Path, entry: Path, out: Path) -> None:
    cc = cbuild.compiler()
    cmd = [cc or "gcc", "-O2", "-fPIC", "-shared", "-std=gnu11", "-w", f"-I{cbuild.csrc_dir()}",
           f"-I{sysconfig.get_paths()['include']}", f"-I{np.get_include()}", str(source), "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}\n{proc.stderr[:2000]}")


@functools.cache
def caller_module(cache_root: str) -> ModuleType | None:
    """The ``_sgcall`` extension module, built into the cache at ``cache_root`` if needed."""
    from symgraph.compile.cache import ArtifactCache

    if cbuild.compiler() is None:
        return None
    source = cbuild.csrc_dir() / "symgraph_call.c"
    header = cbuild.csrc_dir() / "symgraph_runtime.h"
    # its own folder beside the generated code's entries, so it is not listed as one of them
    cache = ArtifactCache(Path(cache_root) / "runtime")
    key = cache.key(source.read_text(), header.read_text(), sys.version, np.__version__,
                    cbuild.compiler_version(), "sgcall")
    try:
        path, _ = cache.get_or_build(key, lambda entry, out: _build(source, entry, out))
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
