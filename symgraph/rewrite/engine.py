"""The rewrite engine: local rewrites driven to a fixpoint, merging, constant folding.

A ``LocalRewrite`` looks at one node and either returns replacements for its outputs
or None. ``run_phase`` applies a list of them over a FunctionGraph until nothing
changes or the budget runs out, merging duplicate subgraphs and folding constants as
it goes, and records every firing in a ``RewriteLog``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply, Constant, Variable

Replacement = Sequence[Variable] | None


@dataclass(frozen=True)
class LocalRewrite:
    """A named rewrite of single nodes.

    ``fn(fgraph, node)`` returns a list with one replacement per output of ``node``
    (None entries keep that output), or None when the rewrite does not apply.
    ``tracks`` limits which op classes it is tried on (empty: all).
    """

    name: str
    fn: Callable[[FunctionGraph, Apply], Replacement]
    tracks: tuple[type, ...] = ()
    doc: str = ""

    def applies_to(self, node: Apply) -> bool:
        return not self.tracks or isinstance(node.op, self.tracks)


@dataclass
class RewriteEvent:
    phase: str
    name: str
    before: str
    after: str


@dataclass
class RewriteLog:
    """What the pipeline did: rule counts, a before/after for each firing, time per phase."""

    counts: Counter[str] = field(default_factory=Counter)
    events: list[RewriteEvent] = field(default_factory=list)
    phase_times: dict[str, float] = field(default_factory=dict)
    stop_reasons: dict[str, str] = field(default_factory=dict)
    keep_events: int = 500

    def record(self, phase: str, name: str, before: Sequence[Variable], after: Sequence[Variable]) -> None:
        self.counts[name] += 1
        if len(self.events) < self.keep_events:
            from symgraph.printing.pp import pp

            self.events.append(RewriteEvent(
                phase, name,
                "; ".join(pp(v) for v in before), "; ".join(pp(v) for v in after),
            ))


def _node_key(node: Apply) -> tuple[Any, ...]:
    return (node.op, tuple(id(v) for v in node.inputs))


def merge(fgraph: FunctionGraph, log: RewriteLog | None = None, phase: str = "") -> int:
    """Common subexpression elimination: identical constants and identical nodes become one."""
    merged = 0
    constants: dict[Any, Constant] = {}
    for var in list(fgraph.variables):
        if isinstance(var, Constant) and var in fgraph.variables:
            key = var.signature()
            keeper = constants.setdefault(key, var)
            if keeper is not var:
                fgraph.replace(var, keeper, reason="merge")
                merged += 1
    seen: dict[tuple[Any, ...], Apply] = {}
    for node in fgraph.toposort():
        if node not in fgraph.apply_nodes:
            continue
        key = _node_key(node)
        other = seen.get(key)
        if other is None:
            seen[key] = node
            continue
        for old, new in zip(node.outputs, other.outputs):
            if old.type != new.type:
                break
        else:
            for old, new in zip(node.outputs, other.outputs):
                fgraph.replace(old, new, reason="merge")
            merged += 1
    if log is not None and merged:
        log.counts["merge"] += merged
    return merged


#: largest constant (in elements) that folding may create
FOLD_LIMIT = 100_000


def constant_fold(fgraph: FunctionGraph, node: Apply) -> Replacement:
    """Evaluate a node whose inputs are all constants, at compile time."""
    from symgraph.backends.py.dispatch import perform
    from symgraph.backends.py.runner import _load_impls
    from symgraph.tensor.variable import constant

    if not node.inputs or not all(isinstance(v, Constant) for v in node.inputs):
        return None
    if getattr(node.op, "is_random", False) or getattr(node.op, "no_constant_folding", False):
        return None
    _load_impls()
    try:
        values = perform(node.op, node, [v.data for v in node.inputs])
    except Exception:
        return None  # leave it for run time, where the error is reported with context
    results = []
    for out, value in zip(node.outputs, values):
        import numpy as np

        arr = np.asarray(value, dtype=out.type.dtype)
        if arr.size > FOLD_LIMIT:
            return None
        results.append(constant(arr, dtype=out.type.dtype))
    return results


CONSTANT_FOLDING = LocalRewrite("constant_folding", constant_fold)


def _apply(fgraph: FunctionGraph, rewrite: LocalRewrite, node: Apply, log: RewriteLog, phase: str) -> bool:
    replacement = rewrite.fn(fgraph, node)
    if replacement is None:
        return False
    pairs = []
    for old, new in zip(node.outputs, replacement):
        if new is None or new is old:
            continue
        if not old.type.is_compatible(new.type):
            raise TypeError(
                f"rewrite {rewrite.name!r} produced {new.type} for {old.type} (node {node.op}); "
                "this is a bug in the rewrite"
            )
        if new.type != old.type:
            new = _restore_type(new, old)
        pairs.append((old, new))
    if not pairs:
        return False
    log.record(phase, rewrite.name, [p[0] for p in pairs], [p[1] for p in pairs])
    fgraph.replace_all(pairs, reason=rewrite.name)
    return True


def _restore_type(new: Variable, old: Variable) -> Variable:
    """Keep the static shape information of ``old`` on a replacement that lost it."""
    from symgraph.tensor.shape import specify_shape

    if any(a is not None and b is None for a, b in zip(old.type.shape, new.type.shape)):
        return specify_shape(new, old.type.shape)
    return new


def run_phase(
    fgraph: FunctionGraph,
    phase: str,
    rewrites: Sequence[LocalRewrite],
    log: RewriteLog,
    max_passes: int = 50,
    node_budget_factor: int = 20,
) -> str:
    """Apply ``rewrites`` (plus merging and constant folding) until a fixpoint.

    Returns why it stopped: 'fixpoint', or a budget message.
    """
    start = time.perf_counter()
    rewrites = [CONSTANT_FOLDING, *rewrites]
    budget = node_budget_factor * max(len(fgraph.apply_nodes), 10)
    applied = 0
    reason = "fixpoint"
    merge(fgraph, log, phase)
    for _ in range(max_passes):
        changed = False
        for node in fgraph.toposort():
            for rewrite in rewrites:
                if node not in fgraph.apply_nodes:
                    break
                if rewrite.applies_to(node) and _apply(fgraph, rewrite, node, log, phase):
                    changed = True
                    applied += 1
        if merge(fgraph, log, phase):
            changed = True
        if not changed:
            break
        if applied > budget:
            reason = f"budget: {applied} rewrites (limit {budget})"
            break
    else:
        reason = f"budget: {max_passes} passes"
    log.phase_times[phase] = log.phase_times.get(phase, 0.0) + time.perf_counter() - start
    log.stop_reasons[phase] = reason
    return reason
