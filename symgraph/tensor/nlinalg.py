"""Numerical linear algebra (``T.nlinalg``): inverse, determinant, solve, pseudo-inverse,
diagonals and trace.

Integer inputs give float64 results, as ``numpy.linalg`` does. A singular matrix makes
``numpy.linalg`` raise ``LinAlgError`` at run time, which the runner reports as a
``ValueError`` naming the op and the line that built it.

``inv`` is only reachable as ``T.nlinalg.inv`` (not ``T.inv``, which would be ambiguous
with the elementwise reciprocal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from symgraph.graph.node import Apply
from symgraph.graph.op import Op
from symgraph.scalar import dtypes as _dt
from symgraph.tensor import math as tm
from symgraph.tensor.linalg import InputShapes, format_shape
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import TensorVariable, as_tensor_variable, constant

__all__ = [
    "matrix_inverse", "inv", "det", "solve", "pinv", "trace", "diag", "extract_diag", "alloc_diag",
    "eigh",
]


def linalg_dtype(what: str, dtype: str) -> str:
    """The dtype numpy.linalg computes in: floats and complex keep theirs, the rest float64."""
    if dtype in ("float32", "float64", "complex64", "complex128"):
        return dtype
    if dtype == "float16":
        raise TypeError(
            f"{what}: float16 is not supported by numpy.linalg; cast the input to float32"
        )
    return "float64"


def _matrix_input(what: str, x: Any) -> TensorVariable:
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise TypeError(f"{what}: expected a matrix (ndim=2), got {x.type.describe()} {x!r}")
    return x


def _square_length(what: str, x: TensorVariable) -> int | None:
    """The static side length of a square matrix; raise if it is statically not square."""
    rows, cols = x.type.shape
    if rows is not None and cols is not None and rows != cols:
        raise ValueError(
            f"{what}: expected a square matrix, got shape {format_shape(x.type.shape)}"
        )
    return rows if rows is not None else cols


@dataclass(frozen=True)
class MatrixInverse(Op):
    """The inverse of a square matrix (``numpy.linalg.inv``)."""

    def make_node(self, x: Any) -> Apply:
        x = _matrix_input("matrix_inverse", x)
        n = _square_length("matrix_inverse", x)
        out = TensorType(linalg_dtype("matrix_inverse", x.dtype), (n, n)).make_variable()
        return Apply(self, [x], [out])

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        return [tuple(input_shapes[0])]


@dataclass(frozen=True)
class Det(Op):
    """The determinant of a square matrix (``numpy.linalg.det``), a scalar."""

    def make_node(self, x: Any) -> Apply:
        x = _matrix_input("det", x)
        _square_length("det", x)
        out = TensorType(linalg_dtype("det", x.dtype), ()).make_variable()
        return Apply(self, [x], [out])

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        return [()]


@dataclass(frozen=True)
class Solve(Op):
    """The solution ``x`` of ``a @ x = b`` for a square ``a`` (``numpy.linalg.solve``).

    ``b`` is a vector (one right-hand side) or a matrix (one per column).
    """

    def make_node(self, a: Any, b: Any) -> Apply:
        a = _matrix_input("solve", a)
        b = as_tensor_variable(b)
        if b.ndim not in (1, 2):
            raise TypeError(f"solve: b must be a vector or a matrix, got {b.type.describe()} {b!r}")
        n = _square_length("solve", a)
        rows_b = b.type.shape[0]
        if n is not None and rows_b is not None and n != rows_b:
            raise ValueError(
                f"solve: shapes {format_shape(a.type.shape)} and {format_shape(b.type.shape)} "
                f"are not aligned: a has {n} rows, b has {rows_b}"
            )
        dtype = linalg_dtype("solve", _dt.upcast(a.dtype, b.dtype))
        shape = (rows_b if rows_b is not None else n,) + b.type.shape[1:]
        return Apply(self, [a, b], [TensorType(dtype, shape).make_variable()])

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        return [tuple(input_shapes[1])]


@dataclass(frozen=True)
class MatrixPinv(Op):
    """The Moore-Penrose pseudo-inverse (``numpy.linalg.pinv``): an (m, n) matrix gives (n, m)."""

    def make_node(self, x: Any) -> Apply:
        x = _matrix_input("pinv", x)
        rows, cols = x.type.shape
        out = TensorType(linalg_dtype("pinv", x.dtype), (cols, rows)).make_variable()
        return Apply(self, [x], [out])

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        rows, cols = input_shapes[0]
        return [(cols, rows)]


@dataclass(frozen=True)
class Eigh(Op):
    """Eigenvalues (ascending) and eigenvectors of a symmetric/Hermitian matrix
    (``numpy.linalg.eigh``). Only the lower (``UPLO='L'``) or upper (``'U'``) triangle is
    read. Two outputs: ``w`` of shape (n,) (real) and ``v`` of shape (n, n), whose columns are
    the eigenvectors."""

    UPLO: str = "L"

    def __post_init__(self) -> None:
        if self.UPLO not in ("L", "U"):
            raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {self.UPLO!r}")

    def make_node(self, x: Any) -> Apply:
        x = _matrix_input("eigh", x)
        n = _square_length("eigh", x)
        dtype = linalg_dtype("eigh", x.dtype)
        # the eigenvalues of a Hermitian matrix are real
        w_dtype = {"complex64": "float32", "complex128": "float64"}.get(dtype, dtype)
        w = TensorType(w_dtype, (n,)).make_variable()
        v = TensorType(dtype, (n, n)).make_variable()
        return Apply(self, [x], [w, v])

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        shape = tuple(input_shapes[0])
        return [shape[:1], shape]


def diagonal_length(rows: Any, cols: Any, offset: int) -> Any:
    """Length of diagonal ``offset`` of a (rows, cols) matrix; ints or int64 scalars."""
    if isinstance(rows, int) and isinstance(cols, int):
        length = min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols)
        return max(length, 0)
    if offset >= 0:
        length = tm.minimum(rows, tm.sub(cols, offset))
    else:
        length = tm.minimum(tm.add(rows, offset), cols)
    return tm.maximum(length, 0)


@dataclass(frozen=True)
class ExtractDiag(Op):
    """Diagonal ``offset`` of a matrix as a vector (``numpy.diagonal``; above the main
    diagonal for ``offset > 0``, below it for ``offset < 0``)."""

    offset: int = 0

    def make_node(self, x: Any) -> Apply:
        x = _matrix_input("extract_diag", x)
        rows, cols = x.type.shape
        length = None
        if rows is not None and cols is not None:
            length = diagonal_length(rows, cols, self.offset)
        return Apply(self, [x], [TensorType(x.dtype, (length,)).make_variable()])

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        static = node.outputs[0].type.shape[0]
        rows, cols = input_shapes[0]
        return [(static if static is not None else diagonal_length(rows, cols, self.offset),)]


@dataclass(frozen=True)
class AllocDiag(Op):
    """A (rows, cols) matrix of zeros with ``v`` on diagonal ``offset``.

    Inputs: ``v`` (a vector) and the int64 scalars ``rows`` and ``cols``; ``len(v)`` must
    be the length of that diagonal. ``alloc_diag(v, offset)`` makes the square matrix of
    ``numpy.diag``; the gradient of ``ExtractDiag`` uses other shapes.
    """

    offset: int = 0

    def make_node(self, v: Any, rows: Any, cols: Any) -> Apply:
        v = as_tensor_variable(v)
        if v.ndim != 1:
            raise TypeError(f"alloc_diag: expected a vector, got {v.type.describe()} {v!r}")
        sizes = []
        for name, size in (("rows", rows), ("cols", cols)):
            size = as_tensor_variable(size)
            if size.ndim != 0 or not _dt.is_int(size.dtype):
                raise TypeError(
                    f"AllocDiag: {name} must be an integer scalar, got {size.type.describe()}"
                )
            if size.dtype != "int64":
                # keep constants constant, so the static shape stays known
                data = getattr(size, "data", None)
                if data is not None:
                    size = constant(int(data), dtype="int64")
                else:
                    size = tm.cast(size, "int64")
            sizes.append(size)
        rows_static, cols_static = (_static_int(size) for size in sizes)
        length = v.type.shape[0]
        if rows_static is not None and cols_static is not None and length is not None:
            expected = diagonal_length(rows_static, cols_static, self.offset)
            if expected != length:
                raise ValueError(
                    f"alloc_diag: diagonal {self.offset} of a ({rows_static}, {cols_static}) "
                    f"matrix has {expected} entries, got a vector of length {length}"
                )
        out = TensorType(v.dtype, (rows_static, cols_static)).make_variable()
        return Apply(self, [v, *sizes], [out])

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        _, rows, cols = node.inputs
        static = node.outputs[0].type.shape
        return [tuple(sym if st is None else st for st, sym in zip(static, (rows, cols)))]


def _static_int(var: TensorVariable) -> int | None:
    data = getattr(var, "data", None)
    return int(data) if data is not None else None


# ---------------------------------------------------------------------------------------
# User functions
# ---------------------------------------------------------------------------------------
def matrix_inverse(x: Any) -> TensorVariable:
    """The inverse of a square matrix.

    Parameters
    ----------
    x : square matrix

    Examples
    --------
    >>> A = T.dmatrix('A')
    >>> A_inv = T.nlinalg.matrix_inverse(A)
    """
    return MatrixInverse()(x)


def inv(x: Any) -> TensorVariable:
    """The inverse of a square matrix (same as ``matrix_inverse``).

    Parameters
    ----------
    x : square matrix

    Examples
    --------
    >>> A_inv = T.nlinalg.inv(T.dmatrix('A'))
    """
    return MatrixInverse()(x)


def det(x: Any) -> TensorVariable:
    """The determinant of a square matrix, a scalar.

    Parameters
    ----------
    x : square matrix

    Examples
    --------
    >>> d = T.nlinalg.det(T.dmatrix('A'))
    """
    return Det()(x)


def solve(a: Any, b: Any) -> TensorVariable:
    """Solve ``a @ x = b`` for ``x``.

    Parameters
    ----------
    a : square matrix
    b : vector or matrix with as many rows as ``a``

    Returns
    -------
    TensorVariable shaped like ``b``.

    Examples
    --------
    >>> A, b = T.dmatrix('A'), T.dvector('b')
    >>> x = T.nlinalg.solve(A, b)
    """
    return Solve()(a, b)


def pinv(x: Any) -> TensorVariable:
    """The Moore-Penrose pseudo-inverse of a matrix.

    Parameters
    ----------
    x : matrix of shape (m, n); the result has shape (n, m)

    Examples
    --------
    >>> P = T.nlinalg.pinv(T.dmatrix('A'))
    """
    return MatrixPinv()(x)


def eigh(x: Any, UPLO: str = "L") -> list[TensorVariable]:  # noqa: N803 - NumPy's name
    """Eigenvalues and eigenvectors of a symmetric matrix, as ``numpy.linalg.eigh``.

    Parameters
    ----------
    x : square matrix, symmetric (only one triangle is read)
    UPLO : 'L' or 'U'
        Read the lower or the upper triangle.

    Returns
    -------
    [w, v]: the eigenvalues in ascending order, and the eigenvectors as the columns of ``v``.

    Examples
    --------
    >>> w, v = T.nlinalg.eigh(T.dmatrix('A'))
    """
    return Eigh(UPLO)(x)


def extract_diag(x: Any, offset: int = 0) -> TensorVariable:
    """Diagonal ``offset`` of a matrix, as a vector (``numpy.diagonal``).

    Parameters
    ----------
    x : matrix
    offset : int
        0 for the main diagonal, > 0 above it, < 0 below it.

    Examples
    --------
    >>> d = T.nlinalg.extract_diag(T.dmatrix('A'))
    """
    return ExtractDiag(int(offset))(x)


def alloc_diag(v: Any, offset: int = 0) -> TensorVariable:
    """A square matrix with ``v`` on diagonal ``offset`` and zeros elsewhere.

    Parameters
    ----------
    v : vector
    offset : int
        0 for the main diagonal, > 0 above it, < 0 below it; the matrix has side
        ``len(v) + abs(offset)``.

    Examples
    --------
    >>> D = T.nlinalg.alloc_diag(T.dvector('v'))
    """
    from symgraph.tensor.shape import shape_i

    v = as_tensor_variable(v)
    if v.ndim != 1:
        raise TypeError(f"alloc_diag: expected a vector, got {v.type.describe()} {v!r}")
    offset = int(offset)
    static = v.type.shape[0]
    if static is not None:
        side: Any = constant(static + abs(offset), dtype="int64")
    else:
        side = tm.add(shape_i(v, 0), abs(offset)) if offset else shape_i(v, 0)
    return AllocDiag(offset)(v, side, side)


def diag(x: Any, k: int = 0) -> TensorVariable:
    """``numpy.diag``: a vector gives a square matrix with it on diagonal ``k``; a matrix
    gives its diagonal ``k`` as a vector.

    Parameters
    ----------
    x : vector or matrix
    k : int

    Examples
    --------
    >>> D = T.nlinalg.diag(T.dvector('v'))     # a diagonal matrix
    """
    x = as_tensor_variable(x)
    if x.ndim == 1:
        return alloc_diag(x, k)
    if x.ndim == 2:
        return extract_diag(x, k)
    raise ValueError(f"diag: expected a vector or a matrix, got {x.type.describe()} {x!r}")


def trace(x: Any, offset: int = 0) -> TensorVariable:
    """The sum of diagonal ``offset`` of a matrix.

    Parameters
    ----------
    x : matrix
    offset : int

    Examples
    --------
    >>> t = T.nlinalg.trace(T.dmatrix('A'))
    """
    from symgraph.tensor.reduce import sum as _sum

    return _sum(extract_diag(x, offset))
