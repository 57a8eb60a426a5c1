"""NumPy implementations: nnet family (softmax, log-softmax, categorical crossentropy)."""

from __future__ import annotations

import numpy as np

from symgraph.backends.py.dispatch import perform
from symgraph.graph.node import Apply
from symgraph.tensor.nnet import CrossentropyCategorical1Hot, LogSoftmax, Softmax


def _shifted(x: np.ndarray, axis: int, dtype: str) -> np.ndarray:
    """``x - max(x, axis)``: the largest entry becomes 0, so exp() cannot overflow. Where the
    max is infinite the shift is 0 instead (inf - inf would make the whole line NaN where
    ``exp(x) / sum(exp(x))`` as written gives 0 for the finite entries)."""
    x = x.astype(dtype, copy=False)
    peak = np.max(x, axis=axis, keepdims=True)
    return x - np.where(np.isinf(peak), 0, peak).astype(dtype, copy=False)


@perform.register(Softmax)
def py_softmax(op: Softmax, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    (x,) = inputs
    dtype = node.outputs[0].type.dtype
    if x.shape[op.axis] == 0:
        return [np.empty(x.shape, dtype=dtype)]
    with np.errstate(invalid="ignore"):
        exps = np.exp(_shifted(x, op.axis, dtype))
        return [exps / exps.sum(axis=op.axis, keepdims=True)]


@perform.register(LogSoftmax)
def py_log_softmax(op: LogSoftmax, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    (x,) = inputs
    dtype = node.outputs[0].type.dtype
    if x.shape[op.axis] == 0:
        return [np.empty(x.shape, dtype=dtype)]
    with np.errstate(invalid="ignore", divide="ignore"):
        shifted = _shifted(x, op.axis, dtype)
        return [shifted - np.log(np.exp(shifted).sum(axis=op.axis, keepdims=True))]


@perform.register(CrossentropyCategorical1Hot)
def py_crossentropy_categorical_1hot(
    op: CrossentropyCategorical1Hot, node: Apply, inputs: list[np.ndarray]
) -> list[np.ndarray]:
    coding_dist, labels = inputs
    rows, classes = coding_dist.shape
    if labels.shape[0] != rows:
        raise ValueError(
            f"crossentropy_categorical_1hot: coding_dist has shape {coding_dist.shape} but there "
            f"are {labels.shape[0]} labels; expected one label per row"
        )
    bad = np.flatnonzero((labels < 0) | (labels >= classes))
    if bad.size:
        row = int(bad[0])
        raise IndexError(
            f"crossentropy_categorical_1hot: label {int(labels[row])} in row {row} is out of range "
            f"for {classes} classes (labels must be in [0, {classes}))"
        )
    picked = coding_dist[np.arange(rows), labels].astype(node.outputs[0].type.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        return [-np.log(picked)]
