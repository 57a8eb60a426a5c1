"""The prebuilt runtime library: C that every compiled function shares, built once.

Generated code needs the same support functions again and again: array allocation, the
workspace, shape formatting, strided copies, the reduction planner, the sum kernels of the
common dtypes (with their threaded drivers) and the softmax line kernels. As static functions of
csrc/symgraph_runtime.h they used to be compiled into every generated library, which was
about a third of gcc's time on a typical training step (issue 6, W4 cold: the W2 step's
entry unit took 1.0 s of gcc CPU, 0.45 s with them declared instead of defined).

``pip install`` builds csrc/symgraph_rt.c into the extension module ``symgraph._sgrt``
(pyproject.toml, ``[[tool.setuptools.ext-modules]]``); it is an ordinary shared library
with a token Python module around it. Generated sources then start with
``#define SG_RT_LINKED``, which turns the header's definitions into declarations, and
build.py links them against the library. Where it is missing (a checkout used without
installing, a failed optional build) or was built from other C sources than the
checkout's (an editable install whose csrc/ changed since: a warning says so; see
:func:`prebuilt`), generated code compiles the functions itself as before, with the same
results, only more slowly. Setting
``SYMGRAPH_NO_PREBUILT_RUNTIME=1`` does the same on purpose. Sanitizer builds (``config.cflags``)
do too, so that the sanitizer sees the runtime's code.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
import warnings
from pathlib import Path

#: the C source of the library, in csrc/
SOURCE = "symgraph_rt.c"
#: the line a generated source starts with when it links the library
LINKED_LINE = "#define SG_RT_LINKED 1"

_SUM = re.compile(r"^SG_DEFINE_SUM\((\w+), ([\w ]+?), ([\w ]+?), ([\w ]+?)\)", re.MULTILINE)


@functools.cache
def _module_path(name: str = "symgraph._sgrt") -> Path | None:
    spec = importlib.util.find_spec(name)
    return Path(spec.origin) if spec is not None and spec.origin else None


def sources_hash(csrc: Path) -> str:
    """A hash of the C sources an install builds (every file of csrc/ but Python's). The
    build backend (csrc/build_backend.py, which loads this file on its own) compiles it into
    the extension modules as their ``SOURCES_HASH``; comparing it with the checkout's tells
    whether they were built from these sources, whatever the files' times say (git
    rewrites files it stashes or checks out)."""
    digest = hashlib.sha256()
    for src in sorted(csrc.iterdir()):
        if src.is_file() and src.suffix in (".c", ".h"):
            digest.update(src.name.encode() + b"\0" + src.read_bytes() + b"\0")
    return "h" + digest.hexdigest()[:32]


@functools.cache
def _current_hash(csrc: str) -> str:
    return sources_hash(Path(csrc))


def prebuilt(name: str, sources: list[str]) -> Path | None:
    """The file of the extension module ``name`` that installing symgraph built from the C
    files ``sources`` (in csrc/), or None where there is none or it was built from other
    sources than the checkout's (an editable install whose csrc/ changed since): a warning
    then says to reinstall."""
    from symgraph.backends.c import build as cbuild

    path = _module_path(name)
    if path is None or not path.is_file():
        return None
    try:
        csrc = cbuild.csrc_dir()
    except Exception:  # noqa: BLE001 - no headers: nothing can be compiled anyway
        return None
    try:
        recorded = getattr(importlib.import_module(name), "SOURCES_HASH", None)
    except ImportError:
        return None
    if recorded is not None:
        stale = recorded != _current_hash(str(csrc))
        what = "C sources"
    elif csrc.resolve() == (path.parent.parent / "csrc").resolve():
        # built without csrc/build_backend.py: compare times with the checkout's sources
        built = path.stat().st_mtime
        newer = [src for src in sources if (csrc / src).is_file() and (csrc / src).stat().st_mtime > built]
        stale, what = bool(newer), ", ".join(sorted(newer))
    else:
        stale = False  # a regular install puts the headers and the library in place together
    if stale:
        warnings.warn(f"symgraph's prebuilt {path.name} was built from other {what} than {csrc}'s: symgraph "
                      "builds that code itself instead, which is slower; rebuild it with `pip install -e .`",
                      RuntimeWarning, stacklevel=3)
        return None
    return path


@functools.cache
def library() -> Path | None:
    """The runtime library built when symgraph was installed, or None where there is none,
    or (in a checkout installed in editable mode) it is older than a C source it was built
    from: a warning then says to reinstall."""
    if os.environ.get("SYMGRAPH_NO_PREBUILT_RUNTIME"):
        return None
    from symgraph.backends.c import build as cbuild

    try:
        headers = [h.name for h in cbuild.csrc_dir().glob("*.h")]
    except Exception:  # noqa: BLE001
        return None
    return prebuilt("symgraph._sgrt", [SOURCE, *headers])


def identity() -> str:
    """What a cache key needs to know of the library: where it is (generated libraries
    record its path) and what it holds (a hash of the file, so that reinstalling the same
    build keeps the compile cache valid)."""
    path = library()
    if path is None:
        return "runtime: none"
    st = path.stat()
    return f"runtime: {path} {_digest(str(path), st.st_size, st.st_mtime_ns)}"


@functools.cache
def _digest(path: str, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@functools.cache
def prebuilt_sums() -> frozenset[tuple[str, str, str, str]]:
    """(name, input C type, value C type, accumulator C type) of each sum kernel the
    library defines (its ``SG_DEFINE_SUM`` lines)."""
    from symgraph.backends.c import build as cbuild

    try:
        text = (cbuild.csrc_dir() / SOURCE).read_text()
    except (OSError, Exception):  # noqa: BLE001
        return frozenset()
    return frozenset(tuple(m.groups()) for m in _SUM.finditer(text))  # type: ignore[misc]


def prebuilt_softmax_rows() -> frozenset[str]:
    """The argument lists of the library's ``SG_DEFINE_SOFTMAX_ROW`` lines (as emitted)."""
    return prebuilt_definitions("SOFTMAX_ROW")


@functools.cache
def prebuilt_definitions(macro: str) -> frozenset[str]:
    """The argument lists of the library's ``SG_DEFINE_<macro>(...)`` lines (as emitted),
    e.g. ``prebuilt_definitions("XENT_1HOT")``."""
    from symgraph.backends.c import build as cbuild

    try:
        text = (cbuild.csrc_dir() / SOURCE).read_text()
    except (OSError, Exception):  # noqa: BLE001
        return frozenset()
    return frozenset(re.findall(rf"^SG_DEFINE_{macro}\((.+)\)\s*$", text, flags=re.MULTILINE))


def links(source: str) -> bool:
    """Whether a generated source was written to link the library."""
    return source.startswith(LINKED_LINE + "\n") or f"\n{LINKED_LINE}\n" in source
