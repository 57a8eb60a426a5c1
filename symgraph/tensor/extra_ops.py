"""Theano's ``tensor.extra_ops``: cumulative sums and products, differences, counting,
one-hot codes and diagonal filling.

Only the cumulative op (``CumOp``) is an op of its own; the other functions are built
from existing ops (indexing, elementwise math), so they are differentiated, rewritten
and compiled by what those ops already have. ``repeat`` and ``squeeze`` are the shape
family's functions, re-exported here because Theano kept them in this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgraph.graph.node import Apply
from symgraph.graph.op import Op
from symgraph.scalar import dtypes as _dt
from symgraph.tensor import math as _tm
from symgraph.tensor.reduce import max as _max
from symgraph.tensor.shape import (
    _normalize_axis,
    arange,
    concatenate,
    flatten,
    repeat,
    squeeze,
    zeros,
)
from symgraph.tensor.subtensor import inc_subtensor, set_subtensor
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import TensorVariable, as_tensor_variable

__all__ = [
    "allclose",
    "argsort",
    "bincount",
    "cumprod",
    "cumsum",
    "diag",
    "diagonal",
    "diff",
    "fill_diagonal",
    "iround",
    "isclose",
    "largest",
    "repeat",
    "roll",
    "sgn",
    "smallest",
    "sort",
    "squeeze",
    "to_one_hot",
    "trace",
    "tril",
    "triu",
]

_CUM_MODES = ("add", "mul")


@dataclass(frozen=True)
class CumOp(Op):
    """Cumulative sum (``mode='add'``) or product (``mode='mul'``) along ``axis``.

    ``axis`` is non-negative; the user functions flatten for ``axis=None``. The result
    dtype is NumPy's: bool and integers narrower than int64 accumulate in int64 (unsigned
    in uint64), floats and complex keep their dtype.
    """

    axis: int
    mode: str = "add"

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if self.mode not in _CUM_MODES:
            raise ValueError(f"{self}: mode must be 'add' or 'mul', got {self.mode!r}")
        if not 0 <= self.axis < x.ndim:
            raise ValueError(
                f"{self}: axis {self.axis} is out of bounds for {x!r} ({x.type.describe()}, "
                f"ndim={x.ndim})"
            )
        out = TensorType(_cumulative_dtype(x.dtype, self.mode), x.type.shape).make_variable()
        return Apply(self, [x], [out])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [tuple(input_shapes[0])]


def _cumulative_dtype(dtype: str, mode: str) -> str:
    # NumPy's own rule (small integers and bool accumulate in the default integer)
    probe = np.zeros(1, dtype=dtype)
    return (np.cumsum(probe) if mode == "add" else np.cumprod(probe)).dtype.name


def _cumulative(x: Any, axis: int | None, mode: str, what: str) -> TensorVariable:
    x = as_tensor_variable(x)
    if axis is None:
        x = flatten(x)  # NumPy: axis=None works on the flattened array (a 0-d one included)
        axis = 0
    return CumOp(_normalize_axis(axis, x.ndim, what), mode)(x)  # type: ignore[no-any-return]


def cumsum(x: Any, axis: int | None = None) -> TensorVariable:
    """Cumulative sum along ``axis`` (``numpy.cumsum``); ``axis=None`` flattens first.

    Parameters
    ----------
    x : tensor-like
    axis : int or None (negative counts from the end)

    Returns
    -------
    A tensor of ``x``'s shape (1-d when ``axis`` is None); bool and small integer inputs
    give int64, as in NumPy.

    >>> T.cumsum(v).eval({v: [1.0, 2.0, 3.0]})   # array([1., 3., 6.])
    """
    return _cumulative(x, axis, "add", "cumsum")


def cumprod(x: Any, axis: int | None = None) -> TensorVariable:
    """Cumulative product along ``axis`` (``numpy.cumprod``); ``axis=None`` flattens first.

    Parameters
    ----------
    x : tensor-like
    axis : int or None (negative counts from the end)

    Returns
    -------
    A tensor of ``x``'s shape (1-d when ``axis`` is None), with NumPy's dtype.

    >>> T.cumprod(v).eval({v: [1.0, 2.0, 3.0]})   # array([1., 2., 6.])
    """
    return _cumulative(x, axis, "mul", "cumprod")


def _along(axis: int, entry: slice) -> tuple[slice, ...]:
    return (slice(None),) * axis + (entry,)


def diff(x: Any, n: int = 1, axis: int = -1) -> TensorVariable:
    """The ``n``-th discrete difference along ``axis`` (``numpy.diff``).

    ``out[i] = x[i + 1] - x[i]``, applied ``n`` times; the axis gets ``n`` shorter. Bool
    inputs give ``x[i + 1] != x[i]``, as in NumPy.

    >>> T.diff(v).eval({v: [1.0, 4.0, 9.0]})   # array([3., 5.])
    """
    x = as_tensor_variable(x)
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"diff: n must be a non-negative int, got {n!r}")
    if x.ndim == 0:
        raise ValueError("diff: x must have at least one dimension, got a scalar")
    ax = _normalize_axis(axis, x.ndim, "diff")
    later, earlier = _along(ax, slice(1, None)), _along(ax, slice(None, -1))
    for _ in range(int(n)):
        if x.dtype == "bool":
            x = _tm.neq(x[later], x[earlier])
        else:
            x = x[later] - x[earlier]
    return x


def bincount(x: Any, weights: Any = None, minlength: Any = None, assert_nonneg: bool = False) -> TensorVariable:
    """Count occurrences of each value in a non-negative int vector (``numpy.bincount``).

    Parameters
    ----------
    x : int vector of non-negative values
    weights : optional vector of ``x``'s length; ``out[v]`` is then the sum of the weights
        where ``x == v``
    minlength : optional int (or int scalar): the least length of the result
    assert_nonneg : accepted for Theano; negative values are always an error here

    Returns
    -------
    A vector of length ``max(max(x) + 1, minlength)``: int64 counts, or float64 sums of
    ``weights`` (NumPy's dtypes).

    >>> T.bincount(iv).eval({iv: [0, 1, 1, 3]})   # array([1, 2, 0, 1])
    """
    x = as_tensor_variable(x)
    if x.ndim != 1 or not _dt.is_int(x.dtype):
        raise TypeError(f"bincount: x must be an integer vector, got {x!r} ({x.type.describe()})")
    x = _tm.cast(x, "int64")
    # max over x and -1, so an empty x gives length 0 as in NumPy
    length = _max(concatenate([x, as_tensor_variable(np.array([-1], dtype="int64"))])) + 1
    if minlength is not None:
        length = _tm.maximum(length, _tm.cast(as_tensor_variable(minlength), "int64"))
    # a negative value is sent out of bounds (index = length), so that it raises an
    # IndexError instead of counting from the end
    index = _tm.switch(_tm.lt(x, 0), length, x)
    if weights is None:
        return inc_subtensor(zeros((length,), dtype="int64")[index], 1)  # type: ignore[no-any-return]
    weights = as_tensor_variable(weights)
    if weights.ndim != 1:
        raise TypeError(f"bincount: weights must be a vector, got {weights!r} ({weights.type.describe()})")
    return inc_subtensor(  # type: ignore[no-any-return]
        zeros((length,), dtype="float64")[index], _tm.cast(weights, "float64")
    )


def to_one_hot(y: Any, nb_class: Any, dtype: Any = None) -> TensorVariable:
    """One-hot rows for integer labels: ``out[i, j] = (y[i] == j)``.

    Parameters
    ----------
    y : int vector of labels in ``[0, nb_class)``
    nb_class : int (or int scalar): the number of classes (columns)
    dtype : result dtype, ``config.floatX`` by default

    >>> T.to_one_hot(iv, 3).eval({iv: [2, 0]})   # [[0., 0., 1.], [1., 0., 0.]]
    """
    from symgraph.config import config

    y = as_tensor_variable(y)
    if y.ndim != 1 or not _dt.is_int(y.dtype):
        raise TypeError(f"to_one_hot: y must be an integer vector, got {y!r} ({y.type.describe()})")
    classes = arange(nb_class, dtype="int64")
    hot = _tm.eq(y.dimshuffle(0, "x"), classes.dimshuffle("x", 0))
    return _tm.cast(hot, dtype or config.floatX)


def fill_diagonal(a: Any, val: Any) -> TensorVariable:
    """A copy of ``a`` with its main diagonal set to the scalar ``val`` (``numpy.fill_diagonal``,
    which works in place; this returns the result).

    ``a`` is a matrix (rectangular: the first ``min(rows, columns)`` diagonal entries) or a
    tensor of 3 or more axes of equal lengths. ``val`` is cast to ``a``'s dtype.

    >>> T.fill_diagonal(m, 0.0)   # m with zeros on the diagonal
    """
    a = as_tensor_variable(a)
    val = as_tensor_variable(val)
    if a.ndim < 2:
        raise ValueError(f"fill_diagonal: a must have at least 2 dimensions, got {a!r} with {a.ndim}")
    if val.ndim != 0:
        raise TypeError(f"fill_diagonal: val must be a scalar, got {val!r} with ndim {val.ndim}")
    n = a.shape[0]
    for axis in range(1, a.ndim):
        n = _tm.minimum(n, a.shape[axis])
    # NumPy requires equal lengths beyond 2-d; min() matches it where NumPy is defined
    diagonal = arange(n, dtype="int64")
    if val.dtype != a.dtype:
        val = _tm.cast(val, a.dtype)
    return set_subtensor(a[(diagonal,) * a.ndim], val)  # type: ignore[no-any-return]


# ---- more of Theano's tensor functions, built from existing ops ---------------------------


def diagonal(a: Any, offset: int = 0) -> TensorVariable:
    """The ``offset``-th diagonal of the matrix ``a`` as a vector (``numpy.diagonal``)."""
    a = as_tensor_variable(a)
    if a.ndim != 2:
        raise TypeError(f"diagonal: a must be a matrix, got {a!r} with ndim {a.ndim}")
    offset = int(offset)
    rows, cols = a.shape[0], a.shape[1]
    if offset >= 0:
        n = _tm.maximum(_tm.minimum(rows, cols - offset), 0)
        i = arange(n, dtype="int64")
        return a[i, i + offset]  # type: ignore[no-any-return]
    n = _tm.maximum(_tm.minimum(rows + offset, cols), 0)
    i = arange(n, dtype="int64")
    return a[i - offset, i]  # type: ignore[no-any-return]


def diag(v: Any, k: int = 0) -> TensorVariable:
    """Theano's ``diag``: a vector's square matrix with ``v`` on diagonal ``k``, or a matrix's
    ``k``-th diagonal as a vector (``numpy.diag``)."""
    v = as_tensor_variable(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise TypeError(f"diag: v must be a vector or a matrix, got {v!r} with ndim {v.ndim}")
    k = int(k)
    n = v.shape[0] + abs(k)
    i = arange(v.shape[0], dtype="int64")
    rows, cols = (i, i + k) if k >= 0 else (i - k, i)
    return set_subtensor(zeros((n, n), dtype=v.dtype)[rows, cols], v)  # type: ignore[no-any-return]


def trace(x: Any) -> TensorVariable:
    """The sum of the main diagonal of the matrix ``x``."""
    return diagonal(x).sum()  # type: ignore[no-any-return]


def _triangle(m: Any, k: int, lower: bool, what: str) -> TensorVariable:
    m = as_tensor_variable(m)
    if m.ndim < 2:
        raise TypeError(f"{what}: m must have at least 2 axes, got {m!r} with ndim {m.ndim}")
    rows = arange(m.shape[m.ndim - 2], dtype="int64").dimshuffle(0, "x")
    cols = arange(m.shape[m.ndim - 1], dtype="int64").dimshuffle("x", 0)
    keep = _tm.ge(rows + int(k), cols) if lower else _tm.le(rows + int(k), cols)
    return _tm.switch(keep, m, _tm.zeros_like(m))  # type: ignore[no-any-return]


def tril(m: Any, k: int = 0) -> TensorVariable:
    """``m`` with the entries above diagonal ``k`` set to zero (``numpy.tril``)."""
    return _triangle(m, k, True, "tril")


def triu(m: Any, k: int = 0) -> TensorVariable:
    """``m`` with the entries below diagonal ``k`` set to zero (``numpy.triu``)."""
    return _triangle(m, k, False, "triu")


def roll(x: Any, shift: Any, axis: int | None = None) -> TensorVariable:
    """The elements of ``x`` shifted by ``shift`` along ``axis``, wrapping around
    (``numpy.roll``); ``axis=None`` rolls the flattened array and restores the shape."""
    x = as_tensor_variable(x)
    if axis is None:
        return roll(flatten(x), shift, 0).reshape(x.shape)  # type: ignore[no-any-return]
    axis = _normalize_axis(axis, x.ndim, "roll")
    length = x.shape[axis]
    shift = _tm.cast(as_tensor_variable(shift), "int64")
    # an empty axis has nothing to move (and no length to take the shift modulo)
    cut = _tm.switch(_tm.gt(length, 0), length - shift % _tm.maximum(length, 1), 0)
    head = x[_along(axis, slice(cut, None))]
    tail = x[_along(axis, slice(None, cut))]
    return concatenate([head, tail], axis=axis)  # type: ignore[no-any-return]


def isclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> TensorVariable:
    """Elementwise ``|a - b| <= atol + rtol * |b|`` (``numpy.isclose``); infinities are close
    only to themselves; NaNs only when ``equal_nan``."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    finite = _tm.and_(_tm.invert(_tm.isinf(a)), _tm.invert(_tm.isinf(b)))
    near = _tm.le(_tm.abs(a - b), atol + rtol * _tm.abs(b))
    close = _tm.or_(_tm.and_(finite, near), _tm.eq(a, b))
    if equal_nan:
        close = _tm.or_(close, _tm.and_(_tm.isnan(a), _tm.isnan(b)))
    return close  # type: ignore[no-any-return]


def allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> TensorVariable:
    """Whether every element pair is close (``numpy.allclose``): a bool scalar."""
    return isclose(a, b, rtol, atol, equal_nan).all()  # type: ignore[no-any-return]


def _fold(name: str, combine: Any, args: tuple[Any, ...]) -> TensorVariable:
    if not args:
        raise TypeError(f"{name}: give at least one argument")
    out = as_tensor_variable(args[0])
    for a in args[1:]:
        out = combine(out, a)
    return out


def largest(*args: Any) -> TensorVariable:
    """The elementwise maximum of all the arguments."""
    return _fold("largest", _tm.maximum, args)


def smallest(*args: Any) -> TensorVariable:
    """The elementwise minimum of all the arguments."""
    return _fold("smallest", _tm.minimum, args)


def sgn(x: Any) -> TensorVariable:
    """Theano's old name for ``sign``."""
    return _tm.sign(x)  # type: ignore[no-any-return]


def iround(x: Any, mode: str = "half_away_from_zero") -> TensorVariable:
    """``x`` rounded (Theano's default: halves away from zero) and cast to int64."""
    return _tm.cast(_tm.round(x, mode), "int64")  # type: ignore[no-any-return]


# ---- sorting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sort(Op):
    """``numpy.sort(x, axis)`` (``argsort=False``) or ``numpy.argsort(x, axis)``
    (``argsort=True``, int64 indices); ``axis`` is non-negative (the user functions
    flatten for ``axis=None``)."""

    axis: int
    argsort: bool = False

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if not 0 <= self.axis < max(x.ndim, 1) or x.ndim == 0:
            raise ValueError(f"{self}: axis {self.axis} is out of range for {x!r} with ndim {x.ndim}")
        out = TensorType("int64", x.type.shape) if self.argsort else x.type
        return Apply(self, [x], [out.make_variable()])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [tuple(input_shapes[0])]


@dataclass(frozen=True)
class SortGrad(Op):
    """The gradient of ``Sort``: ``g`` (the gradient of the sorted values) put back where each
    value came from, i.e. scattered by ``argsort(x, axis)``."""

    axis: int

    def make_node(self, x: Any, g: Any) -> Apply:
        x, g = as_tensor_variable(x), as_tensor_variable(g)
        return Apply(self, [x, g], [g.type.make_variable()])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [tuple(input_shapes[1])]


def _sorted(a: Any, axis: int | None, argsort: bool, what: str) -> TensorVariable:
    a = as_tensor_variable(a)
    if axis is None:
        a, axis = flatten(a), 0
    elif a.ndim == 0:
        raise ValueError(f"{what}: cannot sort a scalar along axis {axis} (use axis=None)")
    return Sort(_normalize_axis(axis, a.ndim, what), argsort)(a)  # type: ignore[no-any-return]


def sort(a: Any, axis: int | None = -1) -> TensorVariable:
    """``a`` sorted along ``axis`` (``numpy.sort``; ``axis=None`` sorts the flattened array).
    NaNs go last, as in NumPy. Differentiable: the gradient goes back to where each value
    came from."""
    return _sorted(a, axis, False, "sort")


def argsort(a: Any, axis: int | None = -1) -> TensorVariable:
    """The int64 indices that sort ``a`` along ``axis`` (``numpy.argsort``)."""
    return _sorted(a, axis, True, "argsort")
