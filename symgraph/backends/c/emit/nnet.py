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
``sg_shifted_exp_f64`` of csrc/symgraph_nnet.h. (4000, 4000) float64, a fresh output each call, medians on a
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
from symgraph.backends.c import runtime
from symgraph.backends.c.ctypes import Unsupported, ctype, suffix
from symgraph.backends.c.emit import EmitContext, emit
from symgraph.backends.c.emit.vecmath import vector_call
from symgraph.graph.node import Apply
from symgraph.tensor.nnet import CrossentropyCategorical1Hot, LogSoftmax, Softmax


def _row_kernel(ctx: EmitContext, in_dtype: str, out_dtype: str, log: bool) -> str:
    """Make available (once per segment) and name the C function
    ``void f(const X *x, O *o, int64_t n, const X *next)`` that writes the softmax
    (log-softmax) of the unit-stride line ``x[0:n]`` to ``o[0:n]`` and prefetches
    ``next[0:n]`` (the line the thread runs next, or NULL) during its exp pass, and
    ``f_rows`` that runs it on every row of a C-contiguous array (SG_DEFINE_SOFTMAX_ROW of
    csrc/symgraph_nnet.h; declared where the segment links the runtime library that has
    it, else defined in the segment).

    ``o`` may be ``x`` itself (the gather path): every loop reads and writes the same index,
    and ``omp simd`` vectorizes it without alias checks. ``n`` is at least 1.
    """
    xt, ot = ctype(in_dtype), ctype(out_dtype)
    name = f"sg_{'log_softmax' if log else 'softmax'}_row_{in_dtype}_{out_dtype}"
    # one prefetch per 64-byte cache line of the next line
    line_step = max(1, 64 // np.dtype(in_dtype).itemsize)
    general = vector_call(ps.Exp, ["d"], out_dtype)
    if general is None:  # not a float output: Unsupported, as ctype() says for the rest
        raise Unsupported(f"softmax to {out_dtype}")
    # float64 lines whose max is finite use the faster exp of arguments <= 0
    shifted = "sg_shifted_exp_f64" if out_dtype == "float64" else general.split("(")[0]
    args = (f"{name}, {xt}, {ot}, {int(log)}, {general.split('(')[0]}, {shifted}, "
            f"{int(out_dtype == 'float64')}, {line_step}")
    if ctx.links_runtime and args in runtime.prebuilt_softmax_rows():
        ctx.helper(name, f"SG_DECLARE_SOFTMAX_ROW({name}, {xt}, {ot})")
    else:
        ctx.helper(name, f"SG_DEFINE_SOFTMAX_ROW({args})")
    return name


def _emit_along_axis(op: Softmax | LogSoftmax, node: Apply, ctx: EmitContext, log: bool) -> None:
    x, out = node.inputs[0], node.outputs[0]
    xn, on = ctx.name(x), ctx.name(out)
    ndim = x.type.ndim  # type: ignore[attr-defined]
    axis = op.axis
    in_dtype, out_dtype = x.type.dtype, out.type.dtype  # type: ignore[attr-defined]
    xt, ot = ctype(in_dtype), ctype(out_dtype)
    kernel = _row_kernel(ctx, in_dtype, out_dtype, log)
    ctx.line("{")
    ctx.alloc(out, [f"{xn}.shape[{a}]" for a in range(ndim)])
    fail = ctx.fail("out of memory allocating a line of %lld elements", f"(long long){xn}.shape[{axis}]")
    # the output is C-contiguous, so its lines are unit-stride rows exactly when axis is last;
    # any other layout gathers each line into a buffer (NAME##_lines of csrc/symgraph_nnet.h)
    lines = f"{kernel}_lines(&{xn}, &{on}, {axis}, {ctx.openmp_threshold}, {max(ctx.openmp_threads, 0)})"
    if axis == ndim - 1:
        ctx.line(f"if (sg_is_contiguous(&{xn})) {{")
        ctx.line(f"  const int64_t L = {xn}.shape[{axis}], lines = L > 0 ? sg_size(&{xn}) / L : 0;")
        ctx.line(f"  if (L > 0 && lines > 0) {kernel}_rows((const {xt} *){xn}.data, ({ot} *){on}.data, lines, L, "
                 f"lines > 1 && lines * L > {ctx.openmp_threshold}, {max(ctx.openmp_threads, 0)});")
        ctx.line(f"}} else if ({lines}) {fail}")
    else:
        ctx.line(f"if ({lines}) {fail}")
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
