"""In-place updates of shared variables: which nodes may write over their input's buffer.

A training step computes each weight's new value from the old one, typically
``W - lr * dot(x.T, delta)``, which the rewriter turns into ``Gemm(W, -lr, x.T, delta, 1)``.
Computed as written, every step copies W into a fresh buffer before BLAS adds to it.
When the new value is the update of the shared variable W, the old value is dead once
every other reader of W has run, so the Gemm may add into W's own buffer, as Theano's
destructive ``GemmInplace`` does.

This module decides where that is safe, for the C runner (``CRunner``):

- the node is a BLAS update (Gemm, Gemv, Ger) whose accumulator input is the updated
  shared variable itself, or an elementwise node with the variable as one input of the
  result's dtype and broadcast pattern (``b - lr * g``, a momentum step); its output is
  that variable's update and nothing else of the function's outputs, and no other of its
  inputs is the variable or a view of it;
- no output of the function is the variable or a view of it;
- every other node that reads the variable, or a view of it, runs before the update: the
  nodes are reordered so (a topological order with those extra edges), and where that is
  impossible (a reader needs the update's result) the update is not done in place.

Which values are views is learned from the emitters themselves: a node's output that its
emitter does not allocate (``EmitContext.owning``) may share its inputs' memory, and so
may every output of a node that runs in Python.

What the call must guarantee at run time (writeable, C-contiguous, aligned, not sharing
memory with any other input) is checked by ``Function`` before each call, which hands
the segment a copy where any of it fails; the generated code also falls back to a fresh
buffer when the accumulator is not contiguous. The segment returns the update as the
input array itself (the call paths recognise an output whose data pointer is an
input's).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence

from symgraph.backends.c.emit import EmitContext
from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply, Variable
from symgraph.tensor.blas import Gemm, Gemv, Ger
from symgraph.tensor.elemwise import Elemwise

#: op class -> the input position its result may overwrite (the accumulator)
IN_PLACE_INPUT: dict[type, int] = {Gemm: 0, Gemv: 0, Ger: 0}


def plan_in_place(fgraph: FunctionGraph, order: list[Apply], pairs: Sequence[tuple[int, int]],
                  try_emit: Callable[[Apply, EmitContext], list[str] | None],
                  new_context: Callable[[], EmitContext]) -> tuple[list[Apply], dict[Apply, int]]:
    """(the order to run the nodes in, {node: input position it writes over}).

    ``pairs``: (graph input position, graph output position) of each updated shared
    variable and its new value. ``try_emit`` and ``new_context`` emit one node into a
    scratch context, to learn which of its outputs are views.
    """
    outputs = list(fgraph.outputs)
    candidates: dict[Apply, Variable] = {}
    for i_in, i_out in pairs:
        var, new = fgraph.inputs[i_in], outputs[i_out]
        node = new.owner
        if node is None or node in candidates:
            continue
        pos = _overwritten_input(node, var)
        if pos is None:
            continue
        if outputs.count(new) != 1 or var in outputs:
            continue
        candidates[node] = var
    if not candidates:
        return order, {}

    # which graph inputs each variable may share memory with
    roots: dict[Variable, frozenset[Variable]] = {v: frozenset([v]) for v in fgraph.inputs}
    for node in order:
        probe = new_context()
        emitted = try_emit(node, probe) is not None
        inherited = frozenset().union(*(roots.get(v, frozenset()) for v in node.inputs))
        for out in node.outputs:
            roots[out] = frozenset() if emitted and out in probe.owning else inherited

    position = {node: k for k, node in enumerate(order)}
    after: dict[Apply, set[Apply]] = {}  # extra edges: node -> the nodes it must follow
    chosen: dict[Apply, Variable] = {}
    for node, var in candidates.items():
        aliases = {v for v, r in roots.items() if var in r}
        pos = _overwritten_input(node, var)
        if any(v in aliases for k, v in enumerate(node.inputs) if k != pos):
            continue  # the node reads the variable (or a view of it) through another input
        if any(v in aliases for v in outputs):
            continue  # an output is the variable or a view of it: its old value is returned
        readers = {n for n in order if n is not node and any(v in aliases for v in n.inputs)}
        if readers & _descendants(node, order):
            continue  # a reader needs the new value: the old one must stay
        after[node] = readers
        chosen[node] = var
    if not chosen:
        return order, {}
    new_order = _toposort_with(order, after, position)
    if new_order is None:  # the extra edges of two updates contradict each other
        return order, {}
    return new_order, {node: _overwritten_input(node, var) for node, var in chosen.items()}  # type: ignore[misc]


def _overwritten_input(node: Apply, var: Variable) -> int | None:
    """The position of ``var`` among ``node``'s inputs if the node's result may be written
    over it: the accumulator of a BLAS update, or an elementwise input of the result's
    dtype and broadcast pattern (so of its shape) that the node reads only once."""
    if isinstance(node.op, Elemwise):
        if len(node.outputs) != 1:
            return None
        out = node.outputs[0]
        places = [k for k, v in enumerate(node.inputs) if v is var]
        if (len(places) != 1 or var.type.dtype != out.type.dtype  # type: ignore[attr-defined]
                or var.type.broadcastable != out.type.broadcastable):  # type: ignore[attr-defined]
            return None
        return places[0]
    pos = IN_PLACE_INPUT.get(type(node.op))
    if pos is None or node.inputs[pos] is not var or any(v is var for k, v in enumerate(node.inputs) if k != pos):
        return None
    return pos


def _descendants(node: Apply, order: list[Apply]) -> set[Apply]:
    """The nodes of ``order`` (a topological order) that depend on ``node``."""
    found = {node}
    for n in order[order.index(node) + 1:]:
        if any(v.owner in found for v in n.inputs):
            found.add(n)
    found.discard(node)
    return found


def _toposort_with(order: list[Apply], after: dict[Apply, set[Apply]],
                   position: dict[Apply, int]) -> list[Apply] | None:
    """``order`` re-sorted so each node also follows ``after[node]``, otherwise keeping the
    original order as far as it can (a node runs as early as its dependencies allow, ties
    broken by original position); None if the edges make a cycle."""
    deps: dict[Apply, set[Apply]] = {}
    for node in order:
        deps[node] = {v.owner for v in node.inputs if v.owner is not None and v.owner in position}
        deps[node] |= after.get(node, set())
    waiting = {node: len(d) for node, d in deps.items()}
    followers: dict[Apply, list[Apply]] = {node: [] for node in order}
    for node, d in deps.items():
        for dep in d:
            followers[dep].append(node)
    ready = [(position[n], n) for n in order if waiting[n] == 0]
    heapq.heapify(ready)
    result: list[Apply] = []
    while ready:
        _, node = heapq.heappop(ready)
        result.append(node)
        for nxt in followers[node]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                heapq.heappush(ready, (position[nxt], nxt))
    return result if len(result) == len(order) else None
