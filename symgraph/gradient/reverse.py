"""Reverse-mode differentiation over the graph, producing more graph.

Walk the nodes between the ``wrt`` variables and the cost in reverse topological
order; at each node, ask the op's pullback (gradient/rules) to turn the gradients of
its outputs into gradients of its inputs, and add up the contributions each variable
receives.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from symgraph.errors import DisconnectedInputError
from symgraph.gradient.modifiers import DisconnectedGrad
from symgraph.gradient.rules import NON_DIFFERENTIABLE, _load_rules, pullback
from symgraph.graph.node import Variable
from symgraph.graph.traversal import toposort
from symgraph.scalar import dtypes as _dt
from symgraph.tensor import math as tm
from symgraph.tensor.variable import TensorVariable, as_tensor_variable


def _float_dtype_for(var: TensorVariable) -> str:
    from symgraph.config import config

    return var.dtype if _dt.is_float(var.dtype) else config.floatX


def _total(terms: list[Any]) -> Any:
    return terms[0] if len(terms) == 1 else tm.add(*terms)


def backpropagate(
    seeds: Mapping[Variable, Any],
    wrt: Sequence[Variable],
    consider_constant: Iterable[Variable] = (),
) -> tuple[dict[Variable, Any], set[Variable]]:
    """Propagate ``seeds`` (variable -> its gradient) back to ``wrt``.

    Returns the gradient of every variable reached (only those that depend on some
    ``wrt``) and the set of ``wrt`` variables the seeds depend on at all.
    """
    _load_rules()
    blocked = set(consider_constant)
    wrt_set = set(wrt)
    nodes = toposort(list(seeds), stop_at=blocked | wrt_set)
    # disconnected_grad(x): nothing behind it reaches the cost through it, so the walk stops there
    cut = {node.outputs[0] for node in nodes if isinstance(node.op, DisconnectedGrad)} - wrt_set
    if cut:
        blocked |= cut
        nodes = toposort(list(seeds), stop_at=blocked | wrt_set)

    # variables on a path from some wrt (forward), so work is not spent elsewhere
    relevant: set[Variable] = set(wrt_set)
    reached: set[Variable] = {v for v in seeds if v in wrt_set}
    for node in nodes:
        for inp in node.inputs:
            if inp in wrt_set:
                reached.add(inp)
        if any(inp in relevant and inp not in blocked for inp in node.inputs):
            relevant.update(node.outputs)

    grads: dict[Variable, list[Any]] = {var: [g] for var, g in seeds.items()}
    for node in reversed(nodes):
        if not any(out in grads for out in node.outputs):
            continue
        if not any(inp in relevant and inp not in blocked for inp in node.inputs):
            continue
        if type(node.op) in NON_DIFFERENTIABLE:
            continue
        output_grads = []
        for out in node.outputs:
            if out in grads:
                total = _total(grads[out])
                grads[out] = [total]
                output_grads.append(total)
            else:
                output_grads.append(tm.zeros_like(out, dtype=_float_dtype_for(out)))
        input_grads = pullback(node.op, node, output_grads)
        if len(input_grads) != len(node.inputs):
            raise AssertionError(
                f"the pullback of {node.op} returned {len(input_grads)} gradients for {len(node.inputs)} inputs"
            )
        for inp, g in zip(node.inputs, input_grads):
            if g is None or inp not in relevant or inp in blocked or _dt.is_discrete(inp.dtype):
                continue
            g = as_tensor_variable(g)
            if g.ndim != inp.ndim:
                raise AssertionError(
                    f"the pullback of {node.op} gave a {g.ndim}-d gradient for a {inp.ndim}-d input"
                )
            if g.dtype != inp.dtype:
                g = tm.cast(g, inp.dtype)
            grads.setdefault(inp, []).append(g)
    return {var: _total(terms) for var, terms in grads.items()}, reached


def grad(
    cost: Any,
    wrt: Any,
    consider_constant: Iterable[Variable] | None = None,
    disconnected_inputs: str = "raise",
    add_names: bool = True,
    known_grads: Mapping[Variable, Any] | None = None,
    return_disconnected: str = "zero",
    null_gradients: str = "raise",
) -> Any:
    """Symbolic gradient of a scalar ``cost`` with respect to ``wrt``.

    Parameters
    ----------
    cost : scalar tensor, or None when ``known_grads`` gives the starting gradients
    wrt : variable or list of variables
    consider_constant : variables treated as constants (no gradient flows through them)
    disconnected_inputs : 'raise' (DisconnectedInputError), 'warn' or 'ignore' when a
        ``wrt`` does not influence the cost; the gradient is then zero.
    known_grads : dict mapping variables to their (given) gradients.

    Returns
    -------
    A gradient graph (same type as ``wrt``), or a list of them when ``wrt`` is a list.

    >>> x = T.dscalar('x'); g = T.grad(x ** 2 + 3, x)   # 2 * x
    """
    if disconnected_inputs not in ("raise", "warn", "ignore"):
        raise ValueError(f"disconnected_inputs must be 'raise', 'warn' or 'ignore', got {disconnected_inputs!r}")
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    for i, w in enumerate(wrt_list):
        if not isinstance(w, Variable):
            raise TypeError(f"grad: wrt[{i}] must be a symbolic variable, got {type(w).__name__} {w!r:.60}")
    seeds: dict[Variable, Any] = {}
    if cost is not None:
        cost = as_tensor_variable(cost)
        if cost.ndim != 0:
            raise TypeError(
                f"grad: the cost must be a scalar (ndim 0), got {cost!r} with ndim {cost.ndim}; "
                "reduce it first (cost.sum() or cost.mean()), or use T.jacobian / known_grads"
            )
        if _dt.is_complex(cost.dtype):
            raise TypeError(f"grad: the cost must be real, got {cost.dtype}; take abs() or the real part first")
        seeds[cost] = as_tensor_variable(1.0, dtype=_float_dtype_for(cost))
    for var, g in (known_grads or {}).items():
        g = as_tensor_variable(g)
        if g.ndim != var.ndim:
            raise TypeError(f"known_grads: the gradient of {var!r} has ndim {g.ndim}, expected {var.ndim}")
        if g.dtype != var.dtype and _dt.is_float(var.dtype):
            g = tm.cast(g, var.dtype)
        seeds[var] = g
    if not seeds:
        raise TypeError("grad: give a cost or known_grads")

    grads, reached = backpropagate(seeds, wrt_list, consider_constant or ())
    results = []
    for i, w in enumerate(wrt_list):
        if w in grads and not _dt.is_discrete(w.dtype):
            g = grads[w]
        else:
            if w not in reached:
                msg = (
                    f"grad: wrt[{i}] ({w!r}, {getattr(w.type, 'describe', lambda: w.type)()}) is not part of "
                    "the computational graph of the cost, so its gradient is undefined. To get zeros "
                    "instead, pass disconnected_inputs='ignore' (or 'warn')"
                )
                if disconnected_inputs == "raise":
                    raise DisconnectedInputError(msg)
                if disconnected_inputs == "warn":
                    warnings.warn(msg, stacklevel=2)
                if return_disconnected in ("none", "disconnected"):
                    results.append(None)
                    continue
            g = tm.zeros_like(w, dtype=_float_dtype_for(w))
        if add_names and cost is not None and getattr(cost, "name", None) and w.name and g.name is None:
            g.name = f"(d{cost.name}/d{w.name})"
        results.append(g)
    return results[0] if single else results
