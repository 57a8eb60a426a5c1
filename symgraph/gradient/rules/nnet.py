"""Pullbacks: nnet family (Softmax, LogSoftmax, CrossentropyCategorical1Hot)."""

from __future__ import annotations

from typing import Any

from symgraph.gradient.rules import pullback
from symgraph.graph.node import Apply
from symgraph.tensor import math as tm
from symgraph.tensor.elemwise import dimshuffle
from symgraph.tensor.nnet import CrossentropyCategorical1Hot, LogSoftmax, Softmax


@pullback.register(Softmax)
def _softmax_pullback(op: Softmax, node: Apply, output_grads: list[Any]) -> list[Any]:
    # d sm_i / d x_j = sm_i (delta_ij - sm_j), so grad_x = (g - sum(g * sm)) * sm
    from symgraph.tensor.reduce import sum as _sum

    (g,) = output_grads
    sm = node.outputs[0]
    return [tm.mul(tm.sub(g, _sum(tm.mul(g, sm), axis=op.axis, keepdims=True)), sm)]


@pullback.register(LogSoftmax)
def _log_softmax_pullback(op: LogSoftmax, node: Apply, output_grads: list[Any]) -> list[Any]:
    # d lsm_i / d x_j = delta_ij - softmax_j, so grad_x = g - exp(lsm) * sum(g)
    from symgraph.tensor.reduce import sum as _sum

    (g,) = output_grads
    lsm = node.outputs[0]
    return [tm.sub(g, tm.mul(tm.exp(lsm), _sum(g, axis=op.axis, keepdims=True)))]


@pullback.register(CrossentropyCategorical1Hot)
def _crossentropy_categorical_1hot_pullback(
    op: CrossentropyCategorical1Hot, node: Apply, output_grads: list[Any]
) -> list[Any]:
    # z[i] = -log(p[i, y[i]]): the gradient is -g[i] / p[i, y[i]] at the label, 0 elsewhere.
    # 1 / p[i, y[i]] is exp(z[i]), which avoids gathering p and dividing by the zeros that
    # other columns may hold.
    from symgraph.tensor.shape import arange, shape_i

    coding_dist, labels = node.inputs
    (g,) = output_grads
    z = node.outputs[0]
    classes = arange(shape_i(coding_dist, 1))
    one_hot = tm.eq(dimshuffle(labels, (0, "x")), dimshuffle(classes, ("x", 0)))
    at_label = tm.mul(tm.neg(g), tm.exp(z))
    return [tm.switch(one_hot, dimshuffle(at_label, (0, "x")), 0), None]
