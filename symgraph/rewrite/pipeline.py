"""The ordered pipeline of rewrite phases.

canonicalize -> stabilize -> specialize (the C backend adds fuse and memory phases).
Each phase is a named list of rules; there is no global registry: this file says
what runs, in what order.
"""

from __future__ import annotations

from dataclasses import dataclass

from symgraph.graph.fgraph import FunctionGraph
from symgraph.rewrite.engine import LocalRewrite, RewriteLog, run_phase


@dataclass(frozen=True)
class Phase:
    name: str
    rules: tuple[LocalRewrite, ...]


def phases_for(optimizer: str) -> list[Phase]:
    """The phases run for ``optimizer`` ('fast_run', 'stabilize' or 'none')."""
    from symgraph.rewrite.rules import algebra, shape, stability

    canonical = tuple(algebra.CANONICALIZE + shape.SHAPE_CANONICALIZE)
    # later phases keep the canonical rules on, to tidy what their own rules produce
    canonicalize = Phase("canonicalize", canonical)
    stabilize = Phase("stabilize", tuple(stability.STABILIZE) + canonical)
    specialize = Phase("specialize", tuple(algebra.SPECIALIZE) + canonical)
    if optimizer == "none":
        return []
    if optimizer == "stabilize":
        return [canonicalize, stabilize]
    if optimizer == "fast_run":
        return [canonicalize, stabilize, specialize]
    raise ValueError(f"optimizer must be 'fast_run', 'stabilize' or 'none', got {optimizer!r}")


def rewrite_graph(fgraph: FunctionGraph, optimizer: str = "fast_run", log: RewriteLog | None = None) -> RewriteLog:
    """Run the pipeline for ``optimizer`` over ``fgraph`` in place and return the log."""
    log = log if log is not None else RewriteLog()
    for phase in phases_for(optimizer):
        run_phase(fgraph, phase.name, phase.rules, log)
    return log
