"""Shape ops: reading shapes, reshaping, joining, splitting, tiling, creating arrays."""

from __future__ import annotations

import math as _math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgraph.graph.node import Apply, Constant, Variable
from symgraph.graph.op import Op
from symgraph import scalar as ps
from symgraph.scalar import dtypes as _dt
from symgraph.tensor import math as _tm
from symgraph.tensor.elemwise import DimShuffle, Elemwise, dimshuffle
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import (
    TensorVariable, _is_python_number, as_operand, as_tensor_variable, constant,
)

__all__ = [
    "shape", "shape_i", "reshape", "flatten", "transpose", "squeeze", "expand_dims",
    "shape_padleft", "shape_padright", "shape_padaxis", "addbroadcast", "unbroadcast",
    "specify_shape", "concatenate", "join", "stack", "split", "tile", "repeat", "zeros", "ones",
    "alloc", "arange", "eye", "identity_like",
]


@dataclass(frozen=True)
class Shape(Op):
    """The shape of a tensor, as an int64 vector."""

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", (x.ndim,)).make_variable()])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [(node.inputs[0].ndim,)]


@dataclass(frozen=True)
class ShapeI(Op):
    """``x.shape[i]`` as an int64 scalar (what symbolic shape reasoning is made of)."""

    i: int

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if not 0 <= self.i < x.ndim:
            raise ValueError(f"ShapeI({self.i}): {x!r} has only {x.ndim} axes")
        return Apply(self, [x], [TensorType("int64", ()).make_variable()])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [()]


def shape(x: Any) -> TensorVariable:
    """The runtime shape of ``x`` as an int64 vector (``x.shape``)."""
    return Shape()(as_tensor_variable(x))


def shape_i(x: Any, i: int) -> TensorVariable:
    """``x.shape[i]`` as an int64 scalar; a constant when the length is static."""
    from symgraph.tensor.variable import constant

    x = as_tensor_variable(x)
    if i < 0:
        i += x.ndim
    static = x.type.shape[i] if 0 <= i < x.ndim else None
    if static is not None:
        return constant(static, dtype="int64")
    return ShapeI(i)(x)


# Everything below builds on Shape/ShapeI. Static output shapes are computed whenever
# constants make them knowable.

#: a symbolic length: a Python int when known, else an int64 scalar variable
Length = int | TensorVariable


# ---------------------------------------------------------------------------------------
# Helpers: axes, static integers, symbolic lengths
# ---------------------------------------------------------------------------------------
def _normalize_axis(axis: Any, ndim: int, what: str) -> int:
    """A non-negative axis, or a ValueError naming ``what`` (NumPy's AxisError is one too)."""
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{what}: axis must be an int, got {type(axis).__name__} {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{what}: axis {axis} is out of bounds for a tensor of {ndim} dimensions")
    return int(axis) % ndim


def _normalize_axes(axis: Any, ndim: int, what: str) -> tuple[int, ...]:
    """Normalize an int or a tuple/list of ints; repeated axes are an error."""
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    result = tuple(_normalize_axis(a, ndim, what) for a in axes)
    if len(set(result)) != len(result):
        raise ValueError(f"{what}: repeated axis in {axis!r}")
    return result


def _static_int(var: Any) -> int | None:
    """The value of an integer scalar when it is known before run time, else None."""
    if isinstance(var, (bool, np.bool_)):
        return None
    if isinstance(var, (int, np.integer)):
        return int(var)
    if isinstance(var, Constant) and getattr(var.type, "ndim", None) == 0:
        data = np.asarray(var.data)
        if _dt.is_int(data.dtype.name):
            return int(data)
        return None
    if _is_int_cast(var):
        # an int cast of an int constant keeps its value (shape entries are small)
        return _static_int(var.owner.inputs[0])
    return None


def _is_int_cast(var: Any) -> bool:
    owner = getattr(var, "owner", None)
    return (
        owner is not None
        and isinstance(owner.op, Elemwise)
        and isinstance(owner.op.scalar_op, ps.Cast)
        and _dt.is_int(var.dtype)
        and _dt.is_int(owner.inputs[0].dtype)
    )


def _is_scalar_as_vector(var: Any) -> bool:
    """``var`` is a 0-d tensor made into a 1-vector (how ``stack`` builds a shape)."""
    owner = var.owner
    return (
        owner is not None
        and isinstance(owner.op, DimShuffle)
        and owner.op.input_ndim == 0
        and owner.op.new_order == ("x",)
    )


def _static_vector(vec: TensorVariable) -> list[int | None]:
    """Entry by entry, the values of an int vector that are known before run time.

    Understands constants, ``x.shape`` and vectors built by ``stack`` from scalars (what
    ``reshape(x, (n, 3))`` makes), so ``Reshape``, ``Split`` and ``Alloc`` can compute
    static output shapes from their inputs alone (also after a rewrite rebuilds them).
    """
    length = vec.type.shape[0]
    if isinstance(vec, Constant):
        return [int(v) for v in np.asarray(vec.data).reshape(-1)]
    owner = vec.owner
    if owner is not None:
        if isinstance(owner.op, Shape):
            return list(owner.inputs[0].type.shape)
        if isinstance(owner.op, Join) and owner.op.axis == 0:
            pieces = [_static_vector(p) for p in owner.inputs]
            return [v for piece in pieces for v in piece]
        if _is_scalar_as_vector(vec):
            return [_static_int(owner.inputs[0])]
        if _is_int_cast(vec):
            return _static_vector(owner.inputs[0])
    return [None] * (length if length is not None else 0)


def _as_length(value: Any, what: str) -> Length:
    """A shape entry given by the user: a Python int, or an integer scalar variable as int64."""
    static = _static_int(value)
    if static is not None:
        return static
    var = as_tensor_variable(value)
    if var.ndim != 0 or not _dt.is_int(var.dtype):
        raise TypeError(
            f"{what}: shape entries must be ints or integer scalars, "
            f"got {var!r} ({var.type.describe()})"
        )
    return var if var.dtype == "int64" else _tm.cast(var, "int64")


def _as_int64_scalar(value: Length) -> TensorVariable:
    if isinstance(value, int):
        return constant(value, dtype="int64")
    return value if value.dtype == "int64" else _tm.cast(value, "int64")


def _vector_entries(vec: TensorVariable, what: str, length: int | None = None) -> list[Length]:
    """The entries of an int vector of static length (or of ``length``), as symbolic lengths.

    Known entries come back as ints; ``x.shape`` gives ``shape_i(x, i)``; vectors built
    by ``stack`` give back their scalars; anything else is cut into scalars with
    ``Split`` (owned here, so shape code never depends on the indexing family).
    """
    n = vec.type.shape[0] if vec.type.shape[0] is not None else length
    if n is None:
        raise ValueError(f"{what}: the length of the int vector {vec!r} is not static")
    if isinstance(vec, Constant):
        return [int(v) for v in np.asarray(vec.data).reshape(-1)]
    owner = vec.owner
    if owner is not None:
        if isinstance(owner.op, Shape):
            return [_as_length(shape_i(owner.inputs[0], i), what) for i in range(n)]
        if isinstance(owner.op, Join) and owner.op.axis == 0 and vec.type.shape[0] is not None:
            return [e for p in owner.inputs for e in _vector_entries(p, what)]
        if _is_scalar_as_vector(vec):
            return [_as_length(owner.inputs[0], what)]
    static = _static_vector(vec) if vec.type.shape[0] is not None else [None] * n
    if n == 0:
        return []
    pieces = Split(n, 0).make_node(vec, constant(np.ones(n, dtype="int64"))).outputs
    scalars = [Reshape(0)(p, constant(np.zeros(0, dtype="int64"))) for p in pieces]
    return [s if known is None else known for s, known in zip(scalars, static)]


def _length_vector(entries: Sequence[Length]) -> TensorVariable:
    """An int64 vector from symbolic lengths (a constant when all are known)."""
    if all(isinstance(e, int) for e in entries):
        return constant(np.asarray(entries, dtype="int64").reshape(len(entries)))
    return stack([_as_int64_scalar(e) for e in entries])


def _shape_vector(shape_arg: Any, what: str) -> tuple[TensorVariable, int]:
    """Turn a user's shape (ints/scalars, or an int vector) into (int64 vector, ndim)."""
    if isinstance(shape_arg, (int, np.integer)) and not isinstance(shape_arg, (bool, np.bool_)):
        shape_arg = (shape_arg,)
    if isinstance(shape_arg, (list, tuple)):
        entries = [_as_length(s, what) for s in shape_arg]
        return _length_vector(entries), len(entries)
    vec = as_tensor_variable(shape_arg)
    if vec.ndim == 0:
        return _length_vector([_as_length(vec, what)]), 1
    if vec.ndim != 1 or not _dt.is_int(vec.dtype):
        raise TypeError(
            f"{what}: the shape must be a tuple of ints or an integer vector, "
            f"got {vec!r} ({vec.type.describe()})"
        )
    if vec.dtype != "int64":
        vec = _tm.cast(vec, "int64")
    if vec.type.shape[0] is None:
        raise ValueError(f"{what}: the shape vector {vec!r} has no static length; pass ndim=")
    return vec, vec.type.shape[0]


def _prod_lengths(entries: Sequence[Length]) -> Length:
    known = _math.prod(e for e in entries if isinstance(e, int))
    symbolic = [e for e in entries if not isinstance(e, int)]
    if not symbolic:
        return known
    return _tm.mul(*symbolic) if known == 1 else _tm.mul(known, *symbolic)


def _sum_lengths(entries: Sequence[Length]) -> Length:
    known = sum(e for e in entries if isinstance(e, int))
    symbolic = [e for e in entries if not isinstance(e, int)]
    if not symbolic:
        return known
    return _tm.add(*symbolic) if known == 0 else _tm.add(known, *symbolic)


def _show_shape(shape: Sequence[int | None]) -> str:
    inner = ", ".join("?" if s is None else str(s) for s in shape)
    return f"({inner}{',' if len(shape) == 1 else ''})"


def _require_int_vector(vec: TensorVariable, what: str, name: str) -> None:
    if vec.ndim != 1 or not _dt.is_int(vec.dtype):
        raise TypeError(f"{what}: {name} must be an integer vector, got {vec!r} "
                        f"({vec.type.describe()})")


def _require_int_scalar(var: TensorVariable, what: str, name: str) -> None:
    if var.ndim != 0 or not _dt.is_int(var.dtype):
        raise TypeError(f"{what}: {name} must be an integer scalar, got {var!r} "
                        f"({var.type.describe()})")


# ---------------------------------------------------------------------------------------
# Reshape, flatten
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reshape(Op):
    """``x`` with a new shape of ``ndim`` axes, given as an int vector (one entry may be -1)."""

    ndim: int

    def make_node(self, x: Any, shp: Any) -> Apply:
        x = as_tensor_variable(x)
        shp = as_tensor_variable(shp)
        _require_int_vector(shp, str(self), "the shape")
        if shp.type.shape[0] is not None and shp.type.shape[0] != self.ndim:
            raise ValueError(
                f"{self}: the shape vector has {shp.type.shape[0]} entries, expected {self.ndim}"
            )
        requested = _static_vector(shp) if shp.type.shape[0] is not None else [None] * self.ndim
        out_shape = _reshape_static_shape(x.type.shape, requested, str(self))
        return Apply(self, [x, shp], [TensorType(x.dtype, out_shape).make_variable()])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        out_static = node.outputs[0].type.shape
        if all(s is not None for s in out_static):
            return [tuple(out_static)]
        entries = _vector_entries(node.inputs[1], str(self), self.ndim)
        # a symbolic entry may be -1 at run time; it then stands for size // (product of
        # the others), which is also size // -(product of all entries)
        missing: Length | None = None
        result: list[Length] = []
        for static, entry in zip(out_static, entries):
            if static is not None:
                result.append(static)
                continue
            if missing is None:
                size = _prod_lengths(list(input_shapes[0]))
                others = _prod_lengths(entries)
                missing = _tm.int_div(size, _tm.maximum(_tm.neg(others), 1))
            if isinstance(entry, int):
                result.append(missing if entry == -1 else entry)
            else:
                result.append(_tm.switch(_tm.eq(entry, -1), missing, entry))
        return [tuple(result)]


def _reshape_static_shape(
    in_shape: tuple[int | None, ...], requested: list[int | None], what: str
) -> tuple[int | None, ...]:
    """The static output shape of a reshape; raise when constants already show it fails."""
    shown = _show_shape(requested)
    if requested.count(-1) > 1:
        raise ValueError(f"{what}: can only specify one unknown dimension (-1), got {shown}")
    for r in requested:
        if r is not None and r < -1:
            raise ValueError(f"{what}: invalid shape {shown}: entries must be >= 0 or -1")
    out = list(requested)
    in_size = None if None in in_shape else _math.prod(in_shape)  # type: ignore[arg-type]
    known = [r for r in requested if r is not None and r != -1]
    all_known = len(known) + requested.count(-1) == len(requested)
    if in_size is not None and all_known:
        rest = _math.prod(known)
        if -1 in requested:
            if rest == 0 or in_size % rest:
                raise ValueError(
                    f"{what}: cannot reshape an array of shape {_show_shape(in_shape)} "
                    f"into the requested shape {shown}"
                )
            out[requested.index(-1)] = in_size // rest
        elif rest != in_size:
            raise ValueError(
                f"{what}: cannot reshape an array of shape {_show_shape(in_shape)} "
                f"(size {in_size}) into the requested shape {shown} (size {rest})"
            )
    return tuple(None if r == -1 else r for r in out)


def reshape(x: Any, newshape: Any, ndim: int | None = None) -> TensorVariable:
    """``x`` with a new shape (NumPy's reshape; one entry may be -1).

    Parameters
    ----------
    x : tensor
    newshape : tuple/list of ints and int scalars, or a symbolic int vector
    ndim : int, optional
        The number of output axes, needed only when ``newshape`` is a vector whose
        length is not static.

    >>> y = T.reshape(T.dvector('v'), (2, -1))   # a matrix with 2 rows
    """
    x = as_tensor_variable(x)
    if isinstance(newshape, (list, tuple)) or _static_int(newshape) is not None or (
        isinstance(newshape, Variable) and getattr(newshape, "ndim", None) == 0
    ):
        vec, n = _shape_vector(newshape, "reshape")
    else:
        vec = as_tensor_variable(newshape)
        _require_int_vector(vec, "reshape", "the shape")
        if vec.dtype != "int64":
            vec = _tm.cast(vec, "int64")
        n = vec.type.shape[0] if vec.type.shape[0] is not None else ndim
        if n is None:
            raise ValueError(f"reshape: the length of the shape vector {vec!r} is not static; "
                             "pass ndim=")
    if ndim is not None and ndim != n:
        raise ValueError(f"reshape: ndim={ndim} but the shape {newshape!r} has {n} entries")
    return Reshape(n)(x, vec)


def flatten(x: Any, ndim: int = 1) -> TensorVariable:
    """Keep the first ``ndim - 1`` axes and collapse the rest into one (Theano's flatten).

    >>> T.flatten(T.dtensor3('x'), 2)   # shape (a, b * c)
    """
    x = as_tensor_variable(x)
    if not 1 <= ndim <= max(x.ndim, 1):
        raise ValueError(f"flatten: ndim must be between 1 and {max(x.ndim, 1)} for {x!r}, "
                         f"got {ndim}")
    lengths = [_as_length(shape_i(x, i), "flatten") for i in range(x.ndim)]
    # the collapsed length as a product (not -1): -1 is ambiguous for empty arrays
    return reshape(x, [*lengths[: ndim - 1], _prod_lengths(lengths[ndim - 1:])])


# ---------------------------------------------------------------------------------------
# Axis manipulation: transpose, squeeze, expand_dims, padding
# ---------------------------------------------------------------------------------------
def transpose(x: Any, axes: Sequence[int] | None = None) -> TensorVariable:
    """Permute the axes of ``x``; ``axes=None`` reverses them (NumPy's transpose).

    >>> T.transpose(T.dtensor3('x'), (1, 0, 2))
    """
    x = as_tensor_variable(x)
    if axes is None:
        order: tuple[int, ...] = tuple(reversed(range(x.ndim)))
    else:
        if len(axes) != x.ndim:
            raise ValueError(
                f"transpose: axes {tuple(axes)} do not match the {x.ndim} axes of {x!r}"
            )
        order = _normalize_axes(tuple(axes), x.ndim, "transpose")
    return dimshuffle(x, order)


def squeeze(x: Any, axis: Any = None) -> TensorVariable:
    """Remove length-1 axes.

    With ``axis=None``, every axis whose static length is 1 is removed. A named axis
    whose length is unknown is checked to be 1 at run time.

    >>> T.squeeze(T.tensor('float64', shape=(None, 1)), axis=1)   # a vector
    """
    x = as_tensor_variable(x)
    if axis is None:
        drop = tuple(i for i, s in enumerate(x.type.shape) if s == 1)
    else:
        drop = _normalize_axes(axis, x.ndim, "squeeze")
        for a in drop:
            length = x.type.shape[a]
            if length is not None and length != 1:
                raise ValueError(
                    f"squeeze: cannot remove axis {a} of {x!r}, its length is {length}, not 1"
                )
        unknown = [a for a in drop if x.type.shape[a] is None]
        if unknown:
            x = specify_shape(x, [1 if i in unknown else None for i in range(x.ndim)])
    return dimshuffle(x, [i for i in range(x.ndim) if i not in drop])


def expand_dims(x: Any, axis: Any) -> TensorVariable:
    """Insert length-1 axes at positions ``axis`` of the result (NumPy's expand_dims).

    >>> T.expand_dims(T.dvector('v'), (0, -1))   # shape (1, n, 1)
    """
    x = as_tensor_variable(x)
    n_new = len(axis) if isinstance(axis, (tuple, list)) else 1
    out_ndim = x.ndim + n_new
    new_axes = _normalize_axes(axis, out_ndim, "expand_dims")
    rest = iter(range(x.ndim))
    pattern: list[int | str] = ["x" if i in new_axes else next(rest) for i in range(out_ndim)]
    return dimshuffle(x, pattern)


def shape_padleft(x: Any, n_ones: int = 1) -> TensorVariable:
    """Add ``n_ones`` length-1 axes on the left.

    >>> T.shape_padleft(T.dvector('v'))   # a row, shape (1, n)
    """
    x = as_tensor_variable(x)
    return dimshuffle(x, ["x"] * n_ones + list(range(x.ndim)))


def shape_padright(x: Any, n_ones: int = 1) -> TensorVariable:
    """Add ``n_ones`` length-1 axes on the right.

    >>> T.shape_padright(T.dvector('v'))   # a column, shape (n, 1)
    """
    x = as_tensor_variable(x)
    return dimshuffle(x, list(range(x.ndim)) + ["x"] * n_ones)


def shape_padaxis(x: Any, axis: int) -> TensorVariable:
    """Insert one length-1 axis at ``axis`` (from ``-ndim - 1`` to ``ndim``).

    >>> T.shape_padaxis(T.dmatrix('m'), 1)   # shape (a, 1, b)
    """
    return expand_dims(x, axis)


# ---------------------------------------------------------------------------------------
# Static shape assertions: SpecifyShape, Unbroadcast
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpecifyShape(Op):
    """``x`` unchanged, with lengths asserted (checked at run time) and put in its type.

    ``shape`` gives a static length per axis (None: not asserted statically). Axes in
    ``symbolic_axes`` take their length from extra int scalar inputs, one per axis.
    """

    shape: tuple[int | None, ...]
    symbolic_axes: tuple[int, ...] = ()

    def make_node(self, x: Any, *lengths: Any) -> Apply:
        x = as_tensor_variable(x)
        if x.ndim != len(self.shape):
            raise ValueError(
                f"{self}: the shape has {len(self.shape)} entries, but {x!r} has {x.ndim} axes"
            )
        if len(lengths) != len(self.symbolic_axes):
            raise TypeError(
                f"{self}: expected {len(self.symbolic_axes)} length inputs, got {len(lengths)}"
            )
        length_vars = [as_tensor_variable(v) for v in lengths]
        for v in length_vars:
            _require_int_scalar(v, str(self), "a length")
        out = []
        for axis, (have, want) in enumerate(zip(x.type.shape, self.shape)):
            if have is not None and want is not None and have != want:
                raise ValueError(
                    f"specify_shape: {x!r} has static shape {_show_shape(x.type.shape)}; "
                    f"axis {axis} cannot have length {want}"
                )
            out.append(want if want is not None else have)
        return Apply(self, [x, *length_vars], [TensorType(x.dtype, out).make_variable()])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        result: list[Length] = []
        for axis, static in enumerate(node.outputs[0].type.shape):
            if static is not None:
                result.append(static)
            elif axis in self.symbolic_axes:
                length = node.inputs[1 + self.symbolic_axes.index(axis)]
                result.append(_as_int64_scalar(_as_length(length, "specify_shape")))
            else:
                result.append(input_shapes[0][axis])
        return [tuple(result)]


def specify_shape(x: Any, shape: Any) -> TensorVariable:
    """``x``, with its shape stated: checked at run time, and known statically after.

    Parameters
    ----------
    x : tensor
    shape : tuple/list of ints, int scalars or None (not asserted), or an int vector
        such as ``y.shape``

    >>> m = T.specify_shape(T.dmatrix('m'), (None, 3))   # type: float64 matrix of shape (?, 3)
    """
    x = as_tensor_variable(x)
    if isinstance(shape, (list, tuple)):
        entries: list[Length | None] = [
            None if s is None else _as_length(s, "specify_shape") for s in shape
        ]
    else:
        vec = as_tensor_variable(shape)
        if vec.ndim == 0:
            entries = [_as_length(vec, "specify_shape")]
        else:
            _require_int_vector(vec, "specify_shape", "the shape")
            entries = list(_vector_entries(vec, "specify_shape"))
    if len(entries) != x.ndim:
        raise ValueError(
            f"specify_shape: the shape {_show_entries(entries)} has {len(entries)} entries, "
            f"but {x!r} has {x.ndim} axes"
        )
    static = tuple(e if isinstance(e, int) else None for e in entries)
    for e in static:
        if e is not None and e < 0:
            raise ValueError(f"specify_shape: lengths must be >= 0, got {_show_entries(entries)}")
    symbolic_axes = tuple(i for i, e in enumerate(entries) if isinstance(e, Variable))
    if not symbolic_axes and all(s is None or s == have for s, have in zip(static, x.type.shape)):
        return x  # nothing new to assert
    lengths = [entries[i] for i in symbolic_axes]
    return SpecifyShape(static, symbolic_axes)(x, *lengths)


def _show_entries(entries: Sequence[Any]) -> str:
    return _show_shape([e if isinstance(e, int) or e is None else None for e in entries])


def addbroadcast(x: Any, *axes: int) -> TensorVariable:
    """``x`` with the given axes declared of length 1 (checked at run time).

    >>> r = T.addbroadcast(T.dmatrix('m'), 0)   # now broadcasts like a row
    """
    x = as_tensor_variable(x)
    if not axes:
        return x
    chosen = _normalize_axes(axes, x.ndim, "addbroadcast")
    return specify_shape(x, [1 if i in chosen else None for i in range(x.ndim)])


@dataclass(frozen=True)
class Unbroadcast(Op):
    """``x`` unchanged, with the static lengths of ``axes`` forgotten (they stop broadcasting)."""

    axes: tuple[int, ...]

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        for a in self.axes:
            if not 0 <= a < x.ndim:
                raise ValueError(f"{self}: axis {a} is out of bounds for {x!r} with {x.ndim} axes")
        out = tuple(None if i in self.axes else s for i, s in enumerate(x.type.shape))
        return Apply(self, [x], [TensorType(x.dtype, out).make_variable()])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [tuple(input_shapes[0])]


def unbroadcast(x: Any, *axes: int) -> TensorVariable:
    """``x`` with the static lengths of ``axes`` made unknown (they stop broadcasting).

    >>> m = T.unbroadcast(T.row('r'), 0)   # a float64 matrix, axis 0 of unknown length
    """
    x = as_tensor_variable(x)
    chosen = tuple(sorted(
        a for a in _normalize_axes(axes, x.ndim, "unbroadcast") if x.type.shape[a] is not None
    ))
    if not chosen:
        return x
    return Unbroadcast(chosen)(x)


# ---------------------------------------------------------------------------------------
# Join, stack, split
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Join(Op):
    """Concatenate tensors of equal ndim along ``axis`` (NumPy's concatenate; dtypes upcast)."""

    axis: int

    def make_node(self, *tensors: Any) -> Apply:
        if not tensors:
            raise ValueError(f"{self}: needs at least one tensor to join")
        xs = [as_tensor_variable(t) for t in tensors]
        ndim = xs[0].ndim
        if ndim == 0:
            raise ValueError(f"{self}: zero-dimensional tensors cannot be joined; use stack")
        for i, t in enumerate(xs):
            if t.ndim != ndim:
                raise ValueError(
                    f"{self}: all inputs must have the same ndim; input 0 has ndim {ndim}, "
                    f"input {i} ({t!r}) has ndim {t.ndim}"
                )
        if not 0 <= self.axis < ndim:
            raise ValueError(f"{self}: axis {self.axis} is out of bounds for {ndim}-d inputs")
        out_shape: list[int | None] = []
        for a in range(ndim):
            lengths = [t.type.shape[a] for t in xs]
            if a == self.axis:
                total = None if None in lengths else sum(lengths)  # type: ignore[arg-type]
                out_shape.append(total)
                continue
            known = {n for n in lengths if n is not None}
            if len(known) > 1:
                shapes = ", ".join(_show_shape(t.type.shape) for t in xs)
                raise ValueError(
                    f"join: the inputs' shapes {shapes} differ on axis {a}; all lengths must "
                    f"match except on the join axis {self.axis}"
                )
            out_shape.append(known.pop() if known else None)
        dtype = _dt.upcast(*[t.dtype for t in xs])
        return Apply(self, xs, [TensorType(dtype, out_shape).make_variable()])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        result: list[Length] = []
        for a, static in enumerate(node.outputs[0].type.shape):
            if static is not None:
                result.append(static)
            elif a == self.axis:
                result.append(_sum_lengths([s[a] for s in input_shapes]))
            else:
                result.append(input_shapes[0][a])
        return [tuple(result)]


def join(axis: int, *tensors: Any) -> TensorVariable:
    """Concatenate ``tensors`` along ``axis`` (Theano's argument order).

    >>> T.join(0, T.dmatrix('a'), T.dmatrix('b'))   # rows of a, then rows of b
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise ValueError("join: needs at least one tensor")
    xs = _as_tensors(tensors)
    if xs[0].ndim == 0:
        raise ValueError("join: zero-dimensional tensors cannot be joined; use stack")
    ax = _normalize_axis(axis, xs[0].ndim, "join")
    if len(xs) == 1:
        return xs[0]
    dtype = _dt.upcast(*[t.dtype for t in xs])
    return Join(ax)(*[_tm.cast(t, dtype) for t in xs])


def concatenate(tensors: Sequence[Any], axis: int = 0) -> TensorVariable:
    """Concatenate ``tensors`` along an existing ``axis`` (NumPy's concatenate).

    >>> T.concatenate([T.dvector('a'), T.dvector('b')])
    """
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"concatenate: tensors must be a list or tuple, got {type(tensors).__name__}"
        )
    return join(axis, *tensors)


def _as_tensors(values: Sequence[Any]) -> list[TensorVariable]:
    """Convert a list of values; Python numbers take the dtype of the tensors they meet."""
    strong = [as_tensor_variable(v).dtype for v in values if not _is_python_number(v)]
    partner = _dt.upcast(*strong) if strong else None
    return [as_operand(v, partner) for v in values]


def stack(tensors: Any, *more: Any, axis: int = 0) -> TensorVariable:
    """Join tensors of equal shape along a new ``axis`` (NumPy's stack).

    ``T.stack(a, b, c)`` (Theano's older form, all arguments tensors) also works.

    >>> T.stack([T.dscalar('a'), T.dscalar('b')])   # a vector of 2
    """
    if isinstance(tensors, (list, tuple)):
        if len(more) > 1:
            raise TypeError("stack(tensors, axis=0): too many positional arguments")
        if more:
            axis = more[0]
        items = list(tensors)
    else:
        items = [tensors, *more]
    if not items:
        raise ValueError("stack: needs at least one tensor")
    xs = _as_tensors(items)
    for i, t in enumerate(xs):
        if t.ndim != xs[0].ndim:
            raise ValueError(
                f"stack: all inputs must have the same ndim; input 0 has {xs[0].ndim}, "
                f"input {i} has {t.ndim}"
            )
    ax = _normalize_axis(axis, xs[0].ndim + 1, "stack")
    return join(ax, *[expand_dims(t, ax) for t in xs])


@dataclass(frozen=True)
class Split(Op):
    """Cut ``x`` along ``axis`` into ``n_splits`` pieces whose lengths are the ``splits`` vector."""

    n_splits: int
    axis: int

    def make_node(self, x: Any, splits: Any) -> Apply:
        x = as_tensor_variable(x)
        splits = as_tensor_variable(splits)
        if self.n_splits < 1:
            raise ValueError(f"{self}: n_splits must be at least 1")
        if x.ndim == 0:
            raise ValueError(f"{self}: cannot split the zero-dimensional {x!r}")
        if not 0 <= self.axis < x.ndim:
            raise ValueError(f"{self}: axis {self.axis} is out of bounds for {x!r}")
        _require_int_vector(splits, str(self), "the split sizes")
        n_given = splits.type.shape[0]
        if n_given is not None and n_given != self.n_splits:
            raise ValueError(f"{self}: {n_given} split sizes given for {self.n_splits} splits")
        sizes = _static_vector(splits) if n_given is not None else [None] * self.n_splits
        if any(s is not None and s < 0 for s in sizes):
            raise ValueError(f"{self}: split sizes must be >= 0, got {_show_shape(sizes)}")
        total = x.type.shape[self.axis]
        if total is not None and None not in sizes:
            added = sum(sizes)  # type: ignore[arg-type]
            if added != total:
                raise ValueError(
                    f"{self}: the split sizes {_show_shape(sizes)} add up to {added}, "
                    f"but axis {self.axis} of {x!r} has length {total}"
                )
        outs = []
        for size in sizes:
            out_shape = list(x.type.shape)
            out_shape[self.axis] = size
            outs.append(TensorType(x.dtype, out_shape).make_variable())
        return Apply(self, [x, splits], outs)

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        sizes: list[Length] | None = None
        result = []
        for out in node.outputs:
            shape_out: list[Length] = []
            for a, static in enumerate(out.type.shape):
                if static is not None:
                    shape_out.append(static)
                elif a == self.axis:
                    if sizes is None:
                        sizes = _vector_entries(node.inputs[1], str(self), self.n_splits)
                    shape_out.append(sizes[out.index])  # type: ignore[index]
                else:
                    shape_out.append(input_shapes[0][a])
            result.append(tuple(shape_out))
        return result


def split(x: Any, splits_size: Any, n_splits: int, axis: int = 0) -> list[TensorVariable]:
    """Cut ``x`` along ``axis`` into ``n_splits`` pieces of the given lengths (Theano's split).

    Parameters
    ----------
    x : tensor
    splits_size : list of ints / int scalars, or an int vector, of length ``n_splits``
    n_splits : int
    axis : int

    >>> a, b = T.split(T.dvector('v'), [2, 3], 2)   # v[:2], v[2:5]
    """
    x = as_tensor_variable(x)
    if x.ndim == 0:
        raise ValueError("split: cannot split a zero-dimensional tensor")
    ax = _normalize_axis(axis, x.ndim, "split")
    if isinstance(splits_size, (list, tuple)):
        if len(splits_size) != n_splits:
            raise ValueError(f"split: {len(splits_size)} split sizes given for n_splits={n_splits}")
        vec = _length_vector([_as_length(s, "split") for s in splits_size])
    else:
        vec = as_tensor_variable(splits_size)
        _require_int_vector(vec, "split", "splits_size")
        if vec.dtype != "int64":
            vec = _tm.cast(vec, "int64")
    return list(Split(int(n_splits), ax).make_node(x, vec).outputs)


# ---------------------------------------------------------------------------------------
# Tile, repeat
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tile(Op):
    """``x`` repeated ``reps[i]`` times along each axis i (``len(reps) == x.ndim``)."""

    reps: tuple[int, ...]

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if len(self.reps) != x.ndim:
            raise ValueError(f"{self}: {len(self.reps)} repetitions for {x!r} with {x.ndim} axes")
        if any(r < 0 for r in self.reps):
            raise ValueError(f"{self}: repetitions must be >= 0")
        out = tuple(
            0 if r == 0 else (None if s is None else s * r) for s, r in zip(x.type.shape, self.reps)
        )
        return Apply(self, [x], [TensorType(x.dtype, out).make_variable()])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [tuple(_prod_lengths([s, r]) for s, r in zip(input_shapes[0], self.reps))]


def tile(x: Any, reps: Any) -> TensorVariable:
    """Repeat the whole of ``x`` ``reps`` times along each axis (NumPy's tile).

    ``reps`` shorter than ``x.ndim`` is padded with ones on the left; longer, and ``x``
    gets new leading axes.

    >>> T.tile(T.dvector('v'), (2, 3))   # shape (2, 3 * n)
    """
    x = as_tensor_variable(x)
    if isinstance(reps, Constant):
        reps = np.asarray(reps.data).reshape(-1).tolist()
    elif isinstance(reps, Variable):
        raise TypeError(f"tile: reps must be ints known when the graph is built, got {reps!r}")
    reps_t = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    static = [_static_int(r) for r in reps_t]
    if any(r is None for r in static):
        raise TypeError(f"tile: reps must be ints, got {reps!r}")
    reps_i = tuple(int(r) for r in static)  # type: ignore[arg-type]
    if any(r < 0 for r in reps_i):
        raise ValueError(f"tile: reps must be >= 0, got {reps_i}")
    if len(reps_i) > x.ndim:
        x = shape_padleft(x, len(reps_i) - x.ndim)
    reps_i = (1,) * (x.ndim - len(reps_i)) + reps_i
    if all(r == 1 for r in reps_i):
        return x
    return Tile(reps_i)(x)


@dataclass(frozen=True)
class Repeat(Op):
    """Each element of ``x`` repeated along ``axis`` (NumPy's repeat with an axis).

    ``repeats`` is an int scalar, or an int vector with one count per element along the
    axis (a length-1 vector broadcasts).
    """

    axis: int

    def make_node(self, x: Any, repeats: Any) -> Apply:
        x = as_tensor_variable(x)
        repeats = as_tensor_variable(repeats)
        if not 0 <= self.axis < x.ndim:
            raise ValueError(f"{self}: axis {self.axis} is out of bounds for {x!r}")
        if repeats.ndim > 1 or not _dt.is_int(repeats.dtype):
            raise TypeError(f"{self}: repeats must be an integer scalar or vector, got {repeats!r} "
                            f"({repeats.type.describe()})")
        n = x.type.shape[self.axis]
        length: int | None = None
        if repeats.ndim == 0:
            r = _static_int(repeats)
            if r is not None and r < 0:
                raise ValueError(f"{self}: repeats must be >= 0, got {r}")
            length = 0 if r == 0 else (None if r is None or n is None else n * r)
        elif repeats.type.shape[0] is not None:
            counts = _static_vector(repeats)
            if any(c is not None and c < 0 for c in counts):
                raise ValueError(f"{self}: repeats must be >= 0, got {_show_shape(counts)}")
            if n is not None and len(counts) not in (1, n):
                raise ValueError(
                    f"{self}: {len(counts)} repeat counts for axis {self.axis} of length {n}"
                )
            if None not in counts:
                if len(counts) == 1:
                    length = None if n is None else n * counts[0]  # type: ignore[operator]
                else:
                    length = sum(counts)  # type: ignore[arg-type]
        out = list(x.type.shape)
        out[self.axis] = length
        return Apply(self, [x, repeats], [TensorType(x.dtype, out).make_variable()])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        x_shape, _ = input_shapes
        repeats = node.inputs[1]
        static = node.outputs[0].type.shape[self.axis]
        n = x_shape[self.axis]
        if static is not None:
            length: Length = static
        elif repeats.ndim == 0:
            length = _prod_lengths([n, _as_length(repeats, str(self))])
        elif repeats.type.shape[0] == 1:
            length = _prod_lengths([n, *_vector_entries(repeats, str(self))])
        elif repeats.type.shape[0] is not None:
            length = _sum_lengths(_vector_entries(repeats, str(self)))
        else:
            from symgraph.tensor.reduce import sum as _sum

            total = _tm.cast(_sum(repeats), "int64")
            # a single count repeats every element; otherwise the counts add up
            single = _tm.eq(shape_i(repeats, 0), 1)
            length = _tm.switch(single, _tm.mul(_as_int64_scalar(n), total), total)
        out = list(x_shape)
        out[self.axis] = length
        return [tuple(out)]


def repeat(x: Any, repeats: Any, axis: int | None = None) -> TensorVariable:
    """Repeat each element of ``x`` (NumPy's repeat); ``axis=None`` works on ``x`` flattened.

    Parameters
    ----------
    x : tensor
    repeats : int, int scalar, or int vector (one count per element along ``axis``)
    axis : int, optional

    >>> T.repeat(T.dvector('v'), 2)   # [v0, v0, v1, v1, ...]
    """
    x = as_tensor_variable(x)
    if axis is None:
        x = flatten(x)
        axis = 0
    ax = _normalize_axis(axis, x.ndim, "repeat")
    if isinstance(repeats, (list, tuple)):
        reps = _length_vector([_as_length(r, "repeat") for r in repeats])
    else:
        reps = as_tensor_variable(repeats)
        if reps.ndim > 1 or not _dt.is_int(reps.dtype):
            raise TypeError(f"repeat: repeats must be an int or an integer vector, got {reps!r} "
                            f"({reps.type.describe()})")
        if reps.dtype != "int64":
            reps = _tm.cast(reps, "int64")
    return Repeat(ax)(x, reps)


# ---------------------------------------------------------------------------------------
# Creating arrays: alloc, zeros, ones, arange, eye
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Alloc(Op):
    """``value`` broadcast to the shape given by int scalar inputs (a fresh array).

    As with Elemwise, only axes of ``value`` that are statically 1 (or missing on the
    left) broadcast; other axes must already have the requested length.
    """

    def make_node(self, value: Any, *lengths: Any) -> Apply:
        value = as_tensor_variable(value)
        length_vars = [as_tensor_variable(v) for v in lengths]
        for v in length_vars:
            _require_int_scalar(v, "Alloc", "a length")
        ndim = len(length_vars)
        if value.ndim > ndim:
            raise ValueError(
                f"Alloc: the value {value!r} has {value.ndim} axes, more than the shape's {ndim}"
            )
        padded = (1,) * (ndim - value.ndim) + tuple(value.type.shape)
        out: list[int | None] = []
        for axis, (have, length) in enumerate(zip(padded, length_vars)):
            want = _static_int(length)
            if want is not None and want < 0:
                raise ValueError(f"Alloc: lengths must be >= 0, got {want} for axis {axis}")
            if have is not None and have != 1 and want is not None and want != have:
                raise ValueError(
                    f"Alloc: cannot broadcast a value of shape {_show_shape(value.type.shape)} "
                    f"to a shape with length {want} on axis {axis}"
                )
            out.append(want if want is not None else (have if have != 1 else None))
        return Apply(self, [value, *length_vars], [TensorType(value.dtype, out).make_variable()])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [tuple(
            static if static is not None else _as_int64_scalar(_as_length(v, "Alloc"))
            for static, v in zip(node.outputs[0].type.shape, node.inputs[1:])
        )]


def _shape_entries(shape_arg: Any, what: str) -> list[Length]:
    """A user's shape argument (int, tuple/list of ints and scalars, int vector) as lengths."""
    if isinstance(shape_arg, (list, tuple)):
        return [_as_length(s, what) for s in shape_arg]
    if _static_int(shape_arg) is not None:
        return [_static_int(shape_arg)]  # type: ignore[list-item]
    vec = as_tensor_variable(shape_arg)
    if vec.ndim == 0:
        return [_as_length(vec, what)]
    _require_int_vector(vec, what, "the shape")
    return _vector_entries(vec, what)


def alloc(value: Any, *shape: Any) -> TensorVariable:
    """A new array of the given shape filled with ``value`` (broadcast NumPy-style).

    >>> T.alloc(0.0, 3, T.lscalar('n'))   # a 3 x n matrix of zeros
    """
    if len(shape) == 1 and not isinstance(shape[0], int) and as_tensor_variable(shape[0]).ndim == 1:
        entries = _shape_entries(shape[0], "alloc")  # alloc(v, x.shape) also works
    else:
        entries = [_as_length(s, "alloc") for s in shape]
    return Alloc()(value, *[_as_int64_scalar(e) for e in entries])


def zeros(shape: Any, dtype: Any = None) -> TensorVariable:
    """An array of zeros; ``dtype`` defaults to ``config.floatX``.

    >>> T.zeros((2, T.lscalar('n')))
    """
    from symgraph.tensor.type import _resolve_dtype

    lengths = [_as_int64_scalar(e) for e in _shape_entries(shape, "zeros")]
    return alloc(constant(0, dtype=_resolve_dtype(dtype)), *lengths)


def ones(shape: Any, dtype: Any = None) -> TensorVariable:
    """An array of ones; ``dtype`` defaults to ``config.floatX``.

    >>> T.ones(3, dtype='int32')
    """
    from symgraph.tensor.type import _resolve_dtype

    lengths = [_as_int64_scalar(e) for e in _shape_entries(shape, "ones")]
    return alloc(constant(1, dtype=_resolve_dtype(dtype)), *lengths)


@dataclass(frozen=True)
class ARange(Op):
    """``[start, start + step, ...)`` up to ``stop``, of ``dtype`` (NumPy's arange)."""

    dtype: str

    def make_node(self, start: Any, stop: Any, step: Any) -> Apply:
        args = [as_tensor_variable(v) for v in (start, stop, step)]
        for name, v in zip(("start", "stop", "step"), args):
            if v.ndim != 0 or _dt.is_complex(v.dtype):
                raise TypeError(
                    f"{self}: {name} must be a real scalar, got {v!r} ({v.type.describe()})"
                )
        length: int | None = None
        if all(isinstance(v, Constant) for v in args):
            start_v, stop_v, step_v = (
                np.asarray(v.data).item() for v in args  # type: ignore[attr-defined]
            )
            if step_v == 0:
                raise ValueError(f"{self}: step must not be zero")
            # NumPy's own length rule: ceil((stop - start) / step), at least 0
            length = max(_math.ceil((stop_v - start_v) / step_v), 0)
        return Apply(self, args, [TensorType(self.dtype, (length,)).make_variable()])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        static = node.outputs[0].type.shape[0]
        if static is not None:
            return [(static,)]
        start, stop, step = node.inputs
        if all(_dt.is_discrete(v.dtype) for v in node.inputs):
            start, stop, step = (_tm.cast(v, "int64") for v in node.inputs)
            # ceil((stop - start) / step) == -((start - stop) // step), for either sign of step
            count = _tm.neg(_tm.int_div(_tm.sub(start, stop), step))
        else:
            start, stop, step = (_tm.cast(v, "float64") for v in node.inputs)
            count = _tm.cast(_tm.ceil(_tm.true_div(_tm.sub(stop, start), step)), "int64")
        return [(_tm.maximum(count, 0),)]


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> TensorVariable:
    """Evenly spaced values in ``[start, stop)`` (NumPy's arange).

    Integer arguments give int64; floating-point ones give their upcast dtype (Python
    floats count as ``config.floatX``), unless ``dtype`` is given.

    >>> T.arange(T.lscalar('n'))   # 0, 1, ..., n - 1
    """
    if stop is None:
        start, stop = 0, start
    args = [as_tensor_variable(v) for v in (start, stop, step)]
    if dtype is None:
        if all(_dt.is_discrete(a.dtype) for a in args):
            out_dtype = "int64"
        else:
            out_dtype = _dt.upcast(*[a.dtype for a in args if not _dt.is_discrete(a.dtype)])
    else:
        out_dtype = _dt.normalize_dtype(dtype)
    return ARange(out_dtype)(*args)


@dataclass(frozen=True)
class Eye(Op):
    """An ``n x m`` matrix with ones on diagonal ``k`` and zeros elsewhere (NumPy's eye)."""

    dtype: str

    def make_node(self, n: Any, m: Any, k: Any) -> Apply:
        args = [as_tensor_variable(v) for v in (n, m, k)]
        for name, v in zip(("n", "m", "k"), args):
            _require_int_scalar(v, str(self), name)
        rows, cols = _static_int(args[0]), _static_int(args[1])
        for name, v in (("n", rows), ("m", cols)):
            if v is not None and v < 0:
                raise ValueError(f"{self}: {name} must be >= 0, got {v}")
        return Apply(self, args, [TensorType(self.dtype, (rows, cols)).make_variable()])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [tuple(
            static if static is not None else _as_int64_scalar(_as_length(v, "Eye"))
            for static, v in zip(node.outputs[0].type.shape, node.inputs[:2])
        )]


def eye(n: Any, m: Any = None, k: Any = 0, dtype: Any = None) -> TensorVariable:
    """The identity-like matrix: ones on diagonal ``k`` of an ``n x m`` matrix.

    ``dtype`` defaults to ``config.floatX``.

    >>> T.eye(3)   # the 3 x 3 identity
    """
    from symgraph.tensor.type import _resolve_dtype

    if m is None:
        m = n
    args = [_as_int64_scalar(_as_length(v, "eye")) for v in (n, m, k)]
    return Eye(_resolve_dtype(dtype))(*args)


def identity_like(x: Any) -> TensorVariable:
    """The identity-like matrix with the shape and dtype of the matrix ``x``.

    >>> T.identity_like(T.dmatrix('m'))
    """
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise ValueError(f"identity_like: expects a matrix, got {x!r} with ndim {x.ndim}")
    return eye(shape_i(x, 0), shape_i(x, 1), 0, dtype=x.dtype)
