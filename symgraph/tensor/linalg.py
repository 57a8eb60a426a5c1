"""Products of tensors: dot, matmul, outer, tensordot and their batched forms.

Two core ops do the arithmetic: ``Dot`` (the 1-d/2-d cases of ``numpy.dot``, which
backends hand to BLAS) and ``BatchedDot`` (a stack of such products over a leading batch
axis). ``MatMul`` covers ``numpy.matmul`` with more than two axes (broadcast batch axes).
Everything else is expressed with dimshuffle, reshape and these ops, so it is
differentiated, rewritten and compiled like any other graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any

from symgraph.graph.node import Apply
from symgraph.graph.op import Op
from symgraph.scalar import dtypes as _dt
from symgraph.tensor import math as tm
from symgraph.tensor.elemwise import broadcast_static_shapes, dimshuffle
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import TensorVariable, as_tensor_variable

__all__ = ["dot", "matmul", "outer", "tensordot", "batched_dot", "batched_tensordot"]

StaticShape = tuple[int | None, ...]
#: what infer_shape receives: per input, a tuple of ints and int64 scalar variables
InputShapes = Sequence[tuple[Any, ...]]


def format_shape(shape: Sequence[int | None]) -> str:
    """``(3, ?)`` for a static shape with an unknown length (NumPy's tuple formatting)."""
    entries = ["?" if s is None else str(s) for s in shape]
    return "(" + ", ".join(entries) + ("," if len(entries) == 1 else "") + ")"


def _check_aligned(
    what: str, shape_a: StaticShape, shape_b: StaticShape, k_a: int | None, k_b: int | None
) -> None:
    """Raise when both contracted lengths are static and differ."""
    if k_a is not None and k_b is not None and k_a != k_b:
        raise ValueError(
            f"{what}: shapes {format_shape(shape_a)} and {format_shape(shape_b)} are not aligned: "
            f"{k_a} != {k_b}"
        )


def _merge_length(what: str, a: int | None, b: int | None) -> int | None:
    if a is not None and b is not None and a != b:
        raise ValueError(f"{what}: batch sizes differ: {a} != {b}")
    return a if a is not None else b


def _pick_shape(node: Apply, symbolic: Sequence[Any]) -> tuple[Any, ...]:
    """The output's static lengths where known, the symbolic ones elsewhere."""
    static = node.outputs[0].type.shape
    return tuple(s if s is not None else sym for s, sym in zip(static, symbolic))


# ---------------------------------------------------------------------------------------
# Ops
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dot(Op):
    """``numpy.dot`` of vectors and matrices: vector.vector -> scalar, matrix.vector,
    vector.matrix and matrix.matrix. The result dtype is the upcast of the inputs'."""

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        for position, var in (("first", a), ("second", b)):
            if var.ndim not in (1, 2):
                raise TypeError(
                    f"Dot: the {position} input must be a vector or a matrix, got "
                    f"{var.type.describe()} {var!r}; use T.dot or T.tensordot for other ranks"
                )
        _check_aligned("dot", a.type.shape, b.type.shape, a.type.shape[-1], b.type.shape[0])
        shape = a.type.shape[:-1] + b.type.shape[1:]
        out = TensorType(_dt.upcast(a.dtype, b.dtype), shape).make_variable()
        return Apply(self, [a, b], [out])

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        shape_a, shape_b = input_shapes
        return [_pick_shape(node, tuple(shape_a[:-1]) + tuple(shape_b[1:]))]


@dataclass(frozen=True)
class BatchedDot(Op):
    """Products over a leading batch axis: ``out[i] = dot(a[i], b[i])``.

    Each input is 2-d (a batch of vectors) or 3-d (a batch of matrices); the batch
    lengths must be equal (they do not broadcast).
    """

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        for position, var in (("first", a), ("second", b)):
            if var.ndim not in (2, 3):
                raise TypeError(
                    f"BatchedDot: the {position} input must be 2-d (a batch of vectors) or 3-d "
                    f"(a batch of matrices), got {var.type.describe()} {var!r}; "
                    "use T.batched_dot or T.batched_tensordot for other ranks"
                )
        batch = _merge_length("batched_dot", a.type.shape[0], b.type.shape[0])
        _check_aligned("batched_dot", a.type.shape, b.type.shape, a.type.shape[-1], b.type.shape[1])
        shape = (batch,) + a.type.shape[1:-1] + b.type.shape[2:]
        out = TensorType(_dt.upcast(a.dtype, b.dtype), shape).make_variable()
        return Apply(self, [a, b], [out])

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        shape_a, shape_b = input_shapes
        return [_pick_shape(node, (shape_a[0],) + tuple(shape_a[1:-1]) + tuple(shape_b[2:]))]


def _matmul_core_shapes(
    shape_a: StaticShape, shape_b: StaticShape
) -> tuple[StaticShape, StaticShape]:
    """Shapes after numpy.matmul's 1-d promotion: (K,) @ ... is (1, K), ... @ (K,) is (K, 1)."""
    a2 = (1,) + shape_a if len(shape_a) == 1 else shape_a
    b2 = shape_b + (1,) if len(shape_b) == 1 else shape_b
    return a2, b2


def matmul_batch_shapes(
    ndim_a: int, ndim_b: int, shape_a: Sequence[Any], shape_b: Sequence[Any]
) -> tuple[list[Any], list[Any]]:
    """The batch axes of both operands, padded on the left with 1 to the same length."""
    batch_a = list(shape_a[:-2]) if ndim_a >= 2 else []
    batch_b = list(shape_b[:-2]) if ndim_b >= 2 else []
    n = max(len(batch_a), len(batch_b))
    return [1] * (n - len(batch_a)) + batch_a, [1] * (n - len(batch_b)) + batch_b


@dataclass(frozen=True)
class MatMul(Op):
    """``numpy.matmul``: stacks of matrix products with broadcast batch axes.

    A 1-d operand is promoted to a matrix (a row on the left, a column on the right)
    and the promoted axis is removed from the result. As with elementwise ops, only batch
    axes of static length 1 broadcast.
    """

    def make_node(self, a: Any, b: Any) -> Apply:
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        for position, var in (("first", a), ("second", b)):
            if var.ndim == 0:
                raise ValueError(
                    f"matmul: the {position} input {var!r} is a scalar; matmul needs at least "
                    "one axis (use * to multiply by a scalar)"
                )
        a2, b2 = _matmul_core_shapes(a.type.shape, b.type.shape)
        _check_aligned("matmul", a.type.shape, b.type.shape, a2[-1], b2[-2])
        batch_a, batch_b = matmul_batch_shapes(a.ndim, b.ndim, a.type.shape, b.type.shape)
        batch = broadcast_static_shapes([tuple(batch_a), tuple(batch_b)], "matmul (batch axes)")
        shape = batch + (a2[-2],) * (a.ndim >= 2) + (b2[-1],) * (b.ndim >= 2)
        out = TensorType(_dt.upcast(a.dtype, b.dtype), shape).make_variable()
        return Apply(self, [a, b], [out])

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        a, b = node.inputs
        shape_a, shape_b = input_shapes
        static_a, static_b = matmul_batch_shapes(a.ndim, b.ndim, a.type.shape, b.type.shape)
        sym_a, sym_b = matmul_batch_shapes(a.ndim, b.ndim, shape_a, shape_b)
        batch = []
        for st_a, sy_a, sy_b in zip(static_a, sym_a, sym_b):
            # an operand whose length here is not statically 1 gives the answer
            batch.append(sy_a if st_a != 1 else sy_b)
        core = ([shape_a[-2]] if a.ndim >= 2 else []) + ([shape_b[-1]] if b.ndim >= 2 else [])
        return [_pick_shape(node, batch + core)]


# ---------------------------------------------------------------------------------------
# User functions
# ---------------------------------------------------------------------------------------
def dot(a: Any, b: Any) -> TensorVariable:
    """The dot product, with ``numpy.dot``'s semantics.

    Vectors and matrices give the usual products; a scalar operand multiplies
    elementwise; for higher ranks the last axis of ``a`` is summed against the
    second-to-last axis of ``b`` (the last, if ``b`` is 1-d).

    Parameters
    ----------
    a, b : tensor-like

    Returns
    -------
    TensorVariable of dtype upcast(a.dtype, b.dtype).

    Examples
    --------
    >>> X, w = T.dmatrix('X'), T.dvector('w')
    >>> y = T.dot(X, w)            # a vector: X @ w
    """
    a_var, b_var = as_tensor_variable(a), as_tensor_variable(b)
    if a_var.ndim == 0 or b_var.ndim == 0:
        # pass the originals so that Python numbers stay weakly typed (x_float32 * 2.0)
        return tm.mul(a, b)
    if a_var.ndim <= 2 and b_var.ndim <= 2:
        return Dot()(a_var, b_var)
    return tensordot(a_var, b_var, [[a_var.ndim - 1], [max(b_var.ndim - 2, 0)]])


def matmul(a: Any, b: Any) -> TensorVariable:
    """Matrix product with ``numpy.matmul``'s semantics (the ``@`` operator).

    Inputs with more than two axes are stacks of matrices whose batch axes broadcast
    (axes of static length 1 only); a 1-d operand is promoted to a matrix and the extra
    axis removed from the result. Scalars are not allowed.

    Parameters
    ----------
    a, b : tensor-like, each with at least one axis

    Examples
    --------
    >>> A, B = T.dtensor3('A'), T.dtensor3('B')
    >>> C = A @ B                  # C[i] = A[i] @ B[i]
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if 1 <= a.ndim <= 2 and 1 <= b.ndim <= 2:
        # numpy.matmul and numpy.dot agree here; Dot is what the BLAS rewrites look for
        return Dot()(a, b)
    return MatMul()(a, b)


def outer(x: Any, y: Any) -> TensorVariable:
    """Outer product of two vectors (other inputs are flattened first, as NumPy does).

    Parameters
    ----------
    x, y : tensor-like

    Examples
    --------
    >>> u, v = T.dvectors('u', 'v')
    >>> M = T.outer(u, v)          # M[i, j] = u[i] * v[j]
    """
    from symgraph.tensor.shape import flatten

    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.ndim != 1:
        x = flatten(x)
    if y.ndim != 1:
        y = flatten(y)
    return Dot()(dimshuffle(x, (0, "x")), dimshuffle(y, ("x", 0)))


def _as_axis_list(axes: Any, ndim: int, what: str, operand: str) -> list[int]:
    items = [axes] if isinstance(axes, Integral) else list(axes)
    out = []
    for axis in items:
        axis = int(axis)
        if not -ndim <= axis < ndim:
            raise ValueError(
                f"{what}: axis {axis} is out of range for {operand}, which has {ndim} axes"
            )
        out.append(axis % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{what}: axes {items} of {operand} repeat an axis")
    return out


def _tensordot_axes(
    ndim_a: int, ndim_b: int, axes: Any, batched: bool
) -> tuple[list[int], list[int]]:
    """Normalise ``axes`` to two equal-length lists of non-negative axes."""
    what = "batched_tensordot" if batched else "tensordot"
    first = 1 if batched else 0
    if isinstance(axes, Integral):
        axes = int(axes)
        if axes < 0:
            raise ValueError(
                f"{what}: axes must be a non-negative int or a pair of axis lists, got {axes}"
            )
        if axes > ndim_a - first or axes > ndim_b - first:
            raise ValueError(
                f"{what}: cannot sum over {axes} axes of tensors with {ndim_a} and {ndim_b} axes"
                + (" (the batch axis is not summed)" if batched else "")
            )
        axes_a = list(range(ndim_a - axes, ndim_a))
        axes_b = list(range(first, first + axes))
    else:
        try:
            spec_a, spec_b = axes
        except (TypeError, ValueError):
            raise ValueError(
                f"{what}: axes must be an int or a pair (axes_a, axes_b), got {axes!r}"
            ) from None
        axes_a = _as_axis_list(spec_a, ndim_a, what, "a")
        axes_b = _as_axis_list(spec_b, ndim_b, what, "b")
        if len(axes_a) != len(axes_b):
            raise ValueError(
                f"{what}: axes_a {axes_a} and axes_b {axes_b} must have the same length"
            )
    if batched and (0 in axes_a or 0 in axes_b):
        raise ValueError(f"{what}: axis 0 is the batch axis and cannot be summed over")
    return axes_a, axes_b


def _length(x: TensorVariable, axis: int) -> Any:
    """``x.shape[axis]``: an int when static, else an int64 scalar variable."""
    from symgraph.tensor.shape import shape_i

    static = x.type.shape[axis]
    return static if static is not None else shape_i(x, axis)


def _product(x: TensorVariable, axes: Sequence[int]) -> Any:
    """The product of the lengths of ``axes`` of ``x`` (an int when all are static)."""
    lengths = [_length(x, axis) for axis in axes]
    static = 1
    for n in lengths:
        if isinstance(n, int):
            static *= n
    factors = [n for n in lengths if not isinstance(n, int)]
    if not factors:
        return static
    if static != 1:
        factors.append(static)
    return factors[0] if len(factors) == 1 else tm.mul(*factors)


def _grouped(x: TensorVariable, groups: Sequence[Sequence[int]]) -> TensorVariable:
    """Reshape ``x`` so that each group of consecutive axes becomes one axis.

    An empty group is dropped; nothing is done when every group is a single axis.
    """
    from symgraph.tensor.shape import reshape

    kept = [g for g in groups if len(g) > 0]
    if all(len(g) == 1 for g in kept):
        return x
    target = tuple(_product(x, g) for g in kept)
    return reshape(x, target, ndim=len(target))


def _ungrouped(
    out: TensorVariable, sources: Sequence[tuple[TensorVariable, Sequence[int]]]
) -> TensorVariable:
    """Reshape ``out`` to the lengths of the listed axes of the source operands, in order."""
    from symgraph.tensor.shape import reshape

    lengths = [_length(var, axis) for var, axes in sources for axis in axes]
    if len(lengths) == out.ndim:
        return out
    return reshape(out, tuple(lengths), ndim=len(lengths))


def _check_summed_lengths(
    what: str, a: TensorVariable, b: TensorVariable, axes_a: list[int], axes_b: list[int]
) -> None:
    for axis_a, axis_b in zip(axes_a, axes_b):
        len_a, len_b = a.type.shape[axis_a], b.type.shape[axis_b]
        if len_a is not None and len_b is not None and len_a != len_b:
            raise ValueError(
                f"{what}: shape mismatch for sum: axis {axis_a} of a "
                f"(shape {format_shape(a.type.shape)}) has length {len_a}, axis {axis_b} of b "
                f"(shape {format_shape(b.type.shape)}) has length {len_b}"
            )


def tensordot(a: Any, b: Any, axes: Any = 2) -> TensorVariable:
    """Sum products over the given axes, with ``numpy.tensordot``'s semantics.

    Parameters
    ----------
    a, b : tensor-like
    axes : int or (axes_a, axes_b)
        An int ``n`` sums the last ``n`` axes of ``a`` against the first ``n`` of ``b``;
        a pair of axis lists (or single axes) pairs ``axes_a[i]`` with ``axes_b[i]``.

    Returns
    -------
    TensorVariable whose axes are the remaining axes of ``a`` then those of ``b``.

    Examples
    --------
    >>> A, B = T.dtensor3('A'), T.dmatrix('B')
    >>> C = T.tensordot(A, B, axes=[[2], [0]])   # C[i, j, k] = sum_l A[i, j, l] * B[l, k]
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    axes_a, axes_b = _tensordot_axes(a.ndim, b.ndim, axes, batched=False)
    _check_summed_lengths("tensordot", a, b, axes_a, axes_b)
    free_a = [i for i in range(a.ndim) if i not in axes_a]
    free_b = [i for i in range(b.ndim) if i not in axes_b]
    if not axes_a:
        # no summed axes: an outer product of every element of a with every element of b
        a_part = dimshuffle(a, tuple(range(a.ndim)) + ("x",) * b.ndim)
        b_part = dimshuffle(b, ("x",) * a.ndim + tuple(range(b.ndim)))
        return tm.mul(a_part, b_part)
    # move the summed axes together (last in a, first in b), collapse to vectors/matrices
    a_moved = dimshuffle(a, free_a + axes_a)
    b_moved = dimshuffle(b, axes_b + free_b)
    n_free_a = len(free_a)
    a_flat = _grouped(a_moved, [range(n_free_a), range(n_free_a, a.ndim)])
    b_flat = _grouped(b_moved, [range(len(axes_b)), range(len(axes_b), b.ndim)])
    out = Dot()(a_flat, b_flat)
    return _ungrouped(out, [(a, free_a), (b, free_b)])


def batched_dot(a: Any, b: Any) -> TensorVariable:
    """Products over the first (batch) axis: ``out[i] = dot(a[i], b[i])``, as Theano did.

    Batches of vectors (2-d) and matrices (3-d) use ``BatchedDot``; a 1-d operand
    scales the other per batch entry; higher ranks sum the last axis of ``a`` against
    axis ``max(1, b.ndim - 2)`` of ``b`` (``batched_tensordot``).

    Parameters
    ----------
    a, b : tensor-like with equal first-axis lengths

    Examples
    --------
    >>> A, B = T.dtensor3('A'), T.dtensor3('B')
    >>> C = T.batched_dot(A, B)    # C[i] = A[i] @ B[i]
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    for position, var in (("first", a), ("second", b)):
        if var.ndim == 0:
            raise TypeError(
                f"batched_dot: the {position} input {var!r} must have a batch axis, got a scalar"
            )
    if a.ndim == 1:
        return tm.mul(dimshuffle(a, (0,) + ("x",) * (b.ndim - 1)), b)
    if b.ndim == 1:
        return tm.mul(a, dimshuffle(b, (0,) + ("x",) * (a.ndim - 1)))
    if a.ndim > 3 or b.ndim > 3:
        return batched_tensordot(a, b, [[a.ndim - 1], [max(1, b.ndim - 2)]])
    return BatchedDot()(a, b)


def batched_tensordot(x: Any, y: Any, axes: Any = 2) -> TensorVariable:
    """``tensordot`` applied to each pair ``(x[i], y[i])`` along the first (batch) axis.

    Parameters
    ----------
    x, y : tensor-like with equal first-axis lengths
    axes : int or (axes_x, axes_y)
        An int ``n`` sums the last ``n`` axes of ``x`` against axes ``1..n`` of ``y``; a
        pair lists the axes (of the full tensors; axis 0 is the batch axis and cannot be
        summed).

    Examples
    --------
    >>> X, Y = T.dtensor4('X'), T.dtensor3('Y')
    >>> Z = T.batched_tensordot(X, Y, [[3], [1]])   # Z[b] = tensordot(X[b], Y[b], [[2], [0]])
    """
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    for position, var in (("first", x), ("second", y)):
        if var.ndim == 0:
            raise TypeError(
                f"batched_tensordot: the {position} input {var!r} must have a batch axis"
            )
    axes_x, axes_y = _tensordot_axes(x.ndim, y.ndim, axes, batched=True)
    _check_summed_lengths("batched_tensordot", x, y, axes_x, axes_y)
    _merge_length("batched_tensordot", x.type.shape[0], y.type.shape[0])
    free_x = [i for i in range(1, x.ndim) if i not in axes_x]
    free_y = [i for i in range(1, y.ndim) if i not in axes_y]
    if not axes_x:
        x_part = dimshuffle(x, tuple(range(x.ndim)) + ("x",) * (y.ndim - 1))
        y_part = dimshuffle(y, (0,) + ("x",) * (x.ndim - 1) + tuple(range(1, y.ndim)))
        return tm.mul(x_part, y_part)
    x_moved = dimshuffle(x, [0] + free_x + axes_x)
    y_moved = dimshuffle(y, [0] + axes_y + free_y)
    n_free_x, n_sum = len(free_x), len(axes_x)
    x_flat = _grouped(x_moved, [[0], range(1, 1 + n_free_x), range(1 + n_free_x, x.ndim)])
    y_flat = _grouped(y_moved, [[0], range(1, 1 + n_sum), range(1 + n_sum, y.ndim)])
    out = BatchedDot()(x_flat, y_flat)
    return _ungrouped(out, [(x, [0] + free_x), (y, free_y)])
