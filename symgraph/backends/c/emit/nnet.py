"""C emitters for softmax, log-softmax and label crossentropy.

Softmax and log-softmax run one line (the elements along ``axis``) at a time, with a row
kernel that keeps the line in cache across its passes: a vectorized max, a vectorized pass
of ``exp(x - max)`` with the inline ``sg_vexp`` of csrc/symgraph_vecmath.h (summed in
double, and stored to the output: ``exp(x - max)`` for softmax, ``x - max`` for log-softmax),
and a last pass over the output, in cache, that multiplies by 1 / sum (softmax) or
subtracts ``log(sum)`` (log-softmax). A NaN in a line makes its sum, and so the whole line,
NaN, as the py backend's.
The exp pass is compute-bound (about 1.3 ns an element on one core) while the other two
would wait on memory, so the memory traffic goes under the exp pass: it writes the output
line (its store misses, and the first-touch page faults of a fresh output, overlap the
arithmetic; log-softmax stores ``x - max`` there, so its last pass runs in cache too) and
prefetches the input line the thread runs next, whose max pass then reads it from cache.
Where a line's max is finite, every ``x - max`` is <= 0 or NaN and the exp is the cheaper
``sg_shifted_exp_f64`` below. (4000, 4000) float64, a fresh output each call, medians on a
quiet machine: softmax 34.1 -> 27.6 ms on one thread, 17.2 -> 14.2 ms on two; log-softmax
39.4 -> 28.5 and 20.2 -> 14.2 ms. A scratch line streamed out to the output with
non-temporal stores was slower than the old kernel (one thread, 46.5 -> 50 ms): the OS
zeroes a fresh output's pages on first touch, which leaves their lines in cache, so an
ordinary store reads nothing from memory and a streaming one evicts a dirty line.
Lines are split across OpenMP threads. Unit-stride lines (the last axis of a C-contiguous
input) are read and written in place; other layouts gather each line into a per-thread
buffer, run the same kernel there and scatter the result.
"""

from __future__ import annotations

import numpy as np

from symgraph import scalar as ps
from symgraph.backends.c.ctypes import ctype, suffix
from symgraph.backends.c.emit import EmitContext, emit
from symgraph.backends.c.emit.vecmath import vector_call
from symgraph.graph.node import Apply
from symgraph.tensor.nnet import CrossentropyCategorical1Hot, LogSoftmax, Softmax

#: elements of the exp pass between two rounds of prefetches of the next line
_CHUNK = 256

#: e^d for the d = x - max(x) of a line whose max is finite: d <= 0 or NaN. It is
#: sg_vexp_f64 of csrc/symgraph_vecmath.h, bit for bit on that domain, without the steps
#: only d > 0 needs (the overflow clamp, the choice of scaling by sign): 18% faster, and the
#: exp pass is most of the kernel's time. Under vecmath=False it is sg_vexp_f64 (libm).
_SHIFTED_EXP_F64 = """#ifdef SG_SCALAR_MATH
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
#endif"""


def _shifted_exp(ctx: EmitContext, arg: str, dtype: str) -> str | None:
    """The C call of the faster exp for ``arg <= 0`` (or NaN), or None for ``dtype``s
    without one (float32 uses ``sg_vexp_f32`` throughout)."""
    if dtype != "float64":
        return None
    ctx.helper("sg_shifted_exp_f64", _SHIFTED_EXP_F64)
    return f"sg_shifted_exp_f64({arg})"


def _row_kernel(ctx: EmitContext, in_dtype: str, out_dtype: str, log: bool) -> str:
    """Define (once per segment) and name the C function
    ``void f(const X *x, O *o, int64_t n, const X *next)`` that writes the softmax
    (log-softmax) of the unit-stride line ``x[0:n]`` to ``o[0:n]`` and prefetches
    ``next[0:n]`` (the line the thread runs next, or NULL) during its exp pass.

    ``o`` may be ``x`` itself (the gather path): every loop reads and writes the same index,
    and ``omp simd`` vectorizes it without alias checks. ``n`` is at least 1.
    """
    xt, ot = ctype(in_dtype), ctype(out_dtype)
    name = f"sg_{'log_softmax' if log else 'softmax'}_row_{in_dtype}_{out_dtype}"
    # one prefetch per 64-byte cache line of the next line
    line_step = max(1, 64 // np.dtype(in_dtype).itemsize)
    lines = [
        f"static void {name}(const {xt} *x, {ot} *o, int64_t n, const {xt} *next) {{",
        # the max skips NaN (a lane-wise vmaxpd): a NaN makes its exp, so the sum and then
        # every output NaN anyway, as NumPy's. An all -inf line has x - m = nan everywhere.
        f"    {ot} m = ({ot})-INFINITY;",
        "    #pragma omp simd reduction(max:m)",
        f"    for (int64_t j = 0; j < n; ++j) {{ const {ot} v = ({ot})x[j]; m = v > m ? v : m; }}",
        # an infinite max shifts by 0 (as the py backend): exp(x)/sum(exp(x)) as written;
        # a finite one makes every x - m <= 0 or NaN
        "    const int shifted = !isinf(m); (void)shifted;",
        "    if (!shifted) m = 0;",
        "    double total = 0.0;",
    ]
    arg = "d" if log else f"(({ot})x[j] - m)"

    def body(exp: str | None) -> str:
        """The exp loop's body: sum exp(x - m), store x - m (log) or its exp."""
        if log:
            return f"{{ const {ot} d = ({ot})x[j] - m; o[j] = d; total += (double){exp}; }}"
        return f"{{ const {ot} e = {exp}; o[j] = e; total += (double)e; }}"

    general = body(vector_call(ps.Exp, [arg], out_dtype))
    shifted_exp = _shifted_exp(ctx, arg, out_dtype)
    lines += [
        # in chunks, each prefetching its part of the next line; short lines (or no next
        # line) in one piece: the chunk loop cost lines of 3 to 30 elements 5-18%
        f"    const int64_t chunk = next && n > {_CHUNK} ? {_CHUNK} : n;",
        "    for (int64_t b = 0; b < n; b += chunk) {",
        "        const int64_t end = n - b > chunk ? b + chunk : n;",
        f"        if (chunk < n) for (int64_t q = b; q < end; q += {line_step}) __builtin_prefetch(next + q, 0, 3);",
    ]
    if shifted_exp is not None:
        lines += [
            "        if (shifted) {",
            "            #pragma omp simd reduction(+:total)",
            f"            for (int64_t j = b; j < end; ++j) {body(shifted_exp)}",
            "            continue;",
            "        }",
        ]
    lines += [
        "        #pragma omp simd reduction(+:total)",
        f"        for (int64_t j = b; j < end; ++j) {general}",
        "    }",
    ]
    if log:
        lines += [
            f"    const {ot} lse = ({ot})log(total);",
            "    #pragma omp simd",
            "    for (int64_t j = 0; j < n; ++j) o[j] -= lse;",
        ]
    else:
        lines += [
            # a multiply, not a divide: vdivpd made the whole kernel 30% slower on one thread;
            # e * (1 / sum) is within an ulp of e / sum
            f"    const {ot} inv = ({ot})(1.0 / total);",
            "    #pragma omp simd",
            "    for (int64_t j = 0; j < n; ++j) o[j] *= inv;",
        ]
    lines.append("}")
    ctx.helper(name, "\n".join(lines))
    return name


def _emit_along_axis(op: Softmax | LogSoftmax, node: Apply, ctx: EmitContext, log: bool) -> None:
    x, out = node.inputs[0], node.outputs[0]
    xn, on = ctx.name(x), ctx.name(out)
    ndim = x.type.ndim  # type: ignore[attr-defined]
    axis = op.axis
    in_dtype, out_dtype = x.type.dtype, out.type.dtype  # type: ignore[attr-defined]
    xt, ot = ctype(in_dtype), ctype(out_dtype)
    kernel = _row_kernel(ctx, in_dtype, out_dtype, log)
    in_buffer = _row_kernel(ctx, out_dtype, out_dtype, log)  # gathered lines are converted
    others = [a for a in range(ndim) if a != axis]
    threads = f" num_threads({ctx.openmp_threads})" if ctx.openmp_threads > 0 else ""
    ctx.line("{")
    ctx.alloc(out, [f"{xn}.shape[{a}]" for a in range(ndim)])
    ctx.line(f"const {xt} *px = (const {xt} *){xn}.data; {ot} *po = ({ot} *){on}.data;")
    ctx.line(f"const int64_t L = {xn}.shape[{axis}], sx = {xn}.strides[{axis}], so = {on}.strides[{axis}];")
    lines = " * ".join(f"{xn}.shape[{a}]" for a in others) or "1"
    ctx.line(f"const int64_t lines = {lines};")
    ctx.line(f"const int big = lines > 1 && lines * L > {ctx.openmp_threshold};")
    ctx.line("if (L > 0 && lines > 0) {")
    # the output is C-contiguous, so its lines are unit-stride rows exactly when axis is last
    if axis == ndim - 1:
        ctx.line(f"  if (sg_is_contiguous(&{xn})) {{")
        ctx.line(f"    #pragma omp parallel for schedule(static) if(parallel: big){threads}")
        ctx.line("    for (int64_t i = 0; i < lines; ++i)")
        ctx.line(f"      {kernel}(px + i * L, po + i * L, L, i + 1 < lines ? px + (i + 1) * L : NULL);")
        ctx.line("  } else {")
    else:
        ctx.line("  {")
    # any layout: line i's offsets from its index along the other axes (last one fastest)
    ctx.line("    int oom = 0;")
    ctx.line(f"    #pragma omp parallel if(parallel: big){threads}")
    ctx.line("    {")
    ctx.line(f"      {ot} *buf = ({ot} *)malloc((size_t)L * sizeof({ot}));")
    ctx.line("      if (!buf) {")
    ctx.line("        #pragma omp atomic write")
    ctx.line("        oom = 1;")
    ctx.line("      }")
    ctx.line("      #pragma omp for schedule(static)")
    ctx.line("      for (int64_t i = 0; i < lines; ++i) {")
    ctx.line("        if (!buf) continue;")
    ctx.line("        int64_t rest = i, xo = 0, oo = 0;")
    for a in reversed(others):
        ctx.line(f"        {{ const int64_t ia = rest % {xn}.shape[{a}]; rest /= {xn}.shape[{a}];")
        ctx.line(f"          xo += ia * {xn}.strides[{a}]; oo += ia * {on}.strides[{a}]; }}")
    ctx.line(f"        for (int64_t j = 0; j < L; ++j) buf[j] = ({ot})px[xo + j * sx];")
    ctx.line(f"        {in_buffer}(buf, buf, L, NULL);")
    ctx.line("        for (int64_t j = 0; j < L; ++j) po[oo + j * so] = buf[j];")
    ctx.line("      }")
    ctx.line("      free(buf);")
    ctx.line("    }")
    ctx.line("    if (oom) " + ctx.fail("out of memory allocating a line of %lld elements", "(long long)L"))
    ctx.line("  }")
    ctx.line("}")
    ctx.line("}")


@emit.register(Softmax)
def c_softmax(op: Softmax, node: Apply, ctx: EmitContext) -> None:
    _emit_along_axis(op, node, ctx, log=False)


@emit.register(LogSoftmax)
def c_log_softmax(op: LogSoftmax, node: Apply, ctx: EmitContext) -> None:
    _emit_along_axis(op, node, ctx, log=True)


@emit.register(CrossentropyCategorical1Hot)
def c_crossentropy_1hot(op: CrossentropyCategorical1Hot, node: Apply, ctx: EmitContext) -> None:
    p, labels = node.inputs
    out = node.outputs[0]
    pn, ln, on = ctx.name(p), ctx.name(labels), ctx.name(out)
    pt, lt, ot = ctype(p.type.dtype), ctype(labels.type.dtype), ctype(out.type.dtype)  # type: ignore[attr-defined]
    f = suffix(out.type.dtype)  # type: ignore[attr-defined]
    ctx.line("{")
    ctx.line(
        f"if ({ln}.shape[0] != {pn}.shape[0]) {{ char s1[96]; "
        + ctx.fail("crossentropy_categorical_1hot: coding_dist has shape %s but there are %lld labels; "
                   "expected one label per row", f"sg_shape_str(&{pn}, s1, 96)", f"(long long){ln}.shape[0]")
        + " }"
    )
    ctx.alloc(out, [f"{pn}.shape[0]"])
    ctx.line(f"const {pt} *pp = (const {pt} *){pn}.data; const {lt} *pl = (const {lt} *){ln}.data; {ot} *po = ({ot} *){on}.data;")
    ctx.line(f"for (int64_t i = 0; i < {pn}.shape[0]; ++i) {{")
    ctx.line(f"  const int64_t y = (int64_t)pl[i * {ln}.strides[0]];")
    ctx.line(
        f"  if (y < 0 || y >= {pn}.shape[1]) "
        + ctx.fail("crossentropy_categorical_1hot: label %lld in row %lld is out of range for %lld classes "
                   "(labels must be in [0, %lld))", "(long long)y", "(long long)i",
                   f"(long long){pn}.shape[1]", f"(long long){pn}.shape[1]")
    )
    ctx.line(f"  po[i] = -log{f}(({ot})pp[i * {pn}.strides[0] + y * {pn}.strides[1]]);")
    ctx.line("}")
    ctx.line("}")
