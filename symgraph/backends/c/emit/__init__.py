"""C emitters, registered per op class: ``@emit.register(OpClass)``.

An emitter receives the node and an ``EmitContext`` and appends C statements that set
the node's output arrays (``sg_array`` structs named by ``ctx.name(var)``). An output is
either allocated (``ctx.alloc``; the segment frees or hands it to Python) or a view of
an input (``ctx.view``; no ownership). Raise ``Unsupported`` when a node cannot be
emitted: it then runs in Python between C segments.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from symgraph.backends.c.ctypes import Unsupported, ctype
from symgraph.graph.node import Apply, Constant, Variable


class EmitContext:
    """Names, ownership and code lines for one C segment."""

    def __init__(self, openmp_threshold: int = 200_000, openmp_threads: int = 0,
                 links_runtime: bool = False) -> None:
        self.openmp_threshold = openmp_threshold
        self.openmp_threads = openmp_threads
        #: the segment will be linked against the prebuilt runtime library (runtime.py):
        #: emitters declare what it has instead of defining it
        self.links_runtime = links_runtime
        self.lines: list[str] = []
        self.names: dict[Variable, str] = {}
        self.owning: dict[Variable, None] = {}  # ordered, so generated code is deterministic
        self.node_index = -1
        self.uses_blas = False
        self.helpers: dict[str, str] = {}  # extra C functions needed, by name
        #: nodes that may write their result over one input's buffer: {node: input position}
        #: (updates of shared variables, decided by backends/c/inplace.py)
        self.destroy: dict[Apply, int] = {}
        #: outputs that may be an input's own buffer at run time: {output: input}
        self.aliases: dict[Variable, Variable] = {}
        self._counter = 0

    # -- naming ------------------------------------------------------------------------
    def name(self, var: Variable) -> str:
        if var not in self.names:
            self.names[var] = f"v{len(self.names)}"
        return self.names[var]

    def tmp(self, prefix: str = "t") -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    def data(self, var: Variable) -> str:
        """``var``'s data pointer with its C element type."""
        return f"(({ctype(var.type.dtype)} *){self.name(var)}.data)"  # type: ignore[attr-defined]

    # -- code --------------------------------------------------------------------------
    def line(self, text: str) -> None:
        self.lines.append(text)

    def fail(self, fmt: str, *args: str) -> str:
        """A C statement that reports an error for the current node and jumps to cleanup."""
        extra = "".join(f", {a}" for a in args)
        escaped = fmt.replace('"', '\\"')
        return f'SG_FAIL(err, {self.node_index}, "{escaped}"{extra});'

    def alloc(self, out: Variable, shape_exprs: Sequence[str]) -> None:
        """Allocate ``out`` as a fresh C-contiguous array of the given shape."""
        name = self.name(out)
        self.owning[out] = None
        ndim = len(shape_exprs)
        dims = ", ".join(shape_exprs) if ndim else "0"
        shp = self.tmp("shp")
        self.line(f"{{ int64_t {shp}[{max(ndim, 1)}] = {{{dims}}};")
        self.line(f"  if (!sg_alloc(&{name}, {ndim}, {shp}, sizeof({ctype(out.type.dtype)}))) "  # type: ignore[attr-defined]
                  + self.fail("out of memory allocating %lld elements", f"(long long)sg_size(&{name})") + " }")

    def alloc_over(self, node: Apply, out: Variable, source: Variable, shape_exprs: Sequence[str]) -> None:
        """``out`` takes ``source``'s buffer when ``node`` may overwrite it (see
        ``destroy``) and ``source`` is C-contiguous; otherwise a fresh array (``alloc``),
        which the caller fills with ``source``'s values. Emits ``int <out>_over`` (1: the
        buffer was taken, the values are already there)."""
        name = self.name(out)
        over = f"{name}_over"
        taken = node in self.destroy and node.inputs[self.destroy[node]] is source
        if not taken:
            self.alloc(out, shape_exprs)
            self.line(f"const int {over} = 0;")
            return
        src = self.name(source)
        self.aliases[out] = source
        self.line(f"const int {over} = sg_is_contiguous(&{src});")
        self.line(f"if ({over}) {{ {name} = {src}; sg_contiguous_strides(&{name}); }} else")
        self.alloc(out, shape_exprs)

    def view(self, out: Variable, source: Variable) -> None:
        """``out`` shares ``source``'s data (shape and strides are set by the caller)."""
        self.line(f"{self.name(out)}.data = {self.name(source)}.data;")

    def parallel_for(self, count: str) -> str:
        """An OpenMP pragma that splits a loop of ``count`` iterations across threads when it
        is large enough to pay for them (``config.openmp_threshold``)."""
        threads = f" num_threads({self.openmp_threads})" if self.openmp_threads > 0 else ""
        return f"#pragma omp parallel for simd schedule(static) if(parallel: {count} > {self.openmp_threshold}){threads}"

    def parallel_region(self, clauses: str = "") -> str:
        """An OpenMP parallel region's pragma, with ``clauses`` (``for schedule(static)``, a
        reduction) and ``config.openmp_threads``; the caller decides whether the work is
        large enough (``openmp_threshold``) and, for a plain region, shares it out."""
        threads = f" num_threads({self.openmp_threads})" if self.openmp_threads > 0 else ""
        return f"#pragma omp parallel{' ' + clauses if clauses else ''}{threads}"

    def helper(self, name: str, code: str) -> None:
        self.helpers.setdefault(name, code)


@functools.singledispatch
def emit(op: Any, node: Apply, ctx: EmitContext) -> None:
    raise Unsupported(f"no C emitter for {op}")


def has_emitter(op_class: type) -> bool:
    return emit.dispatch(op_class) is not emit.dispatch(object)


def is_constant_scalar(var: Variable) -> bool:
    import numpy as np

    return isinstance(var, Constant) and np.asarray(var.data).size == 1


def _load_emitters() -> None:
    # Each family module registers its emitters in `emit`; import them all here.
    from symgraph.backends.c.emit import elemwise, linalg, nlinalg, nnet, reduce, shape, subtensor  # noqa: F401
