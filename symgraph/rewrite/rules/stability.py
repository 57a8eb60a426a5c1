"""Numerical-stability rewrites: forms that overflow, underflow or cancel become stable ones."""

from __future__ import annotations

from symgraph import scalar as ps
from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply
from symgraph.rewrite.engine import LocalRewrite, Replacement
from symgraph.rewrite.match import elemwise_node, is_constant_value, like, negated, same_shape
from symgraph.tensor import math as tm
from symgraph.tensor.elemwise import Elemwise


def _one_plus(var: object) -> object:
    """x if var is 1 + x (with a single-element constant 1), else None."""
    node = elemwise_node(var, ps.Add)  # type: ignore[arg-type]
    if node is None or len(node.inputs) != 2:
        return None
    a, b = node.inputs
    if is_constant_value(a, 1) and same_shape(b, node.outputs[0]):
        return b
    if is_constant_value(b, 1) and same_shape(a, node.outputs[0]):
        return a
    return None


def _log_one_plus(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # log(1 + x) -> log1p(x): 1 + x rounds away x when |x| < 1e-16
    if not isinstance(node.op.scalar_op, ps.Log):
        return None
    x = _one_plus(node.inputs[0])
    if x is None:
        return None
    return [like(tm.log1p(x), node.outputs[0])]


def _log1p_of_exp(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # log1p(exp(x)) -> softplus(x): exp overflows for x > ~709, softplus does not
    if not isinstance(node.op.scalar_op, ps.Log1p):
        return None
    inner = elemwise_node(node.inputs[0], ps.Exp)
    if inner is None or inner.inputs[0].dtype.startswith("complex"):
        return None
    return [like(tm.softplus(inner.inputs[0]), node.outputs[0])]


def _logistic_to_sigmoid(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # 1 / (1 + exp(-x)) -> sigmoid(x): exp(-x) overflows for x < ~-709
    sop = node.op.scalar_op
    if isinstance(sop, ps.TrueDiv) and is_constant_value(node.inputs[0], 1):
        denominator = node.inputs[1]
    elif isinstance(sop, ps.Reciprocal):
        denominator = node.inputs[0]
    else:
        return None
    e = _one_plus(denominator)
    exp_node = elemwise_node(e, ps.Exp) if e is not None else None  # type: ignore[arg-type]
    if exp_node is None:
        return None
    x = negated(exp_node.inputs[0])
    if x is None or x.dtype.startswith("complex") or not same_shape(x, node.outputs[0]):
        return None
    return [like(tm.sigmoid(x), node.outputs[0])]


def _exp_over_one_plus_exp(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # exp(x) / (1 + exp(x)) -> sigmoid(x): inf / inf = nan for x > ~709
    if not isinstance(node.op.scalar_op, ps.TrueDiv):
        return None
    numerator = elemwise_node(node.inputs[0], ps.Exp)
    e = _one_plus(node.inputs[1])
    if numerator is None or e is None or e is not numerator.outputs[0]:
        return None
    x = numerator.inputs[0]
    if x.dtype.startswith("complex") or not same_shape(x, node.outputs[0]):
        return None
    return [like(tm.sigmoid(x), node.outputs[0])]


def _exp_minus_one(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # exp(x) - 1 -> expm1(x): cancellation loses all digits for |x| < 1e-16
    if not isinstance(node.op.scalar_op, ps.Sub) or not is_constant_value(node.inputs[1], 1):
        return None
    inner = elemwise_node(node.inputs[0], ps.Exp)
    if inner is None or not same_shape(inner.outputs[0], node.outputs[0]):
        return None
    return [like(tm.expm1(inner.inputs[0]), node.outputs[0])]


def _log_of_sigmoid(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # log(sigmoid(x)) -> -softplus(-x): sigmoid underflows to 0 for x < ~-745
    if not isinstance(node.op.scalar_op, ps.Log):
        return None
    inner = elemwise_node(node.inputs[0], ps.Sigmoid)
    if inner is None:
        return None
    x = inner.inputs[0]
    return [like(tm.neg(tm.softplus(tm.neg(x))), node.outputs[0])]


def _one_minus_sigmoid(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # 1 - sigmoid(x) -> sigmoid(-x): the subtraction cancels for large x
    if not isinstance(node.op.scalar_op, ps.Sub) or not is_constant_value(node.inputs[0], 1):
        return None
    inner = elemwise_node(node.inputs[1], ps.Sigmoid)
    if inner is None or not same_shape(inner.outputs[0], node.outputs[0]):
        return None
    return [like(tm.sigmoid(tm.neg(inner.inputs[0])), node.outputs[0])]


STABILIZE = [
    LocalRewrite("log_one_plus_to_log1p", _log_one_plus, (Elemwise,)),
    LocalRewrite("log1p_of_exp_to_softplus", _log1p_of_exp, (Elemwise,)),
    LocalRewrite("logistic_to_sigmoid", _logistic_to_sigmoid, (Elemwise,)),
    LocalRewrite("exp_over_one_plus_exp_to_sigmoid", _exp_over_one_plus_exp, (Elemwise,)),
    LocalRewrite("exp_minus_one_to_expm1", _exp_minus_one, (Elemwise,)),
    LocalRewrite("log_of_sigmoid_to_softplus", _log_of_sigmoid, (Elemwise,)),
    LocalRewrite("one_minus_sigmoid_to_sigmoid_neg", _one_minus_sigmoid, (Elemwise,)),
]
