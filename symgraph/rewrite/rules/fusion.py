"""The fuse phase: trees of elementwise ops become one Elemwise of a Composite (one loop).

An Elemwise node absorbs an Elemwise input when that input has no other client and the
same static output shape (so no value is recomputed for broadcast elements); the fused
program keeps every intermediate dtype, so results do not change.
"""

from __future__ import annotations

from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply, Variable
from symgraph.rewrite.engine import LocalRewrite, Replacement
from symgraph.scalar.composite import Composite
from symgraph.tensor.elemwise import Elemwise

#: the most scalar steps one fused loop may hold (keeps generated expressions readable)
MAX_STEPS = 64


def _absorbable(fgraph: FunctionGraph, var: Variable, consumer_shape: tuple) -> bool:
    owner = var.owner
    return (
        owner is not None
        and isinstance(owner.op, Elemwise)
        and len(fgraph.clients.get(var, ())) == 1
        and var.type.shape == consumer_shape  # type: ignore[attr-defined]
        and var not in fgraph.outputs
    )


def _fuse_elemwise(fgraph: FunctionGraph, node: Apply) -> Replacement:
    out = node.outputs[0]
    shape = out.type.shape  # type: ignore[attr-defined]
    if not any(_absorbable(fgraph, v, shape) for v in node.inputs):
        return None
    # Build the program by walking the tree from the root, absorbing single-client Elemwise inputs.
    inputs: list[Variable] = []
    steps: list[tuple] = []
    dtypes_of_steps: list[str] = []

    def value_of(var: Variable) -> tuple[str, int]:
        if _absorbable(fgraph, var, shape) and len(steps) < MAX_STEPS:
            return ("step", add_node(var.owner))  # type: ignore[arg-type]
        if var not in inputs:
            inputs.append(var)
        return ("input", inputs.index(var))

    def add_node(n: Apply) -> int:
        sop = n.op.scalar_op
        refs = [value_of(v) for v in n.inputs]
        if isinstance(sop, Composite):
            # inline an earlier composite: its inputs map to refs, its steps follow
            base = len(steps)
            local: list[tuple[str, int]] = list(refs)
            for (step_op, args), dtype in zip(sop.steps, sop.dtypes[sop.n_inputs:]):
                steps.append((step_op, tuple(local[a] for a in args)))
                dtypes_of_steps.append(dtype)
                local.append(("step", len(steps) - 1))
            del base
            return len(steps) - 1
        steps.append((sop, tuple(refs)))
        dtypes_of_steps.append(n.outputs[0].type.dtype)  # type: ignore[attr-defined]
        return len(steps) - 1

    add_node(node)
    n_in = len(inputs)

    def index(ref: tuple[str, int]) -> int:
        return ref[1] if ref[0] == "input" else n_in + ref[1]

    program = tuple((sop, tuple(index(r) for r in refs)) for sop, refs in steps)
    in_dtypes = tuple(v.type.dtype for v in inputs)  # type: ignore[attr-defined]
    composite = Composite(in_dtypes, program, in_dtypes + tuple(dtypes_of_steps))
    fused = Elemwise(composite)(*inputs)
    return [fused]


def _worth_fusing(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # only start from roots: Elemwise nodes whose output is not itself absorbed by a consumer
    out = node.outputs[0]
    clients = fgraph.clients.get(out, [])
    if len(clients) == 1:
        client = clients[0][0]
        if (
            client != "output"
            and isinstance(client.op, Elemwise)  # type: ignore[union-attr]
            and client.outputs[0].type.shape == out.type.shape  # type: ignore[union-attr, attr-defined]
        ):
            return None  # the consumer will absorb this node
    return _fuse_elemwise(fgraph, node)


FUSE = [LocalRewrite("elemwise_fusion", _worth_fusing, (Elemwise,))]
