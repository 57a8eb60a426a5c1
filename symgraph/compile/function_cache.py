"""The function cache: a compiled function's rewritten graph and C segments, kept on disk.

A warm compile (a new process, the compile cache already holding the function's
libraries) used to run the rewrite phases again and generate, hash and look up each
segment's C source. The function cache skips both. Its key is a hash of the graph *as
the user wrote it*: each node's op and parameters, the types and names of variables,
the values of constants, the structure, which variables are inputs, shared variables
and outputs (update values follow the outputs), the line that built each node, the line
that called ``compile_function``, the backend, the optimizer, every config setting but
``compiledir``, the compiler, and a fingerprint of symgraph's own code (each source
file's size and modification time, so an edited rule or emitter is a new key). An
entry holds the rewritten graph in the flat format of pickling.py (shared variables
without their values), the rewrite log, and for the C backend each segment's source,
memory plan and compile-cache key. Loading it binds the user's inputs and shared
variables again (as clones, exactly as a normal compile does), loads each segment's
library through the compile cache (rebuilding it from the stored source if that entry
is missing or damaged), and builds the runner around them.

Entries are records of ``ArtifactCache`` (digest + content, one atomic rename), so many
processes can read and write them at once; a damaged or unreadable entry is a miss, and
the normal compile that follows replaces it. Graphs whose ops cannot be described
exactly (ops holding functions or other objects, classes defined inside functions or
in ``__main__``) are compiled normally and not stored: ``maker.function_cache_status``
says why.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import os
import pickle
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from symgraph.compile.cache import FUNCTIONS_DIR, ArtifactCache
from symgraph.compile.pickling import flatten_graph, rebuild_graph
from symgraph.compile.shared import SharedVariable
from symgraph.errors import SourceInfo
from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply, Constant, Variable
from symgraph.graph.traversal import toposort
from symgraph.rewrite.engine import RewriteLog

#: bump when the layout of an entry changes
FORMAT = 2
#: backends whose runners can be rebuilt from an entry
CACHED_BACKENDS = ("c", "py")
#: arrays bigger than this (bytes) enter the key as a digest of their data
_INLINE_BYTES = 256

_PACKAGE_DIR = Path(__file__).resolve().parents[1]


class Uncacheable(Exception):
    """The graph holds something the key cannot describe exactly."""


@dataclass
class CachedRewriteLog(RewriteLog):
    """The rewrite log of a function loaded from the function cache.

    ``counts``, ``events``, ``stop_reasons``, ``phase_sizes`` and ``skipped`` are those of
    the compile that stored it; no phase ran in this one, so ``phase_times`` are zeros and
    the stored times are in ``cached_phase_times``.
    """

    from_cache: bool = True
    cached_phase_times: dict[str, float] = field(default_factory=dict)


@dataclass
class Restored:
    """What a hit gives the maker."""

    fgraph: FunctionGraph
    rewrite_log: CachedRewriteLog
    user_fgraph_size: int
    runner: Any


# -- the key -------------------------------------------------------------------------------
class _Describer:
    """Canonical forms of graphs and op parameters: nested tuples of str, int, float (as its
    repr, the shortest round trip), bool, None and bytes, so equal forms mean equal values and
    ``repr`` of a form is stable across processes (no ids, no hash order)."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[Any, Any]] = {}  # id -> (object, form); keeps ids unique
        self.modules: set[str] = set()  # modules outside symgraph whose classes appear

    def class_ref(self, cls: type) -> tuple[str, str]:
        qualname, module = cls.__qualname__, cls.__module__
        if "<locals>" in qualname or module == "__main__":
            # such a class cannot be found again by name, nor its code fingerprinted
            raise Uncacheable(f"class {qualname} is defined inside a function or in __main__")
        if module != "symgraph" and not module.startswith("symgraph."):
            self.modules.add(module)
        return module, qualname

    def value(self, value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, str, bytes)):
            return (type(value).__name__, value)
        if isinstance(value, float):
            return ("float", repr(value))
        if value is Ellipsis:
            return ("ellipsis",)
        known = self.seen.get(id(value))
        if known is not None:
            return known[1]
        form = self._compound(value)
        self.seen[id(value)] = (value, form)
        return form

    def _compound(self, value: Any) -> Any:
        if isinstance(value, (tuple, list)):
            return (type(value).__name__, tuple(self.value(v) for v in value))
        if isinstance(value, (frozenset, set)):
            return (type(value).__name__, tuple(sorted(repr(self.value(v)) for v in value)))
        if isinstance(value, dict):
            return ("dict", tuple(sorted((repr(self.value(k)), self.value(v)) for k, v in value.items())))
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                raise Uncacheable("an array of Python objects")
            data = np.ascontiguousarray(value).tobytes()
            if len(data) > _INLINE_BYTES:
                data = hashlib.sha256(data).digest()
            return ("ndarray", value.dtype.str, value.shape, data)
        if isinstance(value, np.generic):
            return ("npscalar", value.dtype.str, value.tobytes())
        if isinstance(value, np.dtype):
            return ("dtype", value.str)
        if isinstance(value, slice):
            return ("slice", self.value(value.start), self.value(value.stop), self.value(value.step))
        if isinstance(value, enum.Enum):
            return ("enum", self.class_ref(type(value)), value.name)
        if isinstance(value, type):
            return ("class", self.class_ref(value))
        if isinstance(value, FunctionGraph):  # an inner graph (Map)
            return ("fgraph", self.graph(value.inputs, value.outputs))
        if isinstance(value, Variable):
            raise Uncacheable("a variable held outside a graph")
        if dataclasses.is_dataclass(value):
            return ("dataclass", self.class_ref(type(value)),
                    tuple((f.name, self.value(getattr(value, f.name))) for f in dataclasses.fields(value)))
        if type(value).__reduce__ is object.__reduce__ and hasattr(value, "__dict__") and not callable(value):
            # a plain object (an op that is not a dataclass, say): its class and attributes
            return ("object", self.class_ref(type(value)), self.value(vars(value)))
        raise Uncacheable(f"cannot describe a {type(value).__name__} exactly")

    def _interned(self, kind: str, key: Any, describe: Callable[[Any], Any]) -> int:
        """A number for ``key``; its form, ``describe(key)``, is written once, where it first
        appears."""
        number = self.numbers.get((kind, key))
        if number is None:
            form = describe(key)
            number = self.numbers[(kind, key)] = len(self.numbers)
            self.items.append((kind, form))
        return number

    def variable(self, var: Variable) -> tuple[Any, ...]:
        # equal types are interchangeable, and most variables have a type object of their own
        return (self._interned("class", type(var), self.class_ref),
                self._interned("type", var.type, self.value), var.name)

    def graph(self, inputs: Sequence[Variable], outputs: Sequence[Variable]) -> tuple[Any, ...]:
        """The structure, ops, types, names, constants and source lines between ``inputs``
        (in order) and ``outputs`` (in order). Ops, types, classes and source lines are
        numbered where they first appear and named by number after that, so the form grows
        with the graph, not with the size of what its nodes repeat."""
        outer_items, outer_numbers = getattr(self, "items", None), getattr(self, "numbers", None)
        self.items: list[Any] = []
        self.numbers: dict[tuple[str, Any], int] = {}
        index: dict[Variable, int] = {}
        items = self.items
        for var in inputs:
            if var in index:
                raise Uncacheable("an input listed twice")
            index[var] = len(index)
            items.append(("input", self.variable(var)))

        def ref(var: Variable) -> int:
            if var not in index:
                if not isinstance(var, Constant):
                    raise Uncacheable(f"{var!r} is neither an input nor a constant")
                items.append(("constant", self.variable(var), self.value(var.data)))
                index[var] = len(index)
            return index[var]

        for node in toposort(outputs, stop_at=inputs):
            args = [ref(v) for v in node.inputs]
            # equal ops are interchangeable (merging relies on it); Maps compare by identity
            items.append(("apply", self._interned("op", node.op, self.value), args,
                          self._interned("source", node.source, _source_form),
                          [self.variable(o) for o in node.outputs]))
            for out in node.outputs:
                index[out] = len(index)
        items.append(("outputs", [ref(o) for o in outputs]))
        form = tuple(items)
        if outer_items is not None:  # an inner graph (Map) inside an op of the outer one
            self.items, self.numbers = outer_items, outer_numbers  # type: ignore[assignment]
        return form


def _source_form(source: SourceInfo | None) -> Any:
    return None if source is None else (source.filename, source.lineno, source.function)


def _stat_form(path: str | os.PathLike[str]) -> tuple[str, int, int]:
    st = os.stat(path)
    return (str(path), st.st_size, st.st_mtime_ns)


def _code_fingerprint_now() -> str:
    """symgraph's version, Python's and NumPy's, and the size and modification time of every
    file of symgraph's code and C headers: an edited rule or emitter changes it."""
    import symgraph

    found: list[tuple[str, int, int]] = []
    folders = [str(_PACKAGE_DIR)]
    try:  # the checkout's csrc/, or the copy a regular install puts under <prefix>/share
        from symgraph.backends.c.build import csrc_dir

        folders.append(str(csrc_dir()))
    except Exception:  # noqa: BLE001 - no C headers: the C backend cannot run anyway
        pass
    while folders:
        with os.scandir(folders.pop()) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        folders.append(entry.path)
                elif entry.name.endswith((".py", ".h", ".c", ".cu")):
                    st = entry.stat()
                    found.append((entry.path, st.st_size, st.st_mtime_ns))
    parts = (symgraph.__version__, sys.version, np.__version__, tuple(sorted(found)))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """The code fingerprint as this process first saw it (``store`` checks that it still
    holds: a process whose code changed on disk while it ran stores nothing)."""
    return _code_fingerprint_now()


@functools.cache
def _module_stat(module: str) -> tuple[str, int, int]:
    """The file of a module outside symgraph whose classes appear in a graph."""
    path = getattr(sys.modules.get(module), "__file__", None)
    if path is None:
        raise Uncacheable(f"module {module} has no file")
    return _stat_form(path)


def _toolchain_form(backend: str) -> Any:
    """The compiler and the BLAS the C backend builds with (their files, not their output:
    running ``gcc --version`` costs more than a warm compile should)."""
    if backend != "c":
        return None
    import importlib.util

    from symgraph.backends.c import build as cbuild
    from symgraph.backends.c import runtime

    cc = cbuild.compiler()
    blas = importlib.util.find_spec("scipy_openblas32")
    return (os.environ.get("CC"), _stat_form(os.path.realpath(cc)) if cc else None,
            _stat_form(blas.origin) if blas is not None and blas.origin else None, runtime.identity())


def function_key(inputs: Sequence[Variable], outputs: Sequence[Variable], backend: str,
                 optimizer: str, nan_guard: bool, compile_site: SourceInfo | None,
                 updates: Sequence[tuple[int, int]] = ()) -> str:
    """The function cache's key for compiling ``outputs`` (outputs, then update values) from
    ``inputs`` (explicit inputs, then shared variables), after givens were substituted.
    ``updates``: (input position, output position) of each updated shared variable and its
    new value (a function may compute that value in place, where a plain output may not).

    Raises Uncacheable when the graph holds something it cannot describe exactly.
    """
    from symgraph.config import config

    if backend not in CACHED_BACKENDS:
        raise Uncacheable(f"the {backend!r} backend is not cached")
    describer = _Describer()
    try:
        graph = describer.graph(inputs, outputs)
    except (TypeError, ValueError, AttributeError, RecursionError) as exc:  # an unhashable type, say
        raise Uncacheable(f"the graph cannot be described ({type(exc).__name__}: {exc})") from None
    settings = tuple((name, getattr(config, name)) for name in sorted(config._fields) if name != "compiledir")
    parts = ("symgraph function cache", FORMAT, code_fingerprint(), backend, optimizer, nan_guard, settings,
             _toolchain_form(backend), _source_form(compile_site),
             tuple(_module_stat(m) for m in sorted(describer.modules)), graph, tuple(map(tuple, updates)))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


# -- storing -------------------------------------------------------------------------------
def records() -> ArtifactCache:
    """Where entries live: the ``functions`` folder of the compile cache."""
    from symgraph.compile.cache import default_cache

    return ArtifactCache(default_cache().root / FUNCTIONS_DIR, probe=False)


class RecordingCache:
    """The compile cache, noting the key of each artifact the backend asks for, in order."""

    def __init__(self, cache: ArtifactCache) -> None:
        self.cache = cache
        self.keys: list[str] = []

    @property
    def root(self) -> Path:
        return self.cache.root

    def key(self, *parts: str | bytes) -> str:
        return self.cache.key(*parts)

    def get_or_build(self, key: str, build: Any) -> tuple[Path, bool]:
        self.keys.append(key)
        return self.cache.get_or_build(key, build)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cache, name)


def _entry_source(cache: ArtifactCache, key: str) -> str | None:
    try:
        return (cache.entry_dir(key) / "source.c").read_text()
    except OSError:
        return None


def _c_steps(runner: Any, artifact_keys: list[str], cache: ArtifactCache, var_index: dict[int, int],
             node_index: dict[int, int]) -> tuple[list[str], list[tuple[Any, ...]]]:
    from symgraph.backends.c.runner import CRunner

    if type(runner) is not CRunner or len(artifact_keys) != len(runner.sources):
        raise Uncacheable("the C runner did not build one library per segment")
    steps: list[tuple[Any, ...]] = []
    for kind, step in runner.steps:
        if kind == "py":
            steps.append(("py", node_index[id(step)]))
            continue
        source = step.source
        # the segments are built at once (runner.py), so the libraries were asked for in no
        # particular order: a segment's library is the one whose entry keeps its source
        key = next((k for k in artifact_keys if _entry_source(cache, k) == source.source), None)
        if key is None:
            raise Uncacheable("a segment's library does not match its source")
        fields: dict[str, Any] = {}
        for f in dataclasses.fields(source):
            value = getattr(source, f.name)
            if f.name in _SEGMENT_VARIABLES:
                fields[f.name] = [var_index[id(v)] for v in value]
            elif f.name in _SEGMENT_NODES:
                fields[f.name] = [node_index[id(n)] for n in value]
            elif _plain(value):
                fields[f.name] = value
            else:
                raise Uncacheable(f"the segment field {f.name!r} holds a {type(value).__name__}")
        steps.append(("c", {"key": key, "fields": fields}))
    return list(runner.extra_flags), steps


#: SegmentSource fields that hold graph variables, and nodes (the others hold plain data)
_SEGMENT_VARIABLES = ("inputs", "outputs")
_SEGMENT_NODES = ("nodes", "in_place")


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    return isinstance(value, (list, tuple)) and all(_plain(v) for v in value)


def store(key: str, maker: Any, artifact_keys: list[str]) -> str:
    """Write the entry for a function just compiled; returns what happened, for
    ``maker.function_cache_status``. Failing to store is not an error (the next compile
    runs the pipeline again), so OSError and Uncacheable only change the status."""
    from symgraph.compile.cache import default_cache

    if code_fingerprint() != _code_fingerprint_now():
        return "not stored: symgraph's code changed on disk while this process ran"
    fgraph: FunctionGraph = maker.fgraph
    roots = list(fgraph.outputs) + list(fgraph.inputs)
    flat_records, nodes, var_index = flatten_graph(roots, shared_values=False)
    order = toposort(roots)  # the order flatten_graph wrote the nodes in
    if len(order) != len(nodes) or any(node.op is not flat[0] for node, flat in zip(order, nodes)):
        return "not stored: the graph's order is not stable"
    node_index = {id(node): k for k, node in enumerate(order)}
    input_positions = {var_index[id(v)] for v in fgraph.inputs}
    if any(issubclass(rec["class"], SharedVariable) and k not in input_positions
           for k, rec in enumerate(flat_records)):
        return "not stored: a shared variable that is not an input of the graph"
    entry: dict[str, Any] = {
        "format": FORMAT,
        "records": flat_records,
        "nodes": nodes,
        "inputs": [var_index[id(v)] for v in fgraph.inputs],
        "outputs": [var_index[id(v)] for v in fgraph.outputs],
        "user_fgraph_size": maker.user_fgraph_size,
        "rewrite_log": maker.rewrite_log,
        "backend": maker.backend_name,
    }
    try:
        if maker.backend_name == "c":
            entry["extra_flags"], entry["steps"] = _c_steps(maker.runner, artifact_keys, default_cache(),
                                                            var_index, node_index)
        payload = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
    except Uncacheable as exc:
        return f"not stored: {exc}"
    except (KeyError, StopIteration):
        return "not stored: a segment names a variable or node outside the rewritten graph"
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as exc:
        return f"not stored: the rewritten graph cannot be pickled ({exc})"
    try:
        records().write_record(key, payload)
    except OSError as exc:
        return f"not stored: {exc}"
    return "stored"


# -- loading -------------------------------------------------------------------------------
def load(key: str, inputs: Sequence[Variable], nan_guard: bool) -> Restored | None:
    """The function stored under ``key``, bound to ``inputs`` (the same explicit inputs and
    shared variables, in the same order, as the key was made from); None on a miss or a
    damaged entry."""
    payload = records().read_record(key)
    if payload is None:
        return None
    try:
        entry = pickle.loads(payload)
        if entry.get("format") != FORMAT or len(entry["inputs"]) != len(inputs):
            return None
        return _restore(entry, inputs, nan_guard)
    except Exception:  # noqa: BLE001 - a damaged or stale entry is a miss; the compile that follows replaces it
        return None


def _restore(entry: dict[str, Any], inputs: Sequence[Variable], nan_guard: bool) -> Restored:
    # the graph's inputs are clones of the user's, as FunctionGraph(clone=True) makes them
    clones = [var.clone() for var in inputs]
    variables, applies = rebuild_graph(entry["records"], entry["nodes"], dict(zip(entry["inputs"], clones)))
    fgraph = FunctionGraph(clones, [variables[i] for i in entry["outputs"]], clone=False)
    fgraph.memo = dict(zip(inputs, clones))
    stored: RewriteLog = entry["rewrite_log"]
    fields = {f.name: getattr(stored, f.name) for f in dataclasses.fields(RewriteLog) if hasattr(stored, f.name)}
    fields["phase_times"] = {phase: 0.0 for phase in stored.phase_times}
    log = CachedRewriteLog(**fields, cached_phase_times=dict(stored.phase_times))
    if entry["backend"] == "c":
        runner = _restore_c_runner(entry, fgraph, variables, applies, nan_guard)
    else:
        from symgraph.backends.registry import get_backend

        runner = get_backend("py").build(fgraph, nan_guard=nan_guard)
    return Restored(fgraph, log, entry["user_fgraph_size"], runner)


def _restore_c_runner(entry: dict[str, Any], fgraph: FunctionGraph, variables: list[Variable],
                      applies: list[Apply], nan_guard: bool) -> Any:
    """The CRunner that CRunner.__init__ would build for ``fgraph``, from the stored segments
    instead of emitting and hashing C again."""
    from symgraph.backends.c import build as cbuild
    from symgraph.backends.c.fastcall import caller_module
    from symgraph.backends.c.module import SegmentSource
    from symgraph.backends.c.runner import CRunner, CSegment
    from symgraph.compile.cache import default_cache

    cache = default_cache()
    extra_flags = list(entry["extra_flags"])
    runner = CRunner.__new__(CRunner)
    runner.extra_flags = extra_flags
    runner.fgraph = fgraph
    runner.nan_guard = nan_guard
    runner.steps = []
    runner.python_nodes = []
    runner._python_set = set()
    runner.sources = []
    fast = caller_module(str(cache.root))
    for kind, step in entry["steps"]:
        if kind == "py":
            node = applies[step]
            runner.python_nodes.append(node)
            runner._python_set.add(node)
            runner.steps.append(("py", node))
            continue
        fields = dict(step["fields"])
        for name in _SEGMENT_VARIABLES:
            fields[name] = [variables[i] for i in fields[name]]
        for name in _SEGMENT_NODES:
            fields[name] = [applies[i] for i in fields[name]]
        source = SegmentSource(**fields)

        def build(entry_dir: Path, out: Path, source: SegmentSource = source) -> None:
            # the library's entry is gone or damaged: build it again from the stored source
            cbuild.build_library(source.source, out, entry_dir, source.uses_blas, extra_flags)

        path, _ = cache.get_or_build(step["key"], build)
        runner.sources.append(source)
        runner.steps.append(("c", CSegment(source, cbuild.load_library(path), fast)))
    if runner.python_nodes:
        from symgraph.backends.py.runner import _load_impls
        from symgraph.control.inner import prepare

        _load_impls()
        for node in runner.python_nodes:
            # as CRunner.__init__ does: the graphs a scan or ifelse holds run as C too
            node.tag.backend = "c"
            prepare(node, "c")
    runner._plan_storage()
    return runner
