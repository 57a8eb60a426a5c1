"""Runners for the graphs that control-flow ops hold (a scan's step, an ifelse branch).

The outer function's backend decides: the C backend marks the nodes it runs through its
Python fallback with ``node.tag.backend = 'c'`` (backends/c/runner.py), and their inner
graphs are then compiled to C too; otherwise they run on the NumPy reference runner.
Either way the graph is first rewritten with the full pipeline (on a copy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply

#: op type -> function(node, backend) that builds (and caches) the runners of the graphs
#: the node's op holds; registered next to the op's implementation (scan_loop.py, the py
#: backend's control impls)
PREPARERS: dict[type, Callable[[Apply, str], None]] = {}


def prepare(node: Apply, backend: str) -> None:
    """Build the runners of the graphs ``node``'s op holds now, rather than on its first
    call (the C backend does this for its Python-fallback nodes, next to its own gcc runs,
    so that compile_function does all the compiling)."""
    preparer = PREPARERS.get(type(node.op))
    if preparer is not None:
        preparer(node, backend)


def backend_of(node: Apply) -> str:
    """'c' when the C backend runs ``node`` (through its Python fallback), else 'py'."""
    return "c" if getattr(node.tag, "backend", "py") == "c" else "py"


def build_runner(fgraph: FunctionGraph, backend: str) -> Any:
    """A runner (``runner(list_of_arrays) -> list_of_arrays``) of ``fgraph``, which is
    rewritten in place first: pass a copy."""
    from symgraph.rewrite.pipeline import rewrite_graph

    rewrite_graph(fgraph, "fast_run")
    if backend != "c":
        from symgraph.backends.py.runner import PyRunner

        return PyRunner(fgraph)
    from symgraph.backends.registry import get_backend
    from symgraph.compile.cache import default_cache
    from symgraph.config import config

    options = {"openmp_threshold": config.openmp_threshold, "openmp_threads": config.openmp_threads,
               "cflags": config.cflags.split() + ([] if config.vecmath else ["-DSG_SCALAR_MATH"]),
               "destroyable": []}
    runner = get_backend("c").build(fgraph, cache=default_cache(), options=options)
    for node in getattr(runner, "python_nodes", []):
        node.tag.backend = "c"  # a scan or ifelse inside runs its own inner graphs in C too
    return runner
