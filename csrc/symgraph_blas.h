/* symgraph's BLAS glue: matrix products of strided arrays through the pip OpenBLAS's CBLAS.
 *
 * Strided operands use BLAS's transpose flags and leading dimensions instead of copies; only
 * an operand with no unit stride (or a negative or zero one) is copied first. Each product
 * node is one call of a node function here (sg_dot_*, sg_gemm_*, sg_gemv_*: shape checks,
 * the output's allocation, the product), so a graph with many products compiles none of
 * this code (issue 6, W4 cold): like the other SG_RT functions, it is prebuilt in the
 * runtime library (csrc/symgraph_rt.c) and only declared in generated code that links it.
 *
 * The library is built when symgraph is installed, without OpenBLAS's headers or library,
 * so it reaches BLAS through a table of function pointers, sg_blas_api, that every caller
 * passes: generated code includes <cblas.h> first, and this header then defines the table
 * (sg_blas) from the CBLAS functions of the library it is linked with. The pip OpenBLAS is
 * built with 32-bit integers (scipy-openblas32): sg_blasint, checked against blasint there.
 */
#ifndef SYMGRAPH_BLAS_H
#define SYMGRAPH_BLAS_H

#include "symgraph_runtime.h"

typedef int32_t sg_blasint;
/* CBLAS's enumerators, as every CBLAS numbers them */
enum { SG_ROW_MAJOR = 101, SG_NO_TRANS = 111, SG_TRANS = 112 };

typedef void (*sg_gemm_f32_fn)(int order, int ta, int tb, sg_blasint m, sg_blasint n, sg_blasint k, float alpha,
                               const float *a, sg_blasint lda, const float *b, sg_blasint ldb, float beta,
                               float *c, sg_blasint ldc);
typedef void (*sg_gemm_f64_fn)(int order, int ta, int tb, sg_blasint m, sg_blasint n, sg_blasint k, double alpha,
                               const double *a, sg_blasint lda, const double *b, sg_blasint ldb, double beta,
                               double *c, sg_blasint ldc);
typedef void (*sg_gemv_f32_fn)(int order, int ta, sg_blasint m, sg_blasint n, float alpha, const float *a,
                               sg_blasint lda, const float *x, sg_blasint incx, float beta, float *y,
                               sg_blasint incy);
typedef void (*sg_gemv_f64_fn)(int order, int ta, sg_blasint m, sg_blasint n, double alpha, const double *a,
                               sg_blasint lda, const double *x, sg_blasint incx, double beta, double *y,
                               sg_blasint incy);
typedef float (*sg_dot_f32_fn)(sg_blasint n, const float *x, sg_blasint incx, const float *y, sg_blasint incy);
typedef double (*sg_dot_f64_fn)(sg_blasint n, const double *x, sg_blasint incx, const double *y, sg_blasint incy);

/* The CBLAS functions the glue calls. */
typedef struct {
    sg_gemm_f32_fn sgemm;
    sg_gemm_f64_fn dgemm;
    sg_gemv_f32_fn sgemv;
    sg_gemv_f64_fn dgemv;
    sg_dot_f32_fn sdot;
    sg_dot_f64_fn ddot;
} sg_blas_api;

#if defined(CBLAS_H) && !defined(SG_RT_BUILD)
_Static_assert(sizeof(blasint) == sizeof(sg_blasint), "symgraph expects a CBLAS with 32-bit integers");
static const sg_blas_api sg_blas __attribute__((unused)) = {
    (sg_gemm_f32_fn)scipy_cblas_sgemm, (sg_gemm_f64_fn)scipy_cblas_dgemm,
    (sg_gemv_f32_fn)scipy_cblas_sgemv, (sg_gemv_f64_fn)scipy_cblas_dgemv,
    (sg_dot_f32_fn)scipy_cblas_sdot,   (sg_dot_f64_fn)scipy_cblas_ddot,
};
#endif

/* The node functions (defined below by SG_DEFINE_BLAS for each precision). Each reports a
 * failure in err for node `node` and returns 1, else returns 0; `slot` is the output's
 * workspace slot (NULL: a fresh buffer; a borrowed slot: an input's own buffer).
 *  - dot: out = a @ b for matrices and vectors (2-d @ 2-d, 2-d @ 1-d, 1-d @ 2-d, 1-d @ 1-d);
 *  - gemm: out = alpha * a @ b + beta * z for matrices; out may be z's own buffer (slot
 *    lends it), else z is copied into a fresh one first;
 *  - gemv: the same for a matrix a, a vector b and a vector z. */
#define SG_DECLARE_BLAS_NODES(S, T)                                                                 \
    SG_RT int sg_dot_##S(sg_error *err, int64_t node, const sg_blas_api *api, sg_ws_slot *slot,     \
                         sg_array *out, const sg_array *a, const sg_array *b);                      \
    SG_RT int sg_gemm_##S(sg_error *err, int64_t node, const sg_blas_api *api, sg_ws_slot *slot,    \
                          sg_array *out, const sg_array *z, const sg_array *a, const sg_array *b,   \
                          T alpha, T beta);                                                         \
    SG_RT int sg_gemv_##S(sg_error *err, int64_t node, const sg_blas_api *api, sg_ws_slot *slot,    \
                          sg_array *out, const sg_array *z, const sg_array *a, const sg_array *b,   \
                          T alpha, T beta);
SG_DECLARE_BLAS_NODES(f32, float)
SG_DECLARE_BLAS_NODES(f64, double)

#if SG_RT_DEFINE
static __attribute__((unused)) int sg_blas_unaligned(sg_error *err, int64_t node, const sg_array *a,
                                                     const sg_array *b, int a_axis, int b_axis) {
    char s1[96], s2[96];
    return sg_fail(err, node, "dot: shapes %s and %s are not aligned: %lld != %lld", sg_shape_str(a, s1, 96),
                   sg_shape_str(b, s2, 96), (long long)a->shape[a_axis], (long long)b->shape[b_axis]);
}

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
                                                  sg_blasint *inc) {
    *m = *v;
    *own = 0;
    if (v->shape[0] > 1 && v->strides[0] <= 0) {
        if (!sg_copy_contiguous(m, v, itemsize)) return 0;
        *own = 1;
    }
    *inc = m->shape[0] > 1 ? (sg_blasint)m->strides[0] : 1;
    return 1;
}

#define SG_BLAS_INT_MAX ((int64_t)2147483647)

/* The node functions of one precision (S: f32 or f64, T its C type, GEMM, GEMV, DOT the
 * table's fields), with their two products:
 * sg_mm_S(api, a, b, out, m, n, k, alpha, beta): out = alpha * a @ b + beta * out for an
 * (m, k) a, a (k, n) b and a C-contiguous (m, n) out, all sizes positive and within 32 bits;
 * sg_mv_S(api, mat, vec, out, transpose, alpha, beta): out = alpha * op(mat) @ vec + beta *
 * out, op the identity or (transpose) the transpose, mat and vec not empty. Both return 0,
 * or 1 when a copy could not be allocated. */
#define SG_DEFINE_BLAS(S, T, GEMM, GEMV, DOT)                                                       \
    static int sg_mm_##S(const sg_blas_api *api, const sg_array *a, const sg_array *b, sg_array *out, \
                         int64_t m, int64_t n, int64_t k, T alpha, T beta) {                        \
        sg_array am, bm;                                                                            \
        int own_a, own_b, tr_a, tr_b;                                                               \
        int64_t ld_a, ld_b;                                                                         \
        if (!sg_blas_matrix(a, sizeof(T), &am, &own_a, &tr_a, &ld_a)) return 1;                     \
        if (!sg_blas_matrix(b, sizeof(T), &bm, &own_b, &tr_b, &ld_b)) {                             \
            if (own_a) free(am.data);                                                               \
            return 1;                                                                               \
        }                                                                                           \
        api->GEMM(SG_ROW_MAJOR, tr_a ? SG_TRANS : SG_NO_TRANS, tr_b ? SG_TRANS : SG_NO_TRANS,       \
                  (sg_blasint)m, (sg_blasint)n, (sg_blasint)k, alpha, (const T *)am.data,           \
                  (sg_blasint)ld_a, (const T *)bm.data, (sg_blasint)ld_b, beta, (T *)out->data,     \
                  (sg_blasint)(n > 1 ? n : 1));                                                     \
        if (own_a) free(am.data);                                                                   \
        if (own_b) free(bm.data);                                                                   \
        return 0;                                                                                   \
    }                                                                                               \
    static int sg_mv_##S(const sg_blas_api *api, const sg_array *mat, const sg_array *vec,          \
                         sg_array *out, int transpose, T alpha, T beta) {                           \
        sg_array am, xv;                                                                            \
        int own_a, own_x, tr;                                                                       \
        int64_t ld;                                                                                 \
        sg_blasint inc;                                                                             \
        if (!sg_blas_matrix(mat, sizeof(T), &am, &own_a, &tr, &ld)) return 1;                       \
        if (!sg_blas_vector(vec, sizeof(T), &xv, &own_x, &inc)) {                                   \
            if (own_a) free(am.data);                                                               \
            return 1;                                                                               \
        }                                                                                           \
        /* stored row-major as (rows, cols) when not transposed, as (cols, rows) when it is */      \
        api->GEMV(SG_ROW_MAJOR, (transpose ? !tr : tr) ? SG_TRANS : SG_NO_TRANS,                    \
                  (sg_blasint)(tr ? mat->shape[1] : mat->shape[0]),                                 \
                  (sg_blasint)(tr ? mat->shape[0] : mat->shape[1]), alpha, (const T *)am.data,      \
                  (sg_blasint)ld, (const T *)xv.data, inc, beta, (T *)out->data, 1);                \
        if (own_a) free(am.data);                                                                   \
        if (own_x) free(xv.data);                                                                   \
        return 0;                                                                                   \
    }                                                                                               \
    SG_RT int sg_dot_##S(sg_error *err, int64_t node, const sg_blas_api *api, sg_ws_slot *slot,     \
                         sg_array *out, const sg_array *a, const sg_array *b) {                     \
        const int64_t a_axis = a->ndim == 2 ? 1 : 0;                                                \
        if (a->shape[a_axis] != b->shape[0]) return sg_blas_unaligned(err, node, a, b, a_axis, 0);  \
        const int64_t k = b->shape[0];                                                              \
        /* the output's shape: a's rows (if a matrix), then b's columns (if a matrix) */           \
        int64_t shape[2] = {0, 0}, out_ndim = 0;                                                    \
        if (a->ndim == 2) shape[out_ndim++] = a->shape[0];                                          \
        if (b->ndim == 2) shape[out_ndim++] = b->shape[1];                                          \
        if (a->ndim == 2 && b->ndim == 2) {                                                         \
            if (sg_node_alloc(err, node, slot, out, out_ndim, shape, sizeof(T))) return 1;          \
            const int64_t m = shape[0], n = shape[1];                                               \
            if (m > SG_BLAS_INT_MAX || n > SG_BLAS_INT_MAX || k > SG_BLAS_INT_MAX)                  \
                return sg_fail(err, node, "dot: dimensions too large for 32-bit BLAS");        \
            if (m == 0 || n == 0) return 0;                                                         \
            if (k == 0) { memset(out->data, 0, (size_t)(m * n) * sizeof(T)); return 0; }            \
            if (sg_mm_##S(api, a, b, out, m, n, k, 1, 0)) return sg_fail(err, node, "out of memory"); \
            return 0;                                                                               \
        }                                                                                           \
        if (a->ndim + b->ndim == 3) { /* matrix @ vector, or vector @ matrix = matrix^T @ vector */ \
            const int transpose = a->ndim == 1;                                                     \
            const sg_array *mat = transpose ? b : a, *vec = transpose ? a : b;                      \
            if (sg_node_alloc(err, node, slot, out, out_ndim, shape, sizeof(T))) return 1;          \
            const int64_t m = shape[0];                                                             \
            if (m > SG_BLAS_INT_MAX || k > SG_BLAS_INT_MAX)                                         \
                return sg_fail(err, node, "dot: dimensions too large for 32-bit BLAS");        \
            if (m == 0) return 0;                                                                   \
            if (k == 0) { memset(out->data, 0, (size_t)m * sizeof(T)); return 0; }                  \
            if (sg_mv_##S(api, mat, vec, out, transpose, 1, 0)) return sg_fail(err, node, "out of memory"); \
            return 0;                                                                               \
        }                                                                                           \
        if (sg_node_alloc(err, node, slot, out, out_ndim, shape, sizeof(T))) return 1;              \
        if (k > SG_BLAS_INT_MAX) return sg_fail(err, node, "dot: dimensions too large for 32-bit BLAS"); \
        sg_array x, y;                                                                              \
        int own_x, own_y;                                                                           \
        sg_blasint inc_x, inc_y;                                                                    \
        if (!sg_blas_vector(a, sizeof(T), &x, &own_x, &inc_x)) return sg_fail(err, node, "out of memory"); \
        if (!sg_blas_vector(b, sizeof(T), &y, &own_y, &inc_y)) {                                    \
            if (own_x) free(x.data);                                                                \
            return sg_fail(err, node, "out of memory");                                        \
        }                                                                                           \
        *(T *)out->data = k ? api->DOT((sg_blasint)k, (const T *)x.data, inc_x, (const T *)y.data, inc_y) : 0; \
        if (own_x) free(x.data);                                                                    \
        if (own_y) free(y.data);                                                                    \
        return 0;                                                                                   \
    }                                                                                               \
    /* out = alpha * a @ b + beta * z, z (rows, cols) and b a matrix (gemm) or vectors (gemv):  \
     * out is z's own buffer or a fresh one that z is copied into first. With beta == 0 the    \
     * product is added to 0 * z, as the graph says (NaN stays NaN), where BLAS would not read z. */ \
    static int sg_update_##S(sg_error *err, int64_t node, const sg_blas_api *api, sg_ws_slot *slot, \
                             sg_array *out, const sg_array *z, const sg_array *a, const sg_array *b, \
                             int64_t rows, int64_t cols, int64_t k, T alpha, T beta) {              \
        int64_t shape[2] = {rows, cols};                                                            \
        if (sg_node_alloc(err, node, slot, out, z->ndim, shape, sizeof(T))) return 1;               \
        const int64_t size = rows * cols;                                                           \
        T *q = (T *)out->data;                                                                      \
        if (out->data != z->data) sg_copy_into(q, z, sizeof(T));                                    \
        if (beta == 0) for (int64_t t = 0; t < size; ++t) q[t] *= 0;                                \
        const T b0 = beta == 0 ? 1 : beta;                                                          \
        if (rows > 0 && cols > 0 && k > 0) {                                                        \
            if (b->ndim == 2 ? sg_mm_##S(api, a, b, out, rows, cols, k, alpha, b0)                  \
                             : sg_mv_##S(api, a, b, out, 0, alpha, b0))                             \
                return sg_fail(err, node, "out of memory");                                    \
            return 0;                                                                               \
        }                                                                                           \
        if (beta != 0 && beta != 1) for (int64_t t = 0; t < size; ++t) q[t] *= beta;               \
        return 0;                                                                                   \
    }                                                                                               \
    SG_RT int sg_gemm_##S(sg_error *err, int64_t node, const sg_blas_api *api, sg_ws_slot *slot,    \
                          sg_array *out, const sg_array *z, const sg_array *a, const sg_array *b,   \
                          T alpha, T beta) {                                                        \
        if (a->shape[1] != b->shape[0]) return sg_blas_unaligned(err, node, a, b, 1, 0);            \
        const int64_t m = a->shape[0], k = a->shape[1], n = b->shape[1];                            \
        if (z->shape[0] != m || z->shape[1] != n) {                                                 \
            char s1[96];                                                                            \
            return sg_fail(err, node, "Gemm: z has shape %s, expected (%lld, %lld)",           \
                                sg_shape_str(z, s1, 96), (long long)m, (long long)n);               \
        }                                                                                           \
        if (m > SG_BLAS_INT_MAX || n > SG_BLAS_INT_MAX || k > SG_BLAS_INT_MAX)                      \
            return sg_fail(err, node, "Gemm: dimensions too large for 32-bit BLAS");           \
        return sg_update_##S(err, node, api, slot, out, z, a, b, m, n, k, alpha, beta);             \
    }                                                                                               \
    SG_RT int sg_gemv_##S(sg_error *err, int64_t node, const sg_blas_api *api, sg_ws_slot *slot,    \
                          sg_array *out, const sg_array *z, const sg_array *a, const sg_array *b,   \
                          T alpha, T beta) {                                                        \
        if (a->shape[1] != b->shape[0]) return sg_blas_unaligned(err, node, a, b, 1, 0);            \
        const int64_t m = a->shape[0], k = a->shape[1];                                             \
        if (z->shape[0] != m) {                                                                     \
            char s1[96];                                                                            \
            return sg_fail(err, node, "Gemv: z has shape %s, expected (%lld,)",                \
                                sg_shape_str(z, s1, 96), (long long)m);                             \
        }                                                                                           \
        if (m > SG_BLAS_INT_MAX || k > SG_BLAS_INT_MAX)                                             \
            return sg_fail(err, node, "Gemv: dimensions too large for 32-bit BLAS");           \
        return sg_update_##S(err, node, api, slot, out, z, a, b, m, 1, k, alpha, beta);             \
    }

SG_DEFINE_BLAS(f32, float, sgemm, sgemv, sdot)
SG_DEFINE_BLAS(f64, double, dgemm, dgemv, ddot)

#endif /* SG_RT_DEFINE */

#endif
