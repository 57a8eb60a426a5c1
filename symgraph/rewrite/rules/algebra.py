"""Algebraic simplification (canonicalize) and cheaper equivalent forms (specialize)."""

from __future__ import annotations

from symgraph import scalar as ps
from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply
from symgraph.rewrite.engine import LocalRewrite, Replacement
from symgraph.rewrite.match import elemwise_node, is_constant_value, like, same_shape, scalar_constant
from symgraph.tensor import math as tm
from symgraph.tensor.elemwise import DimShuffle, Elemwise, dimshuffle


def _neg_of_neg(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # -(-x) == x exactly
    inner = elemwise_node(node.inputs[0], ps.Neg)
    if isinstance(node.op.scalar_op, ps.Neg) and inner is not None:
        return [inner.inputs[0]]
    return None


def _drop_neutral(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # x + 0 == x, x * 1 == x (only when the constant does not broadcast x to a larger shape)
    sop = node.op.scalar_op
    if not isinstance(sop, (ps.Add, ps.Mul)):
        return None
    out = node.outputs[0]
    kept = [v for v in node.inputs if not is_constant_value(v, sop.identity)]
    if len(kept) == len(node.inputs) or not kept:
        return None
    if len(kept) == 1:
        if not same_shape(kept[0], out):
            return None
        return [like(kept[0], out)]
    new = Elemwise(sop)(*kept)
    if not same_shape(new, out):
        return None
    return [like(new, out)]


def _trivial_binary(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # x ** 1 == x, x / 1 == x, x - 0 == x
    sop = node.op.scalar_op
    x, y = node.inputs if len(node.inputs) == 2 else (None, None)
    if x is None or not same_shape(x, node.outputs[0]):
        return None
    if isinstance(sop, ps.Pow) and is_constant_value(y, 1):
        return [like(x, node.outputs[0])]
    if isinstance(sop, ps.TrueDiv) and is_constant_value(y, 1):
        return [like(x, node.outputs[0])]
    if isinstance(sop, ps.Sub) and is_constant_value(y, 0):
        return [like(x, node.outputs[0])]
    return None


def _log_of_exp(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # log(exp(x)) == x for real x; exp overflows to inf for x > 709, x does not
    if not isinstance(node.op.scalar_op, ps.Log):
        return None
    inner = elemwise_node(node.inputs[0], ps.Exp)
    if inner is None or inner.inputs[0].dtype.startswith("complex"):
        return None
    return [like(inner.inputs[0], node.outputs[0])]


def _dimshuffle_of_dimshuffle(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # two reorderings compose into one
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, DimShuffle):
        return None
    first = inner.op.new_order
    combined = tuple("x" if o == "x" else first[o] for o in node.op.new_order)  # type: ignore[index]
    x = inner.inputs[0]
    return [dimshuffle(x, combined)]


CANONICALIZE = [
    LocalRewrite("neg_of_neg", _neg_of_neg, (Elemwise,)),
    LocalRewrite("drop_neutral_element", _drop_neutral, (Elemwise,)),
    LocalRewrite("drop_trivial_operand", _trivial_binary, (Elemwise,)),
    LocalRewrite("log_of_exp", _log_of_exp, (Elemwise,)),
    LocalRewrite("merge_dimshuffles", _dimshuffle_of_dimshuffle, (DimShuffle,)),
]


def _pow_specialize(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # x**2 -> sqr(x), x**0.5 -> sqrt(x), x**-1 -> 1/x: cheaper and exact
    if not isinstance(node.op.scalar_op, ps.Pow):
        return None
    x, y = node.inputs
    out = node.outputs[0]
    if not same_shape(x, out) or x.dtype != out.dtype:
        return None
    exponent = scalar_constant(y)
    if exponent == 2:
        return [tm.sqr(x)]
    if exponent == 0.5:
        return [like(tm.sqrt(x), out)]
    if exponent == -1 and not x.dtype.startswith(("int", "uint")):
        return [like(tm.reciprocal(x), out)]
    return None


def _mul_self_to_sqr(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # x * x -> sqr(x)
    if isinstance(node.op.scalar_op, ps.Mul) and len(node.inputs) == 2 and node.inputs[0] is node.inputs[1]:
        return [tm.sqr(node.inputs[0])]
    return None


SPECIALIZE = [
    LocalRewrite("pow_to_sqr_sqrt_reciprocal", _pow_specialize, (Elemwise,)),
    LocalRewrite("mul_self_to_sqr", _mul_self_to_sqr, (Elemwise,)),
]
