"""The fuse phase: trees of elementwise ops become one Elemwise of a Composite (one loop).

An Elemwise node absorbs an Elemwise input when that input has no other client and the
same static output shape (so no value is recomputed for broadcast elements), as long as
the fused program stays within ``MAX_STEPS``; the program keeps every intermediate
dtype, so results do not change. Each node is visited once from its root, so the phase
is linear in the graph size.
"""

from __future__ import annotations

from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply, Variable
from symgraph.rewrite.engine import LocalRewrite, Replacement
from symgraph.scalar.composite import Composite
from symgraph.tensor.elemwise import Elemwise

#: the most scalar steps one fused loop may hold (keeps generated expressions compilable)
MAX_STEPS = 64


def _size(node: Apply) -> int:
    sop = node.op.scalar_op  # type: ignore[attr-defined]
    return len(sop.steps) if isinstance(sop, Composite) else 1


def _absorbable(fgraph: FunctionGraph, var: Variable, consumer_shape: tuple) -> bool:
    owner = var.owner
    return (
        owner is not None
        and isinstance(owner.op, Elemwise)
        and len(fgraph.clients.get(var, ())) == 1
        and var.type.shape == consumer_shape  # type: ignore[attr-defined]
        and var not in fgraph.outputs
    )


def _fuse_from(fgraph: FunctionGraph, node: Apply) -> Replacement:
    """Fuse the tree rooted at ``node`` into one Composite, or None if there is nothing to add."""
    shape = node.outputs[0].type.shape  # type: ignore[attr-defined]
    inputs: dict[Variable, int] = {}
    steps: list[tuple] = []
    step_dtypes: list[str] = []
    budget = [MAX_STEPS - _size(node)]
    absorbed = [0]

    def ref(var: Variable) -> tuple[str, int]:
        if _absorbable(fgraph, var, shape) and _size(var.owner) <= budget[0]:  # type: ignore[arg-type]
            budget[0] -= _size(var.owner)  # type: ignore[arg-type]
            absorbed[0] += 1
            return ("step", add(var.owner))  # type: ignore[arg-type]
        if var not in inputs:
            inputs[var] = len(inputs)
        return ("input", inputs[var])

    def add(n: Apply) -> int:
        sop = n.op.scalar_op  # type: ignore[attr-defined]
        refs = [ref(v) for v in n.inputs]
        if isinstance(sop, Composite):
            # inline an earlier fused program: its inputs are `refs`, its steps follow
            local: list[tuple[str, int]] = list(refs)
            for (step_op, args), dtype in zip(sop.steps, sop.dtypes[sop.n_inputs:]):
                steps.append((step_op, tuple(local[a] for a in args)))
                step_dtypes.append(dtype)
                local.append(("step", len(steps) - 1))
            return len(steps) - 1
        steps.append((sop, tuple(refs)))
        step_dtypes.append(n.outputs[0].type.dtype)  # type: ignore[attr-defined]
        return len(steps) - 1

    add(node)
    if not absorbed[0]:
        return None
    n_in = len(inputs)
    program = tuple(
        (sop, tuple(r[1] if r[0] == "input" else n_in + r[1] for r in refs)) for sop, refs in steps
    )
    ordered = sorted(inputs, key=inputs.__getitem__)
    in_dtypes = tuple(v.type.dtype for v in ordered)  # type: ignore[attr-defined]
    composite = Composite(in_dtypes, program, in_dtypes + tuple(step_dtypes))
    return [Elemwise(composite)(*ordered)]


def _fuse_roots(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # Start only from roots: a node that its single Elemwise consumer will absorb is left to it.
    out = node.outputs[0]
    clients = fgraph.clients.get(out, [])
    if len(clients) == 1 and clients[0][0] != "output":
        consumer = clients[0][0]
        if (
            isinstance(consumer.op, Elemwise)  # type: ignore[union-attr]
            and _absorbable(fgraph, out, consumer.outputs[0].type.shape)  # type: ignore[union-attr, attr-defined]
            and _size(consumer) + _size(node) <= MAX_STEPS  # type: ignore[arg-type]
        ):
            return None
    return _fuse_from(fgraph, node)


FUSE = [LocalRewrite("elemwise_fusion", _fuse_roots, (Elemwise,))]


def _fuse_into_reduce(fgraph: FunctionGraph, node: Apply) -> Replacement:
    """Sum/Max/Min of a float elementwise node that nothing else reads -> ElemwiseReduce."""
    from symgraph.tensor.reduce import ElemwiseReduce, Max, Min, Sum

    op = node.op
    (x,) = node.inputs
    producer = x.owner
    dtype = x.type.dtype  # type: ignore[attr-defined]
    if (
        producer is None
        or not isinstance(producer.op, Elemwise)
        or len(fgraph.clients.get(x, ())) != 1
        or x in fgraph.outputs
        or dtype not in ("float32", "float64")
        or not op.axis  # type: ignore[attr-defined]
    ):
        return None
    if isinstance(op, Sum):
        if node.outputs[0].type.dtype != dtype or op.acc_dtype not in (None, dtype):  # type: ignore[attr-defined]
            return None
    elif not isinstance(op, (Max, Min)):
        return None
    return [ElemwiseReduce(op, producer.op.scalar_op)(*producer.inputs)]  # type: ignore[attr-defined]


def _reduce_ops() -> tuple[type, ...]:
    from symgraph.tensor.reduce import Max, Min, Sum

    return (Sum, Max, Min)


#: after FUSE: a reduction swallows the (already fused) elementwise loop feeding it
FUSE_REDUCE = [LocalRewrite("elemwise_into_reduce", _fuse_into_reduce, _reduce_ops())]
