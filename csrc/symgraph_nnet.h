/* symgraph's softmax and log-softmax line kernels (symgraph/backends/c/emit/nnet.py says how
 * they work and why). SG_DEFINE_SOFTMAX_ROW instantiates one for a dtype pair: in generated
 * code, or prebuilt in the runtime library (csrc/symgraph_rt.c), whose instances generated
 * code declares with SG_DECLARE_SOFTMAX_ROW.
 */
#ifndef SYMGRAPH_NNET_H
#define SYMGRAPH_NNET_H

#include <math.h>
#include "symgraph_runtime.h"
#include "symgraph_vecmath.h"

/* e^d for the d = x - max(x) of a line whose max is finite: d <= 0 or NaN. It is
 * sg_vexp_f64 of symgraph_vecmath.h, bit for bit on that domain, without the steps only
 * d > 0 needs (the overflow clamp, the choice of scaling by sign): 18% faster, and the exp
 * pass is most of the kernel's time. Under SG_SCALAR_MATH it is sg_vexp_f64 (libm). */
#ifdef SG_SCALAR_MATH
#define sg_shifted_exp_f64 sg_vexp_f64
#else
SG_VINLINE double sg_shifted_exp_f64(double d) {
    const int tiny = d < -746.0;  /* the result is +0: that of d = 0 times a zero scale */
    const double dc = sg_vm_sel_f64(tiny, 0.0, d);
    const double z = fma(dc, 0x1.71547652b82fep+0, SG_VM_SHIFT_F64);
    const double n = z - SG_VM_SHIFT_F64;
    double r = fma(-n, 0x1.62e42fefa39efp-1, dc);
    r = fma(-n, 0x1.abc9e3b39803fp-56, r);
    const double q = r + sg_vm_expm1_w_f64(r, 0.0);
    /* (1 + q) 2^n = (1 + q) 2^(n + 60) 2^-60: n >= -1077, so 2^(n + 60) is normal */
    const double s = sg_vm_f64((sg_vm_u64(z) + 1083) << 52);
    return fma(q, s, s) * sg_vm_sel_f64(tiny, 0.0, 0x1p-60);
}
#endif

/* elements of the exp pass between two rounds of prefetches of the next line */
#define SG_SOFTMAX_CHUNK 256

/* NAME(x, o, n, next) writes the softmax (LOG 0) or log-softmax (LOG 1) of the unit-stride
 * line x[0:n] (n >= 1) to o[0:n], which may be x itself, and prefetches next[0:n] (the
 * line the thread runs next, or NULL) during its exp pass, LINE_STEP elements (one 64-byte
 * cache line) at a time. EXP is the exp of any argument; where HAS_SHIFTED is 1 and the
 * line's max is finite, SHIFTED_EXP (exact for arguments <= 0 or NaN) is used instead.
 * NAME##_rows(px, po, lines, L, big, threads) runs NAME on each row of a C-contiguous
 * (lines, L) array, rows split across OpenMP threads when big (threads: the team size, 0
 * for OpenMP's default). NAME##_lines(x, o, axis, threshold, threads) runs it on every line
 * along axis of arrays of any layout, each gathered into a buffer and scattered back, lines
 * split across threads when there are more than threshold elements; it returns 1 when a
 * buffer could not be allocated. */
#define SG_DEFINE_SOFTMAX_ROW(NAME, XT, OT, LOG, EXP, SHIFTED_EXP, HAS_SHIFTED, LINE_STEP)        \
    SG_KFN void NAME(const XT *x, OT *o, int64_t n, const XT *next) {                              \
        /* the max skips NaN (a lane-wise vmaxpd): a NaN makes its exp, so the sum and then  */    \
        /* every output NaN anyway, as NumPy's. An all -inf line has x - m = nan everywhere. */    \
        OT m = (OT)-INFINITY;                                                                      \
        _Pragma("omp simd reduction(max:m)")                                                       \
        for (int64_t j = 0; j < n; ++j) { const OT v = (OT)x[j]; m = v > m ? v : m; }              \
        /* an infinite max shifts by 0 (as the py backend): exp(x)/sum(exp(x)) as written; */     \
        /* a finite one makes every x - m <= 0 or NaN */                                          \
        const int shifted = !isinf(m);                                                             \
        if (!shifted) m = 0;                                                                       \
        double total = 0.0;                                                                        \
        /* in chunks, each prefetching its part of the next line; short lines (or no next  */     \
        /* line) in one piece: the chunk loop cost lines of 3 to 30 elements 5-18% */             \
        const int64_t chunk = next && n > SG_SOFTMAX_CHUNK ? SG_SOFTMAX_CHUNK : n;                 \
        for (int64_t b = 0; b < n; b += chunk) {                                                   \
            const int64_t end = n - b > chunk ? b + chunk : n;                                     \
            if (chunk < n)                                                                         \
                for (int64_t q = b; q < end; q += LINE_STEP) __builtin_prefetch(next + q, 0, 3);   \
            if (HAS_SHIFTED && shifted) {                                                          \
                _Pragma("omp simd reduction(+:total)")                                             \
                for (int64_t j = b; j < end; ++j) {                                                \
                    const OT d = (OT)x[j] - m;                                                     \
                    const OT e = SHIFTED_EXP(d);                                                   \
                    o[j] = LOG ? d : e;                                                            \
                    total += (double)e;                                                            \
                }                                                                                  \
                continue;                                                                          \
            }                                                                                      \
            _Pragma("omp simd reduction(+:total)")                                                 \
            for (int64_t j = b; j < end; ++j) {                                                    \
                const OT d = (OT)x[j] - m;                                                         \
                const OT e = EXP(d);                                                               \
                o[j] = LOG ? d : e;                                                                \
                total += (double)e;                                                                \
            }                                                                                      \
        }                                                                                          \
        if (LOG) {                                                                                 \
            const OT lse = (OT)log(total);                                                         \
            _Pragma("omp simd")                                                                    \
            for (int64_t j = 0; j < n; ++j) o[j] -= lse;                                           \
        } else {                                                                                   \
            /* a multiply, not a divide: vdivpd made the whole kernel 30% slower on one      */   \
            /* thread; e * (1 / sum) is within an ulp of e / sum */                               \
            const OT inv = (OT)(1.0 / total);                                                      \
            _Pragma("omp simd")                                                                    \
            for (int64_t j = 0; j < n; ++j) o[j] *= inv;                                           \
        }                                                                                          \
    }                                                                                              \
    SG_KFN void NAME##_rows(const XT *px, OT *po, int64_t lines, int64_t L, int big, int threads) { \
        (void)threads;                                                                             \
        if (big) {                                                                                 \
            SG_OMP_PARALLEL_FOR(threads)                                                           \
            for (int64_t i = 0; i < lines; ++i)                                                    \
                NAME(px + i * L, po + i * L, L, i + 1 < lines ? px + (i + 1) * L : NULL);          \
        } else {                                                                                   \
            for (int64_t i = 0; i < lines; ++i)                                                    \
                NAME(px + i * L, po + i * L, L, i + 1 < lines ? px + (i + 1) * L : NULL);          \
        }                                                                                          \
    }                                                                                              \
    static void NAME##_line_range(const sg_array *x, sg_array *o, int64_t axis, int64_t lo,       \
                                  int64_t hi, XT *xb, OT *ob) {                                    \
        const int64_t L = x->shape[axis], sx = x->strides[axis], so = o->strides[axis];           \
        const XT *px = (const XT *)x->data;                                                        \
        OT *po = (OT *)o->data;                                                                    \
        for (int64_t i = lo; i < hi; ++i) {                                                        \
            int64_t rest = i, xo = 0, oo = 0;                                                      \
            for (int64_t a = x->ndim - 1; a >= 0; --a) {                                           \
                if (a == axis) continue;                                                           \
                const int64_t ia = rest % x->shape[a];                                             \
                rest /= x->shape[a];                                                               \
                xo += ia * x->strides[a];                                                          \
                oo += ia * o->strides[a];                                                          \
            }                                                                                      \
            for (int64_t j = 0; j < L; ++j) xb[j] = px[xo + j * sx];                               \
            NAME(xb, ob, L, NULL);                                                                 \
            for (int64_t j = 0; j < L; ++j) po[oo + j * so] = ob[j];                               \
        }                                                                                          \
    }                                                                                              \
    SG_KFN int NAME##_lines(const sg_array *x, sg_array *o, int64_t axis, int64_t threshold,      \
                            int threads) {                                                         \
        const int64_t L = x->shape[axis];                                                          \
        int64_t lines = 1;                                                                         \
        for (int64_t a = 0; a < x->ndim; ++a)                                                      \
            if (a != axis) lines *= x->shape[a];                                                   \
        if (L <= 0 || lines <= 0) return 0;                                                        \
        int oom = 0;                                                                               \
        (void)threads;                                                                             \
        if (lines > 1 && lines * L > threshold) {                                                  \
            SG_OMP_PARALLEL(threads)                                                               \
            {                                                                                      \
                int64_t lo, hi;                                                                    \
                sg_thread_share(lines, 1, &lo, &hi);                                               \
                XT *xb = (XT *)malloc((size_t)L * sizeof(XT));                                     \
                OT *ob = (OT *)malloc((size_t)L * sizeof(OT));                                     \
                if (xb && ob) NAME##_line_range(x, o, axis, lo, hi, xb, ob);                       \
                else if (lo < hi) {                                                                \
                    _Pragma("omp atomic write")                                                    \
                    oom = 1;                                                                       \
                }                                                                                  \
                free(xb);                                                                          \
                free(ob);                                                                          \
            }                                                                                      \
        } else {                                                                                   \
            XT *xb = (XT *)malloc((size_t)L * sizeof(XT));                                         \
            OT *ob = (OT *)malloc((size_t)L * sizeof(OT));                                         \
            if (xb && ob) NAME##_line_range(x, o, axis, 0, lines, xb, ob);                         \
            else oom = 1;                                                                          \
            free(xb);                                                                              \
            free(ob);                                                                              \
        }                                                                                          \
        return oom;                                                                                \
    }                                                                                              \
    /* A whole (log-)softmax node over axis of x: its C-contiguous output allocated (slot), */    \
    /* unit-stride rows run in place, any other layout line by line; returns 1 on failure. */     \
    SG_KFN int NAME##_node(sg_error *err, int64_t node, sg_ws_slot *slot, sg_array *out,          \
                           const sg_array *x, int64_t axis, int64_t threshold, int threads) {      \
        if (sg_node_alloc(err, node, slot, out, x->ndim, x->shape, sizeof(OT))) return 1;          \
        if (axis == x->ndim - 1 && sg_is_contiguous(x)) {                                          \
            const int64_t L = x->shape[axis], lines = L > 0 ? sg_size(x) / L : 0;                  \
            if (L > 0 && lines > 0)                                                                \
                NAME##_rows((const XT *)x->data, (OT *)out->data, lines, L,                        \
                            lines > 1 && lines * L > threshold, threads);                          \
            return 0;                                                                              \
        }                                                                                          \
        if (NAME##_lines(x, out, axis, threshold, threads))                                        \
            return sg_fail(err, node, "out of memory allocating a line of %lld elements",          \
                           (long long)x->shape[axis]);                                             \
        return 0;                                                                                  \
    }

/* NAME(err, node, slot, out, p, labels): a CrossentropyCategorical1Hot node, out[i] =
 * -LOG(p[i, labels[i]]) for each row i of the coding distribution p (PT, LT and OT the C
 * types of p, the labels and out); returns 1 on failure (a label out of range, a count of
 * labels other than p's rows, no memory). */
#define SG_DEFINE_XENT_1HOT(NAME, PT, LT, OT, LOG)                                                 \
    SG_KFN int NAME(sg_error *err, int64_t node, sg_ws_slot *slot, sg_array *out, const sg_array *p, \
                    const sg_array *labels) {                                                      \
        const int64_t rows = p->shape[0], classes = p->shape[1];                                   \
        if (labels->shape[0] != rows) {                                                            \
            char s1[96];                                                                           \
            return sg_fail(err, node, "crossentropy_categorical_1hot: coding_dist has shape %s but " \
                           "there are %lld labels; expected one label per row",                    \
                           sg_shape_str(p, s1, 96), (long long)labels->shape[0]);                  \
        }                                                                                          \
        if (sg_node_alloc(err, node, slot, out, 1, p->shape, sizeof(OT))) return 1;                \
        const PT *pp = (const PT *)p->data;                                                        \
        const LT *pl = (const LT *)labels->data;                                                   \
        OT *po = (OT *)out->data;                                                                  \
        for (int64_t i = 0; i < rows; ++i) {                                                       \
            const int64_t y = (int64_t)pl[i * labels->strides[0]];                                 \
            if (y < 0 || y >= classes)                                                             \
                return sg_fail(err, node, "crossentropy_categorical_1hot: label %lld in row %lld " \
                               "is out of range for %lld classes (labels must be in [0, %lld))",   \
                               (long long)y, (long long)i, (long long)classes, (long long)classes); \
            po[i] = -LOG((OT)pp[i * p->strides[0] + y * p->strides[1]]);                           \
        }                                                                                          \
        return 0;                                                                                  \
    }

/* What SG_DEFINE_XENT_1HOT defines, declared: a node function of the runtime library. */
#define SG_DECLARE_XENT_1HOT(NAME, PT, LT, OT, LOG)                                                \
    extern int NAME(sg_error *err, int64_t node, sg_ws_slot *slot, sg_array *out, const sg_array *p, \
                    const sg_array *labels);

/* What SG_DEFINE_SOFTMAX_ROW defines, declared: a kernel taken from the runtime library. */
#define SG_DECLARE_SOFTMAX_ROW(NAME, XT, OT)                                                       \
    extern void NAME(const XT *x, OT *o, int64_t n, const XT *next);                               \
    extern void NAME##_rows(const XT *px, OT *po, int64_t lines, int64_t L, int big, int threads); \
    extern int NAME##_lines(const sg_array *x, sg_array *o, int64_t axis, int64_t threshold, int threads); \
    extern int NAME##_node(sg_error *err, int64_t node, sg_ws_slot *slot, sg_array *out, const sg_array *x, \
                           int64_t axis, int64_t threshold, int threads);

#endif
