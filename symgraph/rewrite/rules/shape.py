"""Shape reasoning: answer shape questions from the graph without computing values."""

from __future__ import annotations

from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply
from symgraph.graph.op import ShapeInferenceError
from symgraph.rewrite.engine import LocalRewrite, Replacement
from symgraph.rewrite.match import like
from symgraph.tensor.elemwise import DimShuffle
from symgraph.tensor.reduce import Sum
from symgraph.tensor.shape import ShapeI, shape_i
from symgraph.tensor.variable import as_tensor_variable


def _shape_i_from_inputs(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # x.shape[i] where x = op(inputs): ask op.infer_shape, so that a value used only for
    # its shape (e.g. the length in a mean) need not be computed to know it
    var = node.inputs[0]
    owner = var.owner
    if owner is None:
        return None
    input_shapes = [tuple(shape_i(inp, k) for k in range(inp.type.ndim)) for inp in owner.inputs]  # type: ignore[attr-defined]
    try:
        shapes = owner.op.infer_shape(owner, input_shapes)
    except ShapeInferenceError:
        return None
    answer = shapes[var.index][node.op.i]  # type: ignore[index]
    answer = as_tensor_variable(answer)
    if answer.ndim != 0 or answer.dtype not in ("int64", "int32"):
        return None
    return [like(answer, node.outputs[0])]


def _sum_over_broadcast_axes(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # sum over axes that a DimShuffle only inserted (length 1) is the identity on them
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, DimShuffle):
        return None
    order = inner.op.new_order
    if not node.op.axis or any(order[a] != "x" for a in node.op.axis):
        return None
    kept = [o for k, o in enumerate(order) if k not in node.op.axis]
    from symgraph.tensor.elemwise import dimshuffle

    out = node.outputs[0]
    new = dimshuffle(inner.inputs[0], kept)
    if new.dtype != out.dtype and not out.dtype.startswith("float"):
        return None
    return [like(new, out)]


SHAPE_CANONICALIZE = [
    LocalRewrite("shape_i_from_inputs", _shape_i_from_inputs, (ShapeI,)),
    LocalRewrite("sum_over_broadcast_axes", _sum_over_broadcast_axes, (Sum,)),
]
