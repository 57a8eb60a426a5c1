"""2-d convolution and pooling on NCHW tensors (``T.nnet.conv2d``, ``T.nnet.pool_2d``).

Theano's conventions throughout. ``conv2d(input, filters)`` takes an input of shape
(batch, in_channels, height, width) and filters of shape (out_channels, in_channels,
kernel_height, kernel_width); with ``filter_flip=True`` (the default) it is a true
convolution (the kernels are flipped in both spatial axes), with ``False`` a
cross-correlation. ``pool_2d`` reduces windows over the last two axes of any tensor with at
least two axes.

Each forward op has gradient ops of its own (``Conv2dGradInputs``, ``Conv2dGradWeights``,
``MaxPool2dGrad``, ``AveragePool2dGrad``, ``MaxPool2dGradGrad``): their forwards are the
correlations and scatters that the gradients need, and since all of them are linear in the
incoming gradient, their own pullbacks are again ops of this family (second derivatives
work).

Lengths along the spatial axes:
  conv2d: ``(H + 2 * pad - kernel) // stride + 1``, where ``pad`` is 0 ('valid'),
  ``kernel - 1`` ('full'), ``kernel // 2`` ('half') or the given int;
  pool_2d, ``ignore_border=True``: ``max(0, (H + 2 * pad - ws) // stride + 1)``;
  pool_2d, ``ignore_border=False``: windows that cover the edge partly are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Any

from symgraph.graph.node import Apply, Constant, Variable
from symgraph.graph.op import Op
from symgraph.scalar import dtypes as _dt
from symgraph.tensor import math as tm
from symgraph.tensor.linalg import InputShapes, format_shape
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import TensorVariable, as_tensor_variable

__all__ = ["conv2d", "pool_2d"]

#: a length: an int when known, else an int64 scalar variable
Length = Any

BORDER_MODES = ("valid", "full", "half")
POOL_MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")


# ---------------------------------------------------------------------------------------
# Length arithmetic shared by make_node (static ints), infer_shape (symbolic) and the
# implementations (ints): one formula, so the three always agree
# ---------------------------------------------------------------------------------------
def _is_known(*lengths: Length) -> bool:
    return all(isinstance(n, Integral) and not isinstance(n, Variable) for n in lengths)


def _at_least_zero(length: Length) -> Length:
    return max(0, int(length)) if _is_known(length) else tm.maximum(length, 0)


def conv_padding(border_mode: str | tuple[int, int], kernel: Length, axis: int) -> Length:
    """The zero padding on each side of spatial ``axis`` (0 or 1) for a kernel length."""
    if border_mode == "valid":
        return 0
    if border_mode == "full":
        return kernel - 1
    if border_mode == "half":
        return kernel // 2
    return border_mode[axis]  # type: ignore[index]


def conv_output_length(length: Length, kernel: Length, padding: Length, stride: int) -> Length:
    """``(length + 2 * padding - kernel) // stride + 1``, never below 0."""
    return _at_least_zero((length + 2 * padding - kernel) // stride + 1)


def pool_output_length(length: Length, ws: int, stride: int, pad: int, ignore_border: bool) -> Length:
    """The number of pooling windows along one axis (Theano's ``Pool.out_shape``)."""
    if ignore_border:
        return _at_least_zero((length + 2 * pad - ws) // stride + 1)
    if stride >= ws:
        # windows start at 0, stride, ... while they start inside the input
        return (length - 1) // stride + 1
    # enough windows that the last one reaches the end (it may hang over it)
    return _at_least_zero((length - 1 - ws + stride) // stride) + 1


def _static_length(var: Variable) -> int | None:
    """The value of an integer scalar input when it is a constant, else None."""
    if isinstance(var, Constant):
        return int(var.data)
    return None


def _pick(static: int | None, symbolic: Length) -> Length:
    return static if static is not None else symbolic


# ---------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------
def _int_pair(what: str, name: str, value: Any, minimum: int) -> tuple[int, int]:
    """``value`` as a pair of ints ``>= minimum`` (an int means the same for both axes)."""
    items = (value, value) if isinstance(value, Integral) else value
    try:
        first, second = items
    except (TypeError, ValueError):
        raise TypeError(f"{what}: {name} must be an int or a pair of ints, got {value!r}") from None
    pair = []
    for item in (first, second):
        if isinstance(item, bool) or not isinstance(item, Integral) or int(item) < minimum:
            raise ValueError(f"{what}: {name} must hold ints >= {minimum}, got {value!r}")
        pair.append(int(item))
    return pair[0], pair[1]


def normalize_border_mode(border_mode: Any) -> str | tuple[int, int]:
    """'valid', 'full', 'half', or a pair of non-negative paddings (an int pads both axes)."""
    if isinstance(border_mode, str):
        if border_mode not in BORDER_MODES:
            raise ValueError(
                f"conv2d: border_mode must be 'valid', 'full', 'half', an int or a pair of ints, "
                f"got {border_mode!r}"
            )
        return border_mode
    pair = _int_pair("conv2d", "border_mode", border_mode, 0)
    return "valid" if pair == (0, 0) else pair


def _float_tensor(what: str, name: str, var: TensorVariable, ndim: int) -> None:
    if var.ndim != ndim:
        raise TypeError(f"{what}: {name} must be a {ndim}-d tensor, got {var.type.describe()} {var!r}")
    if not _dt.is_float(var.dtype):
        raise TypeError(
            f"{what}: {name} must be float32 or float64, got {var.type.describe()} {var!r}; "
            "cast it first (T.cast(x, 'float64'))"
        )


def _int_scalar(what: str, name: str, value: Any) -> TensorVariable:
    var = as_tensor_variable(value)
    if var.ndim != 0 or not _dt.is_int(var.dtype):
        raise TypeError(f"{what}: {name} must be an integer scalar, got {var.type.describe()} {var!r}")
    return var


def _same_length(what: str, a: int | None, b: int | None, message: str) -> int | None:
    if a is not None and b is not None and a != b:
        raise ValueError(f"{what}: {message}")
    return a if a is not None else b


# ---------------------------------------------------------------------------------------
# Convolution ops
# ---------------------------------------------------------------------------------------
class _ConvParams:
    """Parameters shared by Conv2d and its gradient ops (a mixin, not an Op base)."""

    border_mode: str | tuple[int, int]
    subsample: tuple[int, int]
    filter_flip: bool

    def __post_init__(self) -> None:
        what = type(self).__name__
        if normalize_border_mode(self.border_mode) != self.border_mode:
            raise ValueError(f"{what}: border_mode must be normalised first, got {self.border_mode!r}")
        if _int_pair(what, "subsample", self.subsample, 1) != self.subsample:
            raise ValueError(
                f"{what}: subsample must be a tuple of two ints >= 1, got {self.subsample!r}"
            )
        if not isinstance(self.filter_flip, bool):
            raise TypeError(f"{what}: filter_flip must be a bool, got {self.filter_flip!r}")

    def output_length(self, length: Length, kernel: Length, axis: int) -> Length:
        padding = conv_padding(self.border_mode, kernel, axis)
        return conv_output_length(length, kernel, padding, self.subsample[axis])

    def static_output_length(self, length: int | None, kernel: int | None, axis: int) -> int | None:
        if length is None or kernel is None:
            return None
        return int(self.output_length(length, kernel, axis))


@dataclass(frozen=True)
class Conv2d(_ConvParams, Op):
    """2-d convolution of an NCHW batch with a bank of filters (Theano's ``conv2d``).

    Inputs: ``input`` (batch, in_channels, H, W) and ``filters`` (out_channels,
    in_channels, kh, kw), both floating point. Output: (batch, out_channels, H', W') of the
    upcast dtype.
    """

    border_mode: str | tuple[int, int] = "valid"
    subsample: tuple[int, int] = (1, 1)
    filter_flip: bool = True

    def make_node(self, input: Any, filters: Any) -> Apply:  # Theano's name
        input, filters = as_tensor_variable(input), as_tensor_variable(filters)
        _float_tensor("conv2d", "input", input, 4)
        _float_tensor("conv2d", "filters", filters, 4)
        in_shape, f_shape = input.type.shape, filters.type.shape
        _same_length(
            "conv2d", in_shape[1], f_shape[1],
            f"input of shape {format_shape(in_shape)} has {in_shape[1]} channels but filters of "
            f"shape {format_shape(f_shape)} expect {f_shape[1]} (filters are (out_channels, "
            "in_channels, kh, kw))",
        )
        heights = self.static_output_length(in_shape[2], f_shape[2], 0)
        widths = self.static_output_length(in_shape[3], f_shape[3], 1)
        shape = (in_shape[0], f_shape[0], heights, widths)
        out_type = TensorType(_dt.upcast(input.dtype, filters.dtype), shape)
        return Apply(self, [input, filters], [out_type.make_variable()])

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        in_shape, f_shape = input_shapes
        static = node.outputs[0].type.shape
        symbolic = (in_shape[0], f_shape[0], self.output_length(in_shape[2], f_shape[2], 0),
                    self.output_length(in_shape[3], f_shape[3], 1))
        return [tuple(_pick(s, sym) for s, sym in zip(static, symbolic))]


@dataclass(frozen=True)
class Conv2dGradInputs(_ConvParams, Op):
    """The gradient of ``Conv2d`` with respect to its input.

    Inputs: ``filters`` (out_channels, in_channels, kh, kw), ``output_grad`` (batch,
    out_channels, H', W') and the input's ``height`` and ``width`` (integer scalars: with a
    stride, they cannot be recovered from H'). Output: (batch, in_channels, height, width).
    """

    border_mode: str | tuple[int, int] = "valid"
    subsample: tuple[int, int] = (1, 1)
    filter_flip: bool = True

    def make_node(self, filters: Any, output_grad: Any, height: Any, width: Any) -> Apply:
        what = "conv2d (gradient of the input)"
        filters, output_grad = as_tensor_variable(filters), as_tensor_variable(output_grad)
        _float_tensor(what, "filters", filters, 4)
        _float_tensor(what, "output_grad", output_grad, 4)
        height, width = _int_scalar(what, "height", height), _int_scalar(what, "width", width)
        f_shape, g_shape = filters.type.shape, output_grad.type.shape
        _same_length(what, f_shape[0], g_shape[1],
                     f"filters of shape {format_shape(f_shape)} and an output gradient of shape "
                     f"{format_shape(g_shape)} disagree on the number of output channels")
        shape = (g_shape[0], f_shape[1], _static_length(height), _static_length(width))
        out_type = TensorType(_dt.upcast(filters.dtype, output_grad.dtype), shape)
        return Apply(self, [filters, output_grad, height, width], [out_type.make_variable()])

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        f_shape, g_shape = input_shapes[0], input_shapes[1]
        static = node.outputs[0].type.shape
        symbolic = (g_shape[0], f_shape[1], node.inputs[2], node.inputs[3])
        return [tuple(_pick(s, sym) for s, sym in zip(static, symbolic))]


@dataclass(frozen=True)
class Conv2dGradWeights(_ConvParams, Op):
    """The gradient of ``Conv2d`` with respect to its filters.

    Inputs: ``input`` (batch, in_channels, H, W), ``output_grad`` (batch, out_channels,
    H', W') and the filters' ``kernel_height`` and ``kernel_width`` (integer scalars).
    Output: (out_channels, in_channels, kernel_height, kernel_width).
    """

    border_mode: str | tuple[int, int] = "valid"
    subsample: tuple[int, int] = (1, 1)
    filter_flip: bool = True

    def make_node(self, input: Any, output_grad: Any, kernel_height: Any, kernel_width: Any) -> Apply:
        what = "conv2d (gradient of the filters)"
        input, output_grad = as_tensor_variable(input), as_tensor_variable(output_grad)
        _float_tensor(what, "input", input, 4)
        _float_tensor(what, "output_grad", output_grad, 4)
        kernel_height = _int_scalar(what, "kernel_height", kernel_height)
        kernel_width = _int_scalar(what, "kernel_width", kernel_width)
        in_shape, g_shape = input.type.shape, output_grad.type.shape
        _same_length(what, in_shape[0], g_shape[0],
                     f"an input of shape {format_shape(in_shape)} and an output gradient of shape "
                     f"{format_shape(g_shape)} disagree on the batch size")
        shape = (g_shape[1], in_shape[1], _static_length(kernel_height), _static_length(kernel_width))
        out_type = TensorType(_dt.upcast(input.dtype, output_grad.dtype), shape)
        return Apply(self, [input, output_grad, kernel_height, kernel_width], [out_type.make_variable()])

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        in_shape, g_shape = input_shapes[0], input_shapes[1]
        static = node.outputs[0].type.shape
        symbolic = (g_shape[1], in_shape[1], node.inputs[2], node.inputs[3])
        return [tuple(_pick(s, sym) for s, sym in zip(static, symbolic))]


# ---------------------------------------------------------------------------------------
# Pooling ops
# ---------------------------------------------------------------------------------------
class _PoolParams:
    """Parameters shared by Pool2d and its gradient ops (a mixin, not an Op base)."""

    ws: tuple[int, int]
    stride: tuple[int, int]
    pad: tuple[int, int]
    ignore_border: bool

    def __post_init__(self) -> None:
        what = type(self).__name__
        if _int_pair(what, "ws", self.ws, 1) != self.ws:
            raise ValueError(f"{what}: ws must be a tuple of two ints >= 1, got {self.ws!r}")
        if _int_pair(what, "stride", self.stride, 1) != self.stride:
            raise ValueError(f"{what}: stride must be a tuple of two ints >= 1, got {self.stride!r}")
        if _int_pair(what, "pad", self.pad, 0) != self.pad:
            raise ValueError(f"{what}: pad must be a tuple of two ints >= 0, got {self.pad!r}")
        if not isinstance(self.ignore_border, bool):
            raise TypeError(f"{what}: ignore_border must be a bool, got {self.ignore_border!r}")
        if self.pad != (0, 0) and not self.ignore_border:
            raise ValueError(f"{what}: padding works only with ignore_border=True, got pad={self.pad}")
        if self.pad[0] >= self.ws[0] or self.pad[1] >= self.ws[1]:
            raise ValueError(
                f"{what}: pad {self.pad} must be smaller than the window ws {self.ws} on each axis "
                "(a window could otherwise hold padding only)"
            )

    def output_length(self, length: Length, axis: int) -> Length:
        return pool_output_length(
            length, self.ws[axis], self.stride[axis], self.pad[axis], self.ignore_border
        )

    def output_shape(self, shape: tuple[Any, ...]) -> tuple[Any, ...]:
        """``shape`` with its last two lengths replaced by the numbers of windows."""
        lengths = []
        for axis, length in enumerate(shape[-2:]):
            lengths.append(None if length is None else self.output_length(length, axis))
        return tuple(shape[:-2]) + tuple(lengths)

    def _check_input(self, x: TensorVariable, what: str) -> None:
        if x.ndim < 2:
            raise TypeError(
                f"{what}: needs at least 2 axes (it pools the last two), got "
                f"{x.type.describe()} {x!r}"
            )
        if _dt.is_complex(x.dtype) or x.dtype == "bool":
            raise TypeError(f"{what}: needs real numbers, got {x.type.describe()} {x!r}")


def _check_same_type_shape(
    what: str, name: str, var: TensorVariable, like: tuple[int | None, ...]
) -> None:
    if var.ndim != len(like):
        raise TypeError(f"{what}: {name} must have {len(like)} axes, got {var.type.describe()} {var!r}")
    for a, b in zip(var.type.shape, like):
        if a is not None and b is not None and a != b:
            raise ValueError(
                f"{what}: {name} has shape {format_shape(var.type.shape)}, "
                f"expected {format_shape(like)}"
            )


@dataclass(frozen=True)
class Pool2d(_PoolParams, Op):
    """Pooling over windows of the last two axes (Theano's ``pool_2d``).

    ``mode``: 'max', 'sum', 'average_inc_pad' (the padding counts in the divisor),
    'average_exc_pad' (only real elements count). Max pooling never picks padding. Averages
    of integers are floats; max and sum keep the input dtype.
    """

    ws: tuple[int, int]
    stride: tuple[int, int]
    pad: tuple[int, int] = (0, 0)
    ignore_border: bool = True
    mode: str = "max"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.mode not in POOL_MODES:
            raise ValueError(f"Pool2d: mode must be one of {', '.join(POOL_MODES)}; got {self.mode!r}")

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        self._check_input(x, "pool_2d")
        dtype = _dt.upgrade_to_float(x.dtype) if self.mode.startswith("average") else x.dtype
        out_type = TensorType(dtype, self.output_shape(x.type.shape))
        return Apply(self, [x], [out_type.make_variable()])

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        static = node.outputs[0].type.shape
        symbolic = self.output_shape(tuple(input_shapes[0]))
        return [tuple(_pick(s, sym) for s, sym in zip(static, symbolic))]


@dataclass(frozen=True)
class MaxPool2dGrad(_PoolParams, Op):
    """The gradient of max pooling: each window's output gradient goes to every position of
    the window that equals the window's maximum (as Theano did).

    Inputs: ``x``, the pooled ``out`` and its gradient ``output_grad``. Output: like ``x``.
    """

    ws: tuple[int, int]
    stride: tuple[int, int]
    pad: tuple[int, int] = (0, 0)
    ignore_border: bool = True

    def make_node(self, x: Any, out: Any, output_grad: Any) -> Apply:
        what = "pool_2d (gradient of max pooling)"
        x, out = as_tensor_variable(x), as_tensor_variable(out)
        output_grad = as_tensor_variable(output_grad)
        self._check_input(x, what)
        pooled = self.output_shape(x.type.shape)
        _check_same_type_shape(what, "out", out, pooled)
        _check_same_type_shape(what, "output_grad", output_grad, pooled)
        out_type = TensorType(_dt.upgrade_to_float(output_grad.dtype), x.type.shape)
        return Apply(self, [x, out, output_grad], [out_type.make_variable()])

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        return [tuple(input_shapes[0])]


@dataclass(frozen=True)
class MaxPool2dGradGrad(_PoolParams, Op):
    """The pullback of ``MaxPool2dGrad`` with respect to its output gradient: for each
    window, the sum of ``input_grad_grad`` over the positions equal to the window's maximum.

    Inputs: ``x``, the pooled ``out`` and ``input_grad_grad`` (shaped like ``x``). Output:
    shaped like ``out``.
    """

    ws: tuple[int, int]
    stride: tuple[int, int]
    pad: tuple[int, int] = (0, 0)
    ignore_border: bool = True

    def make_node(self, x: Any, out: Any, input_grad_grad: Any) -> Apply:
        what = "pool_2d (second derivative of max pooling)"
        x, out = as_tensor_variable(x), as_tensor_variable(out)
        input_grad_grad = as_tensor_variable(input_grad_grad)
        self._check_input(x, what)
        pooled = self.output_shape(x.type.shape)
        _check_same_type_shape(what, "out", out, pooled)
        _check_same_type_shape(what, "input_grad_grad", input_grad_grad, x.type.shape)
        out_type = TensorType(_dt.upgrade_to_float(input_grad_grad.dtype), out.type.shape)
        return Apply(self, [x, out, input_grad_grad], [out_type.make_variable()])

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        return [tuple(input_shapes[1])]


@dataclass(frozen=True)
class AveragePool2dGrad(_PoolParams, Op):
    """The gradient of sum and average pooling: each window's output gradient is spread
    over the window (divided by the window's count for the averages).

    Inputs: ``x`` (only its shape is used) and ``output_grad``. Output: shaped like ``x``.
    """

    ws: tuple[int, int]
    stride: tuple[int, int]
    pad: tuple[int, int] = (0, 0)
    ignore_border: bool = True
    mode: str = "average_inc_pad"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.mode not in POOL_MODES[1:]:
            raise ValueError(
                "AveragePool2dGrad: mode must be 'sum', 'average_inc_pad' or "
                f"'average_exc_pad', got {self.mode!r}"
            )

    def make_node(self, x: Any, output_grad: Any) -> Apply:
        what = "pool_2d (gradient of average pooling)"
        x, output_grad = as_tensor_variable(x), as_tensor_variable(output_grad)
        self._check_input(x, what)
        _check_same_type_shape(what, "output_grad", output_grad, self.output_shape(x.type.shape))
        out_type = TensorType(_dt.upgrade_to_float(output_grad.dtype), x.type.shape)
        return Apply(self, [x, output_grad], [out_type.make_variable()])

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        return [tuple(input_shapes[0])]


# ---------------------------------------------------------------------------------------
# User functions
# ---------------------------------------------------------------------------------------
def _check_shape_hint(name: str, hint: Any, var: TensorVariable) -> None:
    """Theano's ``input_shape``/``filter_shape``: four lengths or None; they must agree with
    what the graph knows (they are hints, not run-time checks, as in Theano)."""
    if hint is None:
        return
    hint = tuple(hint)
    if len(hint) != 4 or not all(h is None or (isinstance(h, Integral) and h >= 0) for h in hint):
        raise ValueError(f"conv2d: {name} must be 4 lengths (ints or None), got {hint!r}")
    for h, s in zip(hint, var.type.shape):
        if h is not None and s is not None and h != s:
            raise ValueError(
                f"conv2d: {name} {hint!r} disagrees with the shape "
                f"{format_shape(var.type.shape)} of {var!r}"
            )


def conv2d(
    input: Any,  # Theano's name
    filters: Any,
    border_mode: str | int | tuple[int, int] = "valid",
    subsample: tuple[int, int] = (1, 1),
    filter_flip: bool = True,
    *,
    input_shape: Any = None,
    filter_shape: Any = None,
    image_shape: Any = None,
    filter_dilation: tuple[int, int] = (1, 1),
    num_groups: int = 1,
) -> TensorVariable:
    """2-d convolution of a batch of images with a bank of filters (NCHW).

    Parameters
    ----------
    input : 4-d float tensor (batch, in_channels, height, width)
    filters : 4-d float tensor (out_channels, in_channels, kernel_height, kernel_width)
    border_mode : 'valid' | 'full' | 'half' | int | (int, int)
        Zero padding: none, ``kernel - 1``, ``kernel // 2``, or the given amounts.
    subsample : (int, int)
        Strides along height and width.
    filter_flip : bool
        True (default) for a true convolution (kernels flipped), False to correlate.
    input_shape, filter_shape, image_shape : Theano's shape hints (``image_shape`` is the old
        name of ``input_shape``); checked against the static shapes, otherwise unused.
    filter_dilation : (int, int)
        Spacing of the kernel's taps along height and width (atrous convolution): a kernel of
        k taps spans ``(k - 1) * d + 1`` pixels, and 'half' and 'full' pad for that span, as
        Theano does. Computed as a convolution with the kernel spread out with zeros.
    num_groups : int
        Grouped convolution: the input's channels and the filters (out_channels) are split
        into this many groups, filter group g seeing only input group g; filters then have
        ``in_channels / num_groups`` channels. One convolution per group, joined on axis 1.

    Returns
    -------
    TensorVariable (batch, out_channels, (H + 2 pad - kh) // sh + 1, (W + 2 pad - kw) // sw + 1)
    of dtype upcast(input.dtype, filters.dtype).

    Examples
    --------
    >>> x, w = T.dtensor4('x'), T.dtensor4('w')
    >>> y = T.nnet.conv2d(x, w, border_mode='half')   # same height and width for odd kernels
    """
    dilation = _int_pair("conv2d", "filter_dilation", filter_dilation, 1)
    if isinstance(num_groups, bool) or not isinstance(num_groups, Integral) or num_groups < 1:
        raise ValueError(f"conv2d: num_groups must be a positive integer, got {num_groups!r}")
    if isinstance(border_mode, (tuple, list)) and len(border_mode) == 4:
        # Theano's conv2d took input_shape third: conv2d(x, w, (50, 1, 28, 28), ...)
        raise TypeError(
            f"conv2d: border_mode {tuple(border_mode)!r} looks like a shape; symgraph's third "
            "argument is border_mode, so pass Theano's shape hints by keyword (input_shape=...)"
        )
    input, filters = as_tensor_variable(input), as_tensor_variable(filters)
    if image_shape is not None and input_shape is not None:
        raise TypeError("conv2d: give input_shape or its old name image_shape, not both")
    op = Conv2d(normalize_border_mode(border_mode), _int_pair("conv2d", "subsample", subsample, 1),
                bool(filter_flip))
    kernels = filters
    if dilation != (1, 1):
        _float_tensor("conv2d", "filters", filters, 4)
        kernels = _dilated(filters, dilation)
    out = op(input, kernels) if num_groups == 1 else _grouped(op, input, kernels, int(num_groups))
    _check_shape_hint("input_shape", input_shape if image_shape is None else image_shape, input)
    _check_shape_hint("filter_shape", filter_shape, filters)
    return out  # type: ignore[no-any-return]


def _dilated(filters: TensorVariable, dilation: tuple[int, int]) -> TensorVariable:
    """The kernels with ``dilation - 1`` zeros between their taps: (o, c, kh, kw) ->
    (o, c, (kh - 1) * dh + 1, (kw - 1) * dw + 1); gradients flow to the taps only."""
    from symgraph.tensor.shape import zeros
    from symgraph.tensor.subtensor import set_subtensor

    dh, dw = dilation
    o, c, kh, kw = (filters.shape[k] for k in range(4))
    spread = zeros((o, c, (kh - 1) * dh + 1, (kw - 1) * dw + 1), dtype=filters.dtype)
    return set_subtensor(spread[:, :, ::dh, ::dw], filters)  # type: ignore[no-any-return]


def _grouped(op: Conv2d, input: TensorVariable, filters: TensorVariable, groups: int) -> TensorVariable:
    """``op`` on each of ``groups`` channel groups, joined along the channels. The splits are
    reshapes, so lengths the graph does not know are checked when the function runs (a
    reshape that does not fit raises, naming both shapes); known ones are checked here."""
    from symgraph.tensor.shape import concatenate

    _float_tensor("conv2d", "input", input, 4)
    _float_tensor("conv2d", "filters", filters, 4)
    channels, per_group, out_channels = input.type.shape[1], filters.type.shape[1], filters.type.shape[0]
    if out_channels is not None and out_channels % groups:
        raise ValueError(
            f"conv2d: num_groups={groups} must divide the filters' {out_channels} output channels "
            f"(filters {format_shape(filters.type.shape)})"
        )
    if channels is not None and per_group is not None and channels != groups * per_group:
        raise ValueError(
            f"conv2d: with num_groups={groups}, filters {format_shape(filters.type.shape)} take "
            f"{per_group} channels per group, so the input needs {groups * per_group}; input "
            f"{format_shape(input.type.shape)} has {channels}"
        )
    x = input.reshape((input.shape[0], groups, filters.shape[1], input.shape[2], input.shape[3]))
    w = filters.reshape((groups, filters.shape[0] // groups, filters.shape[1], filters.shape[2],
                         filters.shape[3]))
    return concatenate([op(x[:, g], w[g]) for g in range(groups)], axis=1)


def pool_2d(
    input: Any,  # Theano's name
    ws: Any,
    ignore_border: bool = True,
    stride: Any = None,
    pad: Any = (0, 0),
    mode: str = "max",
) -> TensorVariable:
    """Pool windows of the last two axes: max, sum or average.

    Parameters
    ----------
    input : tensor with at least 2 axes (pools the last two)
    ws : (int, int)
        Window height and width.
    ignore_border : bool
        True: only whole windows (default here; Theano's old default was False). False:
        windows that hang over the bottom/right edge are kept (the output is ceil-sized).
    stride : (int, int) or None
        Step between windows; None means ``ws`` (non-overlapping windows).
    pad : (int, int)
        Padding on both sides of each axis (needs ``ignore_border=True`` and ``pad < ws``).
        Max pooling never picks the padding; 'average_inc_pad' counts it in the divisor,
        'average_exc_pad' does not.
    mode : 'max' | 'sum' | 'average_inc_pad' | 'average_exc_pad'

    Examples
    --------
    >>> x = T.dtensor4('x')
    >>> y = T.nnet.pool_2d(x, (2, 2))     # 2x2 max pooling, ignore_border=True
    """
    ws_pair = _int_pair("pool_2d", "ws", ws, 1)
    stride_pair = ws_pair if stride is None else _int_pair("pool_2d", "stride", stride, 1)
    pad_pair = _int_pair("pool_2d", "pad", pad, 0)
    if mode not in POOL_MODES:
        raise ValueError(f"pool_2d: mode must be one of {', '.join(POOL_MODES)}; got {mode!r}")
    if pad_pair != (0, 0) and not ignore_border:
        raise ValueError(f"pool_2d: padding works only with ignore_border=True, got pad={pad_pair}")
    if pad_pair[0] >= ws_pair[0] or pad_pair[1] >= ws_pair[1]:
        raise ValueError(f"pool_2d: pad {pad_pair} must be smaller than ws {ws_pair} on each axis")
    op = Pool2d(ws_pair, stride_pair, pad_pair, bool(ignore_border), mode)
    return op(input)  # type: ignore[no-any-return]
