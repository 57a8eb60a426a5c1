"""The fuse phase: trees of elementwise ops become one Elemwise of a Composite (one loop).

An Elemwise node absorbs an Elemwise input when that input has no other client and the
same static output shape (so no value is recomputed for broadcast elements), as long as
the fused program stays within ``MAX_STEPS`` steps and ``MAX_INPUTS`` inputs; the
program keeps every intermediate dtype, so results do not change. Each node is visited
once from its root, so the phase is linear in the graph size.

Sums and products over more than ``SPLIT_WIDTH`` arrays (the canonical form flattens
them; the gradient of a long chain is one product of all its local derivatives) are
first split into a left-to-right chain of narrower ones, which rounds exactly as the
wide one does.
"""

from __future__ import annotations

from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply, Variable
from symgraph.rewrite.engine import LocalRewrite, Replacement
from symgraph.scalar.arithmetic import Add, Mul
from symgraph.scalar.composite import Composite
from symgraph.tensor.elemwise import Elemwise

#: the most scalar steps one fused loop may hold (keeps generated expressions compilable)
MAX_STEPS = 64
#: the most inputs one fused loop may read: each is a pointer and a stride kept live
#: through the loop, and gcc's time on a loop grows much faster than linearly with them
#: (a 64-step product of 180 arrays took it 3 s; issue 6, W6)
MAX_INPUTS = 48
#: sums and products of more inputs than this are split into a chain of this width (so
#: each link can still absorb its inputs' producers within MAX_INPUTS)
SPLIT_WIDTH = 16


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


def _tree_inputs(fgraph: FunctionGraph, var: Variable, shape: tuple) -> int:
    """How many inputs a loop gets by absorbing ``var``'s producer and, as far as MAX_STEPS
    allows, that producer's own producers (an upper bound: a shared input counts once per
    use). Bounded work: at most MAX_STEPS nodes are looked at."""
    count, steps, stack = 0, 0, [var]
    while stack and count <= MAX_INPUTS:
        v = stack.pop()
        if steps < MAX_STEPS and _absorbable(fgraph, v, shape):
            steps += _size(v.owner)  # type: ignore[arg-type]
            stack.extend(v.owner.inputs)  # type: ignore[union-attr]
        else:
            count += 1
    return count


def _fuse_from(fgraph: FunctionGraph, node: Apply) -> Replacement:
    """Fuse the tree rooted at ``node`` into one Composite, or None if there is nothing to add."""
    shape = node.outputs[0].type.shape  # type: ignore[attr-defined]
    inputs: dict[Variable, int] = {}
    steps: list[tuple] = []
    step_dtypes: list[str] = []
    budget = [MAX_STEPS - _size(node)]
    # inputs the program may still gain: absorbing a node trades one input for its own
    # (an input read twice counts twice, so the bound is conservative)
    input_budget = [MAX_INPUTS - len(node.inputs)]
    absorbed = [0]

    def tree_inputs(var: Variable) -> int:
        return _tree_inputs(fgraph, var, shape)

    def take(var: Variable, charged: bool) -> bool:
        """Absorb ``var``'s producer if it is fusable and fits the budgets. Its whole tree's
        inputs are charged at once (``charged``: they already were), so a tree that does not
        fit stays whole and becomes a loop of its own rather than leaving fragments."""
        owner = var.owner
        if not _absorbable(fgraph, var, shape) or _size(owner) > budget[0]:  # type: ignore[arg-type]
            return False
        if not charged:
            cost = tree_inputs(var) - 1
            if cost > input_budget[0]:
                return False
            input_budget[0] -= cost
        budget[0] -= _size(owner)  # type: ignore[arg-type]
        absorbed[0] += 1
        return True

    def as_input(var: Variable) -> tuple[str, int]:
        if var not in inputs:
            inputs[var] = len(inputs)
        return ("input", inputs[var])

    def add(n: Apply, charged: bool) -> int:
        sop = n.op.scalar_op  # type: ignore[attr-defined]
        # decide for the smallest trees first: a wide node fills its input budget with as
        # many whole producer trees as fit
        by_cost = sorted(range(len(n.inputs)), key=lambda k: tree_inputs(n.inputs[k]))
        taken = {k for k in by_cost if take(n.inputs[k], charged)}
        refs = [("step", add(v.owner, True)) if k in taken else as_input(v)  # type: ignore[arg-type]
                for k, v in enumerate(n.inputs)]
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

    add(node, False)
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
            # ... and it has room for this node's tree (else this node fuses its own tree)
            and len(consumer.inputs) - 1 + _tree_inputs(fgraph, out, consumer.outputs[0].type.shape)  # type: ignore[union-attr, attr-defined]
            <= MAX_INPUTS
        ):
            return None
    return _fuse_from(fgraph, node)


def _split_wide(fgraph: FunctionGraph, node: Apply) -> Replacement:
    """``a0 + a1 + ... + an`` over more than SPLIT_WIDTH arrays of the output's dtype ->
    ``(a0 + ... + a15) + a16 + ... + a30`` and so on: the same additions in the same
    order (NumPy's and the C loop's are both left to right), so the same roundings."""
    sop = node.op.scalar_op  # type: ignore[attr-defined]
    dtype = node.outputs[0].type.dtype  # type: ignore[attr-defined]
    if (type(sop) not in (Add, Mul) or len(node.inputs) <= SPLIT_WIDTH
            or any(v.type.dtype != dtype for v in node.inputs)):  # type: ignore[attr-defined]
        return None
    partial = Elemwise(sop)(*node.inputs[:SPLIT_WIDTH])
    rest = list(node.inputs[SPLIT_WIDTH:])
    while rest:
        partial = Elemwise(sop)(partial, *rest[: SPLIT_WIDTH - 1])
        rest = rest[SPLIT_WIDTH - 1:]
    return [partial]


FUSE = [
    LocalRewrite("split_wide_sum_or_product", _split_wide, (Add, Mul)),
    LocalRewrite("elemwise_fusion", _fuse_roots, (Elemwise,)),
]


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
    elif not isinstance(op, (Max, Min)) or op.initial is not None:
        return None
    return [ElemwiseReduce(op, producer.op.scalar_op)(*producer.inputs)]  # type: ignore[attr-defined]


def _reduce_ops() -> tuple[type, ...]:
    from symgraph.tensor.reduce import Max, Min, Sum

    return (Sum, Max, Min)


#: after FUSE: a reduction swallows the (already fused) elementwise loop feeding it
FUSE_REDUCE = [LocalRewrite("elemwise_into_reduce", _fuse_into_reduce, _reduce_ops())]
