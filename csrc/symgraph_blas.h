/* symgraph's BLAS glue: matrix products of strided arrays through the pip OpenBLAS's CBLAS.
 *
 * Generated code that calls BLAS includes this after <cblas.h> (backends/c/emit/linalg.py).
 * Strided operands use BLAS's transpose flags and leading dimensions instead of copies; only
 * an operand with no unit stride (or a negative or zero one) is copied first. Each product
 * is one call of a function here, so a graph with many products compiles this code once
 * per unit, not once per product (issue 6, W4 cold).
 */
#ifndef SYMGRAPH_BLAS_H
#define SYMGRAPH_BLAS_H

#include "symgraph_runtime.h"

/* How a row-major BLAS call can read matrix a (rows x cols, element strides s0, s1):
 * returns 0 = as stored (NoTrans, ld), 1 = transposed storage (Trans, ld), -1 = copy needed. */
static __attribute__((unused)) int sg_blas_layout(const sg_array *a, int64_t *ld) {
    int64_t rows = a->shape[0], cols = a->shape[1];
    int64_t s0 = rows == 1 ? (cols > 0 ? cols : 1) : a->strides[0];
    int64_t s1 = cols == 1 ? 1 : a->strides[1];
    if (s1 == 1 && s0 >= (cols > 1 ? cols : 1)) { *ld = s0; return 0; }
    s0 = rows == 1 ? 1 : a->strides[0];
    s1 = cols == 1 ? (rows > 0 ? rows : 1) : a->strides[1];
    if (s0 == 1 && s1 >= (rows > 1 ? rows : 1)) { *ld = s1; return 1; }
    return -1;
}

/* Matrix a as BLAS reads it: *m is a itself or (*own set) a C-contiguous copy, *trans and
 * *ld its flag and leading dimension. Returns 0 when out of memory. */
static __attribute__((unused)) int sg_blas_matrix(const sg_array *a, size_t itemsize, sg_array *m, int *own,
                                                  int *trans, int64_t *ld) {
    *m = *a;
    *own = 0;
    *trans = sg_blas_layout(a, ld);
    if (*trans >= 0) return 1;
    if (!sg_copy_contiguous(m, a, itemsize)) return 0;
    *own = 1;
    *trans = 0;
    *ld = a->shape[1] > 1 ? a->shape[1] : 1;
    return 1;
}

/* Vector v as BLAS reads it (a copy, *own set, when its stride is not positive); *inc its
 * increment. Returns 0 when out of memory. */
static __attribute__((unused)) int sg_blas_vector(const sg_array *v, size_t itemsize, sg_array *m, int *own,
                                                  blasint *inc) {
    *m = *v;
    *own = 0;
    if (v->shape[0] > 1 && v->strides[0] <= 0) {
        if (!sg_copy_contiguous(m, v, itemsize)) return 0;
        *own = 1;
    }
    *inc = m->shape[0] > 1 ? (blasint)m->strides[0] : 1;
    return 1;
}

/* NAME(a, b, out, m, n, k, alpha, beta): out = alpha * a @ b + beta * out for an (m, k) a,
 * a (k, n) b and a C-contiguous (m, n) out, all sizes positive and within 32 bits.
 * NAME##v(mat, vec, out, transpose, alpha, beta): out = alpha * op(mat) @ vec + beta * out,
 * op the identity or (transpose) the transpose, mat and vec not empty. Both return 0, or 1
 * when a copy could not be allocated. */
#define SG_DEFINE_BLAS(NAME, T, GEMM, GEMV)                                                        \
    static __attribute__((noinline, unused)) int NAME(const sg_array *a, const sg_array *b,        \
                                                      sg_array *out, int64_t m, int64_t n,         \
                                                      int64_t k, T alpha, T beta) {                \
        sg_array am, bm;                                                                           \
        int own_a, own_b, tr_a, tr_b;                                                              \
        int64_t ld_a, ld_b;                                                                        \
        if (!sg_blas_matrix(a, sizeof(T), &am, &own_a, &tr_a, &ld_a)) return 1;                    \
        if (!sg_blas_matrix(b, sizeof(T), &bm, &own_b, &tr_b, &ld_b)) {                            \
            if (own_a) free(am.data);                                                              \
            return 1;                                                                              \
        }                                                                                          \
        GEMM(CblasRowMajor, tr_a ? CblasTrans : CblasNoTrans, tr_b ? CblasTrans : CblasNoTrans,    \
             (blasint)m, (blasint)n, (blasint)k, alpha, (T *)am.data, (blasint)ld_a, (T *)bm.data,  \
             (blasint)ld_b, beta, (T *)out->data, (blasint)(n > 1 ? n : 1));                        \
        if (own_a) free(am.data);                                                                  \
        if (own_b) free(bm.data);                                                                  \
        return 0;                                                                                  \
    }                                                                                              \
    static __attribute__((noinline, unused)) int NAME##v(const sg_array *mat, const sg_array *vec, \
                                                         sg_array *out, int transpose, T alpha,    \
                                                         T beta) {                                 \
        sg_array am, xv;                                                                           \
        int own_a, own_x, tr;                                                                      \
        int64_t ld;                                                                                \
        blasint inc;                                                                               \
        if (!sg_blas_matrix(mat, sizeof(T), &am, &own_a, &tr, &ld)) return 1;                      \
        if (!sg_blas_vector(vec, sizeof(T), &xv, &own_x, &inc)) {                                  \
            if (own_a) free(am.data);                                                              \
            return 1;                                                                              \
        }                                                                                          \
        /* stored row-major as (rows, cols) when not transposed, as (cols, rows) when it is */     \
        GEMV(CblasRowMajor, (transpose ? !tr : tr) ? CblasTrans : CblasNoTrans,                     \
             (blasint)(tr ? mat->shape[1] : mat->shape[0]), (blasint)(tr ? mat->shape[0] : mat->shape[1]), \
             alpha, (T *)am.data, (blasint)ld, (T *)xv.data, inc, beta, (T *)out->data, 1);         \
        if (own_a) free(am.data);                                                                  \
        if (own_x) free(xv.data);                                                                  \
        return 0;                                                                                  \
    }                                                                                              \
    SG_DEFINE_BLAS_UPDATE(NAME##_update, T, NAME(a, b, out, rows, cols, k, alpha, b0),              \
                          const sg_array *b, int64_t cols)                                         \
    SG_DEFINE_BLAS_UPDATE(NAME##v_update, T, NAME##v(a, b, out, 0, alpha, b0),                     \
                          const sg_array *b, int64_t cols)

/* What a Gemm (or, with cols 1, a Gemv) node does around its product: NAME(z, over, a, b, out,
 * rows, cols, k, alpha, beta) sets the C-contiguous (rows, cols) out to alpha * a @ b + beta * z.
 * out is z's own buffer (over) or a fresh one that z is copied into first. With beta == 0 the
 * product is added to 0 * z, as the graph says (NaN stays NaN), where BLAS would not read z.
 * Returns 1 when BLAS's operands could not be copied. One function per precision and unit, where
 * each node used to carry these loops (issue 6, W4 cold). */
#define SG_DEFINE_BLAS_UPDATE(NAME, T, PRODUCT, ...)                                               \
    static __attribute__((noinline, unused)) int NAME(const sg_array *z, int over,                 \
                                                      const sg_array *a, __VA_ARGS__, sg_array *out, \
                                                      int64_t rows, int64_t k, T alpha, T beta) {  \
        const int64_t size = rows * cols;                                                          \
        T *q = (T *)out->data;                                                                     \
        if (!over) sg_copy_into(q, z, sizeof(T));                                                  \
        if (beta == 0) for (int64_t t = 0; t < size; ++t) q[t] *= 0;                               \
        const T b0 = beta == 0 ? 1 : beta;                                                         \
        if (rows > 0 && cols > 0 && k > 0) return PRODUCT;                                         \
        if (beta != 0 && beta != 1) for (int64_t t = 0; t < size; ++t) q[t] *= beta;               \
        return 0;                                                                                  \
    }

SG_DEFINE_BLAS(sg_blas_f32, float, scipy_cblas_sgemm, scipy_cblas_sgemv)
SG_DEFINE_BLAS(sg_blas_f64, double, scipy_cblas_dgemm, scipy_cblas_dgemv)

#endif
