"""Reductions: sum, prod, max, min, all, any, argmax, argmin, and what is built on them.

Ops
---
One class per reduction kind, all sharing the base ``Reduce(axis)``: ``Sum(axis, dtype,
acc_dtype)``, ``Prod(axis, dtype, acc_dtype)``, ``Max(axis)``, ``Min(axis)``, ``All(axis)``,
``Any(axis)``; and ``Argmax(axis)``, ``Argmin(axis)`` (base ``ArgReduce``, int64 result).
Separate classes (rather than one ``Reduce(kind, axis)``) let backends, pullbacks and rewrites
dispatch on the op class as they do for every other family. Each class names the scalar op
that combines two elements (``scalar_op``) and the value of an empty reduction
(``identity``, ``None`` where there is none, as for max and min).

``axis`` is always a sorted tuple of distinct non-negative ints; the user functions turn
``None`` (all axes), negative ints and unsorted tuples into that form. The ops always
produce the reduced shape (no keepdims); ``keepdims=True`` adds the length-1 axes back with
a DimShuffle.

User functions
--------------
``sum prod mean var std max min argmax argmin all any logsumexp max_and_argmax``, with
NumPy's semantics and dtypes: sums and products of bool and signed integers accumulate in
int64, of unsigned integers in uint64, floats keep their dtype; ``mean``, ``var`` and
``std`` of integers are float64; ``all``/``any`` give bool; ``argmax``/``argmin`` int64.
"""

from __future__ import annotations

import builtins
import math
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from symgraph import scalar as ps
from symgraph.graph.node import Apply
from symgraph.graph.op import Op
from symgraph.scalar import dtypes as _dt
from symgraph.scalar.op import ScalarOp
from symgraph.tensor import math as tm
from symgraph.tensor.elemwise import dimshuffle
from symgraph.tensor.shape import shape_i
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import TensorVariable, as_tensor_variable, constant

__all__ = [
    "all", "any", "argmax", "argmin", "logsumexp", "max", "max_and_argmax", "mean", "min", "prod",
    "std", "sum", "var",
]

AxisArg = typing.Union[int, Sequence[int], None]


# -- axis handling ---------------------------------------------------------------------------
def _check_op_axis(op_name: str, axis: typing.Any) -> tuple[int, ...]:
    """Validate an op's ``axis`` parameter: distinct non-negative ints, returned sorted."""
    if not isinstance(axis, (tuple, list)):
        raise TypeError(
            f"{op_name}: axis must be a tuple of non-negative ints, got {axis!r} "
            "(the user functions, e.g. T.sum, also accept None and negative axes)"
        )
    for a in axis:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)) or a < 0:
            raise ValueError(f"{op_name}: axis must hold non-negative ints, got {tuple(axis)!r}")
    if len(set(axis)) != len(axis):
        raise ValueError(f"{op_name}: axis {tuple(axis)!r} repeats an axis")
    return tuple(sorted(int(a) for a in axis))


def normalize_axis(func_name: str, x: TensorVariable, axis: AxisArg) -> tuple[int, ...]:
    """``axis`` as a user gives it (int, negative int, tuple or None) -> sorted tuple.

    Raises ``numpy.exceptions.AxisError`` (a ValueError and an IndexError, as NumPy) for an
    axis out of range, naming the function, the axis and ``x``'s ndim.
    """
    if axis is None:
        return tuple(range(x.ndim))
    items = list(axis) if isinstance(axis, (tuple, list)) else [axis]
    result: list[int] = []
    for a in items:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise TypeError(
                f"{func_name}: axis must be an int, a tuple of ints or None, got {axis!r}"
            )
        a = int(a)
        if not -x.ndim <= a < x.ndim:
            valid = f"{-x.ndim}..{x.ndim - 1}" if x.ndim else "none: it is a scalar"
            raise np.exceptions.AxisError(
                f"{func_name}: axis {a} is out of bounds for {x!r}, which has ndim {x.ndim} "
                f"(valid axes: {valid})"
            )
        a = a % x.ndim
        if a in result:
            raise ValueError(f"{func_name}: axis {axis!r} names axis {a} twice")
        result.append(a)
    return tuple(sorted(result))


def _keepdims_pattern(axes: tuple[int, ...], ndim: int) -> list[int | str]:
    """The DimShuffle pattern that puts length-1 axes back where ``axes`` were reduced."""
    pattern: list[int | str] = []
    kept = 0
    for i in range(ndim):
        if i in axes:
            pattern.append("x")
        else:
            pattern.append(kept)
            kept += 1
    return pattern


def restore_reduced_axes(out: typing.Any, axes: tuple[int, ...], ndim: int) -> TensorVariable:
    """Insert length-1 axes into a reduced ``out`` at ``axes`` (the keepdims shape)."""
    return dimshuffle(out, _keepdims_pattern(axes, ndim))


def _drop_reduced_axes(out: TensorVariable, axes: tuple[int, ...]) -> TensorVariable:
    """The inverse of ``restore_reduced_axes``: drop ``axes``, which have static length 1."""
    return dimshuffle(out, [i for i in range(out.ndim) if i not in axes])


def _finish(
    out: TensorVariable, axes: tuple[int, ...], ndim: int, keepdims: bool
) -> TensorVariable:
    return restore_reduced_axes(out, axes, ndim) if keepdims else out


# -- ops -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reduce(Op):
    """Base of the reductions: combine the elements of ``x`` along ``axis``.

    ``axis`` is a sorted tuple of distinct non-negative ints (``()`` reduces nothing). The
    output has ``x``'s shape without those axes.
    """

    axis: tuple[int, ...]

    #: combines two elements; for backends and rewrites (e.g. ps.add for Sum)
    scalar_op: ClassVar[ScalarOp]
    #: the result over an empty axis; None when there is none (max and min raise)
    identity: ClassVar[typing.Any] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "axis", _check_op_axis(type(self).__name__, self.axis))

    def output_dtype(self, x_dtype: str) -> str:
        return x_dtype

    def make_node(self, x: typing.Any) -> Apply:
        x = as_tensor_variable(x)
        for a in self.axis:
            if a >= x.ndim:
                raise ValueError(
                    f"{self}: axis {a} is out of range for {x!r} "
                    f"({x.type.describe()}, ndim {x.ndim})"
                )
        shape = tuple(s for i, s in enumerate(x.type.shape) if i not in self.axis)
        out_type = TensorType(self.output_dtype(x.dtype), shape)
        return Apply(self, [x], [out_type.make_variable()])

    def infer_shape(
        self, node: Apply, input_shapes: Sequence[tuple[typing.Any, ...]]
    ) -> list[tuple[typing.Any, ...]]:
        (xshape,) = input_shapes
        return [tuple(s for i, s in enumerate(xshape) if i not in self.axis)]

    def __str__(self) -> str:
        params = [f"axis={self.axis}"]
        params += [f"{k}={v}" for k, v in self.params().items() if k != "axis" and v is not None]
        return f"{type(self).__name__}{{{', '.join(params)}}}"


def _accumulating_dtype(x_dtype: str) -> str:
    """NumPy's default result of sum/prod: small ints widen to the platform int (int64)."""
    if x_dtype == "bool" or x_dtype in _dt.INT_DTYPES:
        return "int64"
    if x_dtype in _dt.UINT_DTYPES:
        return "uint64"
    return x_dtype


@dataclass(frozen=True)
class _Accumulate(Reduce):
    """Sum and Prod: an output ``dtype`` and an accumulator ``acc_dtype``.

    ``dtype=None`` means NumPy's default for the input (see ``_accumulating_dtype``);
    ``acc_dtype=None`` means accumulate in the output dtype, as NumPy does.
    """

    dtype: str | None = None
    acc_dtype: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        for field in ("dtype", "acc_dtype"):
            value = getattr(self, field)
            if value is not None:
                object.__setattr__(self, field, _dt.normalize_dtype(value))

    def output_dtype(self, x_dtype: str) -> str:
        return self.dtype if self.dtype is not None else _accumulating_dtype(x_dtype)

    def make_node(self, x: typing.Any) -> Apply:
        x = as_tensor_variable(x)
        if self.acc_dtype is not None and _dt.upcast(x.dtype, self.acc_dtype) != self.acc_dtype:
            raise TypeError(
                f"{self}: the accumulator dtype {self.acc_dtype} cannot hold {x.dtype} input "
                f"without loss; use acc_dtype={_dt.upcast(x.dtype, self.acc_dtype)!r} "
                "or leave it None"
            )
        return super().make_node(x)


@dataclass(frozen=True)
class Sum(_Accumulate):
    """Sum over ``axis`` (NumPy's ``np.sum(x, axis, dtype)``)."""

    scalar_op: ClassVar[ScalarOp] = ps.add
    identity: ClassVar[typing.Any] = 0


@dataclass(frozen=True)
class Prod(_Accumulate):
    """Product over ``axis`` (NumPy's ``np.prod(x, axis, dtype)``)."""

    scalar_op: ClassVar[ScalarOp] = ps.mul
    identity: ClassVar[typing.Any] = 1


@dataclass(frozen=True)
class Max(Reduce):
    """Maximum over ``axis``; an empty axis is an error at run time (no identity), unless
    ``initial`` is given: then it is NumPy's ``np.max(x, axis, initial=initial)`` (the
    result is at least ``initial``, and ``initial`` over an empty axis)."""

    initial: float | None = None

    scalar_op: ClassVar[ScalarOp] = ps.maximum


@dataclass(frozen=True)
class Min(Reduce):
    """Minimum over ``axis``; an empty axis is an error at run time (no identity), unless
    ``initial`` is given (NumPy's ``np.min(x, axis, initial=initial)``)."""

    initial: float | None = None

    scalar_op: ClassVar[ScalarOp] = ps.minimum


@dataclass(frozen=True)
class All(Reduce):
    """True where every element along ``axis`` is nonzero (bool result)."""

    scalar_op: ClassVar[ScalarOp] = ps.and_
    identity: ClassVar[typing.Any] = True

    def output_dtype(self, x_dtype: str) -> str:
        return "bool"


@dataclass(frozen=True)
class Any(Reduce):
    """True where some element along ``axis`` is nonzero (bool result)."""

    scalar_op: ClassVar[ScalarOp] = ps.or_
    identity: ClassVar[typing.Any] = False

    def output_dtype(self, x_dtype: str) -> str:
        return "bool"


@dataclass(frozen=True)
class ArgReduce(Op):
    """Base of Argmax and Argmin: the int64 index of the extreme element along ``axis``.

    With several axes, they are flattened (C order, as PyTensor does): the index counts
    positions in ``x.transpose(kept + axis).reshape(kept_shape + (-1,))``. With every axis,
    that is NumPy's ``axis=None`` (the index into ``x.ravel()``).
    """

    axis: tuple[int, ...]

    def __post_init__(self) -> None:
        axis = _check_op_axis(type(self).__name__, self.axis)
        if not axis:
            raise ValueError(f"{type(self).__name__}: axis must name at least one axis")
        object.__setattr__(self, "axis", axis)

    def make_node(self, x: typing.Any) -> Apply:
        x = as_tensor_variable(x)
        for a in self.axis:
            if a >= x.ndim:
                raise ValueError(
                    f"{self}: axis {a} is out of range for {x!r} "
                    f"({x.type.describe()}, ndim {x.ndim})"
                )
        shape = tuple(s for i, s in enumerate(x.type.shape) if i not in self.axis)
        return Apply(self, [x], [TensorType("int64", shape).make_variable()])

    def infer_shape(
        self, node: Apply, input_shapes: Sequence[tuple[typing.Any, ...]]
    ) -> list[tuple[typing.Any, ...]]:
        (xshape,) = input_shapes
        return [tuple(s for i, s in enumerate(xshape) if i not in self.axis)]

    def __str__(self) -> str:
        return f"{type(self).__name__}{{axis={self.axis}}}"


@dataclass(frozen=True)
class Argmax(ArgReduce):
    """Index of the (first) maximum along ``axis``."""


@dataclass(frozen=True)
class Argmin(ArgReduce):
    """Index of the (first) minimum along ``axis``."""


# -- user functions --------------------------------------------------------------------------
def _accumulate(
    op_class: type[_Accumulate],
    func_name: str,
    x: typing.Any,
    axis: AxisArg,
    keepdims: bool,
    dtype: typing.Any,
    acc_dtype: typing.Any,
) -> TensorVariable:
    x = as_tensor_variable(x)
    axes = normalize_axis(func_name, x, axis)
    default = _accumulating_dtype(x.dtype)
    out_dtype = default if dtype is None else _dt.normalize_dtype(dtype)
    acc = None if acc_dtype is None else _dt.normalize_dtype(acc_dtype)
    # store None for the defaults, so that sum(x) and Sum(axis)(x) are the same op (merging)
    op = op_class(
        axes,
        dtype=None if out_dtype == default else out_dtype,
        acc_dtype=None if acc == out_dtype else acc,
    )
    return _finish(op(x), axes, x.ndim, keepdims)


def sum(  # noqa: A001 - NumPy's name
    x: typing.Any,
    axis: AxisArg = None,
    keepdims: bool = False,
    dtype: typing.Any = None,
    acc_dtype: typing.Any = None,
) -> TensorVariable:
    """Sum of the elements of ``x`` over ``axis`` (NumPy's ``np.sum``).

    Parameters
    ----------
    x : tensor-like
    axis : int, tuple of ints or None
        Axes to sum over (negative counts from the end); None sums everything.
    keepdims : bool
        Keep the summed axes with length 1.
    dtype : dtype, optional
        The result dtype. By default bool and signed integers give int64, unsigned
        integers uint64, floats and complex their own dtype.
    acc_dtype : dtype, optional
        The accumulator dtype (by default the result dtype); it must hold the input.

    >>> T.sum(T.dmatrix('x'), axis=0).type.describe()
    'float64 vector'
    """
    return _accumulate(Sum, "sum", x, axis, keepdims, dtype, acc_dtype)


def prod(
    x: typing.Any,
    axis: AxisArg = None,
    keepdims: bool = False,
    dtype: typing.Any = None,
    acc_dtype: typing.Any = None,
) -> TensorVariable:
    """Product of the elements of ``x`` over ``axis`` (NumPy's ``np.prod``).

    Parameters are those of ``sum``; an empty product is 1.

    >>> T.prod(T.ivector('v')).dtype
    'int64'
    """
    return _accumulate(Prod, "prod", x, axis, keepdims, dtype, acc_dtype)


def _count(x: TensorVariable, axes: tuple[int, ...], dtype: str) -> TensorVariable:
    """The number of elements reduced over ``axes``, as a ``dtype`` scalar."""
    static = [x.type.shape[a] for a in axes]
    if builtins.all(s is not None for s in static):
        return constant(math.prod(s for s in static if s is not None), dtype=dtype)
    lengths = [shape_i(x, a) for a in axes]
    n = lengths[0] if len(lengths) == 1 else tm.mul(*lengths)
    return tm.cast(n, dtype)


def mean(
    x: typing.Any,
    axis: AxisArg = None,
    keepdims: bool = False,
    dtype: typing.Any = None,
    acc_dtype: typing.Any = None,
) -> TensorVariable:
    """Arithmetic mean over ``axis`` (NumPy's ``np.mean``).

    Parameters
    ----------
    x : tensor-like
    axis : int, tuple of ints or None
    keepdims : bool
    dtype : dtype, optional
        The result dtype: by default float64 for bool and integer input, else ``x``'s dtype
        (float16 is summed in float32, as NumPy does).
    acc_dtype : dtype, optional
        The dtype the sum accumulates in.

    >>> T.mean(T.imatrix('m'), axis=1).dtype
    'float64'
    """
    x = as_tensor_variable(x)
    axes = normalize_axis("mean", x, axis)
    if dtype is not None:
        out_dtype = _dt.normalize_dtype(dtype)
    elif _dt.is_discrete(x.dtype):
        out_dtype = "float64"
    else:
        out_dtype = x.dtype
    sum_dtype = "float32" if out_dtype == "float16" else out_dtype
    total = sum(x, axis=axes, dtype=sum_dtype, acc_dtype=acc_dtype)
    if _dt.is_inexact(sum_dtype):
        result = tm.true_div(total, _count(x, axes, sum_dtype))
    else:
        # an integer dtype= asks for the (truncated) integer mean, as NumPy gives
        result = tm.true_div(total, _count(x, axes, "int64"))
    return _finish(tm.cast(result, out_dtype), axes, x.ndim, keepdims)


def _resolve_ddof(func_name: str, ddof: typing.Any, corrected: bool) -> typing.Any:
    if corrected:
        if ddof not in (0, 1):
            raise ValueError(
                f"{func_name}: corrected=True means ddof=1, but ddof={ddof!r} was given; "
                "pass one of them"
            )
        return 1
    return ddof


def var(
    x: typing.Any,
    axis: AxisArg = None,
    ddof: typing.Any = 0,
    keepdims: bool = False,
    corrected: bool = False,
) -> TensorVariable:
    """Variance over ``axis``: ``sum(|x - mean(x)|**2) / (n - ddof)`` (NumPy's ``np.var``).

    Computed in two passes (the mean first), which is stable for data far from 0.

    Parameters
    ----------
    x : tensor-like
    axis : int, tuple of ints or None
    ddof : int
        Delta degrees of freedom; the divisor is ``max(n - ddof, 0)``.
    keepdims : bool
    corrected : bool
        Theano's spelling of ``ddof=1`` (the unbiased estimate).

    The dtype is that of ``mean`` (float64 for integers); complex input gives a real result.

    >>> T.var(T.dvector('v'), ddof=1).ndim
    0
    """
    x = as_tensor_variable(x)
    ddof = _resolve_ddof("var", ddof, corrected)
    axes = normalize_axis("var", x, axis)
    centred = tm.sub(x, mean(x, axis=axes, keepdims=True))
    squared = tm.sqr(tm.abs(centred)) if _dt.is_complex(centred.dtype) else tm.sqr(centred)
    total = sum(squared, axis=axes, keepdims=keepdims)
    static = [x.type.shape[a] for a in axes]
    if builtins.all(s is not None for s in static):
        n = math.prod(s for s in static if s is not None)
        denominator: typing.Any = constant(builtins.max(n - ddof, 0), dtype=total.dtype)
    else:
        denominator = tm.maximum(tm.sub(_count(x, axes, total.dtype), ddof), 0)
    return tm.true_div(total, denominator)


def std(
    x: typing.Any,
    axis: AxisArg = None,
    ddof: typing.Any = 0,
    keepdims: bool = False,
    corrected: bool = False,
) -> TensorVariable:
    """Standard deviation over ``axis``: ``sqrt(var(x, axis, ddof))`` (NumPy's ``np.std``).

    Parameters are those of ``var``.

    >>> T.std(T.fmatrix('m'), axis=0).dtype
    'float32'
    """
    ddof = _resolve_ddof("std", ddof, corrected)
    return tm.sqrt(var(x, axis=axis, ddof=ddof, keepdims=keepdims))


def _simple(
    op_class: type[Reduce], func_name: str, x: typing.Any, axis: AxisArg, keepdims: bool
) -> TensorVariable:
    x = as_tensor_variable(x)
    axes = normalize_axis(func_name, x, axis)
    return _finish(op_class(axes)(x), axes, x.ndim, keepdims)


def max(  # noqa: A001 - NumPy's name
    x: typing.Any, axis: AxisArg = None, keepdims: bool = False
) -> TensorVariable:
    """Maximum over ``axis`` (NumPy's ``np.max``); the dtype is ``x``'s.

    Parameters
    ----------
    x : tensor-like
    axis : int, tuple of ints or None
    keepdims : bool

    An empty axis raises a ValueError at run time (there is no identity).

    >>> T.max(T.dmatrix('m'), axis=-1).ndim
    1
    """
    return _simple(Max, "max", x, axis, keepdims)


def min(  # noqa: A001 - NumPy's name
    x: typing.Any, axis: AxisArg = None, keepdims: bool = False
) -> TensorVariable:
    """Minimum over ``axis`` (NumPy's ``np.min``); the dtype is ``x``'s.

    Parameters are those of ``max``.

    >>> T.min(T.bvector('v')).dtype
    'int8'
    """
    return _simple(Min, "min", x, axis, keepdims)


def all(  # noqa: A001 - NumPy's name
    x: typing.Any, axis: AxisArg = None, keepdims: bool = False
) -> TensorVariable:
    """True where every element along ``axis`` is nonzero (NumPy's ``np.all``; bool result).

    Parameters are those of ``max``; an empty ``all`` is True.

    >>> T.all(T.dmatrix('m') > 0, axis=0).dtype
    'bool'
    """
    return _simple(All, "all", x, axis, keepdims)


def any(  # noqa: A001 - NumPy's name
    x: typing.Any, axis: AxisArg = None, keepdims: bool = False
) -> TensorVariable:
    """True where some element along ``axis`` is nonzero (NumPy's ``np.any``; bool result).

    Parameters are those of ``max``; an empty ``any`` is False.

    >>> T.any(T.ivector('v')).dtype
    'bool'
    """
    return _simple(Any, "any", x, axis, keepdims)


def _arg(
    op_class: type[ArgReduce], func_name: str, x: typing.Any, axis: AxisArg, keepdims: bool
) -> TensorVariable:
    x = as_tensor_variable(x)
    axes = normalize_axis(func_name, x, axis)
    if x.ndim == 0:
        # NumPy ravels a scalar to one element (whose index is 0)
        return op_class((0,))(dimshuffle(x, ["x"]))
    if not axes:
        raise ValueError(
            f"{func_name}: axis=() names no axis; give at least one axis, or None for all"
        )
    return _finish(op_class(axes)(x), axes, x.ndim, keepdims)


def argmax(x: typing.Any, axis: AxisArg = None, keepdims: bool = False) -> TensorVariable:
    """Index of the first maximum along ``axis`` (NumPy's ``np.argmax``; int64 result).

    Parameters
    ----------
    x : tensor-like
    axis : int, tuple of ints or None
        None indexes into the flattened ``x``, as NumPy. Several axes are flattened
        together (C order) and the index counts positions in that flattening.
    keepdims : bool

    >>> T.argmax(T.dmatrix('m'), axis=1).dtype
    'int64'
    """
    return _arg(Argmax, "argmax", x, axis, keepdims)


def argmin(x: typing.Any, axis: AxisArg = None, keepdims: bool = False) -> TensorVariable:
    """Index of the first minimum along ``axis`` (NumPy's ``np.argmin``; int64 result).

    Parameters are those of ``argmax``.

    >>> T.argmin(T.dvector('v')).ndim
    0
    """
    return _arg(Argmin, "argmin", x, axis, keepdims)


def max_and_argmax(x: typing.Any, axis: AxisArg = None) -> tuple[TensorVariable, TensorVariable]:
    """The maximum and its index along ``axis`` (Theano's ``max_and_argmax``).

    Parameters
    ----------
    x : tensor-like
    axis : int, tuple of ints or None

    Returns
    -------
    (max(x, axis), argmax(x, axis))

    >>> m, i = T.max_and_argmax(T.dmatrix('m'), axis=1)
    """
    return max(x, axis=axis), argmax(x, axis=axis)


def logsumexp(x: typing.Any, axis: AxisArg = None, keepdims: bool = False) -> TensorVariable:
    """``log(sum(exp(x), axis))``, computed without overflow (scipy's ``logsumexp``).

    The maximum along ``axis`` is subtracted before ``exp`` and added back after ``log``,
    so values like 1000 do not overflow; where that maximum is infinite (a row of -inf,
    or one holding +inf) the shift is 0, so such a row gives -inf (or +inf), not NaN. An
    empty axis gives -inf (the log of an empty sum), as scipy's does.
    Integer input is first converted to float as ``exp`` does.

    Parameters
    ----------
    x : tensor-like
    axis : int, tuple of ints or None
    keepdims : bool

    >>> T.logsumexp(T.dmatrix('m'), axis=1).ndim
    1
    """
    x = as_tensor_variable(x)
    axes = normalize_axis("logsumexp", x, axis)
    if _dt.is_discrete(x.dtype):
        x = tm.cast(x, _dt.upgrade_to_float(x.dtype))
    peak = max_or_minus_inf(x, axes)
    # exp(x - inf) would be exp(nan) where x is inf too, and an empty axis has peak -inf;
    # shift by 0 there instead (an empty axis then gives log(0) + 0 = -inf, as scipy's)
    shift = tm.switch(tm.isinf(peak), 0, peak)
    result = tm.add(tm.log(sum(tm.exp(tm.sub(x, shift)), axis=axes, keepdims=True)), shift)
    return result if keepdims else _drop_reduced_axes(result, axes)


def max_or_minus_inf(x: TensorVariable, axes: tuple[int, ...]) -> TensorVariable:
    """``max(x, axes, keepdims=True)`` that is -inf over an empty axis (NumPy's
    ``np.max(x, axes, keepdims=True, initial=-np.inf)``) for a float ``x``: one Max with
    ``initial=-inf`` where an axis may be empty (its static length is not known to be
    positive), else a plain Max. ``logsumexp`` shifts by this;
    ``stability.is_max_or_minus_inf`` recognises it.
    """
    if builtins.all(x.type.shape[a] is not None and x.type.shape[a] > 0 for a in axes):
        return max(x, axis=axes, keepdims=True)
    out = Max(axes, initial=-np.inf)(x)
    return restore_reduced_axes(out, axes, x.ndim)


@dataclass(frozen=True)
class ElemwiseReduce(Op):
    """``reduce(Elemwise(scalar_op)(*inputs))`` in one pass: the elementwise values are
    combined as they are computed and never stored.

    The fuse phase makes these from a Sum, Max or Min whose input is an elementwise node
    (usually a fused Composite) that nothing else reads; users do not build them. Same
    values, dtypes and shapes as the two nodes it replaces.
    """

    reduce: Reduce
    scalar_op: ScalarOp

    def make_node(self, *inputs: typing.Any) -> Apply:
        from symgraph.tensor.elemwise import Elemwise

        inner = Elemwise(self.scalar_op).make_node(*inputs)
        outer = self.reduce.make_node(inner.outputs[0])
        return Apply(self, list(inner.inputs), [outer.outputs[0].type.make_variable()])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[typing.Any, ...]]) -> list[tuple[typing.Any, ...]]:
        from symgraph.tensor.elemwise import Elemwise

        inner = Elemwise(self.scalar_op).make_node(*node.inputs)
        (shape,) = Elemwise(self.scalar_op).infer_shape(inner, input_shapes)
        return [tuple(s for i, s in enumerate(shape) if i not in self.reduce.axis)]

    def __str__(self) -> str:
        return f"{self.reduce}∘Elemwise{{{self.scalar_op}}}"
