"""Shape reasoning and layout: answer shape questions from the graph, drop useless
reshapes, allocs, fills and dimshuffles.

``x.shape[i]`` is answered by the op that computes ``x`` (its ``infer_shape``), in terms
of that op's inputs; repeated, this walks down to the graph inputs, so a value used only
for its shape (the length in a ``mean``, the model of a ``fill``) is not computed at all.
"""

from __future__ import annotations

from symgraph import scalar as ps
from symgraph.gradient.modifiers import GradientModifier
from symgraph.graph.fgraph import OUTPUT, FunctionGraph
from symgraph.graph.node import Apply, Constant, Variable
from symgraph.graph.op import ShapeInferenceError
from symgraph.rewrite.engine import LocalRewrite, Replacement
from symgraph.rewrite.match import like, scalar_constant, single_client
from symgraph.rewrite.pattern import RuleSet
from symgraph.rewrite.shapes import symbolic_shape
from symgraph.scalar.composite import Composite
from symgraph.tensor.elemwise import DimShuffle, Elemwise, dimshuffle
from symgraph.tensor.linalg import Dot
from symgraph.tensor.shape import Alloc, Reshape, Shape, ShapeI, SpecifyShape, alloc, shape_i, stack
from symgraph.tensor.subtensor import INT, Subtensor
from symgraph.tensor.variable import as_tensor_variable, constant


# -- shape of a value without the value ------------------------------------------------------
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
    answer = as_tensor_variable(shapes[var.index][node.op.i])  # type: ignore[index, attr-defined]
    if answer.ndim != 0 or not answer.dtype.startswith(("int", "uint")):
        return None
    return [like(answer, node.outputs[0])]


def _static_shape_i(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # x.shape[i] is a constant when x's type knows it
    length = node.inputs[0].type.shape[node.op.i]  # type: ignore[attr-defined]
    return None if length is None else [constant(length, dtype="int64")]


def _static_shape(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # x.shape is a constant when x's type knows every length
    static = node.inputs[0].type.shape  # type: ignore[attr-defined]
    if any(s is None for s in static):
        return None
    import numpy as np

    return [constant(np.asarray(static, dtype="int64").reshape(len(static)), dtype="int64")]


def _shape_subscript(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # Subtensor{i}(Shape(x)) -> ShapeI(i)(x): the same scalar, without the vector
    source = node.inputs[0].owner
    if source is None or not isinstance(source.op, Shape) or node.op.idx_list != (INT,):  # type: ignore[attr-defined]
        return None
    position = scalar_constant(node.inputs[1])
    if position is None or not isinstance(node.inputs[1], Constant):
        return None
    x = source.inputs[0]
    ndim = x.type.ndim  # type: ignore[attr-defined]
    if not -ndim <= position < ndim:
        return None  # out of range: leave the IndexError to run time
    return [shape_i(x, int(position) % ndim)]


def _only_shape_used(fgraph: FunctionGraph, var: Variable, besides: Apply | None = None) -> bool:
    """True if every use of ``var`` needs only its shape (Shape, ShapeI, or ``besides``)."""
    for client, index in fgraph.clients.get(var, ()):
        if client == OUTPUT:
            return False
        if client is besides or isinstance(client.op, (Shape, ShapeI)):  # type: ignore[union-attr]
            continue
        return False
    return True


def _shape_to_shape_i_vector(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # x.shape as a vector of x.shape[i], when x is used for nothing but its shape: each
    # x.shape[i] is then answered from x's inputs and x itself is no longer computed
    x = node.inputs[0]
    if x.owner is None or x.type.ndim == 0 or not _only_shape_used(fgraph, x):  # type: ignore[attr-defined]
        return None
    return [stack([shape_i(x, k) for k in range(x.type.ndim)])]  # type: ignore[attr-defined]


# -- fill, alloc, reshape, specify_shape ------------------------------------------------------
def _is_fill(node: Apply | None) -> bool:
    if node is None or not isinstance(node.op, Elemwise):
        return False
    return isinstance(node.op.scalar_op, ps.Second)


def _useless_fill(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # fill(model, value) == value when value already has the shape of the result
    if not _is_fill(node):
        return None
    value = node.inputs[1]
    out = node.outputs[0]
    if value.type == out.type:
        return [value]
    return None


def _fill_sink(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # f(fill(model, v), y) -> f(v, y) when y already gives the result model's shape;
    # likewise f(alloc(v, *shape), y). The fill stays for its other users, if any.
    if isinstance(node.op.scalar_op, Composite):  # type: ignore[attr-defined]
        return None  # fused loops come last (fuse phase); rewriting them again would undo it
    for i, var in enumerate(node.inputs):
        inner = var.owner
        if _is_fill(inner):
            model, value = inner.inputs  # type: ignore[union-attr]
        elif inner is not None and isinstance(inner.op, Alloc):
            model, value = var, inner.inputs[0]
            if value.type.ndim < var.type.ndim:  # type: ignore[attr-defined]
                value = dimshuffle(value, ("x",) * (var.type.ndim - value.type.ndim)  # type: ignore[attr-defined]
                                   + tuple(range(value.type.ndim)))  # type: ignore[attr-defined]
        else:
            continue
        others = [v for j, v in enumerate(node.inputs) if j != i] + [value]
        covered = all(
            length == 1 or any(o.type.shape[axis] not in (1,) for o in others)  # type: ignore[attr-defined]
            for axis, length in enumerate(model.type.shape)  # type: ignore[attr-defined]
        )
        if not covered:
            continue
        operands = list(node.inputs)
        operands[i] = value
        new = Elemwise(node.op.scalar_op)(*operands)  # type: ignore[attr-defined]
        if new.type != node.outputs[0].type:
            continue
        return [new]
    return None


def _fill_to_alloc(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # fill(model, v) -> alloc(v, *model.shape) when model is used only for its shape: the
    # lengths are then computed from model's inputs and model itself is not computed
    if not _is_fill(node):
        return None
    model, value = node.inputs
    if model.owner is None or not _only_shape_used(fgraph, model, besides=node):
        return None
    target = symbolic_shape(node.outputs[0])
    if target is None:
        return None
    return [alloc(value, *target)]


def _useless_alloc(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # alloc(v, *shape) == v when v already has that shape (it is checked by static type)
    value = node.inputs[0]
    if value.type == node.outputs[0].type:
        return [value]
    return None


def _alloc_of_alloc(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # alloc(alloc(v, *a), *b) == alloc(v, *b)
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, Alloc):
        return None
    return [Alloc()(inner.inputs[0], *node.inputs[1:])]


def _length_entries(vec: Variable) -> list[object] | None:
    """The entries of an int vector built by ``stack`` (or a constant), else None."""
    import numpy as np

    from symgraph.tensor.shape import Join

    if isinstance(vec, Constant):
        return [int(v) for v in np.asarray(vec.data).reshape(-1)]
    node = vec.owner
    if node is None or not isinstance(node.op, Join) or node.op.axis != 0:
        return None
    entries: list[object] = []
    for piece in node.inputs:
        owner = piece.owner
        if owner is None or not isinstance(owner.op, DimShuffle) or owner.op.new_order != ("x",):
            return None
        scalar = owner.inputs[0]
        value = scalar_constant(scalar)
        entries.append(int(value) if isinstance(scalar, Constant) and value is not None else scalar)
    return entries


def _is_length_of(entry: object, x: Variable, axis: int) -> bool:
    if isinstance(entry, int):
        return entry == x.type.shape[axis]  # type: ignore[attr-defined]
    owner = getattr(entry, "owner", None)
    if owner is None or not isinstance(owner.op, ShapeI):
        return False
    return bool(owner.op.i == axis and owner.inputs[0] is x)


def _useless_reshape(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # reshape(x, x.shape), reshape(x, (x.shape[0], x.shape[1])) or to the static shape x
    # already has, is x
    x, shp = node.inputs
    out = node.outputs[0]
    if x.type.ndim != out.type.ndim:  # type: ignore[attr-defined]
        return None
    if shp.owner is not None and isinstance(shp.owner.op, Shape) and shp.owner.inputs[0] is x:
        return [x]
    static = x.type.shape  # type: ignore[attr-defined]
    if all(s is not None for s in static) and static == out.type.shape:  # type: ignore[attr-defined]
        return [x]
    entries = _length_entries(shp)
    if entries is not None and len(entries) == x.type.ndim and all(  # type: ignore[attr-defined]
        _is_length_of(e, x, k) for k, e in enumerate(entries)
    ):
        return [x]
    return None


def _reshape_of_reshape(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # reshape(reshape(x, a), b) == reshape(x, b) (C order): both sizes equal x's
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, Reshape):
        return None
    return [Reshape(node.op.ndim)(inner.inputs[0], node.inputs[1])]  # type: ignore[attr-defined]


def _useless_specify_shape(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # specify_shape that states only what the static type already says
    op = node.op
    x = node.inputs[0]
    if op.symbolic_axes:  # type: ignore[attr-defined]
        return None
    if all(want is None or want == have for want, have in zip(op.shape, x.type.shape)):  # type: ignore[attr-defined]
        return [x]
    return None


def _remove_gradient_modifier(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # zero_grad(x), disconnected_grad(x), grad_clip(x, a, b) are x once gradients are taken
    return [node.inputs[0]]


# -- dimshuffle ------------------------------------------------------------------------------
def _dimshuffle_of_dimshuffle(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # two reorderings compose into one
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, DimShuffle):
        return None
    first = inner.op.new_order
    combined = tuple("x" if o == "x" else first[o] for o in node.op.new_order)  # type: ignore[index, attr-defined]
    return [dimshuffle(inner.inputs[0], combined)]


def _useless_dimshuffle(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # dimshuffle(x, 0, 1, ...) is x
    if node.op.new_order == tuple(range(node.op.input_ndim)):  # type: ignore[attr-defined]
        return [node.inputs[0]]
    return None


def _dimshuffle_lift(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # dimshuffle(f(a, b)) -> f(dimshuffle(a), dimshuffle(b)) for elementwise f used only
    # here: reorderings move to the inputs, where they merge with each other and with
    # constants, and elementwise patterns become visible through them
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, Elemwise):
        return None
    if not single_client(fgraph, node.inputs[0]):
        return None
    order = node.op.new_order  # type: ignore[attr-defined]
    return [Elemwise(inner.op.scalar_op)(*[dimshuffle(v, order) for v in inner.inputs])]


def _transpose_of_dot(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # dot(a, b).T -> dot(b.T, a.T): the transposes move to the inputs and cancel there
    inner = node.inputs[0].owner
    if (
        inner is None or not isinstance(inner.op, Dot) or node.op.new_order != (1, 0)  # type: ignore[attr-defined]
        or not single_client(fgraph, node.inputs[0])
    ):
        return None
    a, b = inner.inputs
    if a.type.ndim != 2 or b.type.ndim != 2:  # type: ignore[attr-defined]
        return None
    return [Dot()(dimshuffle(b, (1, 0)), dimshuffle(a, (1, 0)))]


SHAPE_CANONICALIZE = RuleSet("shape", [
    LocalRewrite("static_shape_i", _static_shape_i, (ShapeI,), "x.shape[i] known statically"),
    LocalRewrite("shape_i_from_inputs", _shape_i_from_inputs, (ShapeI,),
                 "x.shape[i] from the inputs of x's op"),
    LocalRewrite("static_shape", _static_shape, (Shape,), "x.shape known statically"),
    LocalRewrite("shape_subscript_to_shape_i", _shape_subscript, (Subtensor,),
                 "x.shape[i] -> shape_i(x, i)"),
    LocalRewrite("shape_to_shape_i_vector", _shape_to_shape_i_vector, (Shape,),
                 "x.shape -> [x.shape[0], ...] when x is used only for its shape"),
    LocalRewrite("useless_fill", _useless_fill, (ps.Second,),
                 "fill(m, v) = v when v has the shape"),
    LocalRewrite("fill_to_alloc", _fill_to_alloc, (ps.Second,),
                 "fill(m, v) = alloc(v, *m.shape) when m is used only for its shape"),
    LocalRewrite("fill_sink", _fill_sink, (Elemwise,),
                 "f(fill(m, v), y) = f(v, y), f(alloc(v, *s), y) = f(v, y) when y has the shape"),
    LocalRewrite("useless_alloc", _useless_alloc, (Alloc,), "alloc(v, *v.shape) = v"),
    LocalRewrite("alloc_of_alloc", _alloc_of_alloc, (Alloc,),
                 "alloc(alloc(v, a), b) = alloc(v, b)"),
    LocalRewrite("useless_reshape", _useless_reshape, (Reshape,), "reshape(x, x.shape) = x"),
    LocalRewrite("reshape_of_reshape", _reshape_of_reshape, (Reshape,),
                 "reshape(reshape(x, a), b) = reshape(x, b)"),
    LocalRewrite("useless_specify_shape", _useless_specify_shape, (SpecifyShape,),
                 "specify_shape stating only the static shape"),
    LocalRewrite("remove_gradient_modifiers", _remove_gradient_modifier, (GradientModifier,),
                 "zero_grad(x) = disconnected_grad(x) = grad_clip(x, a, b) = x in the forward pass"),
    LocalRewrite("merge_dimshuffles", _dimshuffle_of_dimshuffle, (DimShuffle,),
                 "dimshuffle(dimshuffle(x)) = one dimshuffle"),
    LocalRewrite("useless_dimshuffle", _useless_dimshuffle, (DimShuffle,), "identity dimshuffle"),
    LocalRewrite("dimshuffle_lift", _dimshuffle_lift, (DimShuffle,),
                 "dimshuffle(f(a, b)) = f(dimshuffle(a), dimshuffle(b))"),
    LocalRewrite("transpose_of_dot", _transpose_of_dot, (DimShuffle,),
                 "dot(a, b).T = dot(b.T, a.T)"),
])
