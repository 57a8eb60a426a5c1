"""C emitters for matrix products: Dot through CBLAS (gemm, gemv, dot) from the pip OpenBLAS.

Strided operands use BLAS's transpose flags and leading dimensions instead of copies;
only operands with no unit stride (or negative/zero strides) are copied first: the
functions of csrc/symgraph_blas.h, which each product calls. Integer and mixed-dtype
products use plain loops, as NumPy does.
"""

from __future__ import annotations

from symgraph.backends.c.ctypes import Unsupported, ctype
from symgraph.backends.c.emit import EmitContext, emit
from symgraph.backends.c.emit.elemwise import WS_SLOT, borrow_slot
from symgraph.graph.node import Apply, Variable
from symgraph.tensor.linalg import Dot


def _check_aligned(ctx: EmitContext, a: str, b: str, a_axis: int, b_axis: int) -> None:
    ctx.line(
        f"if ({a}.shape[{a_axis}] != {b}.shape[{b_axis}]) {{ char s1[96], s2[96]; "
        + ctx.fail("dot: shapes %s and %s are not aligned: %lld != %lld",
                   f"sg_shape_str(&{a}, s1, 96)", f"sg_shape_str(&{b}, s2, 96)",
                   f"(long long){a}.shape[{a_axis}]", f"(long long){b}.shape[{b_axis}]")
        + " }"
    )


def _as_blas_vector(ctx: EmitContext, v: str, itemsize: str) -> tuple[str, str]:
    """(pointer expression, inc) for vector ``v``; copies when its stride is not positive."""
    tmp = ctx.tmp("vec")
    ctx.line(f"sg_array {tmp} = {v}; int own_{tmp} = 0;")
    ctx.line(f"if ({v}.shape[0] > 1 && {v}.strides[0] <= 0) {{")
    ctx.line(f"  if (!sg_copy_contiguous(&{tmp}, &{v}, {itemsize})) " + ctx.fail("out of memory") + f" own_{tmp} = 1; }}")
    return tmp, f"({tmp}.shape[0] > 1 ? (blasint){tmp}.strides[0] : 1)"


def _blas_node(ctx: EmitContext, out: Variable, call: str, borrowed: Variable | None = None) -> None:
    """One product node as one call of a node function of csrc/symgraph_blas.h (prebuilt
    in the runtime library), which checks the shapes, allocates ``out`` and calls BLAS
    through the CBLAS table ``sg_blas``; ``call`` is the function's name and its arguments
    after the output. ``borrowed``: the input whose buffer ``out`` may take (an in-place
    update, backends/c/inplace.py), lent through the output's workspace slot."""
    ctx.uses_blas = True
    ctx.owning[out] = None  # the function allocates it (its workspace slot, or sg_alloc)
    on = ctx.name(out)
    fn, _, args = call.partition("(")
    statement = f"if ({fn}(err, {ctx.node_index}, &sg_blas, {{slot}}, &{on}, {args}) goto sg_cleanup;"
    if borrowed is None:
        ctx.line(statement.format(slot=WS_SLOT.format(on)))
        return
    ctx.line(borrow_slot(ctx, out, borrowed) + statement.format(slot="&sg_over") + " }")


def _blas_suffix(dtype: str) -> str:
    if dtype not in ("float32", "float64"):
        raise Unsupported(f"BLAS op in {dtype}")
    return "f32" if dtype == "float32" else "f64"


@emit.register(Dot)
def c_dot(op: Dot, node: Apply, ctx: EmitContext) -> None:
    a, b = node.inputs
    out = node.outputs[0]
    dt = out.type.dtype  # type: ignore[attr-defined]
    for v in (a, b, out):
        ctype(v.type.dtype)  # type: ignore[attr-defined]
    blas = dt in ("float32", "float64") and a.type.dtype == dt and b.type.dtype == dt  # type: ignore[attr-defined]
    if not blas:
        _emit_loop_dot(node, ctx)
        return
    if not (1 <= a.ndim <= 2 and 1 <= b.ndim <= 2):  # type: ignore[attr-defined]
        raise Unsupported(f"Dot of ndim {a.ndim} and {b.ndim}")  # type: ignore[attr-defined]
    _blas_node(ctx, out, f"sg_dot_{_blas_suffix(dt)}(&{ctx.name(a)}, &{ctx.name(b)})")


def _emit_loop_dot(node: Apply, ctx: EmitContext) -> None:
    """Integer, bool and mixed-dtype products: straightforward loops in the output dtype."""
    a, b = node.inputs
    out = node.outputs[0]
    an, bn, on = ctx.name(a), ctx.name(b), ctx.name(out)
    odt = out.type.dtype  # type: ignore[attr-defined]
    oc = ctype(odt)
    ac, bc = ctype(a.type.dtype), ctype(b.type.dtype)  # type: ignore[attr-defined]
    acc = "int64_t" if odt not in ("float32", "float64") else ("double" if odt == "float64" else "float")
    a2, b2 = a.ndim == 2, b.ndim == 2  # type: ignore[attr-defined]
    ctx.line("{")
    _check_aligned(ctx, an, bn, 1 if a2 else 0, 0)
    shape = ([f"{an}.shape[0]"] if a2 else []) + ([f"{bn}.shape[1]"] if b2 else [])
    ctx.alloc(out, shape)
    ctx.line(f"const int64_t M = {an + '.shape[0]' if a2 else '1'}, K = {bn}.shape[0], N = {bn + '.shape[1]' if b2 else '1'};")
    ctx.line(f"const {ac} *pa = (const {ac} *){an}.data; const {bc} *pb = (const {bc} *){bn}.data; {oc} *po = ({oc} *){on}.data;")
    a_row = f"i * {an}.strides[0] + " if a2 else ""
    a_col = f"{an}.strides[1]" if a2 else f"{an}.strides[0]"
    b_col = f" + j * {bn}.strides[1]" if b2 else ""
    cast = "(uint8_t)(acc != 0)" if odt == "bool" else f"({oc})acc"
    ctx.line("for (int64_t i = 0; i < M; ++i) for (int64_t j = 0; j < N; ++j) {")
    ctx.line(f"  {acc} acc = 0;")
    ctx.line(f"  for (int64_t p = 0; p < K; ++p) acc += ({acc})pa[{a_row}p * {a_col}] * ({acc})pb[p * {bn}.strides[0]{b_col}];")
    ctx.line(f"  po[i * N + j] = {cast};")
    ctx.line("}")
    ctx.line("}")


def _copy_into(ctx: EmitContext, out: str, src: str, ct: str) -> None:
    """Copy ``src`` (any strides) into the freshly allocated contiguous ``out``, unless
    ``out`` took ``src``'s own buffer (``ctx.alloc_over``: the flag ``<out>_over``)."""
    ctx.line(f"if (!{out}_over) sg_copy_into({out}.data, &{src}, sizeof({ct}));")


def _blas_prefix(dtype: str) -> str:
    if dtype not in ("float32", "float64"):
        raise Unsupported(f"BLAS op in {dtype}")
    return "s" if dtype == "float32" else "d"


from symgraph.tensor.blas import Gemm, Gemv, Ger


def _update(node: Apply, ctx: EmitContext, fn: str) -> None:
    """Gemm or Gemv (``fn``): ``out = alpha * a @ b + beta * z``, over z's own buffer where
    the node may overwrite it."""
    z, alpha, a, b, beta = node.inputs
    out = node.outputs[0]
    dt = out.type.dtype  # type: ignore[attr-defined]
    s, ct = _blas_suffix(dt), ctype(dt)
    zn, aln, an, bn, ben = (ctx.name(v) for v in (z, alpha, a, b, beta))
    taken = node in ctx.destroy and node.inputs[ctx.destroy[node]] is z
    _blas_node(ctx, out, f"sg_{fn}_{s}(&{zn}, &{an}, &{bn}, *({ct} *){aln}.data, *({ct} *){ben}.data)",
               borrowed=z if taken else None)


@emit.register(Gemm)
def c_gemm(op: Gemm, node: Apply, ctx: EmitContext) -> None:
    _update(node, ctx, "gemm")


@emit.register(Gemv)
def c_gemv(op: Gemv, node: Apply, ctx: EmitContext) -> None:
    _update(node, ctx, "gemv")


@emit.register(Ger)
def c_ger(op: Ger, node: Apply, ctx: EmitContext) -> None:
    a, alpha, x, y = node.inputs
    out = node.outputs[0]
    dt = out.type.dtype  # type: ignore[attr-defined]
    p = _blas_prefix(dt)
    ct = ctype(dt)
    an, aln, xn, yn, on = (ctx.name(v) for v in (a, alpha, x, y, out))
    ctx.uses_blas = True
    size = f"sizeof({ct})"
    ctx.line("{")
    ctx.line(f"const int64_t m = {xn}.shape[0], n = {yn}.shape[0];")
    ctx.line(f"if ({an}.shape[0] != m || {an}.shape[1] != n) {{ char s1[96]; "
             + ctx.fail("Ger: a has shape %s, expected (%lld, %lld)", f"sg_shape_str(&{an}, s1, 96)",
                        "(long long)m", "(long long)n") + " }")
    ctx.line("if (m > 2147483647 || n > 2147483647) " + ctx.fail("Ger: dimensions too large for 32-bit BLAS"))
    ctx.alloc_over(node, out, a, ["m", "n"])
    _copy_into(ctx, on, an, ct)
    ctx.line(f"const {ct} alpha = *({ct} *){aln}.data;")
    ctx.line("if (m > 0 && n > 0) {")
    xv, incx = _as_blas_vector(ctx, xn, size)
    yv, incy = _as_blas_vector(ctx, yn, size)
    ctx.line(f"scipy_cblas_{p}ger(CblasRowMajor, (blasint)m, (blasint)n, alpha, ({ct} *){xv}.data, {incx},")
    ctx.line(f"    ({ct} *){yv}.data, {incy}, ({ct} *){on}.data, (blasint)(n > 1 ? n : 1));")
    ctx.line(f"if (own_{xv}) free({xv}.data); if (own_{yv}) free({yv}.data);")
    ctx.line("}")
    ctx.line("}")
