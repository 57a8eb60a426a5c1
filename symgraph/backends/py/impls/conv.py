"""NumPy implementations: conv family (conv2d, pool_2d and their gradient ops).

Convolutions are im2col: ``sliding_window_view`` gives every kernel-sized window of the
padded input as a view, one copy lays the windows out as columns, and a single matrix
product (BLAS) does the arithmetic. The gradient of the input scatters the columns back
with one strided add per kernel position (kh * kw adds, each over the whole batch).
Pooling loops over the positions inside a window, each a strided slice of the whole input.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from symgraph.backends.py.dispatch import perform
from symgraph.graph.node import Apply
from symgraph.tensor.conv import (
    AveragePool2dGrad,
    Conv2d,
    Conv2dGradInputs,
    Conv2dGradWeights,
    MaxPool2dGrad,
    MaxPool2dGradGrad,
    Pool2d,
    conv_padding,
)

Arrays = list[np.ndarray]
Shape = tuple[int, ...]
#: (before, after) padding of each of the last two axes
Pads = tuple[tuple[int, int], ...]


# ---------------------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------------------
def _conv_geometry(op: Any, what: str, in_shape: Shape, f_shape: Shape) -> tuple[int, ...]:
    """(pad_h, pad_w, out_h, out_w) for an input and filters shape, checking channels and
    that the kernel fits the padded input."""
    if in_shape[1] != f_shape[1]:
        raise ValueError(
            f"{what}: input of shape {in_shape} has {in_shape[1]} channels but filters of shape "
            f"{f_shape} expect {f_shape[1]} (filters are (out_channels, in_channels, kh, kw))"
        )
    kh, kw = f_shape[2], f_shape[3]
    pad_h, pad_w = conv_padding(op.border_mode, kh, 0), conv_padding(op.border_mode, kw, 1)
    if kh > in_shape[2] + 2 * pad_h or kw > in_shape[3] + 2 * pad_w:
        raise ValueError(
            f"{what}: filters of shape {f_shape} are larger than the input of shape {in_shape} "
            f"padded by ({pad_h}, {pad_w}) (border_mode={op.border_mode!r})"
        )
    return pad_h, pad_w, op.output_length(in_shape[2], kh, 0), op.output_length(in_shape[3], kw, 1)


def _zero_pad(x: np.ndarray, pad_h: int, pad_w: int) -> np.ndarray:
    if pad_h == 0 and pad_w == 0:
        return x
    out = np.zeros(x.shape[:-2] + (x.shape[-2] + 2 * pad_h, x.shape[-1] + 2 * pad_w), dtype=x.dtype)
    out[..., pad_h:pad_h + x.shape[-2], pad_w:pad_w + x.shape[-1]] = x
    return out


def _windows(x: np.ndarray, kh: int, kw: int, sh: int, sw: int, out_h: int, out_w: int) -> np.ndarray:
    """A view (..., out_h, out_w, kh, kw) of the windows of ``x``'s last two axes."""
    view = sliding_window_view(x, (kh, kw), axis=(-2, -1))
    return view[..., : (out_h - 1) * sh + 1 : sh, : (out_w - 1) * sw + 1 : sw, :, :]


def _columns(x_padded: np.ndarray, kh: int, kw: int, op: Any, out_h: int, out_w: int) -> np.ndarray:
    """im2col: (channels * kh * kw, batch * out_h * out_w), one copy of the windows, so that
    a whole batch is one matrix product (NumPy's stacked matmul with a broadcast operand
    does not reach BLAS)."""
    batch, channels = x_padded.shape[:2]
    sh, sw = op.subsample
    view = _windows(x_padded, kh, kw, sh, sw, out_h, out_w)  # (N, C, OH, OW, kh, kw)
    return view.transpose(1, 4, 5, 0, 2, 3).reshape(channels * kh * kw, batch * out_h * out_w)


def _channels_first(grad: np.ndarray) -> np.ndarray:
    """(N, O, OH, OW) -> (O, N * OH * OW), the layout that matches ``_columns``."""
    return grad.transpose(1, 0, 2, 3).reshape(grad.shape[1], -1)


def _oriented(filters: np.ndarray, flip: bool) -> np.ndarray:
    """The kernels as correlated: flipped in both spatial axes for a true convolution."""
    return filters[:, :, ::-1, ::-1] if flip else filters


@perform.register(Conv2d)
def py_conv2d(op: Conv2d, node: Apply, inputs: Arrays) -> Arrays:
    dtype = node.outputs[0].type.dtype
    x, filters = (np.asarray(v, dtype=dtype) for v in inputs)
    pad_h, pad_w, out_h, out_w = _conv_geometry(op, "conv2d", x.shape, filters.shape)
    batch, out_channels = x.shape[0], filters.shape[0]
    if batch * out_channels * out_h * out_w == 0:
        return [np.zeros((batch, out_channels, out_h, out_w), dtype=dtype)]
    kh, kw = filters.shape[2:]
    columns = _columns(_zero_pad(x, pad_h, pad_w), kh, kw, op, out_h, out_w)
    kernels = _oriented(filters, op.filter_flip).reshape(out_channels, -1)
    out = (kernels @ columns).reshape(out_channels, batch, out_h, out_w)
    return [np.ascontiguousarray(out.transpose(1, 0, 2, 3))]


def _check_output_grad(what: str, grad: np.ndarray, expected: Shape) -> None:
    if grad.shape != expected:
        raise ValueError(f"{what}: the output gradient has shape {grad.shape}, expected {expected}")


@perform.register(Conv2dGradInputs)
def py_conv2d_grad_inputs(op: Conv2dGradInputs, node: Apply, inputs: Arrays) -> Arrays:
    what = "conv2d (gradient of the input)"
    dtype = node.outputs[0].type.dtype
    filters, grad = np.asarray(inputs[0], dtype=dtype), np.asarray(inputs[1], dtype=dtype)
    height, width = int(inputs[2]), int(inputs[3])
    out_channels, channels, kh, kw = filters.shape
    batch = grad.shape[0]
    in_shape = (batch, channels, height, width)
    pad_h, pad_w, out_h, out_w = _conv_geometry(op, what, in_shape, filters.shape)
    _check_output_grad(what, grad, (batch, out_channels, out_h, out_w))
    # accumulated channels first, (C, N, H, W), the layout the columns come in
    padded = np.zeros((channels, batch, height + 2 * pad_h, width + 2 * pad_w), dtype=dtype)
    if grad.size and filters.size:
        kernels = _oriented(filters, op.filter_flip).reshape(out_channels, channels * kh * kw)
        # columns[(c, a, b), (n, i, j)] = sum_o kernel[o, (c, a, b)] * grad[o, (n, i, j)]
        columns = (kernels.T @ _channels_first(grad)).reshape(channels, kh, kw, batch, out_h, out_w)
        sh, sw = op.subsample
        # col2im: position (a, b) of the window of output (i, j) is pixel (i*sh + a, j*sw + b)
        for a in range(kh):
            for b in range(kw):
                rows = slice(a, a + (out_h - 1) * sh + 1, sh)
                cols = slice(b, b + (out_w - 1) * sw + 1, sw)
                padded[:, :, rows, cols] += columns[:, a, b]
    cropped = padded[:, :, pad_h:pad_h + height, pad_w:pad_w + width]
    return [np.ascontiguousarray(cropped.transpose(1, 0, 2, 3))]


@perform.register(Conv2dGradWeights)
def py_conv2d_grad_weights(op: Conv2dGradWeights, node: Apply, inputs: Arrays) -> Arrays:
    what = "conv2d (gradient of the filters)"
    dtype = node.outputs[0].type.dtype
    x, grad = np.asarray(inputs[0], dtype=dtype), np.asarray(inputs[1], dtype=dtype)
    kh, kw = int(inputs[2]), int(inputs[3])
    batch, channels = x.shape[:2]
    out_channels = grad.shape[1]
    f_shape = (out_channels, channels, kh, kw)
    pad_h, pad_w, out_h, out_w = _conv_geometry(op, what, x.shape, f_shape)
    _check_output_grad(what, grad, (batch, out_channels, out_h, out_w))
    if grad.size == 0 or x.size == 0:
        return [np.zeros(f_shape, dtype=dtype)]
    columns = _columns(_zero_pad(x, pad_h, pad_w), kh, kw, op, out_h, out_w)  # (C*kh*kw, N*OH*OW)
    # kernel[o, (c, a, b)] = sum_{(n, i, j)} grad[o, (n, i, j)] * columns[(c, a, b), (n, i, j)]
    kernels = _channels_first(grad) @ columns.T
    return [np.ascontiguousarray(_oriented(kernels.reshape(f_shape), op.filter_flip))]


# ---------------------------------------------------------------------------------------
# Pooling: a loop over the ws[0] * ws[1] positions inside a window, each one strided slice
# of the whole padded input (a reduction over a window view is ~50x slower in NumPy)
# ---------------------------------------------------------------------------------------
def _pool_layout(op: Any, shape: Shape) -> tuple[tuple[int, int], Pads]:
    """The output lengths and the (before, after) padding of the last two axes that makes
    every window whole: Theano's padding, plus room for windows that hang over the end
    when ``ignore_border=False``."""
    lengths, pads = [], []
    for axis in range(2):
        length = shape[-2 + axis]
        out = int(op.output_length(length, axis))
        before = op.pad[axis]
        reach = (out - 1) * op.stride[axis] + op.ws[axis] if out else 0  # end of the last window
        after = max(before, reach - length - before)
        lengths.append(out)
        pads.append((before, after))
    return (lengths[0], lengths[1]), tuple(pads)


def _padded(x: np.ndarray, pads: Pads, fill: Any) -> np.ndarray:
    if all(p == (0, 0) for p in pads):
        return x
    return np.pad(x, ((0, 0),) * (x.ndim - 2) + pads, constant_values=fill)


def _padded_shape(shape: Shape, pads: Pads) -> Shape:
    return shape[:-2] + tuple(n + before + after for n, (before, after) in zip(shape[-2:], pads))


def _unpadded(padded: np.ndarray, pads: Pads, shape: Shape) -> np.ndarray:
    (top, _), (left, _) = pads
    return np.ascontiguousarray(padded[..., top:top + shape[-2], left:left + shape[-1]])


def _lowest(dtype: np.dtype) -> Any:
    """The padding that max pooling never picks."""
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _window_positions(op: Any, out_hw: tuple[int, int]) -> list[tuple[Any, ...]]:
    """For each position (a, b) inside a window, the index of the padded input's last two
    axes that holds that position of every window: ``[..., a::sh, b::sw]`` cut to the
    output's size."""
    (out_h, out_w), (sh, sw) = out_hw, op.stride
    return [(Ellipsis, slice(a, a + (out_h - 1) * sh + 1, sh), slice(b, b + (out_w - 1) * sw + 1, sw))
            for a in range(op.ws[0]) for b in range(op.ws[1])]


def _window_counts(op: Any, shape: Shape, out_hw: tuple[int, int], include_pad: bool) -> np.ndarray:
    """(out_h, out_w): how many elements each window averages over (Theano's rule: the
    window clipped to the padded input, or to the real input without padding)."""
    counts = []
    for axis in range(2):
        length, pad = shape[-2 + axis], op.pad[axis]
        starts = np.arange(out_hw[axis]) * op.stride[axis]
        ends = np.minimum(starts + op.ws[axis], length + 2 * pad)
        if not include_pad:
            starts, ends = np.maximum(starts, pad), np.minimum(ends, length + pad)
        counts.append(ends - starts)
    return np.multiply.outer(counts[0], counts[1])


def _check_pooled(what: str, name: str, value: np.ndarray, expected: Shape) -> None:
    if value.shape != expected:
        raise ValueError(f"{what}: {name} has shape {value.shape}, expected {expected}")


@perform.register(Pool2d)
def py_pool_2d(op: Pool2d, node: Apply, inputs: Arrays) -> Arrays:
    (x,) = inputs
    dtype = node.outputs[0].type.dtype
    out_hw, pads = _pool_layout(op, x.shape)
    out_shape = x.shape[:-2] + out_hw
    if int(np.prod(out_shape)) == 0:
        return [np.zeros(out_shape, dtype=dtype)]
    if x.shape[-2] == 0 or x.shape[-1] == 0:
        raise ValueError(
            f"pool_2d: cannot pool an empty image (input shape {x.shape}) into {out_hw} windows"
        )
    positions = _window_positions(op, out_hw)
    if op.mode == "max":
        padded = _padded(x, pads, _lowest(x.dtype))
        out = padded[positions[0]].copy()
        for index in positions[1:]:
            np.maximum(out, padded[index], out=out)
        return [out]
    padded = _padded(x.astype(dtype, copy=False), pads, 0)
    out = padded[positions[0]].copy()
    for index in positions[1:]:
        out += padded[index]
    if op.mode != "sum":
        out /= _window_counts(op, x.shape, out_hw, op.mode == "average_inc_pad").astype(dtype)
    return [out]


def _max_positions(op: Any, what: str, x: np.ndarray, out: np.ndarray) -> tuple[Any, ...]:
    """x padded so that max pooling never picks the padding, the padding, and the window
    positions; checks that ``out`` has the pooled shape."""
    out_hw, pads = _pool_layout(op, x.shape)
    _check_pooled(what, "the pooled output", out, x.shape[:-2] + out_hw)
    return _padded(x, pads, _lowest(x.dtype)), pads, _window_positions(op, out_hw)


@perform.register(MaxPool2dGrad)
def py_max_pool_2d_grad(op: MaxPool2dGrad, node: Apply, inputs: Arrays) -> Arrays:
    what = "pool_2d (gradient of max pooling)"
    x, out, grad = inputs
    dtype = node.outputs[0].type.dtype
    padded_x, pads, positions = _max_positions(op, what, x, out)
    _check_pooled(what, "the output gradient", grad, out.shape)
    padded_grad = np.zeros(_padded_shape(x.shape, pads), dtype=dtype)
    if out.size:
        grad = grad.astype(dtype, copy=False)
        for index in positions:  # every position equal to its window's maximum gets the gradient
            padded_grad[index] += np.where(padded_x[index] == out, grad, 0)
    return [_unpadded(padded_grad, pads, x.shape)]


@perform.register(MaxPool2dGradGrad)
def py_max_pool_2d_grad_grad(op: MaxPool2dGradGrad, node: Apply, inputs: Arrays) -> Arrays:
    what = "pool_2d (second derivative of max pooling)"
    x, out, grad_grad = inputs
    dtype = node.outputs[0].type.dtype
    padded_x, pads, positions = _max_positions(op, what, x, out)
    _check_pooled(what, "the input's second gradient", grad_grad, x.shape)
    padded_gg = _padded(grad_grad.astype(dtype, copy=False), pads, 0)
    result = np.zeros(out.shape, dtype=dtype)
    if out.size:
        for index in positions:
            result += np.where(padded_x[index] == out, padded_gg[index], 0)
    return [result]


@perform.register(AveragePool2dGrad)
def py_average_pool_2d_grad(op: AveragePool2dGrad, node: Apply, inputs: Arrays) -> Arrays:
    what = "pool_2d (gradient of average pooling)"
    x, grad = inputs
    dtype = node.outputs[0].type.dtype
    out_hw, pads = _pool_layout(op, x.shape)
    _check_pooled(what, "the output gradient", grad, x.shape[:-2] + out_hw)
    padded_grad = np.zeros(_padded_shape(x.shape, pads), dtype=dtype)
    if grad.size:
        grad = grad.astype(dtype, copy=False)
        if op.mode != "sum":
            grad = grad / _window_counts(op, x.shape, out_hw, op.mode == "average_inc_pad").astype(dtype)
        for index in _window_positions(op, out_hw):  # each window spreads its gradient over itself
            padded_grad[index] += grad
    return [_unpadded(padded_grad, pads, x.shape)]
