"""Derivative operators built on reverse mode: jacobian, hessian, Lop, Rop."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from symgraph.gradient.reverse import grad
from symgraph.graph.node import Variable
from symgraph.graph.traversal import ancestors, clone_replace
from symgraph.tensor import math as tm
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import TensorVariable, as_tensor_variable


def jacobian(
    expression: Any,
    wrt: Any,
    consider_constant: Iterable[Variable] | None = None,
    disconnected_inputs: str = "raise",
) -> Any:
    """The Jacobian of ``expression`` with respect to ``wrt``.

    For an expression of shape ``S`` and ``wrt`` of shape ``W`` the result has shape
    ``S + W`` (``S`` is flattened first when it has more than one axis, as Theano did:
    ``(prod(S),) + W``). A scalar expression gives its gradient.
    """
    from symgraph.control.map import build_map
    from symgraph.tensor.shape import flatten

    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    expression = as_tensor_variable(expression)
    if expression.ndim == 0:
        result = grad(expression, wrt_list, consider_constant, disconnected_inputs)
        return result[0] if single else result
    flat = flatten(expression) if expression.ndim > 1 else expression
    index = TensorType("int64", ()).make_variable("i")
    row_grads = grad(flat[index], wrt_list, consider_constant, disconnected_inputs)
    # every variable the row gradients need, other than the index, is passed to the Map
    needed = [v for v in _free_inputs(row_grads) if v is not index]
    rows = build_map("jacobian", flat.shape[0], index, needed, row_grads)
    return rows[0] if single else rows


def _free_inputs(outputs: list[Any]) -> list[Variable]:
    from symgraph.graph.node import Constant

    found = []
    for var in ancestors(outputs):
        if var.owner is None and not isinstance(var, Constant):
            found.append(var)
    return sorted(found, key=id)


def hessian(
    cost: Any,
    wrt: Any,
    consider_constant: Iterable[Variable] | None = None,
    disconnected_inputs: str = "raise",
) -> Any:
    """The Hessian of a scalar ``cost``: ``jacobian(grad(cost, w), w)`` for each ``w``."""
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    cost = as_tensor_variable(cost)
    if cost.ndim != 0:
        raise TypeError(f"hessian: the cost must be a scalar, got ndim {cost.ndim}")
    results = []
    for w in wrt_list:
        g = grad(cost, w, consider_constant, disconnected_inputs)
        results.append(jacobian(g, w, consider_constant, disconnected_inputs="ignore"))
    return results[0] if single else results


def Lop(f: Any, wrt: Any, eval_points: Any, consider_constant: Iterable[Variable] | None = None,
        disconnected_inputs: str = "raise") -> Any:  # noqa: N802 - Theano's name
    """Vector-Jacobian product: ``v^T (df/dwrt)`` for ``v`` = ``eval_points`` (one per ``f``)."""
    f_list = list(f) if isinstance(f, (list, tuple)) else [f]
    v_list = list(eval_points) if isinstance(eval_points, (list, tuple)) else [eval_points]
    if len(f_list) != len(v_list):
        raise ValueError(f"Lop: {len(f_list)} expressions but {len(v_list)} eval_points")
    known = {}
    for fi, vi in zip(f_list, v_list):
        fi = as_tensor_variable(fi)
        vi = as_tensor_variable(vi)
        if fi.ndim != vi.ndim:
            raise ValueError(f"Lop: eval point of ndim {vi.ndim} for an expression of ndim {fi.ndim}")
        known[fi] = vi
    return grad(None, wrt, consider_constant=consider_constant, known_grads=known,
                disconnected_inputs=disconnected_inputs)


def Rop(f: Any, wrt: Any, eval_points: Any, disconnected_outputs: str = "raise") -> Any:  # noqa: N802
    """Jacobian-vector product: ``(df/dwrt) v`` for ``v`` = ``eval_points`` (one per ``wrt``).

    Computed by transposing reverse mode: ``u -> Lop(f, wrt, u)`` is linear in ``u``,
    and the Lop of that map at ``v`` is ``J v``.
    """
    single_f = not isinstance(f, (list, tuple))
    f_list = [as_tensor_variable(x) for x in ([f] if single_f else f)]
    wrt_list = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    v_list = list(eval_points) if isinstance(eval_points, (list, tuple)) else [eval_points]
    if len(wrt_list) != len(v_list):
        raise ValueError(f"Rop: {len(wrt_list)} wrt variables but {len(v_list)} eval_points")
    v_list = [as_tensor_variable(v) for v in v_list]
    results = []
    for fi in f_list:
        u = TensorType(fi.dtype if fi.dtype.startswith("float") else "float64", fi.type.shape).make_variable("u")
        vjp = grad(None, wrt_list, known_grads={fi: u}, disconnected_inputs="ignore")
        cost_terms = [tm.mul(g, v).sum() for g, v in zip(vjp, v_list)]
        jvp = grad(tm.add(*cost_terms) if len(cost_terms) > 1 else cost_terms[0], u,
                   disconnected_inputs="ignore")
        if u in ancestors([jvp]):
            # the result is linear in u's derivative only, so any value of u will do
            (jvp,), _ = clone_replace([jvp], {u: tm.zeros_like(fi, dtype=u.dtype)})
        if jvp.dtype != fi.dtype and fi.dtype.startswith("float"):
            jvp = tm.cast(jvp, fi.dtype)
        results.append(jvp)
    return results[0] if single_f else results


def _as_list(value: Any) -> list[TensorVariable]:
    return list(value) if isinstance(value, (list, tuple)) else [value]
