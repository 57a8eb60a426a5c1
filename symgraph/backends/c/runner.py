"""The C backend: split the graph into C segments (and Python nodes between them), build, run.

Nodes with a C emitter are grouped into segments in topological order; each segment is
one translation unit built by gcc and cached on disk. A node without an emitter (a
user's own Python op, for instance) runs with its NumPy implementation between
segments, and ``f.explain()`` lists it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from symgraph.backends.c import build as cbuild
from symgraph.backends.c.ctypes import Unsupported
from symgraph.backends.c.emit import EmitContext, _load_emitters, emit
from symgraph.backends.c.module import SegmentSource, assemble
from symgraph.backends.py.dispatch import perform
from symgraph.backends.py.runner import _check_finite_outputs, _load_impls, describe_failure
from symgraph.errors import ShapeMismatchError, built_at
from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply, Variable

_ffi = cbuild.ffi


def _try_emit(node: Apply, ctx: EmitContext) -> list[str] | None:
    """Emit ``node`` into ``ctx``; on Unsupported restore ``ctx`` and return None."""
    saved = (list(ctx.lines), dict(ctx.names), dict(ctx.owning), dict(ctx.helpers), ctx.uses_blas)
    ctx.lines = []
    try:
        emit(node.op, node, ctx)
    except Unsupported:
        ctx.lines, ctx.names, ctx.owning, ctx.helpers, ctx.uses_blas = saved
        return None
    body = ctx.lines
    ctx.lines = saved[0]
    return body


class CSegment:
    """A compiled segment: marshals NumPy arrays in, wraps C-allocated outputs without a copy."""

    def __init__(self, source: SegmentSource, lib: Any) -> None:
        self.source = source
        self.lib = lib
        self.fn = lib.sg_segment
        self.inputs = source.inputs
        self.outputs = source.outputs
        self.in_arrays = _ffi.new("sg_array[]", max(len(self.inputs), 1))
        self.out_arrays = _ffi.new("sg_array[]", max(len(self.outputs), 1))
        self.err = _ffi.new("sg_error *")
        self.out_dtypes = [np.dtype(v.type.dtype) for v in self.outputs]  # type: ignore[attr-defined]

    def run(self, values: Sequence[np.ndarray]) -> list[np.ndarray]:
        keep = []
        for k, arr in enumerate(values):
            item = arr.itemsize
            if item == 0 or any(s % item for s in arr.strides):
                arr = np.ascontiguousarray(arr)
            keep.append(arr)
            s = self.in_arrays[k]
            s.data = _ffi.cast("void *", arr.ctypes.data)
            s.ndim = arr.ndim
            for a, (n, st) in enumerate(zip(arr.shape, arr.strides)):
                s.shape[a] = n
                s.strides[a] = st // item
        status = self.fn(self.in_arrays, self.out_arrays, self.err)
        if status:
            self._raise(keep)
        results = []
        for k, dtype in enumerate(self.out_dtypes):
            s = self.out_arrays[k]
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

    def _raise(self, inputs: list[np.ndarray]) -> None:
        index = int(self.err.node)
        message = _ffi.string(self.err.message).decode(errors="replace")
        if 0 <= index < len(self.source.nodes):
            node = self.source.nodes[index]
            # shapes of the failing node's inputs, where they came from outside the segment
            known = {var: arr for var, arr in zip(self.inputs, inputs)}
            shapes = ", ".join(
                f"{known[v].shape} {known[v].dtype.name}" if v in known else "(computed in C)" for v in node.inputs
            )
            raise ShapeMismatchError(f"{node.op} failed: {message}\n  input shapes: {shapes}{built_at(node.source)}")
        raise ShapeMismatchError(message)


class CRunner:
    """Runs a FunctionGraph as C segments with Python nodes between them."""

    #: outputs never alias inputs (C segments return fresh buffers; see __call__ for py nodes)
    fresh_outputs = True

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
        last_use: dict[Variable, int] = {}
        for pos, node in enumerate(order):
            for var in node.inputs:
                last_use[var] = pos
        for var in fgraph.outputs:
            last_use[var] = len(order)
        i = 0
        while i < len(order):
            ctx = EmitContext(options.get("openmp_threshold", 200_000), options.get("openmp_threads", 0))
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
                self.steps.append(("c", self._build_segment(seg_source, cache)))
            if i < len(order):
                node = order[i]
                self.python_nodes.append(node)
                self._python_set.add(node)
                self.steps.append(("py", node))
                i += 1

    def _build_segment(self, source: SegmentSource, cache: Any) -> CSegment:
        key_parts = [source.source, cbuild.compiler_version(), " ".join(cbuild.base_flags() + self.extra_flags)]
        for header in sorted(cbuild.csrc_dir().glob("*.h")):
            key_parts.append(header.read_text())
        if source.uses_blas:
            key_parts.append(cbuild.blas_flags()[2])
        import symgraph

        key_parts.append(symgraph.__version__)
        key = cache.key(*key_parts)
        path, _ = cache.get_or_build(
            key, lambda entry, out: cbuild.build_library(source.source, out, entry, source.uses_blas, self.extra_flags)
        )
        return CSegment(source, cbuild.load_library(path))

    def __call__(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        storage: dict[Variable, Any] = dict(zip(self.fgraph.inputs, inputs))
        for kind, step in self.steps:
            if kind == "c":
                values = [storage[v] if v in storage else v.data for v in step.inputs]  # type: ignore[attr-defined]
                for var, value in zip(step.outputs, step.run(values)):
                    storage[var] = value
            else:
                node = step
                args = [storage[v] if v in storage else v.data for v in node.inputs]  # type: ignore[attr-defined]
                try:
                    results = perform(node.op, node, args)
                except (ValueError, IndexError, np.linalg.LinAlgError, ZeroDivisionError) as exc:
                    raise ShapeMismatchError(describe_failure(node, args, exc)) from exc
                for out, value in zip(node.outputs, results):
                    storage[out] = np.asarray(value, dtype=out.type.dtype)  # type: ignore[attr-defined]
                if self.nan_guard:
                    _check_finite_outputs(node, args, [storage[o] for o in node.outputs])
        results = []
        for o in self.fgraph.outputs:
            value = storage[o] if o in storage else np.array(o.data)  # type: ignore[attr-defined]
            if o.owner is not None and o.owner in self._python_set and value.base is not None:
                value = np.array(value)  # a Python op may return a view of its input
            results.append(value)
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
