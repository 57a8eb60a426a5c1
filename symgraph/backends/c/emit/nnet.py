"""C emitters for softmax, log-softmax (max-shifted, one pass per line) and label crossentropy."""

from __future__ import annotations

from symgraph.backends.c.ctypes import ctype, suffix
from symgraph.backends.c.emit import EmitContext, emit
from symgraph.graph.node import Apply
from symgraph.tensor.nnet import CrossentropyCategorical1Hot, LogSoftmax, Softmax


def _emit_along_axis(op: Softmax | LogSoftmax, node: Apply, ctx: EmitContext, log: bool) -> None:
    x, out = node.inputs[0], node.outputs[0]
    xn, on = ctx.name(x), ctx.name(out)
    ndim = x.type.ndim  # type: ignore[attr-defined]
    axis = op.axis
    xt, ot = ctype(x.type.dtype), ctype(out.type.dtype)  # type: ignore[attr-defined]
    f = suffix(out.type.dtype)  # type: ignore[attr-defined]
    ctx.line("{")
    ctx.alloc(out, [f"{xn}.shape[{a}]" for a in range(ndim)])
    ctx.line(f"const {xt} *px = (const {xt} *){xn}.data; {ot} *po = ({ot} *){on}.data;")
    ctx.line(f"const int64_t L = {xn}.shape[{axis}], sx = {xn}.strides[{axis}], so = {on}.strides[{axis}];")
    others = [a for a in range(ndim) if a != axis]
    for a in others:
        ctx.line(f"for (int64_t i{a} = 0; i{a} < {xn}.shape[{a}]; ++i{a})")
    if not others:
        # a vector is one line: still a loop, so that the `continue` below is valid C
        ctx.line("for (int once = 0; once < 1; ++once)")
    ctx.line("{")
    in_base = " + ".join(f"i{a} * {xn}.strides[{a}]" for a in others) or "0"
    out_base = " + ".join(f"i{a} * {on}.strides[{a}]" for a in others) or "0"
    ctx.line(f"  const {xt} *lx = px + ({in_base}); {ot} *lo = po + ({out_base});")
    ctx.line("  if (L == 0) continue;")
    ctx.line(f"  {ot} m = ({ot})lx[0];")
    ctx.line(f"  for (int64_t j = 1; j < L; ++j) {{ {ot} v = ({ot})lx[j * sx]; if (v > m || v != v) m = v; }}")
    ctx.line(f"  {ot} total = 0;")
    if log:
        ctx.line(f"  for (int64_t j = 0; j < L; ++j) total += exp{f}(({ot})lx[j * sx] - m);")
        ctx.line(f"  const {ot} lse = log{f}(total);")
        ctx.line(f"  for (int64_t j = 0; j < L; ++j) lo[j * so] = (({ot})lx[j * sx] - m) - lse;")
    else:
        ctx.line(f"  for (int64_t j = 0; j < L; ++j) {{ {ot} e = exp{f}(({ot})lx[j * sx] - m); lo[j * so] = e; total += e; }}")
        ctx.line(f"  const {ot} inv = ({ot})1 / total;")
        ctx.line("  for (int64_t j = 0; j < L; ++j) lo[j * so] *= inv;")
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
