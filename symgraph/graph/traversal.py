"""Walking and copying graphs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from symgraph.graph.node import Apply, Constant, Variable


def toposort(outputs: Sequence[Variable], stop_at: Iterable[Variable] = ()) -> list[Apply]:
    """Apply nodes needed for ``outputs``, each after the nodes it depends on.

    Traversal does not go above variables in ``stop_at``.
    """
    # a set passed in is used as is: copying the graph's variable set on every call made
    # rewriting quadratic
    stops = stop_at if isinstance(stop_at, (set, frozenset)) else set(stop_at)
    order: list[Apply] = []
    seen: set[Apply] = set()
    for out in outputs:
        if out.owner is None or out in stops or out.owner in seen:
            continue
        stack: list[tuple[Apply, int]] = [(out.owner, 0)]
        seen.add(out.owner)
        while stack:
            node, i = stack[-1]
            if i < len(node.inputs):
                stack[-1] = (node, i + 1)
                inp = node.inputs[i]
                parent = inp.owner
                if parent is not None and parent not in seen and inp not in stops:
                    seen.add(parent)
                    stack.append((parent, 0))
            else:
                stack.pop()
                order.append(node)
    return order


def graph_inputs(outputs: Sequence[Variable], stop_at: Iterable[Variable] = ()) -> list[Variable]:
    """Ownerless variables (inputs and constants) that ``outputs`` depend on, in order found."""
    stops = set(stop_at)
    found: list[Variable] = []
    seen: set[Variable] = set()
    for node in toposort(outputs, stops):
        for inp in node.inputs:
            if (inp.owner is None or inp in stops) and inp not in seen:
                seen.add(inp)
                found.append(inp)
    for out in outputs:
        if (out.owner is None or out in stops) and out not in seen:
            seen.add(out)
            found.append(out)
    return found


def ancestors(outputs: Sequence[Variable], stop_at: Iterable[Variable] = ()) -> set[Variable]:
    """Every variable that ``outputs`` depend on, themselves included."""
    stops = set(stop_at)
    result: set[Variable] = set()
    stack = list(outputs)
    while stack:
        var = stack.pop()
        if var in result:
            continue
        result.add(var)
        if var.owner is not None and var not in stops:
            stack.extend(var.owner.inputs)
    return result


def clone_replace(
    outputs: Sequence[Variable],
    replace: Mapping[Variable, Variable] | None = None,
    copy_inputs: bool = False,
) -> tuple[list[Variable], dict[Variable, Variable]]:
    """Copy the graph of ``outputs``, substituting variables per ``replace``.

    Returns the new outputs and the map from every old variable to its copy.
    Ownerless variables are kept (or cloned when ``copy_inputs``).
    """
    memo: dict[Variable, Variable] = dict(replace or {})
    stops = set(memo)
    for node in toposort(outputs, stops):
        new_inputs = []
        for inp in node.inputs:
            if inp not in memo:
                if inp.owner is None and copy_inputs and not isinstance(inp, Constant):
                    memo[inp] = inp.clone()
                else:
                    memo.setdefault(inp, inp)
            new_inputs.append(memo[inp])
        if all(a is b for a, b in zip(new_inputs, node.inputs)):
            new_node = node
        else:
            new_node = node.clone_with_new_inputs(new_inputs)
        for old, new in zip(node.outputs, new_node.outputs):
            memo[old] = new
    new_outputs = []
    for out in outputs:
        if out not in memo:
            memo[out] = out.clone() if copy_inputs and out.owner is None and not isinstance(out, Constant) else out
        new_outputs.append(memo[out])
    return new_outputs, memo


def clone_nodes(outputs: Sequence[Variable], inputs: Sequence[Variable]) -> tuple[list[Variable], list[Variable], dict[Variable, Variable]]:
    """Fresh copies of ``inputs`` and of every node between them and ``outputs``.

    Nodes are copied structurally (same op, same outputs' types) without calling
    ``make_node`` again, so types are preserved exactly.
    """
    memo: dict[Variable, Variable] = {}
    new_inputs = []
    for inp in inputs:
        memo[inp] = inp.clone()
        new_inputs.append(memo[inp])
    for node in toposort(outputs, inputs):
        args = [memo.setdefault(v, v) for v in node.inputs]
        outs = [o.clone() for o in node.outputs]
        Apply(node.op, args, outs, source=node.source)
        for old, new in zip(node.outputs, outs):
            memo[old] = new
    new_outputs = [memo.get(o, o) for o in outputs]
    return new_outputs, new_inputs, memo
