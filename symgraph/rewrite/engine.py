"""The rewrite engine: local rewrites driven to a fixpoint by a worklist.

A ``LocalRewrite`` looks at one node and either returns replacements for its outputs or
None. ``run_phase`` applies a list of them to a FunctionGraph:

- a worklist holds the nodes to look at; it starts with every node (inputs first), and
  the graph's listener events refill it: a new node, a node whose input changed (and the
  nodes just above it, whose patterns reach down into it), the remaining users of a
  variable that lost a user (single-user guards may now pass);
- each node taken from the list is first merged with an identical node if there is one
  (common subexpression elimination, commutative inputs in any order), then constant
  folded if all its inputs are constants, then offered to the rewrites indexed by its op;
- when the list runs dry after some rewrite fired, every node is queued once more, so
  the phase ends at a true fixpoint of its rules (nothing fires in a full sweep).

Each node is visited a bounded number of times per change near it, so the work is linear
in the graph size times the number of changes; nothing re-sorts the whole graph per
change. A budget (rewrites fired, graph growth) stops runaway rule sets, and the log says
why each phase stopped.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symgraph.backends.py.dispatch import perform
from symgraph.graph.fgraph import OUTPUT, FunctionGraph
from symgraph.graph.node import Apply, Constant, Variable
from symgraph.tensor.elemwise import DimShuffle, Elemwise
from symgraph.tensor.variable import as_tensor_variable, constant

Replacement = Sequence[Any] | None


class RewriteError(TypeError):
    """A rewrite produced a replacement of another type: a bug in that rewrite."""


@dataclass(frozen=True)
class LocalRewrite:
    """A named rewrite of single nodes.

    ``fn(fgraph, node)`` returns a list with one replacement per output of ``node``
    (None entries keep that output), or None when the rewrite does not apply.
    ``tracks`` limits which nodes it is tried on: Op classes, or ScalarOp classes
    meaning an Elemwise of that scalar op (empty: every node).
    """

    name: str
    fn: Callable[[FunctionGraph, Apply], Replacement]
    tracks: tuple[type, ...] = ()
    doc: str = ""

    def applies_to(self, node: Apply) -> bool:
        if not self.tracks:
            return True
        keys = _node_classes(node)
        return any(issubclass(k, t) for k in keys for t in self.tracks)


@dataclass
class RewriteEvent:
    """One firing: the phase, the rule, and the replaced subgraph before and after (pp text)."""

    phase: str
    name: str
    before: str
    after: str


@dataclass
class RewriteLog:
    """What the pipeline did.

    counts : Counter of rule names (merges count as 'merge', folds as 'constant_folding')
    events : before/after of the first ``keep_events`` firings
    phase_times : seconds per phase
    stop_reasons : per phase, 'fixpoint' or the budget that stopped it
    phase_sizes : per phase, (nodes before, nodes after)
    skipped : rules that matched but whose result could not be given the old shape
    """

    counts: Counter[str] = field(default_factory=Counter)
    events: list[RewriteEvent] = field(default_factory=list)
    phase_times: dict[str, float] = field(default_factory=dict)
    stop_reasons: dict[str, str] = field(default_factory=dict)
    keep_events: int = 500
    phase_sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)

    def record(
        self, phase: str, name: str, before: Sequence[Variable], after: Sequence[Variable]
    ) -> None:
        self.counts[name] += 1
        if len(self.events) < self.keep_events:
            self.events.append(RewriteEvent(phase, name, _show(before), _show(after)))


#: how deep and how large the before/after text of an event goes (a rewrite is local)
EVENT_DEPTH = 5
EVENT_NODES = 24
EVENT_ARGS = 6
EVENT_WIDTH = 300


def _show(variables: Sequence[Variable]) -> str:
    """pp-style text of the graph just above ``variables``, cut at EVENT_DEPTH levels and
    EVENT_NODES nodes (what is cut is shown as '...'), whatever the size of the graph."""
    budget = [EVENT_NODES]
    text = "; ".join(_snapshot(v, EVENT_DEPTH, budget, top=True) for v in variables)
    return text if len(text) <= EVENT_WIDTH else text[: EVENT_WIDTH - 3] + "..."


def _wrap(text: str) -> str:
    simple = text.replace("_", "").replace(".", "").isalnum()
    return text if simple or (text.startswith("(") and text.endswith(")")) else f"({text})"


def _snapshot(var: Variable, depth: int, budget: list[int], top: bool = False) -> str:
    if isinstance(var, Constant):
        return var.name or var.type.value_repr(var.data)
    node = var.owner
    if node is None:
        return var.name or f"<{getattr(var.type, 'describe', lambda: var.type)()}>"
    if var.name and not top:
        return var.name
    if depth == 0 or budget[0] <= 0:
        return "..."
    budget[0] -= 1
    op = node.op
    if isinstance(op, DimShuffle):
        inner = _snapshot(node.inputs[0], depth - 1, budget)
        kept = [o for o in op.new_order if o != "x"]
        if kept == sorted(kept) and not op.dropped:  # type: ignore[type-var]
            return inner  # only adds broadcastable axes: invisible in math
        if op.new_order == tuple(reversed(range(op.input_ndim))):
            return f"{_wrap(inner)}.T"
        return f"{_wrap(inner)}.dimshuffle({', '.join(repr(o) for o in op.new_order)})"
    shown = node.inputs if len(node.inputs) <= EVENT_ARGS else node.inputs[: EVENT_ARGS - 1]
    args = [_snapshot(v, depth - 1, budget) for v in shown]
    if len(shown) < len(node.inputs):
        args.append(f"...{len(node.inputs) - len(shown)} more")
    if isinstance(op, Elemwise):
        sop = op.scalar_op
        if sop.symbol is not None and len(args) >= 2:
            return "(" + f" {sop.symbol} ".join(args) + ")"
        if sop.symbol is not None and len(args) == 1:
            return f"{sop.symbol}{_wrap(args[0])}"
        return f"{sop.name}({', '.join(args)})"
    text = f"{op}({', '.join(args)})"
    return text + f"[{var.index}]" if len(node.outputs) > 1 else text


@dataclass(frozen=True)
class Budget:
    """Limits of one phase.

    rewrites_per_node : at most this many firings per node of the graph at the start
    growth : the graph may grow to at most ``growth * start + 1000`` nodes
    """

    rewrites_per_node: int = 20
    growth: float = 4.0


# -- node classification ---------------------------------------------------------------------
_CLASS_CACHE: dict[Any, tuple[type, ...]] = {}


def _node_classes(node: Apply) -> tuple[type, ...]:
    """The classes a node is indexed under: its op's, and for Elemwise its scalar op's."""
    op = node.op
    scalar_op = getattr(op, "scalar_op", None)
    key = (type(op), type(scalar_op))
    found = _CLASS_CACHE.get(key)
    if found is None:
        found = tuple(type(op).__mro__)
        if isinstance(op, Elemwise):
            found += tuple(type(scalar_op).__mro__)
        _CLASS_CACHE[key] = found
    return found


class _Index:
    """Rewrites by the class they track, in the order given."""

    def __init__(self, rewrites: Sequence[LocalRewrite]) -> None:
        self.rewrites = list(rewrites)
        self.cache: dict[tuple[type, ...], list[LocalRewrite]] = {}

    def for_node(self, node: Apply) -> list[LocalRewrite]:
        classes = _node_classes(node)
        found = self.cache.get(classes)
        if found is None:
            found = [r for r in self.rewrites
                     if not r.tracks or any(issubclass(c, t) for c in classes for t in r.tracks)]
            self.cache[classes] = found
        return found


# -- merging and folding ---------------------------------------------------------------------
def _merge_key(node: Apply) -> tuple[Any, ...]:
    ids = [id(v) for v in node.inputs]
    if getattr(getattr(node.op, "scalar_op", None), "commutative", False):
        ids.sort()  # a + b and b + a are the same computation
    return (node.op, tuple(ids))


def merge(fgraph: FunctionGraph, log: RewriteLog | None = None, phase: str = "") -> int:
    """Merge identical constants and identical nodes in one sweep; returns the merge count."""
    merged = 0
    constants: dict[Any, Constant] = {}
    for var in list(fgraph.variables):
        if isinstance(var, Constant) and var in fgraph.variables:
            keeper = constants.setdefault(var.signature(), var)
            if keeper is not var:
                fgraph.replace(var, keeper, reason="merge")
    seen: dict[tuple[Any, ...], Apply] = {}
    for node in fgraph.toposort():
        if node not in fgraph.apply_nodes:
            continue
        key = _merge_key(node)
        other = seen.setdefault(key, node)
        if other is not node and _same_types(node, other):
            fgraph.replace_all(list(zip(node.outputs, other.outputs)), reason="merge")
            merged += 1
    if log is not None and merged:
        log.counts["merge"] += merged
    return merged


def _same_types(a: Apply, b: Apply) -> bool:
    if len(a.outputs) != len(b.outputs):
        return False
    return all(x.type == y.type for x, y in zip(a.outputs, b.outputs))


#: largest constant (in elements) that folding may create
FOLD_LIMIT = 100_000
_IMPLS_LOADED: list[bool] = []


def _load_impls_once() -> None:
    if not _IMPLS_LOADED:
        from symgraph.backends.py.runner import _load_impls

        _load_impls()
        _IMPLS_LOADED.append(True)


def constant_fold(fgraph: FunctionGraph, node: Apply) -> Replacement:
    """Evaluate a node whose inputs are all constants, at compile time.

    Skips random ops, ops that ask not to be folded, results larger than ``FOLD_LIMIT``
    elements (checked from the static shape before computing when it is known), and
    nodes whose computation raises (the error is then reported at run time, with the
    user's line).
    """
    if not node.inputs:
        return None
    if getattr(node.op, "is_random", False) or getattr(node.op, "no_constant_folding", False):
        return None
    for out in node.outputs:
        static = getattr(out.type, "shape", None)
        if static is None:
            return None
        if all(s is not None for s in static) and int(np.prod(static, dtype=np.int64)) > FOLD_LIMIT:
            return None
    _load_impls_once()
    inputs = []
    for v in node.inputs:
        value = _constant_value(v)
        if value is None:
            return None
        inputs.append(value)
    if _is_broadcast_of_scalar(node, inputs[0]):
        return None  # DimShuffle(1.0) is free and prints as 1.0; a folded [[1.]] is noise
    try:
        with np.errstate(all="ignore"):
            values = perform(node.op, node, inputs)
    except Exception:
        return None  # leave it for run time, where the error is reported with context
    results = []
    for out, value in zip(node.outputs, values):
        arr = np.asarray(value, dtype=out.type.dtype)  # type: ignore[attr-defined]
        if arr.size > FOLD_LIMIT or arr.ndim != out.type.ndim:  # type: ignore[attr-defined]
            return None
        results.append(constant(np.array(arr), dtype=out.type.dtype))  # type: ignore[attr-defined]
    return results


def _constant_value(var: Variable) -> Any:
    """The value of a constant, or of a constant seen through broadcasting DimShuffles
    (which folding leaves in place: they are free and print as the number); else None."""
    if isinstance(var, Constant):
        return var.data
    node = var.owner
    if node is not None and isinstance(node.op, DimShuffle):
        inner = _constant_value(node.inputs[0])
        if inner is not None:
            return perform(node.op, node, [np.asarray(inner)])[0]
    return None


def _is_broadcast_of_scalar(node: Apply, value: Any) -> bool:
    if not isinstance(node.op, DimShuffle) or "x" not in node.op.new_order:
        return False
    return bool(np.asarray(value).size == 1)


CONSTANT_FOLDING = LocalRewrite("constant_folding", constant_fold, doc="evaluate constant nodes")


# -- applying one rewrite --------------------------------------------------------------------
def _checked_pairs(
    rewrite: LocalRewrite, node: Apply, replacement: Sequence[Any], log: RewriteLog
) -> list[tuple[Variable, Variable]] | None:
    """(old, new) pairs with every ``new`` fitted to its ``old``'s type, or None."""
    from symgraph.rewrite.shapes import fit_to

    if len(replacement) != len(node.outputs):
        raise RewriteError(
            f"rewrite {rewrite.name!r} returned {len(replacement)} replacements for the "
            f"{len(node.outputs)} outputs of {node.op}; this is a bug in the rewrite"
        )
    pairs = []
    for old, new in zip(node.outputs, replacement):
        if new is None or new is old:
            continue
        if not isinstance(new, Variable):
            new = as_tensor_variable(new)
        if getattr(new.type, "ndim", None) is None or new.type.ndim > old.type.ndim:  # type: ignore[attr-defined]
            raise RewriteError(
                f"rewrite {rewrite.name!r} replaced {old.type} by {new.type} (node {node.op}); "
                "this is a bug in the rewrite"
            )
        if new.type != old.type:
            fitted = fit_to(new, old)
            if fitted is None:
                log.skipped[rewrite.name] += 1
                return None
            new = fitted
        if not old.type.is_compatible(new.type):
            raise RewriteError(
                f"rewrite {rewrite.name!r} produced {new.type} for {old.type} (node {node.op}); "
                "this is a bug in the rewrite"
            )
        pairs.append((old, new))
    return pairs or None


class _Worklist:
    """Listener that queues nodes whose neighbourhood changed."""

    #: how many levels of users above a changed node are queued again
    LOOKAHEAD = 3
    #: at most this many users of one variable are queued per change (wide fan-out)
    FANOUT = 64

    def __init__(self) -> None:
        self.queue: deque[Apply] = deque()
        self.queued: set[Apply] = set()
        #: while a rewrite replaces a node, where the user built that node: the new nodes
        #: inherit it, so run-time errors still point at the user's line
        self.source: Any = None

    def push(self, node: Apply) -> None:
        if node not in self.queued:
            self.queued.add(node)
            self.queue.append(node)

    def pop(self) -> Apply:
        node = self.queue.popleft()
        self.queued.discard(node)
        return node

    def push_users(self, fgraph: FunctionGraph, node: Apply, levels: int) -> None:
        frontier = [node]
        for _ in range(levels):
            nxt = []
            for n in frontier:
                for out in n.outputs:
                    for client, _ in fgraph.clients.get(out, ())[: self.FANOUT]:
                        if client != OUTPUT:
                            self.push(client)  # type: ignore[arg-type]
                            nxt.append(client)
            frontier = nxt  # type: ignore[assignment]

    def push_owner(self, var: Variable) -> None:
        if var.owner is not None:
            self.push(var.owner)

    # listener protocol. Rules look down from a node (patterns) and at the users of what
    # they absorb (single-user guards), so a change is news for the nodes above it, for
    # the node itself, and for the nodes whose outputs gained or lost a user.
    def on_import(self, fgraph: FunctionGraph, node: Apply, reason: str | None) -> None:
        if self.source is not None:
            node.source = self.source
        self.push(node)
        for inp in node.inputs:
            self.push_owner(inp)

    def on_prune(self, fgraph: FunctionGraph, node: Apply, reason: str | None) -> None:
        for inp in node.inputs:
            self.push_owner(inp)
            for client, _ in fgraph.clients.get(inp, ())[: self.FANOUT]:
                if client != OUTPUT and client is not node:
                    self.push(client)  # type: ignore[arg-type]

    def on_change_input(
        self, fgraph: FunctionGraph, client: Any, index: int, old: Variable, new: Variable,
        reason: str | None,
    ) -> None:
        self.push_owner(old)
        self.push_owner(new)
        if client != OUTPUT:
            self.push(client)
            self.push_users(fgraph, client, self.LOOKAHEAD)


class _Phase:
    """The state of one phase run: the index of rules, merge tables, counters."""

    def __init__(
        self, fgraph: FunctionGraph, phase: str, rewrites: Sequence[LocalRewrite],
        log: RewriteLog, budget: Budget, fold: bool, worklist: _Worklist,
    ) -> None:
        self.fgraph = fgraph
        self.worklist = worklist
        self.phase = phase
        self.index = _Index(rewrites)
        self.log = log
        self.fold = fold
        self.constants: dict[Any, Constant] = {}
        self.nodes: dict[tuple[Any, ...], Apply] = {}
        self.changes = 0
        start = len(fgraph.apply_nodes)
        self.max_changes = budget.rewrites_per_node * max(start, 50)
        self.max_nodes = int(budget.growth * start) + 1000

    def visit(self, node: Apply) -> None:
        fgraph = self.fgraph
        self._merge_constants(node)
        if self._merge_node(node):
            return
        if self.fold and self._try(CONSTANT_FOLDING, node):
            return
        for rewrite in self.index.for_node(node):
            if node not in fgraph.apply_nodes:
                return
            if self._try(rewrite, node):
                return

    def _merge_constants(self, node: Apply) -> None:
        for i, inp in enumerate(node.inputs):
            if isinstance(inp, Constant):
                keeper = self.constants.setdefault(inp.signature(), inp)
                if keeper is not inp:
                    self.fgraph.change_input(node, i, keeper, reason="merge")

    def _merge_node(self, node: Apply) -> bool:
        key = _merge_key(node)
        other = self.nodes.get(key)
        if (
            other is not None and other is not node and other in self.fgraph.apply_nodes
            and _merge_key(other) == key and _same_types(node, other)
        ):
            self.fgraph.replace_all(list(zip(node.outputs, other.outputs)), reason="merge")
            self.log.counts["merge"] += 1
            self.changes += 1
            return True
        self.nodes[key] = node
        return False

    def _try(self, rewrite: LocalRewrite, node: Apply) -> bool:
        replacement = rewrite.fn(self.fgraph, node)
        if replacement is None:
            return False
        pairs = _checked_pairs(rewrite, node, replacement, self.log)
        if pairs is None:
            return False
        self.log.record(self.phase, rewrite.name, [p[0] for p in pairs], [p[1] for p in pairs])
        self.worklist.source = node.source
        try:
            self.fgraph.replace_all(pairs, reason=rewrite.name)
        finally:
            self.worklist.source = None
        self.changes += 1
        return True

    def over_budget(self) -> str | None:
        if self.changes > self.max_changes:
            return f"budget: {self.changes} rewrites (limit {self.max_changes})"
        if len(self.fgraph.apply_nodes) > self.max_nodes:
            return (f"budget: the graph grew to {len(self.fgraph.apply_nodes)} nodes "
                    f"(limit {self.max_nodes})")
        return None


def run_phase(
    fgraph: FunctionGraph,
    phase: str,
    rewrites: Sequence[LocalRewrite],
    log: RewriteLog,
    budget: Budget | None = None,
    fold: bool = True,
) -> str:
    """Apply ``rewrites`` (plus merging and constant folding) until a fixpoint.

    Parameters
    ----------
    fgraph : the graph, rewritten in place
    phase : the phase name recorded in ``log``
    rewrites : tried in this order on each node; the first that fires wins
    log : receives counts, events, time, size and the stop reason
    budget : limits on firings and growth (``Budget()`` by default)
    fold : run constant folding (tests of single rules may turn it off)

    Returns why it stopped: 'fixpoint', or the budget that was exhausted.

    >>> run_phase(fgraph, "canonicalize", CANONICALIZE, RewriteLog())
    'fixpoint'
    """
    start = time.perf_counter()
    size_before = len(fgraph.apply_nodes)
    merge(fgraph, log)  # identical subgraphs become one before any rule looks at them
    worklist = _Worklist()
    state = _Phase(fgraph, phase, rewrites, log, budget or Budget(), fold, worklist)
    fgraph.attach_listener(worklist)  # queues every node, inputs first
    reason = "fixpoint"
    try:
        changes_at_sweep = 0
        while True:
            while worklist.queue:
                node = worklist.pop()
                if node in fgraph.apply_nodes:
                    state.visit(node)
                    stop = state.over_budget()
                    if stop is not None:
                        reason = stop
                        break
            if reason != "fixpoint" or state.changes == changes_at_sweep:
                break
            # something changed since the last full sweep: confirm the fixpoint
            changes_at_sweep = state.changes
            for node in fgraph.toposort():
                worklist.push(node)
    finally:
        fgraph.remove_listener(worklist)
    log.phase_times[phase] = log.phase_times.get(phase, 0.0) + time.perf_counter() - start
    log.stop_reasons[phase] = reason
    log.phase_sizes[phase] = (size_before, len(fgraph.apply_nodes))
    return reason
