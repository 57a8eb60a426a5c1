"""C emitters for numerical linear algebra (``T.nlinalg``): inverse, determinant, solve,
pseudo-inverse and symmetric eigendecomposition through LAPACK, plus the diagonal ops.

LAPACK comes from the same pip-installed OpenBLAS as CBLAS (the ``scipy-openblas32`` wheel
ships ``lapacke.h``, whose functions carry a ``scipy_`` prefix). Each op does what
``numpy.linalg`` does, so the two backends agree up to rounding (NumPy bundles another
OpenBLAS build; an eigenvector, whose sign is arbitrary, can come out negated):

- the input is copied (and converted to the op's float dtype) into a column-major scratch
  buffer, since LAPACK is column-major and overwrites its arguments;
- ``inv`` solves ``A X = I`` with ``?gesv``; ``solve`` calls ``?gesv``; ``det`` factors
  with ``?getrf`` and returns ``sign * exp(sum(log|u_ii|))`` (0 for an exactly singular
  matrix); ``pinv`` takes the thin SVD (``?gesdd``), drops singular values at or below
  ``1e-15 * max(s)`` and multiplies back with ``?gemm``; ``eigh`` calls ``?syevd``;
- failures use NumPy's ``LinAlgError`` messages ("Singular matrix", "SVD did not
  converge", "Eigenvalues did not converge"), which the runner reports as the py backend
  does: a ``ShapeMismatchError`` naming the op and the user's line.

The ``_work`` LAPACKE entry points are called in column-major layout: they forward to
LAPACK without LAPACKE's NaN scan, so NaN inputs give NaN results as in NumPy. Scratch
buffers are freed before any failure is reported, so an error never leaks memory.
"""

from __future__ import annotations

from string import Template

from symgraph.backends.c.ctypes import Unsupported, ctype
from symgraph.backends.c.emit import EmitContext, emit
from symgraph.backends.c.emit.shape import int_scalar
from symgraph.graph.node import Apply, Variable
from symgraph.tensor.nlinalg import (
    AllocDiag,
    Det,
    Eigh,
    ExtractDiag,
    MatrixInverse,
    MatrixPinv,
    Solve,
)

_LAPACKE = r"""
#include <lapacke.h>
/* returned by the sg_lapack_* helpers when a scratch buffer cannot be allocated */
#define SG_LAPACK_NOMEM (-100000)
/* Whether a (rows x cols) matrix of itemsize-byte elements fits 32-bit LAPACK and size_t. */
static int sg_lapack_fits(int64_t rows, int64_t cols, size_t itemsize) {
    if (rows > 2147483647 || cols > 2147483647) return 0;
    return (uint64_t)rows * (uint64_t)cols <= (uint64_t)(SIZE_MAX / 4) / itemsize;
}
"""

# C templates, instantiated per float type: ${T} the C type, ${p} LAPACK's prefix (s, d),
# ${f} libm's suffix (f, none), ${sfx} the helper names' suffix (f32, f64).
_INV = r"""
/* out (n x n, C order) = the inverse of a (column-major, overwritten), as NumPy computes it:
 * ?gesv against the identity. Returns LAPACK's info (> 0: singular) or SG_LAPACK_NOMEM. */
static int sg_lapack_inv_${sfx}(lapack_int n, ${T} *a, ${T} *out) {
    const lapack_int ld = n > 1 ? n : 1;
    lapack_int *ipiv = malloc(sizeof(lapack_int) * (size_t)ld);
    ${T} *b = malloc(sizeof(${T}) * (size_t)ld * (size_t)ld);
    if (!ipiv || !b) { free(ipiv); free(b); return SG_LAPACK_NOMEM; }
    for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < n; ++i) b[i + j * n] = i == j;
    lapack_int info = scipy_LAPACKE_${p}gesv_work(LAPACK_COL_MAJOR, n, n, a, ld, ipiv, b, ld);
    if (info == 0)
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < n; ++j) out[i * n + j] = b[i + j * n];
    free(ipiv);
    free(b);
    return info;
}
"""

_DET = r"""
/* *out = det(a) for a column-major a (overwritten), as NumPy computes it: LU (?getrf), the
 * pivots' sign and the sum of log|u_ii|, exponentiated; an exactly singular a gives 0. */
static int sg_lapack_det_${sfx}(lapack_int n, ${T} *a, ${T} *out) {
    const lapack_int ld = n > 1 ? n : 1;
    lapack_int *ipiv = malloc(sizeof(lapack_int) * (size_t)ld);
    if (!ipiv) return SG_LAPACK_NOMEM;
    lapack_int info = scipy_LAPACKE_${p}getrf_work(LAPACK_COL_MAJOR, n, n, a, ld, ipiv);
    ${T} sign = 0, logdet = -INFINITY;
    if (info == 0) {
        int changes = 0;
        for (lapack_int i = 0; i < n; ++i) changes += ipiv[i] != i + 1;
        sign = changes % 2 ? -1 : 1;
        logdet = 0;
        for (int64_t i = 0; i < n; ++i) {
            ${T} d = a[i * (n + 1)];
            if (d < 0) { sign = -sign; d = -d; }
            logdet += log${f}(d);
        }
    }
    free(ipiv);
    if (info < 0) return info;
    *out = sign * exp${f}(logdet);
    return 0;
}
"""

_SOLVE = r"""
/* out (n x nrhs, C order) = the solution of a x = b for column-major a and b (both
 * overwritten), with ?gesv. Returns LAPACK's info (> 0: singular) or SG_LAPACK_NOMEM. */
static int sg_lapack_solve_${sfx}(lapack_int n, lapack_int nrhs, ${T} *a, ${T} *b, ${T} *out) {
    const lapack_int ld = n > 1 ? n : 1;
    lapack_int *ipiv = malloc(sizeof(lapack_int) * (size_t)ld);
    if (!ipiv) return SG_LAPACK_NOMEM;
    lapack_int info = scipy_LAPACKE_${p}gesv_work(LAPACK_COL_MAJOR, n, nrhs, a, ld, ipiv, b, ld);
    if (info == 0)
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < nrhs; ++j) out[i * nrhs + j] = b[i + j * n];
    free(ipiv);
    return info;
}
"""

_PINV = r"""
/* out (n x m, C order) = the pseudo-inverse of the column-major (m x n) a (overwritten), as
 * numpy.linalg.pinv computes it: thin SVD (?gesdd), singular values at or below
 * 1e-15 * max(s) dropped, then out = vt^T diag(1/s) u^T. Returns LAPACK's info or
 * SG_LAPACK_NOMEM. */
static int sg_lapack_pinv_${sfx}(lapack_int m, lapack_int n, ${T} *a, ${T} *out) {
    const lapack_int k = m < n ? m : n;
    if (k == 0) return 0; /* an empty result */
    ${T} *s = malloc(sizeof(${T}) * (size_t)k);
    ${T} *u = malloc(sizeof(${T}) * (size_t)m * (size_t)k);
    ${T} *vt = malloc(sizeof(${T}) * (size_t)k * (size_t)n);
    lapack_int *iwork = malloc(sizeof(lapack_int) * 8 * (size_t)k);
    ${T} *work = NULL, query = 0;
    lapack_int info = SG_LAPACK_NOMEM;
    if (s && u && vt && iwork)
        info = scipy_LAPACKE_${p}gesdd_work(LAPACK_COL_MAJOR, 'S', m, n, a, m, s, u, m, vt, k,
                                          &query, -1, iwork);
    if (info == 0 && !(query <= 2147483647.0)) info = SG_LAPACK_NOMEM; /* past 32-bit LAPACK */
    if (info == 0) {
        lapack_int lwork = (lapack_int)query;
        if (lwork < 1) lwork = 1;
        work = malloc(sizeof(${T}) * (size_t)lwork);
        info = work ? scipy_LAPACKE_${p}gesdd_work(LAPACK_COL_MAJOR, 'S', m, n, a, m, s, u, m,
                                                   vt, k, work, lwork, iwork)
                    : SG_LAPACK_NOMEM;
    }
    if (info == 0) {
        ${T} largest = s[0];
        for (lapack_int l = 1; l < k; ++l)
            if (s[l] > largest || s[l] != s[l]) largest = s[l];
        const double cutoff = 1e-15 * (double)largest;
        /* u diag(1/s): the scaled columns of u */
        for (lapack_int l = 0; l < k; ++l) {
            const ${T} inverse = (double)s[l] > cutoff ? (${T})1 / s[l] : 0;
            for (lapack_int i = 0; i < m; ++i) u[i + (int64_t)l * m] *= inverse;
        }
        /* out in C order (n x m) is the column-major (m x n) matrix (u diag(1/s)) vt */
        scipy_cblas_${p}gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, u, m, vt, k,
                             0, out, m);
    }
    free(s);
    free(u);
    free(vt);
    free(iwork);
    free(work);
    return info;
}
"""

_EIGH = r"""
/* Eigenvalues w (ascending) and eigenvectors v (n x n, C order, one per column) of the
 * symmetric column-major a (overwritten), reading the triangle uplo ('L' or 'U'), with ?syevd
 * as numpy.linalg.eigh. Returns LAPACK's info (> 0: no convergence) or SG_LAPACK_NOMEM. */
static int sg_lapack_eigh_${sfx}(lapack_int n, char uplo, ${T} *a, ${T} *w, ${T} *v) {
    if (n == 0) return 0;
    ${T} query = 0;
    lapack_int iquery = 0;
    lapack_int info = scipy_LAPACKE_${p}syevd_work(LAPACK_COL_MAJOR, 'V', uplo, n, a, n, w,
                                                 &query, -1, &iquery, -1);
    if (info != 0) return info;
    if (!(query <= 2147483647.0)) return SG_LAPACK_NOMEM; /* past 32-bit LAPACK */
    lapack_int lwork = (lapack_int)query, liwork = iquery;
    if (lwork < 1) lwork = 1;
    if (liwork < 1) liwork = 1;
    ${T} *work = malloc(sizeof(${T}) * (size_t)lwork);
    lapack_int *iwork = malloc(sizeof(lapack_int) * (size_t)liwork);
    info = SG_LAPACK_NOMEM;
    if (work && iwork)
        info = scipy_LAPACKE_${p}syevd_work(LAPACK_COL_MAJOR, 'V', uplo, n, a, n, w, work, lwork,
                                          iwork, liwork);
    if (info == 0)
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < n; ++j) v[i * n + j] = a[i + j * n];
    free(work);
    free(iwork);
    return info;
}
"""

_LOAD = r"""
/* dst = src, a matrix (or a vector, as one column) of any strides, in column-major order with
 * leading dimension ld, converted to ${T}. */
static void sg_colmajor_${src}_${sfx}(const sg_array *src, ${T} *dst, int64_t ld) {
    const ${S} *p = (const ${S} *)src->data;
    const int64_t rows = src->shape[0], cols = src->ndim > 1 ? src->shape[1] : 1;
    const int64_t s0 = src->strides[0], s1 = src->ndim > 1 ? src->strides[1] : 0;
    for (int64_t j = 0; j < cols; ++j)
        for (int64_t i = 0; i < rows; ++i) dst[i + j * ld] = (${T})p[i * s0 + j * s1];
}
"""

_TEMPLATES = {"inv": _INV, "det": _DET, "solve": _SOLVE, "pinv": _PINV, "eigh": _EIGH}


def _float_type(var: Variable) -> tuple[str, str]:
    """(C type, helper suffix) of the float dtype ``var`` is computed in."""
    dtype = var.type.dtype  # type: ignore[attr-defined]
    if dtype not in ("float32", "float64"):
        raise Unsupported(f"LAPACK op in {dtype}")
    return ctype(dtype), "f32" if dtype == "float32" else "f64"


def _lapack_helper(ctx: EmitContext, what: str, out: Variable) -> tuple[str, str]:
    """Add the LAPACK helper ``what`` for ``out``'s dtype; returns (its name, the C type)."""
    ct, sfx = _float_type(out)
    ctx.uses_blas = True
    ctx.helper("sg_lapacke", _LAPACKE)
    name = f"sg_lapack_{what}_{sfx}"
    substitutions = {"T": ct, "p": "s" if sfx == "f32" else "d", "f": "f" if sfx == "f32" else "",
                     "sfx": sfx}
    ctx.helper(name, Template(_TEMPLATES[what]).substitute(substitutions))
    return name, ct


def _loader(ctx: EmitContext, src: Variable, out: Variable) -> str:
    """The helper copying ``src`` into a column-major buffer of ``out``'s float dtype."""
    ct, sfx = _float_type(out)
    src_dtype = src.type.dtype  # type: ignore[attr-defined]
    name = f"sg_colmajor_{src_dtype}_{sfx}"
    ctx.helper(name, Template(_LOAD).substitute(src=src_dtype, S=ctype(src_dtype), T=ct, sfx=sfx))
    return name


def _check_square(ctx: EmitContext, what: str, x: str) -> None:
    ctx.line(f"  if ({x}.shape[0] != {x}.shape[1]) {{ char s1[96]; "
             + ctx.fail(f"{what}: expected a square matrix, got shape %s",
                        f"sg_shape_str(&{x}, s1, 96)")
             + " }")


def _check_fits(ctx: EmitContext, what: str, x: str, rows: str, cols: str, ct: str) -> None:
    ctx.line(f"  if (!sg_lapack_fits({rows}, {cols}, sizeof({ct}))) {{ char s1[96]; "
             + ctx.fail(f"{what}: a matrix of shape %s is too large for 32-bit LAPACK",
                        f"sg_shape_str(&{x}, s1, 96)")
             + " }")


def _scratch(name: str, ct: str, count: str) -> str:
    """Declare ``name``, a malloc'd buffer of ``count`` elements (at least one) of type ``ct``."""
    return f"{ct} *{name} = malloc(sizeof({ct}) * (size_t)({count} > 0 ? {count} : 1));"


def _check_info(ctx: EmitContext, routine: str, failure: str) -> None:
    """Report a failed helper: out of memory, LAPACK's ``failure`` (info > 0) or a bad argument."""
    ctx.line("  if (info == SG_LAPACK_NOMEM) " + ctx.fail("out of memory"))
    ctx.line("  if (info > 0) " + ctx.fail(failure))
    ctx.line("  if (info < 0) "
             + ctx.fail(f"LAPACK {routine}: argument %d had an illegal value", "-info"))


@emit.register(MatrixInverse)
def c_matrix_inverse(op: MatrixInverse, node: Apply, ctx: EmitContext) -> None:
    (x,), (out,) = node.inputs, node.outputs
    load = _loader(ctx, x, out)
    helper, ct = _lapack_helper(ctx, "inv", out)
    xn, on = ctx.name(x), ctx.name(out)
    ctx.line("{")
    _check_square(ctx, "matrix_inverse", xn)
    ctx.line(f"  const int64_t n = {xn}.shape[0];")
    _check_fits(ctx, "matrix_inverse", xn, "n", "n", ct)
    ctx.alloc(out, ["n", "n"])
    ctx.line("  " + _scratch("sa", ct, "n * n"))
    ctx.line("  if (!sa) " + ctx.fail("out of memory"))
    ctx.line(f"  {load}(&{xn}, sa, n > 1 ? n : 1);")
    ctx.line(f"  const int info = {helper}((lapack_int)n, sa, ({ct} *){on}.data);")
    ctx.line("  free(sa);")
    _check_info(ctx, "gesv", "Singular matrix")
    ctx.line("}")


@emit.register(Det)
def c_det(op: Det, node: Apply, ctx: EmitContext) -> None:
    (x,), (out,) = node.inputs, node.outputs
    load = _loader(ctx, x, out)
    helper, ct = _lapack_helper(ctx, "det", out)
    xn, on = ctx.name(x), ctx.name(out)
    ctx.line("{")
    _check_square(ctx, "det", xn)
    ctx.line(f"  const int64_t n = {xn}.shape[0];")
    _check_fits(ctx, "det", xn, "n", "n", ct)
    ctx.alloc(out, [])
    ctx.line("  " + _scratch("sa", ct, "n * n"))
    ctx.line("  if (!sa) " + ctx.fail("out of memory"))
    ctx.line(f"  {load}(&{xn}, sa, n > 1 ? n : 1);")
    ctx.line(f"  const int info = {helper}((lapack_int)n, sa, ({ct} *){on}.data);")
    ctx.line("  free(sa);")
    _check_info(ctx, "getrf", "Singular matrix")
    ctx.line("}")


@emit.register(Solve)
def c_solve(op: Solve, node: Apply, ctx: EmitContext) -> None:
    a, b = node.inputs
    (out,) = node.outputs
    load_a, load_b = _loader(ctx, a, out), _loader(ctx, b, out)
    helper, ct = _lapack_helper(ctx, "solve", out)
    an, bn, on = ctx.name(a), ctx.name(b), ctx.name(out)
    matrix_rhs = b.type.ndim == 2  # type: ignore[attr-defined]
    ctx.line("{")
    _check_square(ctx, "solve", an)
    ctx.line(f"  if ({an}.shape[0] != {bn}.shape[0]) {{ char s1[96], s2[96]; "
             + ctx.fail("solve: shapes %s and %s are not aligned: a has %lld rows, b has %lld",
                        f"sg_shape_str(&{an}, s1, 96)", f"sg_shape_str(&{bn}, s2, 96)",
                        f"(long long){an}.shape[0]", f"(long long){bn}.shape[0]")
             + " }")
    nrhs = f"{bn}.shape[1]" if matrix_rhs else "1"
    ctx.line(f"  const int64_t n = {an}.shape[0], nrhs = {nrhs};")
    _check_fits(ctx, "solve", an, "n", "n", ct)
    _check_fits(ctx, "solve", bn, "n", "nrhs", ct)
    ctx.alloc(out, ["n", "nrhs"] if matrix_rhs else ["n"])
    ctx.line("  " + _scratch("sa", ct, "n * n"))
    ctx.line("  " + _scratch("sb", ct, "n * nrhs"))
    ctx.line("  if (!sa || !sb) { free(sa); free(sb); " + ctx.fail("out of memory") + " }")
    ctx.line(f"  {load_a}(&{an}, sa, n > 1 ? n : 1);")
    ctx.line(f"  {load_b}(&{bn}, sb, n > 1 ? n : 1);")
    ctx.line(f"  const int info = {helper}((lapack_int)n, (lapack_int)nrhs, sa, sb, "
             f"({ct} *){on}.data);")
    ctx.line("  free(sa); free(sb);")
    _check_info(ctx, "gesv", "Singular matrix")
    ctx.line("}")


@emit.register(MatrixPinv)
def c_matrix_pinv(op: MatrixPinv, node: Apply, ctx: EmitContext) -> None:
    (x,), (out,) = node.inputs, node.outputs
    load = _loader(ctx, x, out)
    helper, ct = _lapack_helper(ctx, "pinv", out)
    xn, on = ctx.name(x), ctx.name(out)
    ctx.line("{")
    ctx.line(f"  const int64_t m = {xn}.shape[0], n = {xn}.shape[1];")
    _check_fits(ctx, "pinv", xn, "m", "n", ct)
    ctx.alloc(out, ["n", "m"])
    ctx.line("  " + _scratch("sa", ct, "m * n"))
    ctx.line("  if (!sa) " + ctx.fail("out of memory"))
    ctx.line(f"  {load}(&{xn}, sa, m > 1 ? m : 1);")
    ctx.line(f"  const int info = {helper}((lapack_int)m, (lapack_int)n, sa, ({ct} *){on}.data);")
    ctx.line("  free(sa);")
    _check_info(ctx, "gesdd", "SVD did not converge")
    ctx.line("}")


@emit.register(Eigh)
def c_eigh(op: Eigh, node: Apply, ctx: EmitContext) -> None:
    (x,) = node.inputs
    w, v = node.outputs
    if w.type.dtype != v.type.dtype:  # type: ignore[attr-defined]
        raise Unsupported("eigh of a complex matrix")
    load = _loader(ctx, x, v)
    helper, ct = _lapack_helper(ctx, "eigh", v)
    xn, wn, vn = ctx.name(x), ctx.name(w), ctx.name(v)
    ctx.line("{")
    _check_square(ctx, "eigh", xn)
    ctx.line(f"  const int64_t n = {xn}.shape[0];")
    _check_fits(ctx, "eigh", xn, "n", "n", ct)
    ctx.alloc(w, ["n"])
    ctx.alloc(v, ["n", "n"])
    ctx.line("  " + _scratch("sa", ct, "n * n"))
    ctx.line("  if (!sa) " + ctx.fail("out of memory"))
    ctx.line(f"  {load}(&{xn}, sa, n > 1 ? n : 1);")
    ctx.line(f"  const int info = {helper}((lapack_int)n, '{op.UPLO}', sa, ({ct} *){wn}.data, "
             f"({ct} *){vn}.data);")
    ctx.line("  free(sa);")
    _check_info(ctx, "syevd", "Eigenvalues did not converge")
    ctx.line("}")


# ---------------------------------------------------------------------------------------
# Diagonals: ExtractDiag (a view), AllocDiag (a fresh matrix)
# ---------------------------------------------------------------------------------------
_MAX_OFFSET = 2**62  # keeps ``cols - offset`` and friends inside int64


def _diagonal_length(offset: int, rows: str, cols: str) -> str:
    """C expression: the length of diagonal ``offset`` of a (rows, cols) matrix (>= 0)."""
    if offset >= 0:
        length = f"({rows} < {cols} - {offset} ? {rows} : {cols} - {offset})"
    else:
        length = f"({rows} + {offset} < {cols} ? {rows} + {offset} : {cols})"
    return f"({length} > 0 ? {length} : 0)"


@emit.register(ExtractDiag)
def c_extract_diag(op: ExtractDiag, node: Apply, ctx: EmitContext) -> None:
    (x,), (out,) = node.inputs, node.outputs
    cdt = ctype(x.type.dtype)  # type: ignore[attr-defined]
    if abs(op.offset) > _MAX_OFFSET:
        raise Unsupported(f"diagonal offset {op.offset}")
    xn, on = ctx.name(x), ctx.name(out)
    start = (f"{op.offset} * {xn}.strides[1]" if op.offset >= 0
             else f"{-op.offset} * {xn}.strides[0]")
    ctx.line("{")
    length = _diagonal_length(op.offset, f"{xn}.shape[0]", f"{xn}.shape[1]")
    ctx.line(f"  const int64_t length = {length};")
    ctx.view(out, x)
    # (no offset for an empty diagonal: the start may lie past the end of x)
    ctx.line(f"  if (length > 0) {on}.data = (void *)(({cdt} *){xn}.data + {start});")
    ctx.line(f"  {on}.ndim = 1; {on}.shape[0] = length;")
    ctx.line(f"  {on}.strides[0] = {xn}.strides[0] + {xn}.strides[1];")
    ctx.line("}")


@emit.register(AllocDiag)
def c_alloc_diag(op: AllocDiag, node: Apply, ctx: EmitContext) -> None:
    v, rows, cols = node.inputs
    out = node.outputs[0]
    cdt = ctype(out.type.dtype)  # type: ignore[attr-defined]
    if abs(op.offset) > _MAX_OFFSET:
        raise Unsupported(f"diagonal offset {op.offset}")
    vn, on = ctx.name(v), ctx.name(out)
    ctx.line("{")
    ctx.line(f"  const int64_t rows = {int_scalar(ctx, rows)}, cols = {int_scalar(ctx, cols)};")
    ctx.line("  if (rows < 0 || cols < 0) "
             + ctx.fail("alloc_diag: negative matrix shape (%lld, %lld)",
                        "(long long)rows", "(long long)cols"))
    ctx.line(f"  const int64_t length = {_diagonal_length(op.offset, 'rows', 'cols')};")
    ctx.line(f"  if ({vn}.shape[0] != length) "
             + ctx.fail(f"alloc_diag: diagonal {op.offset} of a (%lld, %lld) matrix has %lld "
                        "entries, got a vector of length %lld", "(long long)rows", "(long long)cols",
                        "(long long)length", f"(long long){vn}.shape[0]"))
    # sg_alloc multiplies the lengths unchecked; a huge (rows, cols) must not wrap around
    ctx.line(f"  if (cols > 0 && rows > (int64_t)(SIZE_MAX / 4 / sizeof({cdt})) / cols) "
             + ctx.fail("alloc_diag: a matrix of shape (%lld, %lld) is too large",
                        "(long long)rows", "(long long)cols"))
    ctx.alloc(out, ["rows", "cols"])
    ctx.line(f"  {cdt} *po = ({cdt} *){on}.data;")
    ctx.line(f"  const {cdt} *pv = (const {cdt} *){vn}.data;")
    ctx.line(f"  memset(po, 0, (size_t)(rows * cols) * sizeof({cdt}));")
    row0, col0 = max(-op.offset, 0), max(op.offset, 0)
    ctx.line(f"  for (int64_t k = 0; k < length; ++k) "
             f"po[(k + {row0}) * cols + k + {col0}] = pv[k * {vn}.strides[0]];")
    ctx.line("}")

