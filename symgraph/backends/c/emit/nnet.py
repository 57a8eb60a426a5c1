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
from symgraph.backends.c.emit.elemwise import WS_SLOT
from symgraph.backends.c.emit.vecmath import vector_call
from symgraph.graph.node import Apply, Variable
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
    kernel = _row_kernel(ctx, x.type.dtype, out.type.dtype, log)  # type: ignore[attr-defined]
    # the node is one call (NAME##_node of csrc/symgraph_nnet.h): the C-contiguous output's
    # lines are unit-stride rows when axis is last and the input is C-contiguous; any other
    # layout gathers each line into a buffer (NAME##_lines)
    _node_call(ctx, out, f"{kernel}_node", f"&{ctx.name(x)}, {op.axis}, {ctx.openmp_threshold}, "
               f"{max(ctx.openmp_threads, 0)}")


def _node_call(ctx: EmitContext, out: Variable, function: str, args: str) -> None:
    """One statement that calls the node function ``function(err, node, slot, &out, args)``,
    which allocates ``out`` in its workspace slot."""
    ctx.owning[out] = None
    on = ctx.name(out)
    ctx.line(f"if ({function}(err, {ctx.node_index}, {WS_SLOT.format(on)}, &{on}, {args})) goto sg_cleanup;")


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
    dtypes = [v.type.dtype for v in (p, labels, out)]  # type: ignore[attr-defined]
    name = "sg_xent_1hot_" + "_".join(dtypes)
    args = f"{name}, {', '.join(map(ctype, dtypes))}, log{suffix(dtypes[2])}"
    # a node function of csrc/symgraph_nnet.h, prebuilt in the runtime library for the
    # float labels' usual dtypes
    if ctx.links_runtime and args in runtime.prebuilt_definitions("XENT_1HOT"):
        ctx.helper(name, f"SG_DECLARE_XENT_1HOT({args})")
    else:
        ctx.helper(name, f"SG_DEFINE_XENT_1HOT({args})")
    _node_call(ctx, out, name, f"&{ctx.name(p)}, &{ctx.name(labels)}")
