"""Indexing: ``x[index]`` with NumPy's semantics, ``set_subtensor``, ``inc_subtensor``.

Two op pairs cover NumPy indexing:

- ``Subtensor`` / ``IncSubtensor``: basic indexing (integers, slices, ``None``). The
  result of ``Subtensor`` is a regular strided piece of ``x``.
- ``AdvancedSubtensor`` / ``AdvancedIncSubtensor``: any index that contains an integer
  array or a boolean mask, mixed with basic indices under NumPy's placement rules.

Each op carries ``idx_list``, a hashable description of the index: one entry per index
position, holding placeholders only. The index *values* (integers, slice bounds, index
arrays, masks) are node inputs after the tensor (and after the update value for the
``Inc`` ops), so the same op serves constant and symbolic indices. Entries are:

- ``INT`` (the string ``"int"``): an integer scalar input;
- ``SliceSpec(start, stop, step)``: a slice; each flag says whether that bound is an
  input (``True``) or absent (``False``, i.e. ``None`` in the slice);
- ``None``: a new axis of length 1 (``np.newaxis``);
- ``ARRAY``: an integer array input (advanced ops only);
- ``MASK``: a boolean array input, covering as many axes as it has (advanced ops only);
- ``Ellipsis``: kept only in the advanced ops, where NumPy's placement of the advanced
  result depends on it even when it stands for no axis at all.

Trailing axes that the index does not mention are taken whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import EllipsisType
from typing import Any

import numpy as np

from symgraph.graph.node import Apply, Variable
from symgraph.graph.op import Op
from symgraph.scalar import dtypes as _dt
from symgraph.tensor import math as tm
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import (
    TensorConstant,
    TensorVariable,
    _contains_variable,
    _is_python_number,
    as_operand,
    as_tensor_variable,
    constant,
)

__all__ = ["getitem", "inc_subtensor", "nonzero", "set_subtensor", "take"]

INT = "int"
ARRAY = "array"
MASK = "mask"


@dataclass(frozen=True)
class SliceSpec:
    """A slice in an ``idx_list``: which of start, stop and step are node inputs."""

    start: bool = False
    stop: bool = False
    step: bool = False

    @property
    def n_inputs(self) -> int:
        return int(self.start) + int(self.stop) + int(self.step)

    def __str__(self) -> str:
        parts = ["?" if self.start else "", "?" if self.stop else ""]
        if self.step:
            parts.append("?")
        return ":".join(parts)


IndexEntry = str | SliceSpec | None | EllipsisType
FULL_SLICE = SliceSpec()


def _n_inputs(entry: IndexEntry) -> int:
    if isinstance(entry, SliceSpec):
        return entry.n_inputs
    if entry in (INT, ARRAY, MASK):
        return 1
    return 0


def _describe_idx_list(idx_list: Sequence[IndexEntry]) -> str:
    words = {INT: "i", ARRAY: "array", MASK: "mask", None: "newaxis", Ellipsis: "..."}
    return ", ".join(
        str(e) if isinstance(e, SliceSpec) else words[e]  # type: ignore[index]
        for e in idx_list
    )


def group_index_inputs(
    idx_list: Sequence[IndexEntry], values: Sequence[Any]
) -> Iterator[tuple[IndexEntry, Any]]:
    """Pair each entry with its value: one input, a (start, stop, step) tuple, or None."""
    it = iter(values)
    for entry in idx_list:
        if isinstance(entry, SliceSpec):
            yield entry, (
                next(it) if entry.start else None,
                next(it) if entry.stop else None,
                next(it) if entry.step else None,
            )
        elif entry in (INT, ARRAY, MASK):
            yield entry, next(it)
        else:
            yield entry, None


def _static_int(value: Any) -> int | None:
    """The value of a constant integer scalar, or None when it is only known at run time."""
    if isinstance(value, TensorConstant) and value.ndim == 0:
        return int(value.data)
    return None


def _describe_shape(shape: Sequence[int | None]) -> str:
    shown = ", ".join("?" if s is None else str(s) for s in shape)
    return f"({shown}{',' if len(shape) == 1 else ''})"


# ---------------------------------------------------------------------------------------
# Output shapes (static and symbolic) of an indexing operation
# ---------------------------------------------------------------------------------------
def _consumed_axes(entry: IndexEntry, value: Any) -> int:
    if entry == MASK:
        return int(value.ndim)
    if entry in (INT, ARRAY) or isinstance(entry, SliceSpec):
        return 1
    return 0


def _check_index_count(
    op_name: str, x: TensorVariable, idx_list: Sequence[IndexEntry], values: Sequence[Any]
) -> None:
    if sum(1 for e in idx_list if e is Ellipsis) > 1:
        raise IndexError(f"{op_name}: an index can only have a single ellipsis ('...')")
    consumed = sum(_consumed_axes(e, v) for e, v in group_index_inputs(idx_list, values))
    if consumed > x.ndim:
        raise IndexError(
            f"{op_name}: too many indices for {x!r}: it has {x.ndim} "
            f"{'axis' if x.ndim == 1 else 'axes'}, but {consumed} were indexed"
        )


def _indexed_shape(
    x_ndim: int,
    idx_list: Sequence[IndexEntry],
    values: Sequence[Any],
    axis_length: Callable[[int], Any],
    slice_length: Callable[[Any, Any, Any, Any], Any],
    index_shape: Callable[[IndexEntry, Any], tuple[Any, ...]],
    broadcast: Callable[[list[tuple[Any, ...]]], tuple[Any, ...]],
) -> tuple[Any, ...]:
    """The shape of ``x[index]`` following NumPy's rules, for any notion of "length".

    Integers, index arrays and masks are the advanced indices (a lone integer behaves
    the same either way: its index shape is ``()``). Their index shapes broadcast
    together; the result goes where the first of them stood if they are adjacent in the
    index, and in front otherwise (any slice, newaxis or ellipsis between them counts).
    """
    grouped = list(group_index_inputs(idx_list, values))
    consumed = sum(_consumed_axes(e, v) for e, v in grouped)
    out: list[Any] = []
    adv_shapes: list[tuple[Any, ...]] = []
    adv_positions: list[int] = []
    insert_at = 0
    axis = 0
    for position, (entry, value) in enumerate(grouped):
        if entry is None:
            out.append(1)
        elif entry is Ellipsis:
            for _ in range(x_ndim - consumed):
                out.append(axis_length(axis))
                axis += 1
        elif isinstance(entry, SliceSpec):
            start, stop, step = value
            out.append(slice_length(start, stop, step, axis_length(axis)))
            axis += 1
        else:
            if not adv_shapes:
                insert_at = len(out)
            adv_shapes.append(index_shape(entry, value))
            adv_positions.append(position)
            axis += _consumed_axes(entry, value)
    out.extend(axis_length(a) for a in range(axis, x_ndim))
    if not adv_shapes:
        return tuple(out)
    adv = broadcast(adv_shapes)
    if adv_positions != list(range(adv_positions[0], adv_positions[-1] + 1)):
        insert_at = 0  # advanced indices apart from each other: their result goes first
    return tuple(out[:insert_at]) + tuple(adv) + tuple(out[insert_at:])


_UNKNOWN = object()


def _static_slice_length(start: Any, stop: Any, step: Any, n: int | None) -> int | None:
    """Length of ``range(n)[start:stop:step]``; bounds are int, None or _UNKNOWN."""
    if start is None and stop is None and step in (None, 1, -1):
        return n  # a whole axis, possibly reversed
    if n is None or _UNKNOWN in (start, stop, step):
        return None
    return len(range(*slice(start, stop, step).indices(n)))


def _static_broadcast(shapes: list[tuple[int | None, ...]]) -> tuple[int | None, ...]:
    """Broadcast index shapes NumPy-style; lengths of 1 stretch, None is unknown."""
    ndim = max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    out: list[int | None] = []
    for axis in range(ndim):
        lengths = [s[axis] for s in padded]
        known = {n for n in lengths if n is not None and n != 1}
        if len(known) > 1:
            shown = " ".join(_describe_shape(s) for s in shapes)
            raise IndexError(
                "shape mismatch: indexing arrays could not be broadcast together with shapes "
                f"{shown}"
            )
        if known:
            out.append(known.pop())
        elif all(n == 1 for n in lengths):
            out.append(1)
        else:
            out.append(None)
    return tuple(out)


def _static_index_shape(entry: IndexEntry, value: Any) -> tuple[int | None, ...]:
    if entry == INT:
        return ()
    if entry == MASK:
        if isinstance(value, TensorConstant):
            return (int(np.count_nonzero(value.data)),)
        return (None,)
    return tuple(value.type.shape)


def static_indexed_shape(
    x: TensorVariable, idx_list: Sequence[IndexEntry], values: Sequence[Any]
) -> tuple[int | None, ...]:
    """The static shape of ``x[index]`` (None where a length is only known at run time)."""

    def slice_length(start: Any, stop: Any, step: Any, n: int | None) -> int | None:
        bounds = []
        for bound in (start, stop, step):
            known = None if bound is None else _static_int(bound)
            bounds.append(None if bound is None else _UNKNOWN if known is None else known)
        return _static_slice_length(*bounds, n)

    return _indexed_shape(
        x.ndim, idx_list, values, lambda a: x.type.shape[a], slice_length,
        _static_index_shape, _static_broadcast,
    )


# -- symbolic shape arithmetic: Python ints fold, variables build int64 graphs ------------
def _as_int64(value: Any) -> Any:
    if isinstance(value, (int, np.integer)):
        return int(value)
    known = _static_int(value)
    if known is not None:
        return known
    return tm.cast(value, "int64")


def _smax(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        return max(a, b)
    return tm.maximum(a, b)


def _smin(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        return min(a, b)
    return tm.minimum(a, b)


def _wrap_negative(index: Any, n: Any) -> Any:
    if isinstance(index, int):
        return index + n if index < 0 else index
    return tm.switch(tm.lt(index, 0), index + n, index)


def _slice_length_for_sign(start: Any, stop: Any, step: Any, n: Any, positive: bool) -> Any:
    # mirrors slice.indices(): bounds wrap once, then clip to the valid range for the direction
    if positive:
        first = 0 if start is None else _smin(_smax(_wrap_negative(start, n), 0), n)
        end = n if stop is None else _smin(_smax(_wrap_negative(stop, n), 0), n)
        return _smax((end - first + step - 1) // step, 0)
    first = n - 1 if start is None else _smin(_smax(_wrap_negative(start, n), -1), n - 1)
    end = -1 if stop is None else _smin(_smax(_wrap_negative(stop, n), -1), n - 1)
    return _smax((first - end - step - 1) // (-step), 0)


def symbolic_slice_length(start: Any, stop: Any, step: Any, n: Any) -> Any:
    """Length of ``x[start:stop:step]`` on an axis of length ``n``: an int or int64 scalar.

    Bounds and ``n`` may be None (absent bound), ints, or integer scalar variables.
    """
    start, stop, n = (None if v is None else _as_int64(v) for v in (start, stop, n))
    step = 1 if step is None else _as_int64(step)
    if all(isinstance(v, int) or v is None for v in (start, stop, step, n)):
        return len(range(*slice(start, stop, step).indices(n)))
    if isinstance(step, int):
        if step == 0:
            raise ValueError("slice step cannot be zero")
        return _slice_length_for_sign(start, stop, step, n, step > 0)
    return tm.switch(
        tm.gt(step, 0),
        _slice_length_for_sign(start, stop, step, n, True),
        _slice_length_for_sign(start, stop, step, n, False),
    )


def _symbolic_broadcast(shapes: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    ndim = max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    out = []
    for axis in range(ndim):
        lengths = [s[axis] for s in padded if not (isinstance(s[axis], int) and s[axis] == 1)]
        if not lengths:
            out.append(1)
            continue
        ints = [n for n in lengths if isinstance(n, int)]
        if ints:
            out.append(ints[0])
            continue
        # a length of 1 at run time stretches to the others
        result = lengths[0]
        for other in lengths[1:]:
            result = tm.switch(tm.eq(result, 1), other, result)
        out.append(result)
    return tuple(out)


def symbolic_indexed_shape(
    node: Apply,
    x_shape: tuple[Any, ...],
    index_values: Sequence[Any],
    index_shapes: Sequence[tuple[Any, ...]],
) -> tuple[Any, ...]:
    """The shape of ``x[index]`` from the symbolic shapes of ``x`` and of the index inputs."""
    idx_list = node.op.idx_list
    x = node.inputs[0]
    shape_of = {id(v): s for v, s in zip(index_values, index_shapes)}
    static = static_indexed_shape(x, idx_list, index_values)

    def index_shape(entry: IndexEntry, value: Any) -> tuple[Any, ...]:
        if entry == INT:
            return ()
        if entry == MASK:
            from symgraph.tensor.reduce import sum as _sum

            known = _static_index_shape(entry, value)[0]
            return (known if known is not None else _sum(tm.cast(value, "int64")),)
        return tuple(
            static_n if static_n is not None else _as_int64(sym_n)
            for static_n, sym_n in zip(value.type.shape, shape_of[id(value)])
        )

    symbolic = _indexed_shape(
        x.ndim, idx_list, index_values, lambda a: _as_int64(x_shape[a]),
        symbolic_slice_length, index_shape, _symbolic_broadcast,
    )
    return tuple(s if s is not None else sym for s, sym in zip(static, symbolic))


# ---------------------------------------------------------------------------------------
# Checking and converting index inputs
# ---------------------------------------------------------------------------------------
def _as_index_scalar(value: Any, op_name: str, what: str) -> TensorVariable:
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return constant(int(value), dtype="int64")
    var = as_tensor_variable(value)
    if var.ndim != 0 or not _dt.is_int(var.dtype):
        raise TypeError(
            f"{op_name}: {what} must be an integer scalar, got {var!r} ({var.type.describe()})"
        )
    return var


def _check_index_inputs(
    op_name: str, idx_list: Sequence[IndexEntry], values: Sequence[Any], advanced: bool
) -> list[TensorVariable]:
    expected = sum(_n_inputs(e) for e in idx_list)
    if len(values) != expected:
        raise TypeError(
            f"{op_name}: the index {{{_describe_idx_list(idx_list)}}} takes {expected} "
            f"inputs, got {len(values)}"
        )
    converted: list[TensorVariable] = []
    it = iter(values)
    for position, entry in enumerate(idx_list):
        if isinstance(entry, SliceSpec):
            flags = (entry.start, entry.stop, entry.step)
            for flag, part in zip(flags, ("start", "stop", "step")):
                if flag:
                    what = f"slice {part} at index position {position}"
                    converted.append(_as_index_scalar(next(it), op_name, what))
        elif entry == INT:
            what = f"the index at position {position}"
            converted.append(_as_index_scalar(next(it), op_name, what))
        elif entry in (ARRAY, MASK):
            if not advanced:
                raise TypeError(
                    f"{op_name} takes basic indices only; use AdvancedSubtensor for index arrays"
                )
            var = as_tensor_variable(next(it))
            fits = _dt.is_int(var.dtype) if entry == ARRAY else var.dtype == "bool"
            if not fits:
                kind = "an integer array" if entry == ARRAY else "a boolean mask"
                raise TypeError(
                    f"{op_name}: the index at position {position} must be {kind}, "
                    f"got {var!r} ({var.type.describe()})"
                )
            converted.append(var)
        elif entry is Ellipsis and not advanced:
            raise TypeError(f"{op_name}: expand '...' into full slices before building the op")
        elif entry is not None and entry is not Ellipsis:
            raise TypeError(f"{op_name}: unknown index entry {entry!r}")
    return converted


def _out_of_bounds(op_name: str, index: int, axis: int, x: TensorVariable, n: int) -> IndexError:
    return IndexError(
        f"{op_name}: index {index} is out of bounds for axis {axis} of {x!r}, "
        f"which has length {n} (valid indices: {-n} to {n - 1})"
    )


def _check_static_bounds(
    op_name: str, x: TensorVariable, idx_list: Sequence[IndexEntry], values: Sequence[Any]
) -> None:
    """Constant indices and masks that cannot fit ``x``'s static shape fail now, not at run time."""
    axis = 0
    grouped = list(group_index_inputs(idx_list, values))
    consumed = sum(_consumed_axes(e, v) for e, v in grouped)
    for entry, value in grouped:
        if entry is Ellipsis:
            axis += x.ndim - consumed
            continue
        n = x.type.shape[axis] if axis < x.ndim else None
        if entry == INT:
            known = _static_int(value)
            if known is not None and n is not None and not -n <= known < n:
                raise _out_of_bounds(op_name, known, axis, x, n)
        if entry == ARRAY and isinstance(value, TensorConstant) and np.size(value.data):
            low, high = int(np.min(value.data)), int(np.max(value.data))
            if n is not None and (low < -n or high >= n):
                raise _out_of_bounds(op_name, low if low < -n else high, axis, x, n)
        if entry == MASK:
            for k, mask_len in enumerate(value.type.shape):
                length = x.type.shape[axis + k]
                if mask_len is not None and length is not None and mask_len != length:
                    raise IndexError(
                        f"{op_name}: boolean index did not match the indexed tensor along axis "
                        f"{axis + k}: the axis has length {length}, the mask has length {mask_len}"
                    )
        axis += _consumed_axes(entry, value)


def _check_slice_steps(op_name: str, idx_list: Sequence[IndexEntry], values: Sequence[Any]) -> None:
    for entry, value in group_index_inputs(idx_list, values):
        if isinstance(entry, SliceSpec) and entry.step and _static_int(value[2]) == 0:
            raise ValueError(f"{op_name}: slice step cannot be zero")


def _prepare(
    op_name: str,
    x: Any,
    idx_list: Sequence[IndexEntry],
    index_inputs: Sequence[Any],
    advanced: bool,
) -> tuple[TensorVariable, list[TensorVariable], tuple[int | None, ...]]:
    """Check ``x`` and the index inputs; return them converted, and the static indexed shape."""
    x = as_tensor_variable(x)
    values = _check_index_inputs(op_name, idx_list, index_inputs, advanced)
    _check_index_count(op_name, x, idx_list, values)
    _check_slice_steps(op_name, idx_list, values)
    _check_static_bounds(op_name, x, idx_list, values)
    return x, values, static_indexed_shape(x, idx_list, values)


def _constant_fits(y: TensorConstant, dtype: str) -> bool:
    """A constant converts when nothing is lost, or when it is a float given for a float.

    (``[0.1, 0.2]`` is float64 as written; into a float32 tensor it is meant as float32.)
    """
    both_inexact = _dt.is_inexact(y.dtype) and _dt.is_inexact(dtype)
    if both_inexact and np.can_cast(y.dtype, dtype, "same_kind"):
        return True
    with np.errstate(all="ignore"):
        cast_back = np.asarray(y.data).astype(dtype).astype(y.dtype)
    return bool(np.array_equal(cast_back, y.data, equal_nan=True))


def _as_update_value(
    op_name: str, y: Any, x: TensorVariable, target_shape: tuple[int | None, ...]
) -> TensorVariable:
    """Convert the value written by set/inc_subtensor to ``x``'s dtype and check its shape."""
    if _is_python_number(y):
        y = as_operand(y, x.dtype)
    y = as_tensor_variable(y)
    if y.dtype != x.dtype:
        if isinstance(y, TensorConstant) and _constant_fits(y, x.dtype):
            y = constant(y.data, dtype=x.dtype)
        elif np.can_cast(y.dtype, x.dtype, "safe"):
            y = tm.cast(y, x.dtype)
        else:
            raise TypeError(
                f"{op_name}: cannot write {y.dtype} values into the {x.dtype} tensor {x!r} "
                f"without losing precision; cast them first, e.g. T.cast(y, '{x.dtype}')"
            )
    if y.ndim > len(target_shape):
        raise ValueError(
            f"{op_name}: the value has {y.ndim} axes, more than the {len(target_shape)} of the "
            f"indexed region {_describe_shape(target_shape)}"
        )
    for y_len, t_len in zip(reversed(y.type.shape), reversed(target_shape)):
        if y_len is not None and t_len is not None and y_len != 1 and y_len != t_len:
            raise ValueError(
                f"{op_name}: a value of shape {_describe_shape(y.type.shape)} cannot be broadcast "
                f"to the indexed region of shape {_describe_shape(target_shape)}"
            )
    return y


# ---------------------------------------------------------------------------------------
# Ops
# ---------------------------------------------------------------------------------------
class _Indexing(Op):
    """Shared by the four indexing ops: ``idx_list`` is stored as a tuple (hashable)."""

    idx_list: tuple[IndexEntry, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "idx_list", tuple(self.idx_list))


@dataclass(frozen=True)
class Subtensor(_Indexing):
    """``x[index]`` for a basic index (integers, slices, newaxis).

    Inputs: ``x``, then one integer scalar per ``INT`` entry and per present slice bound,
    in order.
    """

    idx_list: tuple[IndexEntry, ...]

    def make_node(self, x: Any, *index_inputs: Any) -> Apply:
        x, values, shape = _prepare("Subtensor", x, self.idx_list, index_inputs, advanced=False)
        return Apply(self, [x, *values], [TensorType(x.dtype, shape).make_variable()])

    def infer_shape(
        self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]
    ) -> list[tuple[Any, ...]]:
        return [symbolic_indexed_shape(node, input_shapes[0], node.inputs[1:], input_shapes[1:])]

    def __str__(self) -> str:
        return f"Subtensor{{{_describe_idx_list(self.idx_list)}}}"


@dataclass(frozen=True)
class IncSubtensor(_Indexing):
    """A copy of ``x`` with ``x[index]`` set to (or incremented by) ``y``.

    Inputs: ``x``, ``y`` (broadcast to the indexed region), then the index inputs as
    for ``Subtensor``.
    """

    idx_list: tuple[IndexEntry, ...]
    set_instead_of_inc: bool = False

    def make_node(self, x: Any, y: Any, *index_inputs: Any) -> Apply:
        name = str(self)
        x, values, target = _prepare(name, x, self.idx_list, index_inputs, advanced=False)
        y = _as_update_value(name, y, x, target)
        return Apply(self, [x, y, *values], [x.type.make_variable()])

    def infer_shape(
        self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]
    ) -> list[tuple[Any, ...]]:
        return [tuple(input_shapes[0])]

    def __str__(self) -> str:
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return f"{kind}Subtensor{{{_describe_idx_list(self.idx_list)}}}"


@dataclass(frozen=True)
class AdvancedSubtensor(_Indexing):
    """``x[index]`` for an index holding integer arrays or boolean masks (advanced indexing).

    Inputs: ``x``, then one input per ``INT``, ``ARRAY`` and ``MASK`` entry and per
    present slice bound, in order. The result is always a new array.
    """

    idx_list: tuple[IndexEntry, ...]

    def make_node(self, x: Any, *index_inputs: Any) -> Apply:
        x, values, shape = _prepare(
            "AdvancedSubtensor", x, self.idx_list, index_inputs, advanced=True
        )
        return Apply(self, [x, *values], [TensorType(x.dtype, shape).make_variable()])

    def infer_shape(
        self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]
    ) -> list[tuple[Any, ...]]:
        return [symbolic_indexed_shape(node, input_shapes[0], node.inputs[1:], input_shapes[1:])]

    def __str__(self) -> str:
        return f"AdvancedSubtensor{{{_describe_idx_list(self.idx_list)}}}"


@dataclass(frozen=True)
class AdvancedIncSubtensor(_Indexing):
    """A copy of ``x`` with ``x[index]`` set to (or incremented by) ``y``, advanced indices.

    When an index repeats, increments accumulate (``np.add.at``), as Theano did; for a
    set, the last write wins (as in NumPy).
    """

    idx_list: tuple[IndexEntry, ...]
    set_instead_of_inc: bool = False

    def make_node(self, x: Any, y: Any, *index_inputs: Any) -> Apply:
        name = str(self)
        x, values, target = _prepare(name, x, self.idx_list, index_inputs, advanced=True)
        y = _as_update_value(name, y, x, target)
        return Apply(self, [x, y, *values], [x.type.make_variable()])

    def infer_shape(
        self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]
    ) -> list[tuple[Any, ...]]:
        return [tuple(input_shapes[0])]

    def __str__(self) -> str:
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return f"Advanced{kind}Subtensor{{{_describe_idx_list(self.idx_list)}}}"


@dataclass(frozen=True)
class Nonzero(Op):
    """The indices of the non-zero elements of ``x``: one int64 vector per axis."""

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if x.ndim == 0:
            raise TypeError(
                f"nonzero needs at least one axis, got the scalar {x!r}; "
                "use x.dimshuffle('x') first"
            )
        outputs = [TensorType("int64", (None,)).make_variable() for _ in range(x.ndim)]
        return Apply(self, [x], outputs)

    def infer_shape(
        self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]
    ) -> list[tuple[Any, ...]]:
        from symgraph.tensor.reduce import sum as _sum

        count = _sum(tm.cast(tm.neq(node.inputs[0], 0), "int64"))
        return [(count,)] * len(node.outputs)


# ---------------------------------------------------------------------------------------
# User functions
# ---------------------------------------------------------------------------------------
def _index_part_scalar(part: Any, what: str) -> Any:
    """A slice bound: None, a Python/NumPy int, or an integer scalar variable."""
    if part is None:
        return None
    if isinstance(part, Variable):
        var = as_tensor_variable(part)
        if var.ndim != 0 or not (_dt.is_int(var.dtype) or var.dtype == "bool"):
            raise TypeError(
                f"slice {what} must be an integer scalar or None, "
                f"got {var!r} ({var.type.describe()})"
            )
        return var if var.dtype != "bool" else tm.cast(var, "int64")
    if isinstance(part, np.ndarray) and part.ndim == 0 and part.dtype.kind in "iub":
        return int(part)
    if isinstance(part, (int, np.integer, np.bool_)):
        return int(part)
    raise TypeError(
        f"slice {what} must be an integer, an integer scalar variable or None, "
        f"got {type(part).__name__} {part!r:.40}"
    )


def _parse_entry(item: Any) -> tuple[IndexEntry, list[Any]]:
    """One index item -> (idx_list entry, its values)."""
    if item is None:
        return None, []
    if item is Ellipsis:
        return Ellipsis, []
    if isinstance(item, slice):
        parts = [
            _index_part_scalar(item.start, "start"),
            _index_part_scalar(item.stop, "stop"),
            _index_part_scalar(item.step, "step"),
        ]
        spec = SliceSpec(*(p is not None for p in parts))
        return spec, [p for p in parts if p is not None]
    if isinstance(item, (bool, np.bool_)):
        return MASK, [constant(np.asarray(item, dtype=bool))]
    if isinstance(item, (int, np.integer)):
        return INT, [int(item)]
    if isinstance(item, Variable) or (isinstance(item, (list, tuple)) and _contains_variable(item)):
        var = as_tensor_variable(item)
    else:
        arr = np.asarray(item)
        if arr.dtype.kind == "f" and arr.size == 0:
            arr = arr.astype("int64")  # NumPy reads an empty list as an empty index array
        if arr.dtype.kind not in "iub":
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None (`np.newaxis`) and integer "
                f"or boolean arrays are valid indices, got {type(item).__name__} {item!r:.60}"
            )
        if arr.dtype.kind != "b" and arr.ndim == 0:
            return INT, [int(arr)]
        var = constant(arr if arr.dtype.kind == "b" else arr.astype(np.int64))
    if var.dtype == "bool":
        return MASK, [var]
    if not _dt.is_int(var.dtype):
        raise IndexError(
            f"index arrays must hold integers or booleans, got {var!r} ({var.type.describe()}); "
            "cast it with T.cast(idx, 'int64')"
        )
    return (INT if var.ndim == 0 else ARRAY), [var]


def _parse_index(
    x: TensorVariable, index: Any
) -> tuple[tuple[IndexEntry, ...], list[Any], bool]:
    items = index if isinstance(index, tuple) else (index,)
    entries: list[IndexEntry] = []
    values: list[Any] = []
    for item in items:
        entry, vals = _parse_entry(item)
        entries.append(entry)
        values.extend(vals)
    _check_index_count("indexing", x, entries, [as_tensor_variable(v) for v in values])
    advanced = any(e in (ARRAY, MASK) for e in entries)
    if advanced:
        return tuple(entries), values, True
    if Ellipsis in entries:
        # in basic indexing '...' is just the right number of full slices
        consumed = sum(1 for e in entries if e == INT or isinstance(e, SliceSpec))
        at = entries.index(Ellipsis)
        entries[at:at + 1] = [FULL_SLICE] * (x.ndim - consumed)
    while entries and entries[-1] == FULL_SLICE:
        entries.pop()  # x[0, :] is x[0]: one canonical op, so equal graphs merge
    return tuple(entries), values, False


def getitem(x: Any, index: Any) -> TensorVariable:
    """``x[index]`` with NumPy's semantics (what ``TensorVariable.__getitem__`` calls).

    Parameters
    ----------
    x : tensor-like
    index : int, slice, None, Ellipsis, integer array/list/variable, boolean mask, or a
        tuple of those. Integer scalars and slice bounds may be symbolic integer scalars.

    Returns
    -------
    TensorVariable
        A ``Subtensor`` result for basic indices, an ``AdvancedSubtensor`` result when
        the index holds an integer array or a boolean mask.

    >>> x = T.dmatrix('x'); y = T.lvector('y')
    >>> x[1:, ::-1]; x[T.arange(y.shape[0]), y]
    """
    from symgraph.tensor.shape import Shape, shape_i

    x = as_tensor_variable(x)
    if x.owner is not None and isinstance(x.owner.op, Shape) and x.type.shape[0] is not None:
        # x.shape[i] becomes shape_i, which is a constant when the length is static
        position = _static_int(index) if isinstance(index, Variable) else index
        if isinstance(position, (int, np.integer)) and not isinstance(position, (bool, np.bool_)):
            ndim = x.type.shape[0]
            if -ndim <= position < ndim:
                return shape_i(x.owner.inputs[0], int(position) % ndim)
    idx_list, values, advanced = _parse_index(x, index)
    op: Op = AdvancedSubtensor(idx_list) if advanced else Subtensor(idx_list)
    return op(x, *values)


def _indexing_source(indexed: Any, fn_name: str) -> tuple[Op, TensorVariable, list[Variable]]:
    owner = getattr(indexed, "owner", None)
    if owner is None or not isinstance(owner.op, (Subtensor, AdvancedSubtensor)):
        made_by = "an input" if owner is None else f"the output of {owner.op}"
        raise TypeError(
            f"{fn_name}: the first argument must be the result of indexing a tensor, such as "
            f"x[1:3] or x[idx]; got {indexed!r} ({made_by}). Write T.{fn_name}(x[index], y)"
        )
    return owner.op, owner.inputs[0], owner.inputs[1:]


def inc_subtensor(
    x: Any,
    y: Any,
    inplace: bool = False,
    set_instead_of_inc: bool = False,
    tolerate_inplace_aliasing: bool = False,
) -> TensorVariable:
    """A copy of the indexed tensor with ``y`` added to the indexed region (Theano's API).

    Parameters
    ----------
    x : the result of indexing a tensor, e.g. ``a[2:, idx]``; the tensor and the index
        are taken from it.
    y : values to add, broadcast to the shape of ``x``. With advanced indices, repeated
        positions accumulate every increment (``np.add.at``).
    inplace, tolerate_inplace_aliasing : accepted for Theano code; the result is always a
        new tensor (rewrites decide when updating in place is safe).
    set_instead_of_inc : write ``y`` instead of adding it (see ``set_subtensor``).

    Returns
    -------
    TensorVariable
        A tensor like the one that was indexed.

    >>> a = T.dvector('a'); b = T.inc_subtensor(a[[0, 0, 2]], 1.0)   # a + [2, 0, 1, ...]
    """
    name = "set_subtensor" if set_instead_of_inc else "inc_subtensor"
    op, source, values = _indexing_source(x, name)
    inc_op: Op
    if isinstance(op, Subtensor):
        inc_op = IncSubtensor(op.idx_list, set_instead_of_inc)
    else:
        inc_op = AdvancedIncSubtensor(op.idx_list, set_instead_of_inc)
    return inc_op(source, y, *values)


def set_subtensor(
    x: Any, y: Any, inplace: bool = False, tolerate_inplace_aliasing: bool = False
) -> TensorVariable:
    """A copy of the indexed tensor with the indexed region replaced by ``y`` (Theano's API).

    Parameters
    ----------
    x : the result of indexing a tensor, e.g. ``a[:, 0]``.
    y : the new values, broadcast to the shape of ``x``. With repeated advanced indices
        the last write wins, as in NumPy.
    inplace, tolerate_inplace_aliasing : accepted for Theano code (see ``inc_subtensor``).

    >>> a = T.dmatrix('a'); b = T.set_subtensor(a[:, 0], 0.0)   # first column zeroed
    """
    return inc_subtensor(x, y, inplace=inplace, set_instead_of_inc=True)


def take(a: Any, indices: Any, axis: int | None = None, mode: str = "raise") -> TensorVariable:
    """Elements of ``a`` at ``indices`` along ``axis`` (NumPy's ``take``).

    Parameters
    ----------
    a : tensor-like
    indices : integer scalar or array (constant or symbolic)
    axis : the axis to take along; None takes from the flattened ``a``.
    mode : 'raise' (out-of-range indices fail), 'wrap' (indices wrap around) or 'clip'
        (indices are clipped to the valid range).

    >>> T.take(x, [2, 0], axis=1)   # same as x[:, [2, 0]]
    """
    a = as_tensor_variable(a)
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    if axis is None:
        if a.ndim != 1:
            a = a.flatten()
        axis = 0
    if not -a.ndim <= axis < a.ndim:
        raise np.exceptions.AxisError(
            f"take: axis {axis} is out of bounds for {a!r}, which has {a.ndim} axes"
        )
    axis %= a.ndim
    if isinstance(indices, Variable) or _contains_variable(indices):
        idx = as_tensor_variable(indices)
    else:
        arr = np.asarray(indices)
        if arr.dtype.kind == "f" and arr.size == 0:
            arr = arr.astype(np.int64)  # an empty list
        idx = constant(arr)
    if idx.dtype == "bool":
        idx = tm.cast(idx, "int64")  # NumPy's take reads booleans as 0 and 1
    if not _dt.is_int(idx.dtype):
        raise TypeError(f"take: indices must be integers, got {idx!r} ({idx.type.describe()})")
    if mode != "raise":
        from symgraph.tensor.shape import shape_i

        length = shape_i(a, axis)
        idx = tm.mod(idx, length) if mode == "wrap" else tm.clip(idx, 0, length - 1)
    return getitem(a, (slice(None),) * axis + (idx,))


def nonzero(x: Any) -> tuple[TensorVariable, ...]:
    """The indices of the non-zero elements of ``x``: one int64 vector per axis, as NumPy.

    >>> rows, cols = T.nonzero(m)     # m[rows, cols] are the non-zero entries
    """
    outputs = Nonzero()(as_tensor_variable(x))
    return tuple(outputs) if isinstance(outputs, list) else (outputs,)
