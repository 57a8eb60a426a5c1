"""C emitters for the reductions: Sum, Prod, Max, Min, All, Any, Argmax, Argmin.

Every reduction is one walk over its input in memory order (``sg_reduce_plan`` in
``csrc/symgraph_runtime.h`` sorts the axes by stride and merges the ones that form a single
run), combining each element into the output element it belongs to. The last loop of the
walk is specialised: a reduced last loop is folded into a register (a pairwise sum in 8
vectorizable lanes, or a lane-wise max), a kept last loop is combined elementwise into an
output row (a sum over axis 0 adds whole rows), with a unit-stride fast path and a
generic strided path for each. The kernels are instantiated per dtype from the
``SG_DEFINE_*`` macros of the runtime header (the sums of the common dtypes come prebuilt in
the runtime library, csrc/symgraph_rt.c and backends/c/runtime.py). Sums of a C-contiguous
input over its first or last axes split the walk's own order across threads
(``SG_DEFINE_THREADED_SUM``), so their bits do not change with the number of threads:
(4000, 4000) float64 on 2 threads, axis 0 4.66 -> 3.68 ms, axis 1 4.78 -> 3.39 ms (medians).
No C logic lives in Python strings but for one exception, as the walk's kernels are
single-threaded: max and min over the last axes of a C-contiguous input (row maxima, the
first pass of every softmax and logsumexp) are an inline OpenMP simd loop per row with rows
split across threads (``_row_extremes``), as the fused reductions below (the walk's kernels
are 4-5x slower on a cached (1000, 1000) matrix even on one thread).

Sums accumulate floats in double (float32 results are rounded once at the end, which is
more accurate than NumPy's float32 pairwise sum) and integers in uint64 (wrapping, as NumPy's
fixed-width integers do, without C's undefined signed overflow). Products multiply in order,
in the accumulator dtype for floats (so float32 overflows to inf where NumPy's does).
Max/min propagate NaN; argmax/argmin return the first extreme, or the first NaN, as NumPy.
"""

from __future__ import annotations

import hashlib
import typing
from collections.abc import Sequence

import numpy as np

from symgraph import scalar as ps
from symgraph.backends.c import runtime
from symgraph.backends.c.ctypes import Unsupported, ctype, literal
from symgraph.backends.c.emit import EmitContext, emit, is_constant_scalar
from symgraph.backends.c.emit.scalar import scalar_expr
from symgraph.graph.node import Apply
from symgraph.scalar.op import ScalarOp
from symgraph.tensor.reduce import (
    All,
    Any,
    Argmax,
    Argmin,
    ArgReduce,
    ElemwiseReduce,
    Max,
    Min,
    Prod,
    Reduce,
    Sum,
)


def _begin(
    op: Reduce | ArgReduce, node: Apply, ctx: EmitContext, flip_negative: bool
) -> tuple[str, str]:
    """Open the node's block: allocate the output and plan the walk.

    Returns the C names of the plan (``sg_reduce_loop``) and of the number of elements
    reduced into each output element.
    """
    x, out = node.inputs[0], node.outputs[0]
    xn = ctx.name(x)
    ndim = x.type.ndim  # type: ignore[attr-defined]
    kept = [a for a in range(ndim) if a not in op.axis]
    plan, count, reduced = ctx.tmp("plan"), ctx.tmp("count"), ctx.tmp("reduced")
    flags = ", ".join("1" if a in op.axis else "0" for a in range(ndim)) or "0"
    count_expr = " * ".join(f"{xn}.shape[{a}]" for a in op.axis) or "1"
    ctx.line("{")
    ctx.line(f"  const int64_t {count} = {count_expr};")
    ctx.line(f"  const uint8_t {reduced}[{max(ndim, 1)}] = {{{flags}}};")
    ctx.line(f"  sg_reduce_loop {plan};")
    ctx.line(f"  sg_reduce_plan(&{plan}, &{xn}, {reduced}, {int(flip_negative)});")
    ctx.alloc(out, [f"{xn}.shape[{a}]" for a in kept])
    return plan, count


def _fail_if_empty(ctx: EmitContext, count: str, message: str) -> None:
    ctx.line(f"  if ({count} == 0) " + ctx.fail(message))


def _fail_if_empty_arg(name: str, op: ArgReduce, node: Apply, ctx: EmitContext, count: str) -> None:
    # the py backend's wording (symgraph/backends/py/impls/reduce.py)
    xn = ctx.name(node.inputs[0])
    ctx.line(
        f"  if ({count} == 0) {{ char s1[256]; "
        + ctx.fail(
            f"{name} of an empty axis: axes {op.axis} of an array of shape %s hold no elements, "
            "so there is no extreme value to index",
            f"sg_shape_str(&{xn}, s1, 256)",
        )
        + " }"
    )


def _accumulate(op: Sum | Prod, node: Apply, ctx: EmitContext, kind: str) -> None:
    """Sum or Prod (``kind``): accumulate in a C type that holds the accumulator dtype, then
    round to that dtype and cast to the output dtype, as ``np.sum(x, dtype=acc).astype(out)``.
    """
    x, out = node.inputs[0], node.outputs[0]
    in_dtype, out_dtype = x.type.dtype, out.type.dtype  # type: ignore[attr-defined]
    acc_dtype = op.acc_dtype or out_dtype
    if acc_dtype == "bool":
        # NumPy adds bools as logical or and multiplies them as logical and
        raise Unsupported(f"{kind} accumulating in bool")
    in_c, val_c, out_c = ctype(in_dtype), ctype(acc_dtype), ctype(out_dtype)
    is_float = acc_dtype.startswith("float")
    if not is_float:
        acc_c = "uint64_t"  # wraps modulo 2**64; the final cast keeps the low bits, as NumPy's
    elif kind == "sum":
        acc_c = "double"  # float32 too: one rounding at the end, more accurate than NumPy's
    else:
        # float32 products stay float32, so that they overflow to inf where NumPy's do
        acc_c = val_c
    # accumulate straight into the output when it has the accumulator's representation
    in_place = (is_float and acc_dtype == out_dtype and acc_c == out_c) or (
        not is_float and acc_dtype in ("int64", "uint64") and out_dtype in ("int64", "uint64")
    )
    kernel = f"sg_{kind}_{in_dtype}_{acc_dtype}"
    layout = _layout(x.type.ndim, op.axis) if op.axis else None  # type: ignore[attr-defined]
    if kind == "sum":
        sum_kernel(ctx, kernel, in_c, val_c, acc_c)
        if out_c == val_c and out_dtype != "bool":
            # the whole node is one call (SG_DEFINE_SUM's NAME_node, prebuilt in the runtime
            # library for the common dtypes): no code of its own for gcc (issue 6, W4 cold)
            xn, o = ctx.name(x), ctx.name(out)
            ndim = x.type.ndim  # type: ignore[attr-defined]
            flags = ", ".join("1" if a in op.axis else "0" for a in range(ndim)) or "0"
            count = " * ".join(f"{xn}.shape[{a}]" for a in op.axis) or "1"
            code = {"trailing": 1, "leading": 2}.get(layout or "", 0)
            ctx.line(f"{{ const uint8_t sg_reduced[{max(ndim, 1)}] = {{{flags}}};")
            ctx.alloc(out, [f"{xn}.shape[{a}]" for a in range(ndim) if a not in op.axis])
            ctx.line(f"  if ({kernel}_node(&{xn}, sg_reduced, {code}, {count}, ({out_c} *){o}.data, sg_size(&{o}), "
                     f"{ctx.openmp_threshold}, {max(ctx.openmp_threads, 0)})) "
                     + ctx.fail("out of memory allocating %lld accumulators", f"(long long)sg_size(&{o})") + " }")
            return
    else:
        ctx.helper(kernel, f"SG_DEFINE_PROD({kernel}, {in_c}, {val_c}, {acc_c})")

    plan, count = _begin(op, node, ctx, flip_negative=True)
    o, acc, size = ctx.name(out), ctx.tmp("acc"), ctx.tmp("n")
    if kind == "prod":
        init = "1"
    elif is_float:
        # +0.0, as NumPy starts its sums: a sum of negative zeros is +0.0 (sum([-0.0]) is
        # 0.0 in NumPy, although -0.0 is the identity of IEEE addition)
        init = "0.0"
    else:
        init = "0"
    ctx.line(f"  const int64_t {size} = sg_size(&{o});")
    if in_place:
        ctx.line(f"  {acc_c} *{acc} = ({acc_c} *){o}.data;")
    else:
        ctx.line(f"  {acc_c} *{acc} = ({acc_c} *)malloc({size} ? {size} * sizeof({acc_c}) : 1);")
        ctx.line(f"  if (!{acc}) " + ctx.fail("out of memory allocating %lld accumulators",
                                              f"(long long){size}"))
    ctx.line(f"  for (int64_t k = 0; k < {size}; ++k) {acc}[k] = ({acc_c}){init};")
    if kind == "sum" and layout is not None:
        # a C-contiguous input over its first or last axes: split across threads
        # (SG_DEFINE_THREADED_SUM in csrc/symgraph_runtime.h), else the walk
        ctx.line(f"  if (!{kernel}_{layout}(&{ctx.name(x)}, {count}, {size}, {acc}, "
                 f"{ctx.openmp_threshold}, {max(ctx.openmp_threads, 0)}))")
    ctx.line(f"  {kernel}(&{plan}, (const {in_c} *){ctx.name(x)}.data, {acc});")
    if not in_place:
        value = f"({val_c}){acc}[k]"  # rounded to the accumulator dtype, then cast as NumPy
        if out_dtype == "bool":
            converted = f"(uint8_t)({value} != 0)"
        else:
            converted = value if out_c == val_c else f"({out_c}){value}"
        ctx.line(f"  {{ {out_c} *restrict po = ({out_c} *){o}.data;")
        ctx.line(f"    for (int64_t k = 0; k < {size}; ++k) po[k] = {converted}; }}")
        ctx.line(f"  free({acc});")
    ctx.line("}")


def sum_kernel(ctx: EmitContext, kernel: str, in_c: str, val_c: str, acc_c: str) -> None:
    """Make the sum kernels ``kernel`` (SG_DEFINE_SUM of csrc/symgraph_runtime.h: the walk,
    its pairwise pieces and the threaded drivers) available to the segment: declared, when
    the segment links the prebuilt runtime library and it has them, else defined here."""
    args = f"{kernel}, {in_c}, {val_c}, {acc_c}"
    if ctx.links_runtime and (kernel, in_c, val_c, acc_c) in runtime.prebuilt_sums():
        ctx.helper(kernel, f"SG_DECLARE_SUM({args})")
    else:
        ctx.helper(kernel, f"SG_DEFINE_SUM({args})")


@emit.register(Sum)
def c_sum(op: Sum, node: Apply, ctx: EmitContext) -> None:
    _accumulate(op, node, ctx, "sum")


@emit.register(Prod)
def c_prod(op: Prod, node: Apply, ctx: EmitContext) -> None:
    _accumulate(op, node, ctx, "prod")


def _lowest(dtype: str, highest: bool) -> str:
    """A C literal every ``dtype`` value beats as a maximum (as a minimum if ``highest``)."""
    if dtype.startswith("float"):
        return literal(np.inf if highest else -np.inf, dtype)
    if dtype == "bool":
        return "1" if highest else "0"
    info = np.iinfo(dtype)
    return literal(info.max if highest else info.min, dtype)


def _extreme(op: Max | Min, node: Apply, ctx: EmitContext, kind: str) -> None:
    x, out = node.inputs[0], node.outputs[0]
    dtype = x.type.dtype  # type: ignore[attr-defined]
    c = ctype(dtype)
    kernel = f"sg_{kind}_{dtype}"
    ctx.helper(kernel, f"SG_DEFINE_EXTREME({kernel}, {c}, {'>' if kind == 'max' else '<'})")
    identity = -np.inf if kind == "max" else np.inf
    if op.initial is not None and not (dtype.startswith("float") and op.initial == identity):
        # only the -inf (+inf) that makes an empty axis harmless is emitted; other values
        # of `initial` run in Python (NumPy)
        raise Unsupported(f"{op} with initial={op.initial}")
    plan, count = _begin(op, node, ctx, flip_negative=True)
    numpy_name = "maximum" if kind == "max" else "minimum"
    if op.initial is None:
        _fail_if_empty(
            ctx, count, f"zero-size array to reduction operation {numpy_name} which has no identity"
        )
    o, xn = ctx.name(out), ctx.name(x)
    by_rows = bool(op.axis) and _layout(x.type.ndim, op.axis) == "trailing" and dtype != "bool"  # type: ignore[attr-defined]
    if by_rows:
        # C-contiguous input reduced over its last axes: each output element is one run of
        # memory, folded by a vectorized loop; rows are split across threads (an empty
        # axis, possible with `initial`, takes the general path, which leaves -inf/+inf)
        ctx.line(f"  if (sg_is_contiguous(&{xn}){' && ' + count + ' > 0' if op.initial is not None else ''}) {{")
        ctx.line(f"    const {c} *restrict px = (const {c} *){xn}.data; {c} *restrict po = ({c} *){o}.data;")
        ctx.line(f"    const int64_t n_out = sg_size(&{o});")
        _row_extremes(ctx, kind, dtype, f"px[r * {count} + k]", "po", "n_out", count, "    ")
        ctx.line("  } else {")
    else:
        ctx.line("  {")
    ctx.line(f"    {c} *acc = ({c} *){o}.data; const int64_t n_out = sg_size(&{o});")
    ctx.line(f"    for (int64_t k = 0; k < n_out; ++k) acc[k] = {_lowest(dtype, kind == 'min')};")
    ctx.line(f"    {kernel}(&{plan}, (const {c} *){xn}.data, acc);")
    ctx.line("  }")
    ctx.line("}")


def _row_extremes(
    ctx: EmitContext, kind: str, dtype: str, value: str, po: str, rows: str, length: str, indent: str
) -> None:
    """``po[r] = max (or min) over k < length of value`` for each row ``r < rows``, where
    ``value`` is a C expression of ``r`` and ``k``; ``length`` must be at least 1.

    NumPy's max propagates NaN, which no vector max instruction does: the loop keeps a
    lane-wise ``v > m ? v : m`` (vmaxpd) and, beside it, an OR of ``v != v`` over the row, and
    the row's result is NaN where that flag is set. Both are OpenMP simd reductions, so gcc
    vectorizes them. Rows are split across threads; a single row (a full reduction) is split
    itself instead.
    """
    c = ctype(dtype)
    is_float = dtype.startswith("float")
    op = "max" if kind == "max" else "min"
    init = _lowest(dtype, kind == "min")
    nan_red = " reduction(|:nan)" if is_float else ""
    step = f"{{ const {c} v = {value}; m = v {'>' if kind == 'max' else '<'} m ? v : m;"
    step += " nan |= v != v; }" if is_float else " }"
    result = f"nan ? ({c})NAN : m" if is_float else "m"
    threads = f" num_threads({ctx.openmp_threads})" if ctx.openmp_threads > 0 else ""
    big = f"if(parallel: {rows} * {length} > {ctx.openmp_threshold}){threads}"
    ctx.line(f"{indent}if ({rows} == 1) {{")
    ctx.line(f"{indent}  const int64_t r = 0; {c} m = {init}; int nan = 0; (void)nan;")
    ctx.line(f"{indent}  #pragma omp parallel for simd reduction({op}:m){nan_red} schedule(static) {big}")
    ctx.line(f"{indent}  for (int64_t k = 0; k < {length}; ++k) {step}")
    ctx.line(f"{indent}  {po}[0] = {result};")
    ctx.line(f"{indent}}} else {{")
    ctx.line(f"{indent}  #pragma omp parallel for schedule(static) {big}")
    ctx.line(f"{indent}  for (int64_t r = 0; r < {rows}; ++r) {{")
    ctx.line(f"{indent}    {c} m = {init}; int nan = 0; (void)nan;")
    ctx.line(f"{indent}    #pragma omp simd reduction({op}:m){nan_red}")
    ctx.line(f"{indent}    for (int64_t k = 0; k < {length}; ++k) {step}")
    ctx.line(f"{indent}    {po}[r] = {result};")
    ctx.line(f"{indent}  }}")
    ctx.line(f"{indent}}}")


@emit.register(Max)
def c_max(op: Max, node: Apply, ctx: EmitContext) -> None:
    _extreme(op, node, ctx, "max")


@emit.register(Min)
def c_min(op: Min, node: Apply, ctx: EmitContext) -> None:
    _extreme(op, node, ctx, "min")


def _logical(op: All | Any, node: Apply, ctx: EmitContext, kind: str) -> None:
    x, out = node.inputs[0], node.outputs[0]
    dtype = x.type.dtype  # type: ignore[attr-defined]
    c = ctype(dtype)
    kernel = f"sg_{kind}_{dtype}"
    ctx.helper(kernel, f"SG_DEFINE_LOGICAL({kernel}, {c}, {'&' if kind == 'all' else '|'})")
    plan, _ = _begin(op, node, ctx, flip_negative=True)
    o = ctx.name(out)
    ctx.line(f"  {{ uint8_t *acc = (uint8_t *){o}.data; const int64_t n_out = sg_size(&{o});")
    ctx.line(f"    for (int64_t k = 0; k < n_out; ++k) acc[k] = {1 if kind == 'all' else 0};")
    ctx.line(f"    {kernel}(&{plan}, (const {c} *){ctx.name(x)}.data, acc); }}")
    ctx.line("}")


@emit.register(All)
def c_all(op: All, node: Apply, ctx: EmitContext) -> None:
    _logical(op, node, ctx, "all")


@emit.register(Any)
def c_any(op: Any, node: Apply, ctx: EmitContext) -> None:
    _logical(op, node, ctx, "any")


def _arg(op: ArgReduce, node: Apply, ctx: EmitContext, kind: str) -> None:
    """Argmax/argmin: track the best value (a scratch array) and its position (the output)."""
    x, out = node.inputs[0], node.outputs[0]
    dtype = x.type.dtype  # type: ignore[attr-defined]
    c = ctype(dtype)
    kernel = f"sg_{kind}_{dtype}"
    ctx.helper(kernel, f"SG_DEFINE_ARG({kernel}, {c}, {'>' if kind == 'argmax' else '<'})")
    # positions must grow along each run of the walk: no flipping of negative strides
    plan, count = _begin(op, node, ctx, flip_negative=False)
    _fail_if_empty_arg(kind, op, node, ctx, count)
    o, best, size = ctx.name(out), ctx.tmp("best"), ctx.tmp("n")
    ctx.line(f"  const int64_t {size} = sg_size(&{o});")
    ctx.line(f"  {c} *{best} = ({c} *)malloc({size} ? {size} * sizeof({c}) : 1);")
    ctx.line(f"  if (!{best}) "
             + ctx.fail("out of memory allocating %lld elements", f"(long long){size}"))
    ctx.line(f"  {{ int64_t *arg = (int64_t *){o}.data;")
    worst = _lowest(dtype, kind == "argmin")
    ctx.line(f"    for (int64_t k = 0; k < {size}; ++k) {{")
    ctx.line(f"      {best}[k] = {worst}; arg[k] = INT64_MAX; }}")
    ctx.line(f"    {kernel}(&{plan}, (const {c} *){ctx.name(x)}.data, {best}, arg); }}")
    ctx.line(f"  free({best});")
    ctx.line("}")


@emit.register(Argmax)
def c_argmax(op: Argmax, node: Apply, ctx: EmitContext) -> None:
    _arg(op, node, ctx, "argmax")


@emit.register(Argmin)
def c_argmin(op: Argmin, node: Apply, ctx: EmitContext) -> None:
    _arg(op, node, ctx, "argmin")


# -- an elementwise loop fused into the reduction that consumes it ------------------------

def _layout(ndim: int, axes: tuple[int, ...]) -> str | None:
    """'trailing' when the reduced axes are the last ones (rows of a C-contiguous array),
    'leading' when they are the first ones, None otherwise."""
    k = len(axes)
    if axes == tuple(range(ndim - k, ndim)):
        return "trailing"
    if axes == tuple(range(k)):
        return "leading"
    return None


def _fused_expr(sop: ScalarOp, args: Sequence[str], in_dtypes: Sequence[str], out_dtype: str,
                flags: dict[str, typing.Any]) -> str:
    """``scalar_expr``, except that a float ``exp`` is the inline ``sg_vexp`` of
    csrc/symgraph_vecmath.h rather than libm's (which gcc vectorizes into libmvec calls).

    libmvec's exp passes every lane whose result is subnormal or zero (x < -708) to the
    scalar libm exp, one lane at a time, and the exponentials summed by a max-shifted
    logsumexp are mostly such lanes when the data is spread: summing exp(z - max) over a
    (1000, 1000) matrix uniform in [-1e3, 1e3] took 42 ms with libmvec, 1.7 ms with sg_vexp
    (2 threads). sg_vexp is within 2 ulp everywhere (libmvec: 4).
    """
    flags.setdefault("vector_ops", _FUSED_VECTOR_OPS)  # flags is shared: other needs land in it
    return scalar_expr(sop, args, in_dtypes, out_dtype, flags)


#: ops whose inline vector version fused reductions use in place of libmvec's
_FUSED_VECTOR_OPS = frozenset({ps.Exp})


def _section_arguments(node: Apply, hoisted: dict[int, str],
                       array: typing.Callable[[int, str], tuple[list[tuple[str, str]], list[str], str]]
                       ) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """(parameters, call arguments, expression arguments) of a fused reduction's kernel-section
    function: a constant input inlined, another one-element input passed by value (h<i>), an
    array input as ``array(i, ctype)`` says."""
    params: list[tuple[str, str]] = []  # (C type, name)
    call_args: list[str] = []
    args: list[str] = []
    for i, var in enumerate(node.inputs):
        cdt = ctype(var.type.dtype)  # type: ignore[attr-defined]
        if i in hoisted and is_constant_scalar(var):
            args.append(hoisted[i])
        elif i in hoisted:
            params.append((f"const {cdt}", f"h{i}"))
            call_args.append(hoisted[i])
            args.append(f"h{i}")
        else:
            more_params, more_call_args, arg = array(i, cdt)
            params += more_params
            call_args += more_call_args
            args.append(arg)
    return params, call_args, args


def _declared(params: list[tuple[str, str]]) -> str:
    """A C parameter list from (type, name) pairs."""
    return ", ".join(f"{t}{n}" if t.endswith("*") else f"{t} {n}" for t, n in params)


def _section_function(ctx: EmitContext, comment: str, returns: str, kind: str,
                      params: list[tuple[str, str]], body: str, prelude: str = "") -> str:
    """Define (once per distinct text) a function in the kernel section, where build.py
    compiles it in a kernel unit beside the elementwise kernels; return its name. ``prelude``:
    static functions that only it calls, defined before it; ``(sg_fn)`` in them and in
    ``body`` stands for its name."""
    from symgraph.backends.c.emit.elemwise import KERNEL_PREFIX

    text = f"{prelude}SG_KERNEL {returns} (sg_fn)({_declared(params)}) {{\n{body}}}"
    name = KERNEL_PREFIX + kind + hashlib.sha1(text.encode()).hexdigest()[:16]
    ctx.helper(name, f"/* {comment} */\n" + text.replace("(sg_fn)", name))
    return name


def _row_sums(ctx: EmitContext, op: ElemwiseReduce, node: Apply, hoisted: dict[int, str],
              arrays: list[tuple[int, str, str]], ptrs: dict[int, str], dtype: str, po: str, big: str) -> None:
    """The trailing-axes sum of c_elemwise_reduce's fast path (``outer`` rows of ``inner``
    contiguous elements), as one call of a kernel-section function: a vectorized loop that
    sums elements [k0, k1) of row r, which rows split across threads, or one long row's
    parts, or the serial path call. gcc compiles that loop once (in a kernel unit, beside
    the elementwise kernels), where writing it out for each case cost four copies of it,
    and the entry point has only the call (issue 6, W4 cold)."""
    c = ctype(dtype)
    in_dtypes = [v.type.dtype for v in node.inputs]  # type: ignore[attr-defined]
    forms = {j: f for j, _, f in arrays}
    params, call_args, args = _section_arguments(
        node, hoisted, lambda i, cdt: ([(f"const {cdt} *restrict", f"a{i}")], [ptrs[i]],
                                       f"a{i}[{'r * inner + k' if forms[i] == 'full' else 'r'}]"))
    flags: dict[str, typing.Any] = {}
    e = _fused_expr(op.scalar_op, args, in_dtypes, dtype, flags)
    row_params = [("int64_t", "r"), ("int64_t", "k0"), ("int64_t", "k1"), ("int64_t", "inner"), *params]
    row = (f"static __attribute__((noinline)) double (sg_fn)_row({_declared(row_params)}) {{\n"
           "  double s = 0.0;\n  #pragma omp simd reduction(+:s)\n"
           f"  for (int64_t k = k0; k < k1; ++k) s += (double)({e});\n  return s;\n}}\n")
    extra = "".join(", " + name for _, name in params)  # the driver passes its own on
    body = [
        "  if (outer == 1 && big) {",
        "    double s = 0.0;",
        f"    {ctx.parallel_region('reduction(+:s)')}",
        f"    {{ int64_t lo, hi; sg_thread_share(inner, 16, &lo, &hi); s += (sg_fn)_row(0, lo, hi, inner{extra}); }}",
        f"    po[0] = ({c})s;",
        "  } else if (big) {",
        f"    {ctx.parallel_region('for schedule(static)')}",
        f"    for (int64_t r = 0; r < outer; ++r) po[r] = ({c})(sg_fn)_row(r, 0, inner, inner{extra});",
        "  } else {",
        f"    for (int64_t r = 0; r < outer; ++r) po[r] = ({c})(sg_fn)_row(r, 0, inner, inner{extra});",
        "  }",
    ]
    fn = _section_function(ctx, f"{op}: the sums of rows of inner elements", "void", "rowsums_",
                           [("int64_t", "outer"), ("int64_t", "inner"), ("int", "big"), (f"{c} *restrict", "po"),
                            *params],
                           "".join(line + "\n" for line in body), prelude=row)
    ctx.line(f"    {fn}(outer, inner, {big}, {po}{''.join(', ' + a for a in call_args)});")


@emit.register(ElemwiseReduce)
def c_elemwise_reduce(op: ElemwiseReduce, node: Apply, ctx: EmitContext) -> None:
    """One pass: each element is computed and combined at once, never stored.

    A fast path covers inputs that are C-contiguous (or broadcast along the reduced axes
    only, like ``x - x.max(axis=1, keepdims=True)``) reduced over trailing axes (rows, with
    an 8-lane vectorized accumulator per row, rows split across threads) or leading axes
    (columns: whole rows are combined into the output row). Anything else computes the
    elementwise values into a temporary buffer and reduces that with the ordinary kernels.
    """
    from symgraph.backends.c.emit.elemwise import emit_shape_check
    from symgraph.tensor.elemwise import Elemwise

    red = op.reduce
    kind = "sum" if isinstance(red, Sum) else "max" if isinstance(red, Max) else "min" if isinstance(red, Min) else None
    out = node.outputs[0]
    dtype = out.type.dtype  # type: ignore[attr-defined]
    if kind is None or dtype not in ("float32", "float64"):
        raise Unsupported(f"fused {red}")
    inner = Elemwise(op.scalar_op).make_node(*node.inputs)
    full = inner.outputs[0].type  # type: ignore[attr-defined]
    if full.dtype != dtype:
        raise Unsupported("fused reduction changing dtype")
    ndim = full.ndim
    in_dtypes = [v.type.dtype for v in node.inputs]  # type: ignore[attr-defined]
    flags: dict[str, typing.Any] = {}
    _fused_expr(op.scalar_op, [f"a{i}" for i in range(len(node.inputs))], in_dtypes, dtype, flags)
    if flags.get("pow_error"):
        raise Unsupported("integer power inside a fused reduction")
    c = ctype(dtype)
    axes = red.axis
    kept = [a for a in range(ndim) if a not in axes]
    layout = _layout(ndim, axes)
    o = ctx.name(out)

    # how each input is read: a constant, one hoisted value, or an array
    hoisted: dict[int, str] = {}
    arrays: list[tuple[int, str, str]] = []  # (input index, C name, 'full' | 'kept')
    fast = layout is not None
    for i, var in enumerate(node.inputs):
        cdt = ctype(var.type.dtype)  # type: ignore[attr-defined]
        if is_constant_scalar(var):
            hoisted[i] = literal(np.asarray(var.data).reshape(()).item(), var.type.dtype)  # type: ignore[attr-defined]
            continue
        name = ctx.name(var)
        bcast = var.type.broadcastable  # type: ignore[attr-defined]
        if all(bcast):
            hoisted[i] = f"(*({cdt} *){name}.data)"
            continue
        if bcast == full.broadcastable:
            arrays.append((i, name, "full"))
        elif all(bcast[a] or full.broadcastable[a] for a in axes) and all(
                bcast[a] == full.broadcastable[a] for a in kept):
            arrays.append((i, name, "kept"))  # constant along the reduced axes
        else:
            arrays.append((i, name, "other"))
            fast = False

    ctx.line("{")
    shp = ctx.tmp("eshape")
    ctx.line(f"  int64_t {shp}[{max(ndim, 1)}];")
    emit_shape_check(inner, ctx, shp)
    ctx.alloc(out, [f"{shp}[{a}]" for a in kept])
    count = ctx.tmp("count")
    ctx.line(f"  const int64_t {count} = " + (" * ".join(f"{shp}[{a}]" for a in axes) or "1") + ";")
    if kind != "sum":
        name = "maximum" if kind == "max" else "minimum"
        ctx.line(f"  if ({count} == 0) " + ctx.fail(f"zero-size array to reduction operation {name} which has no identity"))
    po = ctx.tmp("po")
    ctx.line(f"  {c} *restrict {po} = ({c} *){o}.data;")
    ptrs = {}
    for i, name, _ in arrays:
        p = ctx.tmp("p")
        cdt = ctype(node.inputs[i].type.dtype)  # type: ignore[attr-defined]
        ctx.line(f"  const {cdt} *restrict {p} = (const {cdt} *){name}.data;")
        ptrs[i] = p

    def expr(index_full: str, index_kept: str) -> str:
        args = []
        for i in range(len(node.inputs)):
            if i in hoisted:
                args.append(hoisted[i])
            else:
                form = next(f for j, _, f in arrays if j == i)
                args.append(f"{ptrs[i]}[{index_full if form == 'full' else index_kept}]")
        return _fused_expr(op.scalar_op, args, in_dtypes, dtype, flags)

    acc_t = "double" if kind == "sum" else c
    init = "-INFINITY" if kind == "max" else "INFINITY" if kind == "min" else "0.0"
    better = ">" if kind == "max" else "<"

    def combine(acc: str, value: str) -> str:
        if kind == "sum":
            return f"{acc} += (double)({value});"
        return f"{{ const {c} v_ = {value}; {acc} = (v_ {better} {acc} || v_ != v_) ? v_ : {acc}; }}"

    if fast:
        cond = " && ".join(f"sg_is_contiguous(&{name})" for _, name, _ in arrays) or "1"
        ctx.line(f"  if ({cond}) {{")
        kept_n = " * ".join(f"{shp}[{a}]" for a in kept) or "1"
        ctx.line(f"    const int64_t outer = {kept_n if layout == 'trailing' else count};")
        ctx.line(f"    const int64_t inner = {count if layout == 'trailing' else kept_n};")
        big = f"outer * inner > {ctx.openmp_threshold}"
        if layout == "trailing" and kind != "sum":
            _row_extremes(ctx, kind, dtype, expr("r * inner + k", "r"), po, "outer", "inner", "    ")
        elif layout == "trailing":
            _row_sums(ctx, op, node, hoisted, arrays, ptrs, dtype, po, big)
        else:
            e = expr("r * inner + k", "k")
            acc = ctx.tmp("acc")
            if acc_t == c:
                ctx.line(f"    {acc_t} *{acc} = {po};")
            else:
                ctx.line(f"    {acc_t} *{acc} = ({acc_t} *)malloc(inner ? inner * sizeof({acc_t}) : 1);")
                ctx.line(f"    if (!{acc}) " + ctx.fail("out of memory"))
            ctx.line(f"    for (int64_t k = 0; k < inner; ++k) {acc}[k] = {init};")
            ctx.line("    for (int64_t r = 0; r < outer; ++r) {")
            ctx.line("      #pragma omp simd")
            ctx.line("      for (int64_t k = 0; k < inner; ++k) " + combine(f"{acc}[k]", e))
            ctx.line("    }")
            if acc_t != c:
                ctx.line(f"    for (int64_t k = 0; k < inner; ++k) {po}[k] = ({c}){acc}[k];")
                ctx.line(f"    free({acc});")
        ctx.line("  } else {")
    else:
        ctx.line("  {")
    # general path: materialize the elementwise values, then reduce them with the kernels
    tmp = ctx.tmp("tmp")
    ctx.line(f"    sg_array {tmp};")
    ctx.line(f"    if (!sg_alloc(&{tmp}, {ndim}, {shp}, sizeof({c}))) " + ctx.fail("out of memory"))
    # (the loop is a kernel-section function: it takes no time of the entry unit's gcc)
    def strided(i: int, cdt: str) -> tuple[list[tuple[str, str]], list[str], str]:
        terms = [f"i{a} * st{i}[{a}]" for a in range(ndim) if node.inputs[i].type.shape[a] != 1]  # type: ignore[attr-defined]
        return ([(f"const {cdt} *restrict", f"a{i}"), ("const int64_t *", f"st{i}")],
                [ptrs[i], f"{ctx.name(node.inputs[i])}.strides"], f"a{i}[{' + '.join(terms) if terms else '0'}]")

    params, call_args, general_args = _section_arguments(node, hoisted, strided)
    loops = "".join(f"  for (int64_t i{a} = 0; i{a} < shape[{a}]; ++i{a})\n" for a in range(ndim))
    fill = _section_function(ctx, f"{op}: its elementwise values, computed into pt", "void", "fill_",
                             [("const int64_t *", "shape"), (f"{c} *restrict", "pt"), *params],
                             f"  int64_t q = 0;\n{loops}"
                             f"  pt[q++] = {_fused_expr(op.scalar_op, general_args, in_dtypes, dtype, flags)};\n")
    ctx.line(f"    {fill}({shp}, ({c} *){tmp}.data{''.join(', ' + a for a in call_args)});")
    flags_c = ", ".join("1" if a in axes else "0" for a in range(ndim)) or "0"
    ctx.line(f"    {{ const uint8_t reduced[{max(ndim, 1)}] = {{{flags_c}}};")
    ctx.line(f"      const int64_t n_out = sg_size(&{o});")
    if kind == "sum":
        # the values' sums, as a Sum node of them computes them (the walk; count unused)
        kernel = f"sg_sum_{dtype}_{dtype}"
        sum_kernel(ctx, kernel, c, c, "double")
        ctx.line(f"      if ({kernel}_node(&{tmp}, reduced, 0, 0, {po}, n_out, 0, 0)) {{ free({tmp}.data); "
                 + ctx.fail("out of memory") + " }")
    else:
        kernel = f"sg_{kind}_{dtype}"
        ctx.helper(kernel, f"SG_DEFINE_EXTREME({kernel}, {c}, {better})")
        ctx.line(f"      sg_reduce_loop plan; sg_reduce_plan(&plan, &{tmp}, reduced, 1);")
        ctx.line(f"      for (int64_t k = 0; k < n_out; ++k) {po}[k] = {init};")
        ctx.line(f"      {kernel}(&plan, (const {c} *){tmp}.data, {po});")
    ctx.line(f"      free({tmp}.data); }}")
    ctx.line("  }")
    ctx.line("}")
