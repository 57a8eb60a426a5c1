"""Pickling compiled functions.

A Function pickles as the graph it was built from, written as a flat list of nodes
(so deep graphs do not hit Python's recursion limit), plus its compile options. On
unpickling the graph is rebuilt and compiled again (the compile cache makes that
cheap for the C backend). Shared variables travel with their current values.

The function cache (function_cache.py) stores rewritten graphs in the same flat format,
without shared values: those are the user's, bound again when the entry is loaded.
"""

from __future__ import annotations

from typing import Any

from symgraph.compile.io import In
from symgraph.compile.shared import SharedVariable
from symgraph.graph.node import Apply, Constant, Variable
from symgraph.graph.traversal import toposort


def flatten_graph(roots: list[Variable], shared_values: bool = True) -> tuple[list[dict[str, Any]], list[tuple[Any, list[int], list[int], Any]], dict[int, int]]:
    """Variables (as records) and nodes (as index lists) for ``roots``, in dependency order.

    With ``shared_values=False`` shared variables are recorded like other inputs (type and
    name only); whoever rebuilds the graph binds them (see ``rebuild_graph``).
    """
    records: list[dict[str, Any]] = []
    index: dict[int, int] = {}

    def add(var: Variable) -> int:
        if id(var) in index:
            return index[id(var)]
        rec: dict[str, Any] = {"type": var.type, "name": var.name, "class": type(var)}
        if isinstance(var, Constant):
            rec["data"] = var.data
        if isinstance(var, SharedVariable) and shared_values:
            rec["value"] = var.container_value
            rec["allow_downcast"] = var._allow_downcast
        index[id(var)] = len(records)
        records.append(rec)
        return index[id(var)]

    nodes = []
    for node in toposort(roots):
        ins = [add(v) for v in node.inputs]
        outs = [add(v) for v in node.outputs]
        nodes.append((node.op, ins, outs, node.source))
    for r in roots:
        add(r)
    # default updates of shared variables are graphs too
    return records, nodes, index


def function_state(fn: Any) -> dict[str, Any]:
    maker = fn.maker
    args = fn._build_args
    specs: list[In] = maker.input_specs
    roots: list[Variable] = [s.variable for s in specs] + list(maker.outputs)
    roots += [v for pair in maker.update_pairs for v in pair]
    givens = args.get("givens")
    given_pairs = list(givens.items()) if isinstance(givens, dict) else list(givens or [])
    roots += [v for pair in given_pairs for v in pair if isinstance(v, Variable)]
    records, nodes, index = flatten_graph(roots)
    return {
        "records": records,
        "nodes": nodes,
        "inputs": [(index[id(s.variable)], s.name, s.value, s.has_default) for s in specs],
        "outputs": [index[id(o)] for o in maker.outputs],
        "single_output": maker.single_output,
        "updates": [(index[id(a)], index[id(b)]) for a, b in maker.update_pairs],
        "givens": [(index[id(a)], index[id(b)]) for a, b in given_pairs if isinstance(b, Variable)],
        "options": {
            "mode": args.get("mode"), "optimizer": args.get("optimizer"), "name": args.get("name"),
            "allow_input_downcast": args.get("allow_input_downcast"),
            "on_unused_input": args.get("on_unused_input", "raise"),
        },
    }


def rebuild_graph(
    records: list[dict[str, Any]], nodes: list[tuple[Any, list[int], list[int], Any]],
    bound: dict[int, Variable] | None = None,
) -> tuple[list[Variable], list[Apply]]:
    """The variables and nodes that ``flatten_graph`` wrote, made anew.

    ``bound`` maps record positions to existing variables to use instead of new ones
    (the function cache binds a stored graph's inputs this way).
    """
    bound = bound or {}
    variables: list[Variable] = []
    for k, rec in enumerate(records):
        cls = rec["class"]
        if k in bound:
            var: Variable = bound[k]
        elif "value" in rec:
            shared_cls = cls if issubclass(cls, SharedVariable) else SharedVariable
            var = shared_cls(rec["type"], rec["value"], rec["name"], rec["allow_downcast"])
        elif "data" in rec:
            var = cls.__new__(cls)
            Constant.__init__(var, rec["type"], rec["data"], rec["name"])  # type: ignore[arg-type]
        else:
            var = cls.__new__(cls)
            Variable.__init__(var, rec["type"], None, None, rec["name"])
        variables.append(var)
    applies = []
    for op, ins, outs, source in nodes:
        node = Apply(op, [variables[i] for i in ins], [variables[i] for i in outs], source=source)
        node.source = source  # as recorded, even None (Apply would look up the caller's line)
        applies.append(node)
    return variables, applies


def restore_function(state: dict[str, Any]) -> Any:
    from symgraph.compile.function import compile_function

    variables, _ = rebuild_graph(state["records"], state["nodes"])
    inputs = []
    for idx, name, value, has_default in state["inputs"]:
        inputs.append(In(variables[idx], name=name, value=value) if has_default else In(variables[idx], name=name))  # type: ignore[arg-type]
    outputs = [variables[i] for i in state["outputs"]]
    return compile_function(
        inputs,
        outputs[0] if state["single_output"] else outputs,
        updates=[(variables[a], variables[b]) for a, b in state["updates"]],
        givens=[(variables[a], variables[b]) for a, b in state["givens"]] or None,
        no_default_updates=True,
        **state["options"],
    )
