"""FunctionGraph: a graph with fixed inputs and outputs, prepared for rewriting."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from symgraph.errors import MissingInputError
from symgraph.graph.node import Apply, Constant, Variable
from symgraph.graph.traversal import clone_nodes, toposort


class Listener(Protocol):
    def on_import(self, fgraph: FunctionGraph, node: Apply, reason: str | None) -> None: ...

    def on_prune(self, fgraph: FunctionGraph, node: Apply, reason: str | None) -> None: ...

    def on_change_input(
        self, fgraph: FunctionGraph, client: Apply | str, index: int,
        old: Variable, new: Variable, reason: str | None,
    ) -> None: ...


OUTPUT = "output"  # the client marker for a graph output


class FunctionGraph:
    """Inputs, outputs and the nodes between them, with each variable's clients.

    Parameters
    ----------
    inputs, outputs : sequences of Variable
    clone : bool
        Work on a copy (the default), so rewriting never touches the user's graph.

    ``clients[var]`` lists ``(node, input_index)`` pairs, with ``("output", i)`` for
    graph outputs. ``replace`` swaps one variable for another of a compatible type
    and updates every client; nodes nobody uses any more are pruned.
    """

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable], clone: bool = True) -> None:
        if clone:
            outputs, inputs, self.memo = clone_nodes(list(outputs), list(inputs))
        else:
            self.memo = {}
        self.inputs: list[Variable] = list(inputs)
        self.outputs: list[Variable] = list(outputs)
        self.apply_nodes: set[Apply] = set()
        self.variables: set[Variable] = set()
        self.clients: dict[Variable, list[tuple[Apply | str, int]]] = {}
        self.listeners: list[Any] = []
        for inp in self.inputs:
            if inp.owner is not None:
                raise ValueError(f"graph input {inp!r} is computed by {inp.owner.op}; inputs must be ownerless")
            self._add_variable(inp)
        for i, out in enumerate(self.outputs):
            self._import_variable(out, reason="init")
            self.clients[out].append((OUTPUT, i))

    # -- bookkeeping -------------------------------------------------------------------
    def _add_variable(self, var: Variable) -> None:
        if var not in self.variables:
            self.variables.add(var)
            self.clients.setdefault(var, [])

    def _import_variable(self, var: Variable, reason: str | None) -> None:
        if var in self.variables:
            return
        if var.owner is None:
            if isinstance(var, Constant):
                self._add_variable(var)
                return
            raise MissingInputError(
                f"the graph needs {var!r} ({var.type}), which is not among the inputs "
                f"{[v.name or repr(v) for v in self.inputs]}; pass it as an input, or use a "
                "shared variable or constant instead"
            )
        for node in toposort([var], stop_at=self.variables):
            if node in self.apply_nodes:
                continue
            for inp in node.inputs:
                if inp not in self.variables:
                    self._import_variable(inp, reason)
            self.apply_nodes.add(node)
            for out in node.outputs:
                self._add_variable(out)
            for i, inp in enumerate(node.inputs):
                self.clients[inp].append((node, i))
            for listener in self.listeners:
                listener.on_import(self, node, reason)

    def _prune_if_unused(self, var: Variable, reason: str | None) -> None:
        node = var.owner
        if node is None or node not in self.apply_nodes:
            if var.owner is None and var not in self.inputs and not self.clients.get(var):
                self.variables.discard(var)
                self.clients.pop(var, None)
            return
        if any(self.clients.get(out) for out in node.outputs):
            return
        self.apply_nodes.discard(node)
        for out in node.outputs:
            self.variables.discard(out)
            self.clients.pop(out, None)
        for listener in self.listeners:
            listener.on_prune(self, node, reason)
        for i, inp in enumerate(node.inputs):
            entries = self.clients.get(inp)
            if entries is not None:
                entries.remove((node, i))
                self._prune_if_unused(inp, reason)

    # -- public API --------------------------------------------------------------------
    def attach_listener(self, listener: Any) -> None:
        self.listeners.append(listener)
        for node in self.toposort():
            listener.on_import(self, node, "attach")

    def remove_listener(self, listener: Any) -> None:
        self.listeners.remove(listener)

    def change_input(self, client: Apply | str, index: int, new: Variable, reason: str | None = None) -> None:
        """Make input ``index`` of ``client`` (or graph output ``index``) be ``new``."""
        if client == OUTPUT:
            old = self.outputs[index]
            self.outputs[index] = new
        else:
            assert isinstance(client, Apply)
            old = client.inputs[index]
            client.inputs[index] = new
        self._import_variable(new, reason)
        self.clients[old].remove((client, index))
        self.clients[new].append((client, index))
        for listener in self.listeners:
            listener.on_change_input(self, client, index, old, new, reason)
        self._prune_if_unused(old, reason)

    def replace(self, var: Variable, new: Variable, reason: str | None = None) -> None:
        """Replace every use of ``var`` by ``new``; their types must be compatible."""
        if var is new:
            return
        if not var.type.is_compatible(new.type):
            raise TypeError(
                f"cannot replace {var!r} of type {var.type} with {new!r} of type {new.type}"
                + (f" (rewrite {reason!r})" if reason else "")
            )
        if var not in self.variables:
            return
        for client, index in list(self.clients.get(var, [])):
            self.change_input(client, index, new, reason)

    def replace_all(self, pairs: Sequence[tuple[Variable, Variable]], reason: str | None = None) -> None:
        for var, new in pairs:
            self.replace(var, new, reason)

    def toposort(self) -> list[Apply]:
        return toposort(self.outputs, stop_at=self.inputs)

    def clone(self) -> tuple[FunctionGraph, dict[Variable, Variable]]:
        """An independent copy and the map from this graph's variables to the copy's."""
        new = FunctionGraph(self.inputs, self.outputs, clone=True)
        return new, new.memo

    def __repr__(self) -> str:
        return f"FunctionGraph({self.inputs} -> {self.outputs}, {len(self.apply_nodes)} nodes)"
