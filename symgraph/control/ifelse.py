"""ifelse: a lazy conditional; only the branch that the condition picks is computed.

``T.switch(c, a, b)`` is elementwise and evaluates both ``a`` and ``b``. ``ifelse(c, a, b)``
takes a scalar condition and runs only one branch: the IfElse op holds each branch as an
inner FunctionGraph over the same inputs (the free variables of both branches), and its
implementation evaluates just the chosen graph. The outer graph sees one node whose inputs
are the condition and those free variables, so no backend computes a branch eagerly.

>>> z = sg.ifelse(T.lt(a, b), T.mean(x), T.mean(y))   # only one of the means is computed
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply, Constant, Variable
from symgraph.graph.op import Op, ShapeInferenceError
from symgraph.graph.traversal import ancestors, clone_nodes, clone_replace, graph_inputs
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import TensorVariable, as_tensor_variable, constant

__all__ = ["IfElse", "build_ifelse", "copy_branch", "ifelse"]


@dataclass(frozen=True, eq=False)
class IfElse(Op):
    """Outputs ``then_graph(*args)`` if ``condition`` is nonzero, else ``else_graph(*args)``.

    Inputs of a node: the scalar condition, then the arguments that both inner graphs take
    (their inputs have the same types, in the same order). Output ``k`` has the dtype and
    ndim of both branches' output ``k``; its static shape keeps only the lengths on which
    the branches agree. IfElse ops compare by identity, as Map does.
    """

    then_graph: FunctionGraph
    else_graph: FunctionGraph
    name: str | None = field(default=None)

    def __post_init__(self) -> None:
        then_in, else_in = self.then_graph.inputs, self.else_graph.inputs
        if len(then_in) != len(else_in) or any(a.type != b.type for a, b in zip(then_in, else_in)):
            raise TypeError("IfElse: both branch graphs must take inputs of the same types")
        if len(self.then_graph.outputs) != len(self.else_graph.outputs):
            raise TypeError("IfElse: both branch graphs must have the same number of outputs")

    def __getstate__(self) -> dict[str, Any]:
        # the branches as flat lists of variables and nodes: pickling the graphs as objects
        # recurses once per node and fails on deep branches
        return {"then_graph": _flatten(self.then_graph), "else_graph": _flatten(self.else_graph),
                "name": self.name}

    def __setstate__(self, state: dict[str, Any]) -> None:
        object.__setattr__(self, "then_graph", _unflatten(state["then_graph"]))
        object.__setattr__(self, "else_graph", _unflatten(state["else_graph"]))
        object.__setattr__(self, "name", state["name"])

    def make_node(self, condition: Any, *args: Any) -> Apply:
        cond = _as_condition(condition)
        args = tuple(as_tensor_variable(a) for a in args)
        inner = self.then_graph.inputs
        if len(args) != len(inner):
            raise TypeError(f"{self}: expected {len(inner)} arguments after the condition, got {len(args)}")
        for k, (arg, want) in enumerate(zip(args, inner)):
            if not want.type.is_compatible(arg.type):
                raise TypeError(f"{self}: argument {k} ({arg!r}) is {_describe(arg)}, but the branches "
                                f"take {_describe(want)}")
        outputs = [
            TensorType(a.type.dtype, _join_shape(a.type.shape, b.type.shape)).make_variable()  # type: ignore[attr-defined]
            for a, b in zip(self.then_graph.outputs, self.else_graph.outputs)
        ]
        return Apply(self, [cond, *args], outputs)

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        raise ShapeInferenceError("IfElse output shapes depend on which branch runs")

    def branch_outputs(self, node: Apply, taken: bool) -> list[Variable]:
        """A fresh copy of the then (``taken``) or else branch, computed from the node's
        arguments instead of the inner graph's inputs."""
        return copy_branch(self.then_graph if taken else self.else_graph, node.inputs[1:])

    def keep_outputs(self, node: Apply, keep: Sequence[int]) -> list[Variable]:
        """The outputs ``keep`` of ``node``, from a new IfElse whose branches compute only
        those (the others are no longer needed)."""
        then_graph = _restricted(self.then_graph, keep)
        else_graph = _restricted(self.else_graph, keep)
        return list(IfElse(then_graph, else_graph, self.name).make_node(*node.inputs).outputs)

    def shown_inputs(self, node: Apply, index: int | None = None) -> list[Variable]:
        """What printing shows as the node's arguments: the condition, then the branches'
        outputs written over the node's inputs (all of them, or only output ``index``)."""
        then_outs = self.branch_outputs(node, True)
        else_outs = self.branch_outputs(node, False)
        if index is not None:
            return [node.inputs[0], then_outs[index], else_outs[index]]
        return [node.inputs[0], *then_outs, *else_outs]

    def __str__(self) -> str:
        return f"IfElse{{{self.name}}}" if self.name else "IfElse"


def ifelse(condition: Any, then_branch: Any, else_branch: Any, name: str | None = None) -> Any:
    """``then_branch`` if ``condition`` is nonzero, else ``else_branch``; only that one runs.

    Parameters
    ----------
    condition : scalar variable or number (bool, int or float; nonzero means true)
    then_branch, else_branch : a variable (or value), or lists/tuples of them of equal
        length; the pairs must have the same dtype and ndim (shapes may differ at run time)
    name : optional label, shown when the graph is printed

    Returns
    -------
    A variable, or a list (tuple) of variables when the branches are lists (tuples).

    >>> a, b = T.dscalars('a', 'b'); x, y = T.dmatrices('x', 'y')
    >>> z = ifelse(T.lt(a, b), T.mean(x), T.mean(y))   # computes only one of the means
    """
    cond = _as_condition(condition)
    as_sequence = isinstance(then_branch, (list, tuple))
    then_list = list(then_branch) if as_sequence else [then_branch]
    else_list = list(else_branch) if isinstance(else_branch, (list, tuple)) else [else_branch]
    if len(then_list) != len(else_list):
        raise ValueError(f"ifelse: the then branch has {len(then_list)} values and the else branch "
                         f"{len(else_list)}; they must have the same number (one output per pair)")
    if not then_list:
        raise ValueError("ifelse: the branches are empty; give at least one value per branch")
    pairs = [_as_pair(a, b, k) for k, (a, b) in enumerate(zip(then_list, else_list))]
    then_outs = [a for a, _ in pairs]
    else_outs = [b for _, b in pairs]
    # the branches start at their free inputs, so all they compute is computed lazily; but
    # what the condition needs is computed before the choice anyway, so they read that too
    computed = {v for v in ancestors([cond]) if v.owner is not None}
    args = [v for v in graph_inputs(then_outs + else_outs, stop_at=computed) if not isinstance(v, Constant)]
    result = build_ifelse(cond, then_outs, else_outs, args, args, name)
    if not as_sequence:
        return result[0]
    return tuple(result) if isinstance(then_branch, tuple) else result


def build_ifelse(condition: Any, then_outputs: Sequence[Variable], else_outputs: Sequence[Variable],
                 inputs: Sequence[Variable], outer_args: Sequence[Variable],
                 name: str | None = None) -> list[TensorVariable]:
    """An IfElse node whose branches compute ``then_outputs`` / ``else_outputs`` from
    ``inputs``, applied to ``outer_args`` (one per input; any variables, computed or not).

    ``ifelse`` passes the branches' free inputs as both; the gradient builds its branches
    over stand-ins for the forward arguments and the output gradients.
    """
    op = IfElse(_branch_graph(list(then_outputs), list(inputs)), _branch_graph(list(else_outputs), list(inputs)),
                name)
    return list(op.make_node(condition, *outer_args).outputs)  # type: ignore[arg-type]


# -- helpers ---------------------------------------------------------------------------------
def _as_condition(condition: Any) -> TensorVariable:
    cond = as_tensor_variable(condition)
    if cond.ndim != 0:
        raise TypeError(f"ifelse: the condition must be a scalar, got {_describe(cond)}; reduce it first "
                        "(e.g. T.any(c)) or use T.switch for an elementwise choice")
    if cond.dtype.startswith("complex"):
        raise TypeError(f"ifelse: the condition must be a bool, integer or float scalar, got {_describe(cond)}")
    return cond


def _as_pair(then_value: Any, else_value: Any, position: int) -> tuple[TensorVariable, TensorVariable]:
    """Both values of output ``position`` as variables of the same dtype and ndim.

    A plain value (number, list, array) next to a variable takes that variable's dtype when
    it converts exactly, so ``ifelse(c, x_float32, 0)`` works; two variables must already agree.
    """
    then_var = _convert_like(then_value, else_value)
    else_var = _convert_like(else_value, then_var)
    a, b = then_var.type, else_var.type
    if a.dtype != b.dtype or a.ndim != b.ndim:  # type: ignore[attr-defined]
        raise TypeError(
            f"ifelse: the two branches must have the same dtype and ndim, but output {position} is "
            f"{_describe(then_var)} ({a}) in the then branch and {_describe(else_var)} ({b}) in the "
            f"else branch; use T.cast (e.g. T.cast(x, '{a.dtype}')) or reshape one of them"  # type: ignore[attr-defined]
        )
    return then_var, else_var


def _convert_like(value: Any, other: Any) -> TensorVariable:
    if isinstance(value, Variable) or not isinstance(other, Variable):
        return as_tensor_variable(value)
    arr = np.asarray(value)
    want = np.dtype(other.type.dtype)  # type: ignore[attr-defined]
    if arr.dtype.kind in "biuf" and want.kind in "biuf" and arr.ndim == other.type.ndim:  # type: ignore[attr-defined]
        with np.errstate(all="ignore"):
            converted = arr.astype(want)
            exact = bool(np.all(converted == arr))
        if exact:
            return constant(converted)
    return as_tensor_variable(value)


def _join_shape(a: tuple[int | None, ...], b: tuple[int | None, ...]) -> tuple[int | None, ...]:
    # a static length survives only where both branches have it
    return tuple(x if x == y else None for x, y in zip(a, b))


def _branch_graph(outputs: list[Variable], args: list[Variable]) -> FunctionGraph:
    """A FunctionGraph computing ``outputs`` from fresh inputs standing for ``args``.

    Every node is copied, so rewriting the inner graph never touches the user's graph, and
    the inputs are plain variables (a shared variable's value stays outside: it is an
    argument of the node).
    """
    stand_ins = [a.type.make_variable(a.name) for a in args]
    replaced, _ = clone_replace(outputs, dict(zip(args, stand_ins)))
    inner_outputs, inner_inputs, _ = clone_nodes(replaced, stand_ins)
    return FunctionGraph(inner_inputs, inner_outputs, clone=False)


def copy_branch(graph: FunctionGraph, args: Sequence[Variable]) -> list[Variable]:
    """The outputs of a branch graph, copied node by node, computed from ``args``.

    Every node is new (those that read only constants too), so whoever rewrites the copy
    never changes the op's own graph.
    """
    outputs, inputs, _ = clone_nodes(graph.outputs, graph.inputs)
    copied, _ = clone_replace(outputs, dict(zip(inputs, args)))
    return copied


def _restricted(graph: FunctionGraph, keep: Sequence[int]) -> FunctionGraph:
    outputs, inputs, _ = clone_nodes([graph.outputs[k] for k in keep], graph.inputs)
    return FunctionGraph(inputs, outputs, clone=False)


def _flatten(graph: FunctionGraph) -> dict[str, Any]:
    """A branch graph as plain lists: variables (class, type, name, constant data) and nodes
    (op, input and output positions, source); the graph's inputs come first."""
    index: dict[Variable, int] = {}
    variables: list[tuple[Any, ...]] = []

    def number(var: Variable) -> int:
        if var not in index:
            index[var] = len(variables)
            data = (True, var.data) if isinstance(var, Constant) else (False, None)
            variables.append((type(var), var.type, var.name, *data))
        return index[var]

    for var in graph.inputs:
        number(var)
    nodes = [(node.op, [number(v) for v in node.inputs], [number(v) for v in node.outputs], node.source)
             for node in graph.toposort()]
    return {"variables": variables, "nodes": nodes, "n_inputs": len(graph.inputs),
            "outputs": [number(v) for v in graph.outputs]}


def _unflatten(flat: dict[str, Any]) -> FunctionGraph:
    variables: list[Variable] = []
    for cls, var_type, name, is_constant, data in flat["variables"]:
        var = cls.__new__(cls)
        if is_constant:
            Constant.__init__(var, var_type, data, name)
        else:
            Variable.__init__(var, var_type, None, None, name)
        variables.append(var)
    for op, ins, outs, source in flat["nodes"]:
        node = Apply(op, [variables[i] for i in ins], [variables[i] for i in outs], source=source)
        node.source = source  # as recorded, even None (Apply would look up the caller's line)
    inputs = variables[: flat["n_inputs"]]
    return FunctionGraph(inputs, [variables[i] for i in flat["outputs"]], clone=False)


def _describe(var: Variable) -> str:
    describe = getattr(var.type, "describe", None)
    text = describe() if describe else str(var.type)
    return f"{'an' if text[:1] in 'aeiou' else 'a'} {text}"
