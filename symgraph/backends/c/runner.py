"""The C backend: split the graph into C segments (and Python nodes between them), build, run.

Nodes with a C emitter are grouped into segments in topological order; each segment is
one translation unit built by gcc and cached on disk. A node without an emitter (a
user's own Python op, for instance) runs with its NumPy implementation between
segments, and ``f.explain()`` lists it.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from symgraph.backends.c import build as cbuild
from symgraph.backends.c import runtime
from symgraph.backends.c.ctypes import Unsupported
from symgraph.backends.c.emit import EmitContext, _load_emitters, emit
from symgraph.backends.c.inplace import plan_in_place
from symgraph.backends.c.module import SegmentSource, assemble
from symgraph.backends.c.omp import serial_branches
from symgraph.backends.py.dispatch import perform
from symgraph.backends.py.runner import _check_finite_outputs, _load_impls, describe_failure
from symgraph.errors import ShapeMismatchError, built_at
from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply, Variable

_ffi = cbuild.ffi


def _try_emit(node: Apply, ctx: EmitContext) -> list[str] | None:
    """Emit ``node`` into ``ctx``; on Unsupported restore ``ctx`` and return None."""
    saved = (list(ctx.lines), dict(ctx.names), dict(ctx.owning), dict(ctx.helpers), ctx.uses_blas, dict(ctx.aliases))
    ctx.lines = []
    try:
        emit(node.op, node, ctx)
    except Unsupported:
        ctx.lines, ctx.names, ctx.owning, ctx.helpers, ctx.uses_blas, ctx.aliases = saved
        return None
    body = ctx.lines
    ctx.lines = saved[0]
    return body


class CSegment:
    """A compiled segment: marshals NumPy arrays in, wraps C-allocated outputs without a copy.

    Intermediates live in the segment's workspace (``source.n_slots`` reusable buffers), kept
    across calls. Threads: a call that finds the workspace in use by another thread runs
    with a private temporary workspace, so concurrent calls are safe and never wait.
    """

    def __init__(self, source: SegmentSource, lib: Any, fast: Any = None) -> None:
        self.source = source
        self.lib = lib
        self.fn = lib.sg_segment
        self.inputs = source.inputs
        self.outputs = source.outputs
        self.n_slots = max(source.n_slots, 1)
        self.in_dtypes = [np.dtype(v.type.dtype) for v in self.inputs]  # type: ignore[attr-defined]
        self.out_dtypes = [np.dtype(v.type.dtype) for v in self.outputs]  # type: ignore[attr-defined]
        self.caller = None
        if fast is not None:
            self.caller = fast.Caller(
                int(_ffi.cast("uintptr_t", lib.sg_segment)), int(_ffi.cast("uintptr_t", lib.sg_ws_release)),
                [d.num for d in self.in_dtypes], [v.type.ndim for v in self.inputs],  # type: ignore[attr-defined]
                [d.num for d in self.out_dtypes], self.n_slots, list(source.out_slots) or None,
            )
        # the cffi path (no extension, or inputs the extension declines)
        self._ws = _ffi.new("sg_ws_slot[]", self.n_slots)
        self._ws_lock = threading.Lock()
        weakref.finalize(self, lib.sg_ws_release, self._ws, self.n_slots)

    def run(self, values: Sequence[np.ndarray]) -> list[np.ndarray]:
        if self.caller is not None:
            result = self.caller(values)
            if type(result) is list:
                return result
            if type(result) is tuple:
                self._raise(int(result[0]), result[1], values)
        return self._run_cffi(values)

    def _run_cffi(self, values: Sequence[np.ndarray]) -> list[np.ndarray]:
        in_arrays = _ffi.new("sg_array[]", max(len(self.inputs), 1))
        out_arrays = _ffi.new("sg_array[]", max(len(self.outputs), 1))
        err = _ffi.new("sg_error *")
        keep = []
        for k, arr in enumerate(values):
            arr = np.asarray(arr)
            want = self.inputs[k].type  # type: ignore[attr-defined]
            if arr.ndim != want.ndim:
                # only reachable with trust_input=True: the generated C indexes want.ndim axes
                raise TypeError(f"input {self.inputs[k]} expects {want.describe()} (ndim={want.ndim}), "
                                f"got an array with ndim={arr.ndim} and shape {arr.shape}")
            if arr.dtype != self.in_dtypes[k]:
                arr = arr.astype(self.in_dtypes[k])
            item = arr.itemsize
            if item == 0 or any(st % item for st in arr.strides) or not arr.flags.aligned:
                arr = np.require(arr, requirements="CA")  # an aligned C-ordered copy
            keep.append(arr)
            s = in_arrays[k]
            s.data = _ffi.cast("void *", arr.ctypes.data)
            s.ndim = arr.ndim
            for a, (n, st) in enumerate(zip(arr.shape, arr.strides)):
                s.shape[a] = n
                s.strides[a] = st // item
        if self._ws_lock.acquire(blocking=False):
            try:
                status = self.fn(in_arrays, out_arrays, err, self._ws)
                if not status:
                    self._take_outputs(self._ws, out_arrays)
            finally:
                self._ws_lock.release()
        else:
            private = _ffi.new("sg_ws_slot[]", self.n_slots)
            try:
                status = self.fn(in_arrays, out_arrays, err, private)
                if not status:
                    self._take_outputs(private, out_arrays)
            finally:
                self.lib.sg_ws_release(private, self.n_slots)
        if status:
            self._raise(int(err.node), _ffi.string(err.message).decode(errors="replace"), keep)
        results = []
        # an output computed over an input's own buffer (inplace.py) is that input
        taken = {int(_ffi.cast("uintptr_t", in_arrays[j].data)): keep[j] for j in self.source.destroys}
        for k, dtype in enumerate(self.out_dtypes):
            s = out_arrays[k]
            if taken and int(_ffi.cast("uintptr_t", s.data)) in taken:
                results.append(taken[int(_ffi.cast("uintptr_t", s.data))])
                continue
            shape = tuple(s.shape[a] for a in range(s.ndim))
            count = math.prod(shape)
            if count == 0:
                cbuild.libc.free(s.data)
                results.append(np.empty(shape, dtype=dtype))
                continue
            owned = _ffi.gc(_ffi.cast("char *", s.data), cbuild.libc.free)
            buf = _ffi.buffer(owned, count * dtype.itemsize)
            results.append(np.frombuffer(buf, dtype=dtype, count=count).reshape(shape))
        return results

    def _take_outputs(self, ws: Any, out_arrays: Any) -> None:
        """After a successful call: each output's buffer is the result's, not its slot's."""
        for k, slot in enumerate(self.source.out_slots):
            if slot >= 0 and ws[slot].ptr == out_arrays[k].data:
                ws[slot].ptr = _ffi.NULL
                ws[slot].cap = 0

    def _raise(self, index: int, message: str, inputs: Sequence[Any]) -> None:
        if 0 <= index < len(self.source.nodes):
            node = self.source.nodes[index]
            # shapes of the failing node's inputs, where they came from outside the segment
            known = {var: np.asarray(arr) for var, arr in zip(self.inputs, inputs)}
            shapes = ", ".join(
                f"{known[v].shape} {known[v].dtype.name}" if v in known else "(computed in C)" for v in node.inputs
            )
            raise ShapeMismatchError(f"{node.op} failed: {message}\n  input shapes: {shapes}{built_at(node.source)}")
        raise ShapeMismatchError(message)


class CRunner:
    """Runs a FunctionGraph as C segments with Python nodes between them."""

    #: outputs never alias inputs (C segments return fresh buffers; see __call__ for py nodes)
    fresh_outputs = True
    #: and __call__ copies outputs that are inputs, constants or Python nodes' results
    outputs_never_alias = True

    def __init__(self, fgraph: FunctionGraph, cache: Any, nan_guard: bool = False,
                 options: dict[str, Any] | None = None) -> None:
        options = options or {}
        self.extra_flags: list[str] = list(options.get("cflags", []))
        _load_emitters()
        _load_impls()
        self.fgraph = fgraph
        self.nan_guard = nan_guard
        self.steps: list[tuple[str, Any]] = []
        self.python_nodes: list[Apply] = []
        self._python_set: set[Apply] = set()
        self.sources: list[SegmentSource] = []
        order = fgraph.toposort()
        threshold, threads = options.get("openmp_threshold", 200_000), options.get("openmp_threads", 0)
        # sanitizer and other extra flags build the runtime's code with the segment's own
        links = runtime.library() is not None and not self.extra_flags
        # updates of shared variables computed over the variable's own buffer (inplace.py)
        order, destroy = plan_in_place(fgraph, order, options.get("destroyable", ()), _try_emit,
                                       lambda: EmitContext(threshold, threads, links))
        last_use: dict[Variable, int] = {}
        for pos, node in enumerate(order):
            for var in node.inputs:
                last_use[var] = pos
        for var in fgraph.outputs:
            last_use[var] = len(order)
        i = 0
        while i < len(order):
            ctx = EmitContext(threshold, threads, links)
            ctx.destroy = destroy
            nodes: list[Apply] = []
            bodies: list[list[str]] = []
            while i < len(order):
                ctx.node_index = len(nodes)
                body = _try_emit(order[i], ctx)
                if body is None:
                    break
                nodes.append(order[i])
                bodies.append(body)
                i += 1
            if nodes:
                # what later steps or the graph outputs read leaves the segment
                outputs = [o for n in nodes for o in n.outputs if last_use.get(o, -1) >= i]
                seg_source = assemble(ctx, nodes, bodies, outputs)
                self.sources.append(seg_source)
                self.steps.append(("c", seg_source))  # built below, all at once
            if i < len(order):
                node = order[i]
                self.python_nodes.append(node)
                self._python_set.add(node)
                # a control-flow op (scan, ifelse) compiles the graphs it holds to C too
                node.tag.backend = "c"
                self.steps.append(("py", node))
                i += 1
        built = self._build_segments(self.sources, cache, self.python_nodes)
        self.steps = [(kind, built[id(step)] if kind == "c" else step) for kind, step in self.steps]
        self._plan_storage()

    def _build_segments(self, sources: list[SegmentSource], cache: Any,
                        python_nodes: Sequence[Apply] = ()) -> dict[int, CSegment]:
        """Build every segment, gcc running on several at once when Python nodes split the
        graph into many (scan, ifelse, conv2d, random draws: each segment is its own
        library), and meanwhile the C code of the graphs that Python nodes hold (a scan's
        step, an ifelse's branches: control/inner.py), one after another on one more
        thread; returns the loaded segments by ``id`` of their source."""
        from symgraph.control.inner import PREPARERS, prepare

        holders = [node for node in python_nodes if type(node.op) in PREPARERS]
        if len(sources) > 1 or holders:
            from concurrent.futures import ThreadPoolExecutor

            # gcc runs in subprocesses, so threads overlap the builds; each build may itself
            # run a gcc per translation unit, so a few threads are enough
            workers = min(len(sources) + bool(holders), max(2, cbuild.cores()))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                inner = pool.submit(lambda: [prepare(node, "c") for node in holders]) if holders else None
                paths = list(pool.map(lambda src: self._compile_segment(src, cache), sources))
                if inner is not None:
                    inner.result()
        else:
            paths = [self._compile_segment(src, cache) for src in sources]
        from symgraph.backends.c.fastcall import caller_module

        fast = caller_module(str(cache.root)) if sources else None
        return {id(src): CSegment(src, cbuild.load_library(path), fast) for src, path in zip(sources, paths)}

    def _compile_segment(self, source: SegmentSource, cache: Any) -> Any:
        """The path of ``source``'s library in ``cache``, built if the cache lacks it."""
        source.source = serial_branches(source.source)  # small loops never enter libgomp
        key_parts = [source.source, cbuild.compiler_version(), " ".join(cbuild.base_flags() + self.extra_flags),
                     cbuild.ENTRY_LEVEL]
        for header in sorted(cbuild.csrc_dir().glob("*.h")):
            key_parts.append(header.read_text())
        if runtime.links(source.source):
            key_parts.append(runtime.identity())
        if source.uses_blas:
            key_parts.append(cbuild.blas_flags()[2])
        import symgraph

        key_parts.append(symgraph.__version__)
        key = cache.key(*key_parts)
        path, _ = cache.get_or_build(
            key, lambda entry, out: cbuild.build_library(source.source, out, entry, source.uses_blas, self.extra_flags)
        )
        return path

    def _plan_storage(self) -> None:
        """Number every variable, so a call moves values through a flat list, not a dict."""
        index: dict[Variable, int] = {v: k for k, v in enumerate(self.fgraph.inputs)}
        template: list[Any] = [None] * len(index)

        def slot(var: Variable) -> int:
            if var not in index:
                index[var] = len(template)
                template.append(np.asarray(var.data) if var.owner is None and hasattr(var, "data") else None)
            return index[var]

        self._plan: list[tuple[str, Any, list[int], list[int]]] = []
        for kind, step in self.steps:
            # a CSegment and an Apply both name what they read and write
            self._plan.append((kind, step, [slot(v) for v in step.inputs], [slot(v) for v in step.outputs]))
        self._out_index = [slot(o) for o in self.fgraph.outputs]
        #: graph inputs that a segment may overwrite with an update (see inplace.py); the
        #: Function hands those segments a copy where overwriting the value is not safe
        self.destroyed_inputs = sorted({index[seg.inputs[k]] for kind, seg in self.steps if kind == "c"
                                        for k in seg.source.destroys})
        self._template = template
        # outputs that would otherwise share memory with an input, a constant or a Python
        # node's input are copied (C segment outputs are always fresh buffers)
        n_in = len(self.fgraph.inputs)
        self._copy_out = [
            2 if o.owner in self._python_set else int(index[o] < n_in or o.owner is None)
            for o in self.fgraph.outputs
        ]
        single = len(self.steps) == 1 and self.steps[0][0] == "c"
        seg = self.steps[0][1] if single else None
        self._direct = seg if (seg is not None and seg.inputs == list(self.fgraph.inputs)
                               and seg.outputs == list(self.fgraph.outputs)
                               and len(set(self.fgraph.outputs)) == len(self.fgraph.outputs)) else None

    def __call__(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        if self._direct is not None:
            return self._direct.run(inputs)
        storage = list(self._template)
        storage[: len(inputs)] = inputs
        for kind, step, ins, outs in self._plan:
            args = [storage[k] for k in ins]
            if kind == "c":
                results = step.run(args)
            else:
                node = step
                try:
                    results = perform(node.op, node, args)
                except (ValueError, IndexError, np.linalg.LinAlgError, ZeroDivisionError) as exc:
                    raise ShapeMismatchError(describe_failure(node, args, exc)) from exc
                results = [np.asarray(value, dtype=out.type.dtype)  # type: ignore[attr-defined]
                           for out, value in zip(node.outputs, results)]
                if self.nan_guard:
                    _check_finite_outputs(node, args, results)
            for k, value in zip(outs, results):
                storage[k] = value
        results = [storage[k] for k in self._out_index]
        for j, copy in enumerate(self._copy_out):
            if copy == 1 or (copy == 2 and results[j].base is not None):
                results[j] = np.array(results[j])  # an input, a constant, or a Python op's view
        return results


class CBackend:
    name = "c"

    def fingerprint(self) -> str:
        return f"c-{cbuild.compiler_version()}-{' '.join(cbuild.base_flags())}"

    def available(self) -> tuple[bool, str]:
        if cbuild.compiler() is None:
            return False, "no C compiler (gcc) was found"
        return True, ""

    def build(self, fgraph: FunctionGraph, nan_guard: bool = False, cache: Any = None,
              options: dict[str, Any] | None = None) -> CRunner:
        if cache is None:
            raise ValueError("the C backend needs a compile cache")
        return CRunner(fgraph, cache, nan_guard=nan_guard, options=options)
