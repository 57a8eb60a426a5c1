"""C emitters for the reductions: Sum, Prod, Max, Min, All, Any, Argmax, Argmin.

Every reduction is one walk over its input in memory order (``sg_reduce_plan`` in
``csrc/symgraph_runtime.h`` sorts the axes by stride and merges the ones that form a single
run), combining each element into the output element it belongs to. The last loop of the
walk is specialised: a reduced last loop is folded into a register (a pairwise sum in 8
vectorizable lanes, or a lane-wise max), a kept last loop is combined elementwise into an
output row (a sum over axis 0 adds whole rows), with a unit-stride fast path and a
generic strided path for each. The kernels are instantiated per dtype from the
``SG_DEFINE_*`` macros of the runtime header, so no C logic lives in Python strings.

Sums accumulate floats in double (float32 results are rounded once at the end, which is
more accurate than NumPy's float32 pairwise sum) and integers in uint64 (wrapping, as NumPy's
fixed-width integers do, without C's undefined signed overflow). Products multiply in order,
in the accumulator dtype for floats (so float32 overflows to inf where NumPy's does).
Max/min propagate NaN; argmax/argmin return the first extreme, or the first NaN, as NumPy.
"""

from __future__ import annotations

import numpy as np

from symgraph.backends.c.ctypes import Unsupported, ctype, literal
from symgraph.backends.c.emit import EmitContext, emit
from symgraph.graph.node import Apply
from symgraph.tensor.reduce import All, Any, ArgReduce, Argmax, Argmin, Max, Min, Prod, Reduce, Sum


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
    macro = "SG_DEFINE_SUM" if kind == "sum" else "SG_DEFINE_PROD"
    ctx.helper(kernel, f"{macro}({kernel}, {in_c}, {val_c}, {acc_c})")

    plan, count = _begin(op, node, ctx, flip_negative=True)
    o, acc, size = ctx.name(out), ctx.tmp("acc"), ctx.tmp("n")
    if kind == "prod":
        init = "1"
    elif is_float:
        # -0.0 is the identity of IEEE addition (sum([-0.0]) is -0.0); an empty sum is +0.0
        init = f"({count} ? -0.0 : 0.0)"
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
    plan, count = _begin(op, node, ctx, flip_negative=True)
    numpy_name = "maximum" if kind == "max" else "minimum"
    _fail_if_empty(
        ctx, count, f"zero-size array to reduction operation {numpy_name} which has no identity"
    )
    o = ctx.name(out)
    ctx.line(f"  {{ {c} *acc = ({c} *){o}.data; const int64_t n_out = sg_size(&{o});")
    ctx.line(f"    for (int64_t k = 0; k < n_out; ++k) acc[k] = {_lowest(dtype, kind == 'min')};")
    ctx.line(f"    {kernel}(&{plan}, (const {c} *){ctx.name(x)}.data, acc); }}")
    ctx.line("}")


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
