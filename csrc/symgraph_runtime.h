/* symgraph C runtime: the array view passed across the cffi boundary and error reporting.
 *
 * Generated code includes this header. It is plain C99 (no Python.h): the generated
 * shared library is loaded by cffi in ABI mode and called through one entry point.
 */
#ifndef SYMGRAPH_RUNTIME_H
#define SYMGRAPH_RUNTIME_H

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>

#define SG_MAXDIM 16

/* A strided view of an array. Strides are in elements (not bytes). */
typedef struct {
    void *data;
    int64_t ndim;
    int64_t shape[SG_MAXDIM];
    int64_t strides[SG_MAXDIM];
} sg_array;

/* What a failed call reports back: which node failed and why. */
typedef struct {
    int64_t node;        /* index of the failing node in the segment, -1 if none */
    char message[1024];
} sg_error;


/* Where the runtime's larger functions live (symgraph/backends/c/runtime.py):
 *  - by default they are static inline here, compiled into every translation unit that
 *    includes this header (standalone use, sanitizer builds);
 *  - with SG_RT_LINKED they are only declared: the generated library links the prebuilt
 *    runtime library (csrc/symgraph_rt.c, built once when symgraph is installed), so gcc
 *    does not compile them again for every compiled function (issue 6, W4 cold);
 *  - with SG_RT_BUILD this header defines them for that library, with external linkage.
 * The declarations below are the library's interface; SG_RT_BUILD sees both them and the
 * definitions, so gcc checks that they agree. */
#if defined(SG_RT_BUILD)
#define SG_RT __attribute__((visibility("default")))
#elif defined(SG_RT_LINKED)
#define SG_RT extern
#else
#define SG_RT static inline
#endif
#if defined(SG_RT_LINKED) && !defined(SG_RT_BUILD)
#define SG_RT_DEFINE 0
#else
#define SG_RT_DEFINE 1
#endif

/* One reusable buffer of a compiled function's workspace. Intermediates that do not leave
 * the segment live in slots; the code generator gives a slot to one variable at a time,
 * decided by liveness, and a slot keeps its buffer across calls (it only grows). */
typedef struct {
    void *ptr;
    size_t cap;
} sg_ws_slot;

/* A slot whose cap carries this bit lends a buffer it does not own: an in-place update's
 * variable (backends/c/inplace.py). sg_ws_alloc uses that buffer only for a result of
 * exactly its size and never frees it; any other size gets a fresh buffer instead. */
#define SG_WS_BORROWED ((size_t)1 << (sizeof(size_t) * 8 - 1))

typedef struct sg_reduce_loop sg_reduce_loop;

#if defined(SG_RT_BUILD) || defined(SG_RT_LINKED)
SG_RT int sg_alloc(sg_array *a, int64_t ndim, const int64_t *shape, size_t itemsize);
SG_RT int sg_ws_alloc(sg_ws_slot *slot, sg_array *a, int64_t ndim, const int64_t *shape, size_t itemsize);
SG_RT const char *sg_shape_str(const sg_array *a, char *buf, size_t len);
SG_RT int sg_copy_contiguous(sg_array *dst, const sg_array *src, size_t itemsize);
SG_RT void sg_appendf(char *buf, size_t len, size_t *used, const char *fmt, ...);
SG_RT const char *sg_ints_str(const int64_t *v, int64_t n, int style, char *buf, size_t len);
SG_RT const char *sg_shapes_str(const sg_array *const *arrays, int64_t n, const char *sep, char *buf, size_t len);
SG_RT void sg_copy_into(void *dst, const sg_array *src, size_t itemsize);
SG_RT void sg_slice_indices(int64_t n, int has_start, int64_t start, int has_stop, int64_t stop,
                            int64_t step, int64_t *first, int64_t *count);
SG_RT void sg_arange_fill_f64(double *buf, int64_t n);
SG_RT void sg_arange_fill_f32(float *buf, int64_t n);
SG_RT void sg_reduce_plan(sg_reduce_loop *p, const sg_array *x, const uint8_t *reduced, int flip_negative);
SG_RT int sg_ew_alloc(sg_ws_slot *slot, sg_array *a, int64_t ndim, const int64_t *shape, size_t itemsize);
SG_RT const void *sg_ew_input(const sg_array *a, sg_array *tmp, size_t itemsize);
SG_RT const sg_array *sg_ew_rows(const sg_array *a, sg_array *tmp, size_t itemsize);
SG_RT int sg_ew_shape_error(sg_error *err, int64_t node, const sg_array *const *in, int n, int ndim,
                            const char *bcast);
SG_RT int sg_fail(sg_error *err, int64_t node, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
SG_RT int sg_node_alloc(sg_error *err, int64_t node, sg_ws_slot *slot, sg_array *out, int64_t ndim,
                        const int64_t *shape, size_t itemsize);
#endif

#define SG_FAIL(err, node_index, ...)                                    \
    do {                                                                 \
        (err)->node = (node_index);                                      \
        snprintf((err)->message, sizeof((err)->message), __VA_ARGS__);   \
        goto sg_cleanup;                                                 \
    } while (0)

static inline int64_t sg_size(const sg_array *a) {
    int64_t n = 1;
    for (int64_t i = 0; i < a->ndim; ++i) n *= a->shape[i];
    return n;
}

/* Whether the byte ranges [a0, a1) and [b0, b1) do not overlap. */
static inline int sg_apart(const void *a0, const void *a1, const void *b0, const void *b1) {
    return (uintptr_t)a1 <= (uintptr_t)b0 || (uintptr_t)b1 <= (uintptr_t)a0;
}

/* Set C-contiguous strides for a's shape. */
static inline void sg_contiguous_strides(sg_array *a) {
    int64_t s = 1;
    for (int64_t i = a->ndim - 1; i >= 0; --i) {
        a->strides[i] = s;
        s *= a->shape[i] > 0 ? a->shape[i] : 1;
    }
}

static inline int sg_is_contiguous(const sg_array *a) {
    int64_t s = 1;
    for (int64_t i = a->ndim - 1; i >= 0; --i) {
        if (a->shape[i] != 1 && a->strides[i] != s) return 0;
        s *= a->shape[i];
    }
    return 1;
}

/* Allocate a C-contiguous array of the given shape; returns 0 on failure. */
/* Ask for transparent huge pages on big buffers (as NumPy does for its own): a fresh 80 MB
 * output is otherwise 20,000 page faults on first touch, which cost as much as the
 * arithmetic of a fused loop. Advice only: it changes no result and may be ignored. */
#define SG_HUGE_BYTES ((size_t)4 << 20)
static inline void sg_advise_huge(void *p, size_t n) {
#if defined(MADV_HUGEPAGE) && !defined(SG_NO_HUGEPAGE)
    if (p && n >= SG_HUGE_BYTES) {
        uintptr_t start = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
        uintptr_t end = ((uintptr_t)p + n) & ~(uintptr_t)4095;
        if (end > start) madvise((void *)start, end - start, MADV_HUGEPAGE);
    }
#else
    (void)p; (void)n;
#endif
}

#if SG_RT_DEFINE
SG_RT int sg_alloc(sg_array *a, int64_t ndim, const int64_t *shape, size_t itemsize) {
    a->ndim = ndim;
    size_t n = 1;
    for (int64_t i = 0; i < ndim; ++i) {
        if (shape[i] < 0) return 0;
        a->shape[i] = shape[i];
        if (__builtin_mul_overflow(n, (size_t)shape[i], &n)) { a->data = NULL; return 0; }
    }
    sg_contiguous_strides(a);
    if (__builtin_mul_overflow(n, itemsize, &n)) { a->data = NULL; return 0; }
    a->data = malloc(n ? n : 1);
    sg_advise_huge(a->data, n);
    return a->data != NULL;
}
#endif

/* Like sg_alloc, but the buffer comes from (and stays in) a workspace slot. */
#if SG_RT_DEFINE
SG_RT int sg_ws_alloc(sg_ws_slot *slot, sg_array *a, int64_t ndim, const int64_t *shape, size_t itemsize) {
    a->ndim = ndim;
    size_t n = 1;
    for (int64_t i = 0; i < ndim; ++i) {
        if (shape[i] < 0) return 0;
        a->shape[i] = shape[i];
        if (__builtin_mul_overflow(n, (size_t)shape[i], &n)) return 0;
    }
    sg_contiguous_strides(a);
    size_t bytes;
    if (__builtin_mul_overflow(n, itemsize, &bytes)) return 0;
    if (bytes == 0) bytes = 1;
    if (slot->cap & SG_WS_BORROWED) {
        if ((slot->cap & ~SG_WS_BORROWED) != bytes) {
            slot->ptr = malloc(bytes);  /* the lent buffer stays its owner's */
            slot->cap = slot->ptr ? bytes : 0;
            sg_advise_huge(slot->ptr, bytes);
        }
    } else if (slot->cap < bytes) {
        free(slot->ptr);
        slot->ptr = malloc(bytes);
        slot->cap = slot->ptr ? bytes : 0;
        sg_advise_huge(slot->ptr, bytes);
    }
    a->data = slot->ptr;
    return a->data != NULL;
}
#endif

/* Format a shape as "(2, 3)" into buf. */
#if SG_RT_DEFINE
SG_RT const char *sg_shape_str(const sg_array *a, char *buf, size_t len) {
    size_t used = (size_t)snprintf(buf, len, "(");
    for (int64_t i = 0; i < a->ndim && used < len; ++i)
        used += (size_t)snprintf(buf + used, len - used, i ? ", %lld" : "%lld", (long long)a->shape[i]);
    if (used < len) snprintf(buf + used, len - used, a->ndim == 1 ? ",)" : ")");
    return buf;
}
#endif

/* Copy any strided array into a fresh C-contiguous one (dst gets its own buffer). */
#if SG_RT_DEFINE
SG_RT int sg_copy_contiguous(sg_array *dst, const sg_array *src, size_t itemsize) {
    if (!sg_alloc(dst, src->ndim, src->shape, itemsize)) return 0;
    int64_t n = sg_size(src);
    if (n == 0) return 1;
    int64_t idx[SG_MAXDIM] = {0};
    char *out = (char *)dst->data;
    const char *in = (const char *)src->data;
    for (int64_t k = 0; k < n; ++k) {
        int64_t off = 0;
        for (int64_t a = 0; a < src->ndim; ++a) off += idx[a] * src->strides[a];
        memcpy(out + (size_t)k * itemsize, in + off * (int64_t)itemsize, itemsize);
        for (int64_t a = src->ndim - 1; a >= 0; --a) {
            if (++idx[a] < src->shape[a]) break;
            idx[a] = 0;
        }
    }
    return 1;
}
#endif

/* ---- Shape and indexing helpers (emitters in symgraph/backends/c/emit/shape.py, subtensor.py) ---- */
#include <stdarg.h>

/* Append printf-formatted text to buf (len bytes in all, *used of them taken); never overflows. */
#if SG_RT_DEFINE
SG_RT void sg_appendf(char *buf, size_t len, size_t *used, const char *fmt, ...) {
    if (*used + 1 >= len) return;
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(buf + *used, len - *used, fmt, args);
    va_end(args);
    if (n > 0) *used = (*used + (size_t)n < len) ? *used + (size_t)n : len - 1;
}
#endif

/* Format n integers: style 0 as Python shows a tuple ("(2, 3)", "(4,)", "()"), 1 as a list
 * ("[2, 3]"), 2 as NumPy shows shapes in its broadcasting errors ("(2,3)", "(4,)"). */
#if SG_RT_DEFINE
SG_RT const char *sg_ints_str(const int64_t *v, int64_t n, int style, char *buf, size_t len) {
    size_t used = 0;
    buf[0] = '\0';
    sg_appendf(buf, len, &used, style == 1 ? "[" : "(");
    for (int64_t i = 0; i < n; ++i)
        sg_appendf(buf, len, &used, i ? (style == 2 ? ",%lld" : ", %lld") : "%lld", (long long)v[i]);
    sg_appendf(buf, len, &used, style == 1 ? "]" : (n == 1 ? ",)" : ")"));
    return buf;
}
#endif

/* The shapes of n arrays, each formatted as sg_shape_str does, separated by sep. */
#if SG_RT_DEFINE
SG_RT const char *sg_shapes_str(const sg_array *const *arrays, int64_t n, const char *sep,
                                        char *buf, size_t len) {
    size_t used = 0;
    char one[256];
    buf[0] = '\0';
    for (int64_t i = 0; i < n; ++i)
        sg_appendf(buf, len, &used, "%s%s", i ? sep : "", sg_shape_str(arrays[i], one, sizeof one));
    return buf;
}
#endif

/* Copy any strided array into dst, a C-contiguous buffer of sg_size(src) elements. */
#if SG_RT_DEFINE
SG_RT void sg_copy_into(void *dst, const sg_array *src, size_t itemsize) {
    int64_t n = sg_size(src);
    if (n == 0) return;
    if (sg_is_contiguous(src)) {
        memcpy(dst, src->data, (size_t)n * itemsize);
        return;
    }
    /* walk src in C order: a strided inner loop per row, an odometer over the outer axes */
    const int64_t last = src->ndim - 1;
    const int64_t inner = src->shape[last], step = src->strides[last] * (int64_t)itemsize;
    int64_t idx[SG_MAXDIM] = {0};
    char *out = (char *)dst;
    for (int64_t k = 0; k < n; k += inner) {
        int64_t off = 0;
        for (int64_t a = 0; a < last; ++a) off += idx[a] * src->strides[a];
        const char *in = (const char *)src->data + off * (int64_t)itemsize;
        switch (itemsize) {
        case 1: for (int64_t j = 0; j < inner; ++j) ((uint8_t *)out)[j] = *(const uint8_t *)(in + j * step); break;
        case 2: for (int64_t j = 0; j < inner; ++j) ((uint16_t *)out)[j] = *(const uint16_t *)(in + j * step); break;
        case 4: for (int64_t j = 0; j < inner; ++j) ((uint32_t *)out)[j] = *(const uint32_t *)(in + j * step); break;
        case 8: for (int64_t j = 0; j < inner; ++j) ((uint64_t *)out)[j] = *(const uint64_t *)(in + j * step); break;
        default: for (int64_t j = 0; j < inner; ++j) memcpy(out + j * (int64_t)itemsize, in + j * step, itemsize);
        }
        out += inner * (int64_t)itemsize;
        for (int64_t a = last - 1; a >= 0; --a) {
            if (++idx[a] < src->shape[a]) break;
            idx[a] = 0;
        }
    }
}
#endif

/* ---- support for the elementwise kernels (symgraph/backends/c/emit/elemwise.py) ----
 * What every kernel shares, never inlined: the slow paths (allocation, strided inputs, the
 * shape error message) would otherwise be copied into each kernel, and gcc spent more time
 * on them than on the loop itself. */
#if SG_RT_DEFINE
/* The output of a kernel: in its workspace slot, or a fresh buffer (slot NULL). */
SG_RT __attribute__((noinline)) int sg_ew_alloc(sg_ws_slot *slot, sg_array *a, int64_t ndim, const int64_t *shape,
                                              size_t itemsize) {
  return slot ? sg_ws_alloc(slot, a, ndim, shape, itemsize) : sg_alloc(a, ndim, shape, itemsize);
}

/* ---- support for node functions: a whole node's work as one call (the product nodes of
 * symgraph_blas.h, the sums, softmax and crossentropy nodes), which reports a failure in
 * err and returns 1 where generated code would have used SG_FAIL. */
/* Report that node `node` failed (printf-style message); returns 1. */
SG_RT __attribute__((noinline, cold, format(printf, 3, 4))) int sg_fail(sg_error *err, int64_t node,
                                                                        const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  err->node = node;
  vsnprintf(err->message, sizeof(err->message), fmt, args);
  va_end(args);
  return 1;
}

/* A node's output (sg_ew_alloc), or its out-of-memory error (returns 1). */
SG_RT __attribute__((noinline)) int sg_node_alloc(sg_error *err, int64_t node, sg_ws_slot *slot, sg_array *out,
                                                int64_t ndim, const int64_t *shape, size_t itemsize) {
  if (sg_ew_alloc(slot, out, ndim, shape, itemsize)) return 0;
  return sg_fail(err, node, "out of memory allocating %lld elements", (long long)sg_size(out));
}
#endif

#if SG_RT_DEFINE
/* The data of a, or of a C-contiguous copy of it made in tmp (NULL: out of memory); the
 * copy runs along the last axis with a typed strided loop. */
#define SG_EW_GATHER(T) for (int64_t k = 0; k < inner; ++k) ((T *)out)[k] = ((const T *)src)[k * step]
SG_RT __attribute__((noinline)) const void *sg_ew_input(const sg_array *a, sg_array *tmp, size_t itemsize) {
  if (sg_is_contiguous(a)) return a->data;
  if (!sg_alloc(tmp, a->ndim, a->shape, itemsize)) return NULL;
  const int64_t n = sg_size(a), nd = a->ndim, inner = a->shape[nd - 1], step = a->strides[nd - 1];
  int64_t idx[SG_MAXDIM] = {0};
  char *out = (char *)tmp->data;
  for (int64_t done = 0; done < n; done += inner) {
    int64_t off = 0;
    for (int64_t d = 0; d + 1 < nd; ++d) off += idx[d] * a->strides[d];
    const char *src = (const char *)a->data + off * (int64_t)itemsize;
    switch (itemsize) {
      case 8: SG_EW_GATHER(uint64_t); break;
      case 4: SG_EW_GATHER(uint32_t); break;
      case 2: SG_EW_GATHER(uint16_t); break;
      default: SG_EW_GATHER(uint8_t); break;
    }
    out += inner * (int64_t)itemsize;
    for (int64_t d = nd - 2; d >= 0; --d) {
      if (++idx[d] < a->shape[d]) break;
      idx[d] = 0;
    }
  }
  return tmp->data;
}
#endif

#if SG_RT_DEFINE
/* a itself when its last axis has unit stride (or at most one element, or a has none), else
 * a C-contiguous copy of it made in tmp (NULL: out of memory). A broadcasting kernel reads
 * each input by rows through this, so its loop needs only the unit-stride case: gcc then
 * compiles one vector loop instead of versioning it on the strides (and gathering). */
SG_RT __attribute__((noinline)) const sg_array *sg_ew_rows(const sg_array *a, sg_array *tmp, size_t itemsize) {
  const int64_t last = a->ndim - 1;
  if (last < 0 || a->strides[last] == 1 || a->shape[last] <= 1 || sg_size(a) == 0) return a;
  if (!sg_ew_input(a, tmp, itemsize)) return NULL;
  return tmp;
}
#endif

#if SG_RT_DEFINE
/* Report the first axis, then input, whose length differs from the first non-broadcast
 * input's; bcast holds ndim characters per input, '1' where its static length is 1. */
SG_RT __attribute__((noinline, cold)) int sg_ew_shape_error(sg_error *err, int64_t node, const sg_array *const *in,
                                                          int n, int ndim, const char *bcast) {
  err->node = node;
  snprintf(err->message, sizeof(err->message), "input shapes do not match");
  for (int axis = 0; axis < ndim; ++axis) {
    int first = -1;
    for (int i = 0; i < n; ++i) {
      if (bcast[i * ndim + axis] == '1') continue;
      if (first < 0) { first = i; continue; }
      if (in[i]->shape[axis] != in[first]->shape[axis]) {
        char s1[96], s2[96];
        snprintf(err->message, sizeof(err->message), "input shapes %s and %s do not match on axis %d: input %d "
                 "has length %lld, input %d has length %lld. Only axes declared broadcastable (static length 1, "
                 "e.g. T.row(), T.col() or x.dimshuffle('x', 0)) broadcast", sg_shape_str(in[first], s1, 96),
                 sg_shape_str(in[i], s2, 96), axis, first, (long long)in[first]->shape[axis], i,
                 (long long)in[i]->shape[axis]);
        return 1;
      }
    }
  }
  return 1;
}
#endif

/* A uint64 index read as int64; values past INT64_MAX saturate (slice bounds clamp anyway). */
static inline int64_t sg_index_from_u64(uint64_t v) {
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* A possibly negative index made non-negative (the caller has checked -n <= i < n). */
static inline int64_t sg_wrap_index(int64_t i, int64_t n) {
    return i < 0 ? i + n : i;
}

/* Python's slice(start, stop, step).indices(n) for step != 0: the first index and the count. */
#if SG_RT_DEFINE
SG_RT void sg_slice_indices(int64_t n, int has_start, int64_t start, int has_stop, int64_t stop,
                                    int64_t step, int64_t *first, int64_t *count) {
    if (step < -INT64_MAX) step = -INT64_MAX; /* so that -step does not overflow, as CPython */
    const int64_t lower = step < 0 ? -1 : 0, upper = step < 0 ? n - 1 : n;
    if (!has_start) start = step < 0 ? upper : lower;
    else if (start < 0) { start += n; if (start < lower) start = lower; }
    else if (start > upper) start = upper;
    if (!has_stop) stop = step < 0 ? lower : upper;
    else if (stop < 0) { stop += n; if (stop < lower) stop = lower; }
    else if (stop > upper) stop = upper;
    if (step > 0) *count = stop > start ? (stop - start - 1) / step + 1 : 0;
    else *count = start > stop ? (start - stop - 1) / (-step) + 1 : 0;
    *first = start;
}
#endif

/* NumPy's arange fill for floats: buf[i] = buf[0] + i * (buf[1] - buf[0]) in the array's type.
 * Fused multiply-adds are turned off: NumPy's loop has none, and one changes the last bit. */
#if SG_RT_DEFINE
__attribute__((optimize("fp-contract=off")))
SG_RT void sg_arange_fill_f64(double *buf, int64_t n) {
    if (n <= 2) return;
    const double start = buf[0], delta = buf[1] - buf[0];
    for (int64_t i = 2; i < n; ++i) buf[i] = start + i * delta;
}
#endif

#if SG_RT_DEFINE
__attribute__((optimize("fp-contract=off")))
SG_RT void sg_arange_fill_f32(float *buf, int64_t n) {
    if (n <= 2) return;
    const float start = buf[0], delta = buf[1] - buf[0];
    for (int64_t i = 2; i < n; ++i) buf[i] = start + i * delta;
}
#endif

/* ---- reductions (Sum, Prod, Max, Min, All, Any, Argmax, Argmin) -----------------------------
 * A reduction walks its input in memory order and combines each element into the output
 * element it belongs to. sg_reduce_plan orders the input's axes by stride (largest first),
 * drops length-1 axes, can turn negative strides positive, and merges axes that form one run
 * in memory, so a contiguous input becomes one or two loops. The last loop is either reduced
 * (a run combined into one register, e.g. a sum over the last axis) or kept (a run combined
 * elementwise into an output row, e.g. a sum over the first axis adds whole rows).
 * Kernels are instantiated per dtype by the SG_DEFINE_* macros below (one line in the
 * generated code, e.g. SG_DEFINE_SUM(sg_sum_float64_float64, double, double, double));
 * symgraph/backends/c/emit/reduce.py emits the calls.
 */
/* Kernels run once per node call: keeping them out of line keeps compile time and code
 * size down and costs nothing at run time. */
#define SG_NOINLINE __attribute__((noinline, unused))
/* The storage of the sum kernels (SG_DEFINE_SUM): static in a generated unit, external in
 * the runtime library, which prebuilds the common dtypes (csrc/symgraph_rt.c); a unit that
 * links it declares those with SG_DECLARE_SUM. */
#ifdef SG_RT_BUILD
#define SG_KFN SG_NOINLINE __attribute__((visibility("default")))
#else
#define SG_KFN SG_NOINLINE static
#endif

#ifdef _OPENMP
#include <omp.h>
/* the team size of a num_threads clause: `threads`, or OpenMP's default when it is 0 */
#define SG_TEAM(threads) ((threads) > 0 ? (threads) : omp_get_max_threads())
#endif

/* [*lo, *hi): the calling thread's contiguous share of n items; shares start at multiples
 * of `align` items. Outside a parallel region: all of them. */
static inline void sg_thread_share(int64_t n, int64_t align, int64_t *lo, int64_t *hi) {
#ifdef _OPENMP
    const int64_t threads = omp_get_num_threads(), id = omp_get_thread_num();
#else
    const int64_t threads = 1, id = 0;
#endif
    *lo = id == 0 ? 0 : n * id / threads / align * align;
    *hi = id + 1 == threads ? n : n * (id + 1) / threads / align * align;
}

struct sg_reduce_loop {
    int64_t ndim;                     /* loops, outermost first; at least 1 */
    int64_t outer;                    /* iterations of all loops but the last; 0 when empty */
    int64_t shape[SG_MAXDIM];
    int64_t in_strides[SG_MAXDIM];    /* input element strides */
    int64_t out_strides[SG_MAXDIM];   /* output element strides; 0 on reduced axes */
    int64_t flat_strides[SG_MAXDIM];  /* C-order position among the reduced elements; 0 on kept */
    int64_t in_offset, out_offset, flat_offset;  /* where the walk starts */
};

static inline int64_t sg_abs_i64(int64_t v) { return v < 0 ? -v : v; }

/* Does loop (si, so, sf) go outside loop k of p (larger input stride, then output, then flat)? */
static inline int sg_reduce_outside(const sg_reduce_loop *p, int64_t k, int64_t si, int64_t so,
                                    int64_t sf) {
    int64_t a = sg_abs_i64(si), b = sg_abs_i64(p->in_strides[k]);
    if (a != b) return a > b;
    a = sg_abs_i64(so); b = sg_abs_i64(p->out_strides[k]);
    if (a != b) return a > b;
    return sg_abs_i64(sf) > sg_abs_i64(p->flat_strides[k]);
}

/* Plan the walk over x reducing the axes marked in `reduced` into a C-contiguous output of
 * the kept axes. flip_negative: walk negative-stride axes backwards (only for reductions
 * whose result does not depend on the order, i.e. not argmax/argmin). */
#if SG_RT_DEFINE
SG_RT SG_NOINLINE void sg_reduce_plan(sg_reduce_loop *p, const sg_array *x,
                                       const uint8_t *reduced, int flip_negative) {
    int64_t out_stride[SG_MAXDIM], flat_stride[SG_MAXDIM];
    int64_t next_out = 1, next_flat = 1, total = 1;
    for (int64_t a = x->ndim - 1; a >= 0; --a) {
        total *= x->shape[a];
        out_stride[a] = reduced[a] ? 0 : next_out;
        flat_stride[a] = reduced[a] ? next_flat : 0;
        if (reduced[a]) next_flat *= x->shape[a]; else next_out *= x->shape[a];
    }
    p->ndim = 0;
    p->in_offset = p->out_offset = p->flat_offset = 0;
    if (total == 0) {
        p->ndim = 1; p->outer = 0; p->shape[0] = 0;
        p->in_strides[0] = p->out_strides[0] = p->flat_strides[0] = 0;
        return;
    }
    for (int64_t a = 0; a < x->ndim; ++a) {
        int64_t n = x->shape[a];
        if (n == 1) continue;
        int64_t si = x->strides[a], so = out_stride[a], sf = flat_stride[a];
        if (flip_negative && si < 0) {
            p->in_offset += si * (n - 1); p->out_offset += so * (n - 1);
            p->flat_offset += sf * (n - 1);
            si = -si; so = -so; sf = -sf;
        }
        int64_t k = p->ndim;
        for (; k > 0 && sg_reduce_outside(p, k - 1, si, so, sf); --k) {
            p->shape[k] = p->shape[k - 1]; p->in_strides[k] = p->in_strides[k - 1];
            p->out_strides[k] = p->out_strides[k - 1]; p->flat_strides[k] = p->flat_strides[k - 1];
        }
        p->shape[k] = n; p->in_strides[k] = si; p->out_strides[k] = so; p->flat_strides[k] = sf;
        p->ndim++;
    }
    if (p->ndim == 0) {  /* a single element */
        p->ndim = 1; p->shape[0] = 1;
        p->in_strides[0] = p->out_strides[0] = p->flat_strides[0] = 0;
    }
    /* merge loop k into the loop m outside it when together they are one run */
    int64_t m = 0;
    for (int64_t k = 1; k < p->ndim; ++k) {
        int64_t n = p->shape[k];
        if (p->in_strides[m] == p->in_strides[k] * n && p->out_strides[m] == p->out_strides[k] * n
            && p->flat_strides[m] == p->flat_strides[k] * n) {
            p->shape[m] *= n; p->in_strides[m] = p->in_strides[k];
            p->out_strides[m] = p->out_strides[k]; p->flat_strides[m] = p->flat_strides[k];
        } else {
            ++m;
            p->shape[m] = n; p->in_strides[m] = p->in_strides[k];
            p->out_strides[m] = p->out_strides[k]; p->flat_strides[m] = p->flat_strides[k];
        }
    }
    p->ndim = m + 1;
    p->outer = 1;
    for (int64_t k = 0; k < p->ndim - 1; ++k) p->outer *= p->shape[k];
}
#endif

/* Step the loops outside the last one (an odometer), updating the three offsets. */
static inline void sg_reduce_next(const sg_reduce_loop *p, int64_t *idx, int64_t *xo, int64_t *oo,
                                  int64_t *fo) {
    for (int64_t d = p->ndim - 2; d >= 0; --d) {
        *xo += p->in_strides[d]; *oo += p->out_strides[d]; *fo += p->flat_strides[d];
        if (++idx[d] < p->shape[d]) return;
        *xo -= p->in_strides[d] * p->shape[d]; *oo -= p->out_strides[d] * p->shape[d];
        *fo -= p->flat_strides[d] * p->shape[d];
        idx[d] = 0;
    }
}

/* Run the statements in __VA_ARGS__ once per last-loop run, with offsets xo, oo, fo and the
 * last loop's length n and strides si, so, sf in scope. */
#define SG_REDUCE_WALK(p, ...)                                                                     \
    do {                                                                                           \
        const int64_t sg_last_ = (p)->ndim - 1, n = (p)->shape[sg_last_];                          \
        const int64_t si = (p)->in_strides[sg_last_], so = (p)->out_strides[sg_last_];             \
        const int64_t sf = (p)->flat_strides[sg_last_];                                            \
        int64_t sg_idx_[SG_MAXDIM] = {0};                                                          \
        int64_t xo = (p)->in_offset, oo = (p)->out_offset, fo = (p)->flat_offset;                  \
        (void)sf; (void)fo;                                                                        \
        for (int64_t sg_it_ = 0; sg_it_ < (p)->outer; ++sg_it_) {                                  \
            __VA_ARGS__                                                                            \
            sg_reduce_next((p), sg_idx_, &xo, &oo, &fo);                                           \
        }                                                                                          \
    } while (0)

#define SG_AT_UNIT(i) (i)
#define SG_AT_STRIDED(i) ((i) * s)

/* NumPy's pairwise summation of a[0], a[s], ..., a[(n-1)s]: runs of up to 128 elements are
 * summed in 8 independent lanes (which vectorize), and halves are combined recursively, so
 * the rounding error grows like log(n). Each element is converted to VAL_T (the dtype the
 * sum accumulates in) and then to ACC_T (the C type it is added in). */
#define SG_PAIRWISE_FN(FN, IN_T, VAL_T, ACC_T, AT)                                                 \
    SG_KFN ACC_T FN(const IN_T *restrict a, int64_t n, int64_t s) {                                 \
        (void)s;                                                                                   \
        if (n < 8) {                                                                               \
            ACC_T r = (ACC_T)-0.0;                                                                 \
            for (int64_t i = 0; i < n; ++i) r += (ACC_T)(VAL_T)a[AT(i)];                           \
            return r;                                                                              \
        }                                                                                          \
        if (n <= 128) {                                                                            \
            ACC_T r[8];                                                                            \
            for (int j = 0; j < 8; ++j) r[j] = (ACC_T)(VAL_T)a[AT(j)];                             \
            int64_t i = 8;                                                                         \
            for (; i + 8 <= n; i += 8)                                                             \
                for (int j = 0; j < 8; ++j) r[j] += (ACC_T)(VAL_T)a[AT(i + j)];                    \
            ACC_T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));         \
            for (; i < n; ++i) res += (ACC_T)(VAL_T)a[AT(i)];                                      \
            return res;                                                                            \
        }                                                                                          \
        int64_t half = n / 2;                                                                      \
        half -= half % 8;                                                                          \
        return FN(a, half, s) + FN(a + AT(half), n - half, s);                                     \
    }

/* The pairwise sums of 4 unit-stride runs a, a + rs, a + 2 rs, a + 3 rs side by side, each
 * added in exactly FN's order (so the results equal FN's): 4 memory streams in flight read
 * faster than one. */
#define SG_PAIRWISE4_FN(FN4, FN, IN_T, VAL_T, ACC_T)                                               \
    SG_KFN void FN4(const IN_T *restrict a, int64_t rs, int64_t n, ACC_T *res) {                    \
        if (n < 8) {                                                                               \
            for (int q = 0; q < 4; ++q) res[q] = FN(a + q * rs, n, 1);                             \
            return;                                                                                \
        }                                                                                          \
        if (n <= 128) {                                                                            \
            ACC_T r[4][8];                                                                         \
            for (int q = 0; q < 4; ++q)                                                            \
                for (int j = 0; j < 8; ++j) r[q][j] = (ACC_T)(VAL_T)a[q * rs + j];                 \
            int64_t i = 8;                                                                         \
            for (; i + 8 <= n; i += 8)                                                             \
                for (int q = 0; q < 4; ++q)                                                        \
                    for (int j = 0; j < 8; ++j) r[q][j] += (ACC_T)(VAL_T)a[q * rs + i + j];        \
            for (int q = 0; q < 4; ++q) {                                                          \
                ACC_T s = ((r[q][0] + r[q][1]) + (r[q][2] + r[q][3]))                              \
                        + ((r[q][4] + r[q][5]) + (r[q][6] + r[q][7]));                             \
                for (int64_t k = i; k < n; ++k) s += (ACC_T)(VAL_T)a[q * rs + k];                  \
                res[q] = s;                                                                        \
            }                                                                                      \
            return;                                                                                \
        }                                                                                          \
        int64_t half = n / 2;                                                                      \
        half -= half % 8;                                                                          \
        ACC_T lo[4], hi[4];                                                                        \
        FN4(a, rs, half, lo);                                                                      \
        FN4(a + half, rs, n - half, hi);                                                           \
        for (int q = 0; q < 4; ++q) res[q] = lo[q] + hi[q];                                        \
    }

/* Take the loop just outside the last one out of the plan when exactly one of the two is
 * reduced (a sum over the first or the last axis of a matrix) and return its length and
 * strides, so that a kernel can handle 4 of its steps per pass: add 4 input rows into the
 * output row, or sum 4 rows side by side. Returns 0 and leaves p unchanged otherwise. */
static inline int sg_reduce_take_outer(sg_reduce_loop *p, int64_t *count, int64_t *in_stride,
                                       int64_t *out_stride) {
    int64_t last = p->ndim - 1;
    if (last < 1 || p->outer == 0 || (p->out_strides[last] == 0) == (p->out_strides[last - 1] == 0))
        return 0;
    *count = p->shape[last - 1];
    *in_stride = p->in_strides[last - 1];
    *out_stride = p->out_strides[last - 1];
    p->outer /= p->shape[last - 1];
    p->shape[last - 1] = p->shape[last]; p->in_strides[last - 1] = p->in_strides[last];
    p->out_strides[last - 1] = p->out_strides[last];
    p->flat_strides[last - 1] = p->flat_strides[last];
    p->ndim = last;
    return 1;
}

/* Columns of a sum over leading axes that a thread adds up at a time: each row is read in
 * runs this long (short runs defeat the hardware prefetcher: 512-column tiles made the
 * (4000, 4000) sum over axis 0 1.7x slower) and the partial sums (256 KB) stay in L2. */
#define SG_COLUMN_TILE 32768

/* The sums of a C-contiguous input over its last axes (NAME_trailing: one run per output
 * element) or its first axes (NAME_leading: whole rows added into the output row), split
 * across OpenMP threads when size * count > threshold (threads: the team size, 0 for
 * OpenMP's default). Each returns 0, doing nothing, for an input it does not handle; the
 * caller then runs the walk (NAME). Each output element is added up in exactly the walk's
 * order, so the result does not depend on the number of threads: rows over the last axes
 * are summed 4 side by side by the walk's own pairwise kernels, rows split across threads;
 * a single run (a full reduction) is split into the two halves of its pairwise sum, one per
 * thread; over the first axes each thread adds 4 input rows at a time into its own share of
 * the output columns, as the walk does for all columns. Small inputs never enter the OpenMP
 * runtime (backends/c/omp.py says why). */
#ifdef _OPENMP
#define SG_OMP_PARALLEL_FOR(threads) _Pragma("omp parallel for schedule(static) num_threads(SG_TEAM(threads))")
#define SG_OMP_PARALLEL(threads) _Pragma("omp parallel num_threads(SG_TEAM(threads))")
#else
#define SG_OMP_PARALLEL_FOR(threads)
#define SG_OMP_PARALLEL(threads)
#endif
#define SG_DEFINE_THREADED_SUM(NAME, IN_T, VAL_T, ACC_T)                                           \
    SG_KFN void NAME##_rows4(const IN_T *restrict px, int64_t count, int64_t size, ACC_T *acc,     \
                             int64_t g) {                                                          \
        const int64_t r = 4 * g;                                                                   \
        if (r + 4 <= size) {                                                                       \
            ACC_T s4[4];                                                                           \
            NAME##_unit4(px + r * count, count, count, s4);                                        \
            for (int q = 0; q < 4; ++q) acc[r + q] += s4[q];                                       \
        } else {                                                                                   \
            for (int64_t k = r; k < size; ++k) acc[k] += NAME##_unit(px + k * count, count, 1);   \
        }                                                                                          \
    }                                                                                              \
    SG_KFN int NAME##_trailing(const sg_array *x, int64_t count, int64_t size, ACC_T *acc,        \
                               int64_t threshold, int threads) {                                   \
        /* a run of up to 128 elements is one block of the pairwise sum: the walk is as fast */   \
        if (!(sg_is_contiguous(x) && count > 1 && (size > 1 || count > 128))) return 0;           \
        const IN_T *restrict px = (const IN_T *)x->data;                                           \
        const int big = size * count > threshold;                                                  \
        (void)threads;                                                                             \
        if (size == 1) {                                                                           \
            /* the walk's FN(a, n) is FN(a, half) + FN(a + half, n - half) for n > 128 */         \
            const int64_t half = count / 2 - count / 2 % 8;                                        \
            ACC_T part[2];                                                                         \
            if (big) {                                                                             \
                SG_OMP_PARALLEL_FOR(threads)                                                       \
                for (int h = 0; h < 2; ++h)                                                        \
                    part[h] = h ? NAME##_unit(px + half, count - half, 1) : NAME##_unit(px, half, 1); \
            } else {                                                                               \
                part[0] = NAME##_unit(px, half, 1);                                                \
                part[1] = NAME##_unit(px + half, count - half, 1);                                 \
            }                                                                                      \
            acc[0] += part[0] + part[1];                                                           \
        } else if (big) {                                                                          \
            SG_OMP_PARALLEL_FOR(threads)                                                           \
            for (int64_t g = 0; g < (size + 3) / 4; ++g) NAME##_rows4(px, count, size, acc, g);    \
        } else {                                                                                   \
            for (int64_t g = 0; g < (size + 3) / 4; ++g) NAME##_rows4(px, count, size, acc, g);    \
        }                                                                                          \
        return 1;                                                                                  \
    }                                                                                              \
    SG_KFN void NAME##_columns(const IN_T *restrict px, int64_t count, int64_t size, ACC_T *acc,   \
                               int64_t lo, int64_t hi) {                                           \
        for (int64_t t0 = lo; t0 < hi; t0 += SG_COLUMN_TILE) {                                     \
            const int64_t w = hi - t0 > SG_COLUMN_TILE ? SG_COLUMN_TILE : hi - t0;                 \
            ACC_T *restrict o = acc + t0;                                                          \
            int64_t r = 0;                                                                         \
            for (; r + 4 <= count; r += 4) {                                                       \
                const IN_T *restrict a0 = px + r * size + t0;                                      \
                const IN_T *restrict a1 = a0 + size;                                               \
                const IN_T *restrict a2 = a1 + size;                                               \
                const IN_T *restrict a3 = a2 + size;                                               \
                _Pragma("omp simd")                                                                \
                for (int64_t k = 0; k < w; ++k)                                                    \
                    o[k] += ((ACC_T)(VAL_T)a0[k] + (ACC_T)(VAL_T)a1[k])                            \
                          + ((ACC_T)(VAL_T)a2[k] + (ACC_T)(VAL_T)a3[k]);                           \
            }                                                                                      \
            for (; r < count; ++r) {                                                               \
                const IN_T *restrict b = px + r * size + t0;                                       \
                _Pragma("omp simd")                                                                \
                for (int64_t k = 0; k < w; ++k) o[k] += (ACC_T)(VAL_T)b[k];                        \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    SG_KFN int NAME##_leading(const sg_array *x, int64_t count, int64_t size, ACC_T *acc,         \
                              int64_t threshold, int threads) {                                    \
        /* a single output column is a pairwise sum down the column in the walk */                \
        if (!(sg_is_contiguous(x) && count > 1 && size > 1)) return 0;                             \
        const IN_T *restrict px = (const IN_T *)x->data;                                           \
        (void)threads;                                                                             \
        if (size * count > threshold) {                                                           \
            SG_OMP_PARALLEL(threads)                                                               \
            {                                                                                      \
                int64_t lo, hi;                                                                    \
                sg_thread_share(size, 8, &lo, &hi);                                                \
                NAME##_columns(px, count, size, acc, lo, hi);                                      \
            }                                                                                      \
        } else {                                                                                   \
            NAME##_columns(px, count, size, acc, 0, size);                                         \
        }                                                                                          \
        return 1;                                                                                  \
    }

/* What SG_DEFINE_SUM defines, declared: the sums a unit takes from the runtime library. */
#define SG_DECLARE_SUM(NAME, IN_T, VAL_T, ACC_T)                                                   \
    extern ACC_T NAME##_unit(const IN_T *restrict a, int64_t n, int64_t s);                        \
    extern ACC_T NAME##_strided(const IN_T *restrict a, int64_t n, int64_t s);                     \
    extern void NAME##_unit4(const IN_T *restrict a, int64_t rs, int64_t n, ACC_T *res);           \
    extern int NAME##_trailing(const sg_array *x, int64_t count, int64_t size, ACC_T *acc,        \
                               int64_t threshold, int threads);                                    \
    extern int NAME##_leading(const sg_array *x, int64_t count, int64_t size, ACC_T *acc,         \
                              int64_t threshold, int threads);                                     \
    extern void NAME(const sg_reduce_loop *plan, const IN_T *x, ACC_T *acc);                        \
    extern int NAME##_node(const sg_array *x, const uint8_t *reduced, int layout, int64_t count,   \
                           VAL_T *out, int64_t size, int64_t threshold, int threads);

/* acc[...] += x over the plan (acc holds the initial values: -0.0 or 0). With the loop
 * outside the last one taken out (rows of length n, input stride rs, output stride ros),
 * each pass handles 4 rows: a reduced last loop sums 4 rows side by side, a kept one adds
 * 4 rows into the output row. */
#define SG_DEFINE_SUM(NAME, IN_T, VAL_T, ACC_T)                                                    \
    SG_PAIRWISE_FN(NAME##_unit, IN_T, VAL_T, ACC_T, SG_AT_UNIT)                                    \
    SG_PAIRWISE_FN(NAME##_strided, IN_T, VAL_T, ACC_T, SG_AT_STRIDED)                              \
    SG_PAIRWISE4_FN(NAME##_unit4, NAME##_unit, IN_T, VAL_T, ACC_T)                                 \
    SG_DEFINE_THREADED_SUM(NAME, IN_T, VAL_T, ACC_T)                                               \
    SG_KFN void NAME(const sg_reduce_loop *plan, const IN_T *x, ACC_T *acc) {                       \
        sg_reduce_loop loops = *plan;                                                              \
        const sg_reduce_loop *p = &loops;                                                          \
        int64_t rows = 1, rs = 0, ros = 0;                                                         \
        sg_reduce_take_outer(&loops, &rows, &rs, &ros);                                            \
        SG_REDUCE_WALK(p,                                                                          \
            const IN_T *a = x + xo;                                                                \
            int64_t r = 0;                                                                         \
            if (so == 0) {                                                                         \
                if (si == 1)                                                                       \
                    for (; r + 4 <= rows; r += 4) {                                                \
                        ACC_T s4[4];                                                               \
                        NAME##_unit4(a + r * rs, rs, n, s4);                                       \
                        for (int q = 0; q < 4; ++q) acc[oo + (r + q) * ros] += s4[q];              \
                    }                                                                              \
                for (; r < rows; ++r)                                                              \
                    acc[oo + r * ros] += si == 1 ? NAME##_unit(a + r * rs, n, 1)                   \
                                                 : NAME##_strided(a + r * rs, n, si);              \
            } else if (si == 1 && so == 1) {                                                       \
                ACC_T *restrict o = acc + oo;                                                      \
                for (; r + 4 <= rows; r += 4) {                                                    \
                    const IN_T *restrict a0 = a + r * rs;                                          \
                    const IN_T *restrict a1 = a0 + rs;                                             \
                    const IN_T *restrict a2 = a1 + rs;                                             \
                    const IN_T *restrict a3 = a2 + rs;                                             \
                    for (int64_t k = 0; k < n; ++k)                                                \
                        o[k] += ((ACC_T)(VAL_T)a0[k] + (ACC_T)(VAL_T)a1[k])                        \
                              + ((ACC_T)(VAL_T)a2[k] + (ACC_T)(VAL_T)a3[k]);                       \
                }                                                                                  \
                for (; r < rows; ++r) {                                                            \
                    const IN_T *restrict b = a + r * rs;                                           \
                    for (int64_t k = 0; k < n; ++k) o[k] += (ACC_T)(VAL_T)b[k];                    \
                }                                                                                  \
            } else {                                                                               \
                for (; r < rows; ++r)                                                              \
                    for (int64_t k = 0; k < n; ++k)                                                \
                        acc[oo + k * so] += (ACC_T)(VAL_T)a[r * rs + k * si];                      \
            }                                                                                      \
        );                                                                                         \
    }                                                                                              \
    /* A whole Sum node: out (size elements, C order) = the sums of x over the axes marked in */  \
    /* reduced (count elements each), accumulated from +0 (NumPy's start: a sum of -0.0 is */     \
    /* +0.0) in ACC_T and rounded to VAL_T; accumulated in out itself when ACC_T is as wide. */   \
    /* layout 1: the reduced axes are the last ones, 2: the first ones (split across threads */   \
    /* when x is C-contiguous), 0: others (the walk). Returns 1 when out of memory. */            \
    SG_KFN int NAME##_node(const sg_array *x, const uint8_t *reduced, int layout, int64_t count,   \
                           VAL_T *out, int64_t size, int64_t threshold, int threads) {             \
        const int own = sizeof(ACC_T) != sizeof(VAL_T);                                            \
        ACC_T *acc = own ? (ACC_T *)malloc(size ? (size_t)size * sizeof(ACC_T) : 1) : (ACC_T *)out; \
        if (!acc) return 1;                                                                        \
        for (int64_t k = 0; k < size; ++k) acc[k] = (ACC_T)0;                                      \
        const int done = layout == 1   ? NAME##_trailing(x, count, size, acc, threshold, threads)   \
                         : layout == 2 ? NAME##_leading(x, count, size, acc, threshold, threads)    \
                                       : 0;                                                        \
        if (!done) {                                                                               \
            sg_reduce_loop plan;                                                                   \
            sg_reduce_plan(&plan, x, reduced, 1);                                                  \
            NAME(&plan, (const IN_T *)x->data, acc);                                               \
        }                                                                                          \
        if (own) {                                                                                 \
            for (int64_t k = 0; k < size; ++k) out[k] = (VAL_T)acc[k];                             \
            free(acc);                                                                             \
        }                                                                                          \
        return 0;                                                                                  \
    }

/* acc[...] *= x over the plan, in order (as NumPy multiplies; acc starts at 1). */
#define SG_DEFINE_PROD(NAME, IN_T, VAL_T, ACC_T)                                                   \
    SG_NOINLINE static void NAME(const sg_reduce_loop *p, const IN_T *x, ACC_T *acc) {             \
        SG_REDUCE_WALK(p,                                                                          \
            const IN_T *a = x + xo;                                                                \
            if (so == 0) {                                                                         \
                ACC_T r = acc[oo];                                                                 \
                for (int64_t k = 0; k < n; ++k) r *= (ACC_T)(VAL_T)a[k * si];                      \
                acc[oo] = r;                                                                       \
            } else {                                                                               \
                for (int64_t k = 0; k < n; ++k) acc[oo + k * so] *= (ACC_T)(VAL_T)a[k * si];       \
            }                                                                                      \
        );                                                                                         \
    }

/* Does v replace r as the running maximum (CMP '>') or minimum ('<')? Yes when it is
 * strictly better or NaN; a NaN r is never replaced by a number, so NaN propagates as in
 * NumPy. (v != v is 0 for integers and compiles away.) */
#define SG_BETTER(v, r, CMP) ((v) CMP (r) || (v) != (v))

#define SG_EXTREME_RUN_FN(FN, T, CMP, AT)                                                          \
    SG_NOINLINE static T FN(const T *restrict a, int64_t n, int64_t s) { /* n >= 1 */              \
        (void)s;                                                                                   \
        int64_t i = 0;                                                                             \
        T best = a[0];                                                                             \
        if (n >= 16) {                                                                             \
            T r[8];                                                                                \
            for (int j = 0; j < 8; ++j) r[j] = a[AT(j)];                                           \
            for (i = 8; i + 8 <= n; i += 8)                                                        \
                for (int j = 0; j < 8; ++j) {                                                      \
                    T v = a[AT(i + j)];                                                            \
                    r[j] = SG_BETTER(v, r[j], CMP) ? v : r[j];                                     \
                }                                                                                  \
            best = r[0];                                                                           \
            for (int j = 1; j < 8; ++j) best = SG_BETTER(r[j], best, CMP) ? r[j] : best;           \
        }                                                                                          \
        for (; i < n; ++i) {                                                                       \
            T v = a[AT(i)];                                                                        \
            best = SG_BETTER(v, best, CMP) ? v : best;                                             \
        }                                                                                          \
        return best;                                                                               \
    }

/* acc[...] = max (CMP '>') or min ('<') of acc and x over the plan (acc starts at -inf/+inf
 * or the integer type's extreme; the caller rules out empty reductions). */
#define SG_DEFINE_EXTREME(NAME, T, CMP)                                                            \
    SG_EXTREME_RUN_FN(NAME##_unit, T, CMP, SG_AT_UNIT)                                             \
    SG_EXTREME_RUN_FN(NAME##_strided, T, CMP, SG_AT_STRIDED)                                       \
    SG_NOINLINE static void NAME(const sg_reduce_loop *p, const T *x, T *acc) {                    \
        SG_REDUCE_WALK(p,                                                                          \
            const T *a = x + xo;                                                                   \
            if (so == 0) {                                                                         \
                T r = si == 1 ? NAME##_unit(a, n, 1) : NAME##_strided(a, n, si);                   \
                if (SG_BETTER(r, acc[oo], CMP)) acc[oo] = r;                                       \
            } else if (si == 1 && so == 1) {                                                       \
                T *restrict o = acc + oo;                                                          \
                const T *restrict b = a;                                                           \
                for (int64_t k = 0; k < n; ++k) o[k] = SG_BETTER(b[k], o[k], CMP) ? b[k] : o[k];   \
            } else {                                                                               \
                for (int64_t k = 0; k < n; ++k) {                                                  \
                    T v = a[k * si];                                                               \
                    if (SG_BETTER(v, acc[oo + k * so], CMP)) acc[oo + k * so] = v;                 \
                }                                                                                  \
            }                                                                                      \
        );                                                                                         \
    }

/* acc[...] = acc OP (x != 0) over the plan: OP '&' for all (acc starts at 1), '|' for any
 * (acc starts at 0). NaN is nonzero, as in NumPy. */
#define SG_DEFINE_LOGICAL(NAME, IN_T, OP)                                                          \
    SG_NOINLINE static void NAME(const sg_reduce_loop *p, const IN_T *x, uint8_t *acc) {           \
        SG_REDUCE_WALK(p,                                                                          \
            const IN_T *a = x + xo;                                                                \
            if (so == 0) {                                                                         \
                uint8_t r = acc[oo];                                                               \
                for (int64_t k = 0; k < n; ++k) r = r OP (uint8_t)(a[k * si] != 0);                \
                acc[oo] = r;                                                                       \
            } else {                                                                               \
                for (int64_t k = 0; k < n; ++k)                                                    \
                    acc[oo + k * so] = acc[oo + k * so] OP (uint8_t)(a[k * si] != 0);              \
            }                                                                                      \
        );                                                                                         \
    }

/* Argmax (CMP '>') / argmin ('<'): best[...] and arg[...] hold the extreme value seen so far
 * and its C-order position among the reduced elements. NumPy's rules: the first extreme
 * wins, and a NaN beats everything (the first NaN). The walk may visit elements out of C
 * order, so ties compare positions. The plan must not flip strides (flip_negative = 0), so
 * that positions grow along each run. best starts at -inf/+inf (or the integer extreme) and
 * arg at INT64_MAX. */
#define SG_DEFINE_ARG(NAME, T, CMP)                                                                \
    static inline void NAME##_merge(T *b, int64_t *bf, T v, int64_t f) {                           \
        if (*b != *b) {                                                                            \
            if (v != v && f < *bf) *bf = f;                                                        \
        } else if (v != v || v CMP *b || (v == *b && f < *bf)) {                                   \
            *b = v;                                                                                \
            *bf = f;                                                                               \
        }                                                                                          \
    }                                                                                              \
    SG_NOINLINE static void NAME(const sg_reduce_loop *p, const T *x, T *best, int64_t *arg) {     \
        SG_REDUCE_WALK(p,                                                                          \
            const T *a = x + xo;                                                                   \
            if (so == 0) {                                                                         \
                T r = a[0];                                                                        \
                int64_t rk = 0;                                                                    \
                if (r == r)                                                                        \
                    for (int64_t k = 1; k < n; ++k) {                                              \
                        T v = a[k * si];                                                           \
                        if (v CMP r) { r = v; rk = k; }                                            \
                        else if (v != v) { r = v; rk = k; break; }                                 \
                    }                                                                              \
                NAME##_merge(best + oo, arg + oo, r, fo + rk * sf);                                \
            } else {                                                                               \
                for (int64_t k = 0; k < n; ++k)                                                    \
                    NAME##_merge(best + oo + k * so, arg + oo + k * so, a[k * si], fo);            \
            }                                                                                      \
        );                                                                                         \
    }

#endif
