"""Pullbacks: conv family (Conv2d, Pool2d and their gradient ops).

Every op here is linear in the gradient it carries, so each pullback is an op of the same
family, the adjoint of the forward (second derivatives come for free):

- ``out = Conv2d(x, w)``: ``<g, Conv2d(x, w)>`` gives ``Conv2dGradInputs(w, g)`` for x and
  ``Conv2dGradWeights(x, g)`` for w; and, read the other way, the pullbacks of those two
  ops are ``Conv2d`` again, plus the other gradient op.
- Pooling: ``AveragePool2dGrad`` is the adjoint of sum/average pooling and vice versa;
  ``MaxPool2dGrad`` and ``MaxPool2dGradGrad`` are each other's adjoints (for fixed x, the
  positions of the maxima are constants; their derivative in x is zero almost everywhere).
"""

from __future__ import annotations

from typing import Any

from symgraph.gradient.rules import pullback
from symgraph.graph.node import Apply
from symgraph.tensor.conv import (
    AveragePool2dGrad,
    Conv2d,
    Conv2dGradInputs,
    Conv2dGradWeights,
    MaxPool2dGrad,
    MaxPool2dGradGrad,
    Pool2d,
)
from symgraph.tensor.shape import shape_i


def _conv_params(op: Any) -> tuple[Any, ...]:
    return op.border_mode, op.subsample, op.filter_flip


def _pool_params(op: Any) -> tuple[Any, ...]:
    return op.ws, op.stride, op.pad, op.ignore_border


@pullback.register(Conv2d)
def _conv2d_pullback(op: Conv2d, node: Apply, output_grads: list[Any]) -> list[Any]:
    x, w = node.inputs
    (g,) = output_grads
    params = _conv_params(op)
    grad_x = Conv2dGradInputs(*params)(w, g, shape_i(x, 2), shape_i(x, 3))
    grad_w = Conv2dGradWeights(*params)(x, g, shape_i(w, 2), shape_i(w, 3))
    return [grad_x, grad_w]


@pullback.register(Conv2dGradInputs)
def _conv2d_grad_inputs_pullback(
    op: Conv2dGradInputs, node: Apply, output_grads: list[Any]
) -> list[Any]:
    # gx = GradInputs(w, g) is the adjoint of x -> Conv2d(x, w): <gx, h> = <g, Conv2d(h, w)>
    w, g, _, _ = node.inputs
    (h,) = output_grads
    params = _conv_params(op)
    grad_w = Conv2dGradWeights(*params)(h, g, shape_i(w, 2), shape_i(w, 3))
    return [grad_w, Conv2d(*params)(h, w), None, None]


@pullback.register(Conv2dGradWeights)
def _conv2d_grad_weights_pullback(
    op: Conv2dGradWeights, node: Apply, output_grads: list[Any]
) -> list[Any]:
    # gw = GradWeights(x, g) is the adjoint of w -> Conv2d(x, w): <gw, h> = <g, Conv2d(x, h)>
    x, g, _, _ = node.inputs
    (h,) = output_grads
    params = _conv_params(op)
    grad_x = Conv2dGradInputs(*params)(h, g, shape_i(x, 2), shape_i(x, 3))
    return [grad_x, Conv2d(*params)(x, h), None, None]


@pullback.register(Pool2d)
def _pool_2d_pullback(op: Pool2d, node: Apply, output_grads: list[Any]) -> list[Any]:
    (x,), (out,), (g,) = node.inputs, node.outputs, output_grads
    if op.mode == "max":
        return [MaxPool2dGrad(*_pool_params(op))(x, out, g)]
    return [AveragePool2dGrad(*_pool_params(op), op.mode)(x, g)]


@pullback.register(MaxPool2dGrad)
def _max_pool_2d_grad_pullback(op: MaxPool2dGrad, node: Apply, output_grads: list[Any]) -> list[Any]:
    x, out, _ = node.inputs
    (h,) = output_grads
    return [None, None, MaxPool2dGradGrad(*_pool_params(op))(x, out, h)]


@pullback.register(MaxPool2dGradGrad)
def _max_pool_2d_grad_grad_pullback(
    op: MaxPool2dGradGrad, node: Apply, output_grads: list[Any]
) -> list[Any]:
    x, out, _ = node.inputs
    (h,) = output_grads
    return [None, None, MaxPool2dGrad(*_pool_params(op))(x, out, h)]


@pullback.register(AveragePool2dGrad)
def _average_pool_2d_grad_pullback(
    op: AveragePool2dGrad, node: Apply, output_grads: list[Any]
) -> list[Any]:
    # x only gives the shape; the op is linear in the output gradient, its adjoint is the pool
    (h,) = output_grads
    return [None, Pool2d(*_pool_params(op), op.mode)(h)]
