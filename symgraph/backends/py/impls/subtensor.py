"""NumPy implementations: subtensor family (indexing, set/inc of indexed regions, nonzero)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from symgraph.backends.py.dispatch import perform
from symgraph.graph.node import Apply
from symgraph.tensor.subtensor import (
    ARRAY,
    INT,
    MASK,
    AdvancedIncSubtensor,
    AdvancedSubtensor,
    IncSubtensor,
    IndexEntry,
    Nonzero,
    SliceSpec,
    Subtensor,
    group_index_inputs,
)


def _numpy_index(
    idx_list: Sequence[IndexEntry], values: Sequence[np.ndarray], x_shape: tuple[int, ...]
) -> tuple[Any, ...]:
    """The NumPy index tuple for ``idx_list`` and the runtime index values.

    Integer indices are checked here so that the message names the axis and the valid range.
    """
    grouped = list(group_index_inputs(idx_list, values))
    consumed = 0
    for entry, value in grouped:
        if entry == MASK:
            consumed += np.ndim(value)
        elif entry in (INT, ARRAY) or isinstance(entry, SliceSpec):
            consumed += 1
    index: list[Any] = []
    axis = 0
    for entry, value in grouped:
        if isinstance(entry, SliceSpec):
            start, stop, step = (None if v is None else int(v) for v in value)
            if step == 0:
                raise ValueError(f"slice step cannot be zero (axis {axis})")
            index.append(slice(start, stop, step))
            axis += 1
        elif entry == INT:
            i, n = int(value), x_shape[axis]
            if not -n <= i < n:
                raise IndexError(
                    f"index {i} is out of bounds for axis {axis} with length {n} "
                    f"(valid indices: {-n} to {n - 1})"
                )
            index.append(i)
            axis += 1
        elif entry == ARRAY:
            index.append(np.asarray(value))
            axis += 1
        elif entry == MASK:
            mask = np.asarray(value, dtype=bool)
            index.append(mask)
            axis += mask.ndim
        elif entry is Ellipsis:
            index.append(Ellipsis)
            axis += len(x_shape) - consumed
        else:
            index.append(None)
    return tuple(index)


def _check_value_shape(node: Apply, y: np.ndarray, target_shape: tuple[int, ...]) -> None:
    """As in Elemwise, only axes of ``y`` that are statically 1 may stretch at run time.

    (The gradient with respect to ``y`` sums over exactly those axes.)
    """
    y_type = node.inputs[1].type
    offset = len(target_shape) - y.ndim
    for axis, (static, length) in enumerate(zip(y_type.shape, y.shape)):
        wanted = target_shape[offset + axis]
        if length != wanted and (static != 1 or length != 1):
            raise ValueError(
                f"the value of shape {y.shape} does not fit the indexed region of shape "
                f"{target_shape}: axis {axis} has length {length}, expected {wanted}. Only axes "
                "declared broadcastable (static length 1) broadcast"
            )


def _may_stretch_wrongly(node: Apply, y: np.ndarray) -> bool:
    # NumPy reports plain length mismatches itself; what it would accept silently is a
    # runtime length 1 on an axis not declared broadcastable, so only then look closer
    return any(n == 1 and static != 1 for static, n in zip(node.inputs[1].type.shape, y.shape))


@perform.register(Subtensor)
def py_subtensor(op: Subtensor, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    x, *values = inputs
    index = _numpy_index(op.idx_list, values, x.shape)
    # basic indexing gives a view of x; copy so that nothing downstream can write into x
    return [np.array(x[index])]


@perform.register(AdvancedSubtensor)
def py_advanced_subtensor(
    op: AdvancedSubtensor, node: Apply, inputs: list[np.ndarray]
) -> list[np.ndarray]:
    x, *values = inputs
    index = _numpy_index(op.idx_list, values, x.shape)
    result = x[index]
    if not any(entry in (ARRAY, MASK) for entry in op.idx_list):
        result = np.array(result)  # no index array, so NumPy gave a view of x
    return [np.asarray(result)]


@perform.register(IncSubtensor)
def py_inc_subtensor(op: IncSubtensor, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    x, y, *values = inputs
    index = _numpy_index(op.idx_list, values, x.shape)
    out = np.array(x)
    if _may_stretch_wrongly(node, y):
        _check_value_shape(node, y, out[index].shape)
    if op.set_instead_of_inc:
        out[index] = y
    else:
        out[index] += y
    return [out]


@perform.register(AdvancedIncSubtensor)
def py_advanced_inc_subtensor(
    op: AdvancedIncSubtensor, node: Apply, inputs: list[np.ndarray]
) -> list[np.ndarray]:
    x, y, *values = inputs
    index = _numpy_index(op.idx_list, values, x.shape)
    out = np.array(x)
    if _may_stretch_wrongly(node, y):
        _check_value_shape(node, y, out[index].shape)
    if op.set_instead_of_inc:
        out[index] = y
    else:
        # repeated indices accumulate every increment (a plain `out[index] += y` keeps one)
        np.add.at(out, index, y)
    return [out]


@perform.register(Nonzero)
def py_nonzero(op: Nonzero, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    return [np.asarray(i, dtype=np.int64) for i in np.nonzero(inputs[0])]
