"""C emitters for Elemwise (one loop per node, with a contiguous fast path) and DimShuffle (a view)."""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.backends.c.ctypes import ctype, literal
from symgraph.backends.c.emit import EmitContext, emit, is_constant_scalar
from symgraph.backends.c.emit.scalar import scalar_expr
from symgraph.graph.node import Apply
from symgraph.tensor.elemwise import DimShuffle, Elemwise


def emit_shape_check(node: Apply, ctx: EmitContext, shape_var: str) -> None:
    """Compute the broadcast output shape into ``shape_var``; fail on a mismatch.

    Only axes of static length 1 broadcast, as in the py backend.
    """
    out = node.outputs[0]
    ndim = out.type.ndim  # type: ignore[attr-defined]
    for axis in range(ndim):
        sources = [i for i, v in enumerate(node.inputs) if v.type.shape[axis] != 1]  # type: ignore[attr-defined]
        if not sources:
            ctx.line(f"{shape_var}[{axis}] = 1;")
            continue
        first = ctx.name(node.inputs[sources[0]])
        ctx.line(f"{shape_var}[{axis}] = {first}.shape[{axis}];")
        for i in sources[1:]:
            other = ctx.name(node.inputs[i])
            ctx.line(
                f"if ({other}.shape[{axis}] != {shape_var}[{axis}]) {{ char s1[96], s2[96]; "
                + ctx.fail(
                    f"input shapes %s and %s do not match on axis {axis}: input {sources[0]} has length %lld, "
                    f"input {i} has length %lld. Only axes declared broadcastable (static length 1, e.g. "
                    "T.row(), T.col() or x.dimshuffle('x', 0)) broadcast",
                    f"sg_shape_str(&{first}, s1, 96)", f"sg_shape_str(&{other}, s2, 96)",
                    f"(long long){shape_var}[{axis}]", f"(long long){other}.shape[{axis}]",
                )
                + " }"
            )


@emit.register(Elemwise)
def c_elemwise(op: Elemwise, node: Apply, ctx: EmitContext) -> None:
    out = node.outputs[0]
    ndim = out.type.ndim  # type: ignore[attr-defined]
    in_dtypes = [v.type.dtype for v in node.inputs]  # type: ignore[attr-defined]
    out_dtype = out.type.dtype  # type: ignore[attr-defined]
    flags: dict[str, Any] = {}
    # validate the expression first so an unsupported node emits nothing
    scalar_expr(op.scalar_op, [f"a{i}" for i in range(len(node.inputs))], in_dtypes, out_dtype, flags)

    shp = ctx.tmp("shape")
    ctx.line(f"{{ int64_t {shp}[{max(ndim, 1)}];")
    emit_shape_check(node, ctx, shp)
    ctx.alloc(out, [f"{shp}[{a}]" for a in range(ndim)])
    o = ctx.name(out)
    optr = ctx.tmp("po")
    ctx.line(f"  {ctype(out_dtype)} *restrict {optr} = ({ctype(out_dtype)} *){o}.data;")
    if flags.get("pow_error"):
        ctx.line("  int sg_bad = 0;")

    # inputs: constants inline, fully broadcast inputs hoisted, others indexed
    fast_args, general_args, full_inputs = [], [], []
    for i, var in enumerate(node.inputs):
        cdt = ctype(var.type.dtype)  # type: ignore[attr-defined]
        if is_constant_scalar(var):
            value = literal(np.asarray(var.data).reshape(()).item(), var.type.dtype)  # type: ignore[attr-defined]
            fast_args.append(value)
            general_args.append(value)
            continue
        name = ctx.name(var)
        if all(s == 1 for s in var.type.shape):  # type: ignore[attr-defined]
            scalar = ctx.tmp("s")
            ctx.line(f"  const {cdt} {scalar} = *({cdt} *){name}.data;")
            fast_args.append(scalar)
            general_args.append(scalar)
            continue
        ptr = ctx.tmp("p")
        ctx.line(f"  const {cdt} *restrict {ptr} = (const {cdt} *){name}.data;")
        full_inputs.append((i, var, name))
        fast_args.append(f"{ptr}[k]")
        terms = [f"i{a} * {name}.strides[{a}]" for a in range(ndim) if var.type.shape[a] != 1]  # type: ignore[attr-defined]
        general_args.append(f"{ptr}[{' + '.join(terms) if terms else '0'}]")

    fast_expr = scalar_expr(op.scalar_op, fast_args, in_dtypes, out_dtype, flags)
    general_expr = scalar_expr(op.scalar_op, general_args, in_dtypes, out_dtype, flags)
    # fast path: every indexed input has the output's full shape and is contiguous
    broadcasting = any(any(s == 1 for s in var.type.shape) for _, var, _ in full_inputs)  # type: ignore[attr-defined]
    if not broadcasting:
        cond = " && ".join(f"sg_is_contiguous(&{name})" for _, _, name in full_inputs) or "1"
        ctx.line(f"  if ({cond}) {{")
        ctx.line(f"    const int64_t n = sg_size(&{o});")
        ctx.line("    " + ctx.parallel_for("n"))
        ctx.line("    for (int64_t k = 0; k < n; ++k)")
        ctx.line(f"      {optr}[k] = {fast_expr};")
        ctx.line("  } else {")
    else:
        ctx.line("  {")
    ctx.line("    int64_t k = 0;")
    for a in range(ndim):
        ctx.line(f"    for (int64_t i{a} = 0; i{a} < {shp}[{a}]; ++i{a})")
    ctx.line(f"      {optr}[k++] = {general_expr};")
    ctx.line("  }")
    if flags.get("pow_error"):
        ctx.line("  if (sg_bad) " + ctx.fail("Integers to negative integer powers are not allowed."))
    ctx.line("}")


@emit.register(DimShuffle)
def c_dimshuffle(op: DimShuffle, node: Apply, ctx: EmitContext) -> None:
    x, out = node.inputs[0], node.outputs[0]
    xn, on = ctx.name(x), ctx.name(out)
    ctype(x.type.dtype)  # type: ignore[attr-defined]
    ctx.view(out, x)
    ctx.line(f"{on}.ndim = {len(op.new_order)};")
    for k, o in enumerate(op.new_order):
        if o == "x":
            ctx.line(f"{on}.shape[{k}] = 1; {on}.strides[{k}] = 0;")
        else:
            ctx.line(f"{on}.shape[{k}] = {xn}.shape[{o}]; {on}.strides[{k}] = {xn}.strides[{o}];")
