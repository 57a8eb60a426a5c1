"""Indexing: drop full-slice indexing, merge an index of an index into one."""

from __future__ import annotations

from typing import Any

from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply, Constant, Variable
from symgraph.rewrite.engine import LocalRewrite, Replacement
from symgraph.rewrite.pattern import RuleSet
from symgraph.tensor.subtensor import INT, SliceSpec, Subtensor, getitem, group_index_inputs

#: a constant basic index entry: an int, or a slice of ints/None
Entry = Any


def _useless_subtensor(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # x[:, :] is x
    if all(isinstance(e, SliceSpec) and e.n_inputs == 0 for e in node.op.idx_list):  # type: ignore[attr-defined]
        return [node.inputs[0]]
    return None


def _constant_entries(node: Apply) -> list[Entry] | None:
    """The index of a Subtensor as Python ints and slices, if it is all constant."""

    def value(v: Variable | None) -> int | None:
        if v is None:
            return None
        if not isinstance(v, Constant):
            raise LookupError
        return int(v.data)

    entries: list[Entry] = []
    try:
        for entry, values in group_index_inputs(node.op.idx_list, node.inputs[1:]):  # type: ignore[attr-defined]
            if entry == INT:
                entries.append(value(values))
            elif isinstance(entry, SliceSpec):
                entries.append(slice(*(value(v) for v in values)))
            else:
                return None  # newaxis: leave it
    except LookupError:
        return None
    return entries


def _is_full(s: slice) -> bool:
    return s.start in (None, 0) and s.stop is None and s.step in (None, 1)


def _nonnegative(s: slice) -> bool:
    return all(v is None or v >= 0 for v in (s.start, s.stop)) and (s.step is None or s.step > 0)


def _compose(first: slice, second: Entry) -> Entry | None:
    """The index into x equal to x[first][second] on one axis, or None if not simple."""
    if _is_full(first):
        return second
    if isinstance(second, slice) and _is_full(second):
        return first
    if not isinstance(second, slice) or not (_nonnegative(first) and _nonnegative(second)):
        return None  # ints must stay range-checked against the inner slice's length
    a1, k1 = first.start or 0, first.step or 1
    a2, k2 = second.start or 0, second.step or 1
    start, step = a1 + k1 * a2, k1 * k2
    if second.stop is None:
        stop = first.stop
    else:
        end = a1 + k1 * second.stop
        stop = end if first.stop is None else min(first.stop, end)
    return slice(start, stop, None if step == 1 else step)


def _merge_subtensors(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # x[a:b][c:d] -> x[a + c : min(b, a + d)] (constant, non-negative bounds, positive steps)
    inner_var = node.inputs[0]
    inner = inner_var.owner
    if inner is None or not isinstance(inner.op, Subtensor):
        return None
    first = _constant_entries(inner)
    second = _constant_entries(node)
    if first is None or second is None:
        return None
    x = inner.inputs[0]
    merged: list[Entry] = []
    pending = list(second)
    for axis in range(x.type.ndim):  # type: ignore[attr-defined]
        own = first[axis] if axis < len(first) else slice(None)
        if not isinstance(own, slice):
            merged.append(own)  # this axis was removed by an integer index
            continue
        outer = pending.pop(0) if pending else slice(None)
        composed = _compose(own, outer)
        if composed is None:
            return None
        merged.append(composed)
    return [getitem(x, tuple(merged))]


SUBTENSOR_CANONICALIZE = RuleSet("subtensor", [
    LocalRewrite("useless_subtensor", _useless_subtensor, (Subtensor,), "x[:] = x"),
    LocalRewrite("merge_nested_subtensors", _merge_subtensors, (Subtensor,),
                 "x[a:b][c:d] = x[a + c : min(b, a + d)]"),
])
