"""NumPy implementations: reduce family (Sum, Prod, Max, Min, All, Any, Argmax, Argmin)."""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable

import numpy as np

from symgraph.backends.py.dispatch import perform
from symgraph.graph.node import Apply
from symgraph.tensor.extra_ops import CumOp, Sort, SortGrad
from symgraph.tensor.reduce import (
    All,
    Any,
    Argmax,
    Argmin,
    ArgReduce,
    ElemwiseReduce,
    Max,
    Min,
    Prod,
    Sum,
)


def _fresh(result: object, x: np.ndarray, dtype: str) -> np.ndarray:
    """``result`` as a ``dtype`` array that does not share memory with the input ``x``."""
    arr = np.asarray(result)
    if arr.dtype.name != dtype:
        arr = arr.astype(dtype)
    elif np.shares_memory(arr, x):
        arr = arr.copy()
    return arr


@perform.register(Sum)
def py_sum(op: Sum, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    (x,) = inputs
    out_dtype = node.outputs[0].dtype
    # overflow in a reduction gives inf, as the elementwise ops do, without a warning
    with np.errstate(all="ignore"):
        result = np.sum(x, axis=op.axis, dtype=op.acc_dtype or out_dtype)
    return [_fresh(result, x, out_dtype)]


@perform.register(Prod)
def py_prod(op: Prod, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    (x,) = inputs
    out_dtype = node.outputs[0].dtype
    with np.errstate(all="ignore"):
        result = np.prod(x, axis=op.axis, dtype=op.acc_dtype or out_dtype)
    return [_fresh(result, x, out_dtype)]


# np.max / np.min raise a ValueError for an empty axis ("zero-size array to reduction
# operation maximum which has no identity"); the runner adds the op and the user's line.
@perform.register(Max)
def py_max(op: Max, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    (x,) = inputs
    if op.initial is not None:
        return [_fresh(np.max(x, axis=op.axis, initial=op.initial), x, node.outputs[0].dtype)]
    return [_fresh(np.max(x, axis=op.axis), x, node.outputs[0].dtype)]


@perform.register(Min)
def py_min(op: Min, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    (x,) = inputs
    if op.initial is not None:
        return [_fresh(np.min(x, axis=op.axis, initial=op.initial), x, node.outputs[0].dtype)]
    return [_fresh(np.min(x, axis=op.axis), x, node.outputs[0].dtype)]


@perform.register(All)
def py_all(op: All, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    (x,) = inputs
    return [_fresh(np.all(x, axis=op.axis), x, "bool")]


@perform.register(Any)
def py_any(op: Any, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    (x,) = inputs
    return [_fresh(np.any(x, axis=op.axis), x, "bool")]


def _arg_reduce(
    fn: Callable[..., np.ndarray], name: str, op: ArgReduce, x: np.ndarray
) -> np.ndarray:
    """Apply ``fn`` (np.argmax or np.argmin) over ``op.axis`` flattened together in C order."""
    kept = [i for i in range(x.ndim) if i not in op.axis]
    reduced = math.prod(x.shape[a] for a in op.axis)
    if reduced == 0:
        raise ValueError(
            f"{name} of an empty axis: axes {op.axis} of an array of shape {x.shape} hold no "
            "elements, so there is no extreme value to index"
        )
    moved = np.transpose(x, kept + list(op.axis))
    flat = moved.reshape([x.shape[i] for i in kept] + [reduced])
    return np.asarray(fn(flat, axis=-1), dtype="int64")


@perform.register(Argmax)
def py_argmax(op: Argmax, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    return [_arg_reduce(np.argmax, "argmax", op, inputs[0])]


@perform.register(Argmin)
def py_argmin(op: Argmin, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    return [_arg_reduce(np.argmin, "argmin", op, inputs[0])]


# the Elemwise and Reduce nodes an ElemwiseReduce node stands for, built once per node
# (make_node inspects the stack for the user's line: too slow to repeat on every call)
_UNFUSED: weakref.WeakKeyDictionary[Apply, tuple[Apply, Apply]] = weakref.WeakKeyDictionary()


@perform.register(ElemwiseReduce)
def py_elemwise_reduce(op: ElemwiseReduce, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    from symgraph.tensor.elemwise import Elemwise

    pair = _UNFUSED.get(node)
    if pair is None:
        inner = Elemwise(op.scalar_op).make_node(*node.inputs)
        pair = _UNFUSED[node] = (inner, op.reduce.make_node(inner.outputs[0]))
    inner, outer = pair
    (values,) = perform(inner.op, inner, inputs)
    return perform(outer.op, outer, [np.asarray(values, dtype=inner.outputs[0].type.dtype)])


@perform.register(CumOp)
def py_cumop(op: CumOp, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    (x,) = inputs
    accumulate = np.cumsum if op.mode == "add" else np.cumprod
    return [accumulate(x, axis=op.axis, dtype=node.outputs[0].type.dtype)]


@perform.register(Sort)
def py_sort(op: Sort, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    (x,) = inputs
    return [np.argsort(x, axis=op.axis).astype(np.int64) if op.argsort else np.sort(x, axis=op.axis)]


@perform.register(SortGrad)
def py_sort_grad(op: SortGrad, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    x, g = inputs
    out = np.zeros(np.broadcast_shapes(x.shape, g.shape), dtype=node.outputs[0].type.dtype)
    np.put_along_axis(out, np.argsort(x, axis=op.axis), np.broadcast_to(g, out.shape), axis=op.axis)
    return [out]
