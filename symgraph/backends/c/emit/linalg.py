"""C emitters for matrix products: Dot through CBLAS (gemm, gemv, dot) from the pip OpenBLAS.

Strided operands use BLAS's transpose flags and leading dimensions instead of copies;
only operands with no unit stride (or negative/zero strides) are copied first: the
functions of csrc/symgraph_blas.h, which each product calls. Integer and mixed-dtype
products use plain loops, as NumPy does.
"""

from __future__ import annotations

from symgraph.backends.c.ctypes import Unsupported, ctype
from symgraph.backends.c.emit import EmitContext, emit
from symgraph.graph.node import Apply
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


def _blas_fn(p: str) -> str:
    """The functions of csrc/symgraph_blas.h for BLAS prefix ``p`` ('s' or 'd')."""
    return "sg_blas_f32" if p == "s" else "sg_blas_f64"


def _gemm_call(ctx: EmitContext, p: str, ct: str, a: str, b: str, out: str, alpha: str, beta: str) -> None:
    """``out = alpha * a @ b + beta * out`` for matrices (m, k) @ (k, n) with m, n, k set in C."""
    ctx.line(f"if ({_blas_fn(p)}(&{a}, &{b}, &{out}, m, n, k, {alpha}, {beta})) " + ctx.fail("out of memory"))


def _gemv_call(ctx: EmitContext, p: str, ct: str, mat: str, vec: str, out: str, transpose: bool,
               alpha: str, beta: str) -> None:
    """``out = alpha * op(mat) @ vec + beta * out`` with op the identity or (``transpose``) the
    transpose; the BLAS flag combines that with how ``mat`` is stored."""
    ctx.line(f"if ({_blas_fn(p)}v(&{mat}, &{vec}, &{out}, {int(transpose)}, {alpha}, {beta})) "
             + ctx.fail("out of memory"))


@emit.register(Dot)
def c_dot(op: Dot, node: Apply, ctx: EmitContext) -> None:
    a, b = node.inputs
    out = node.outputs[0]
    dt = out.type.dtype  # type: ignore[attr-defined]
    for v in (a, b, out):
        ctype(v.type.dtype)  # type: ignore[attr-defined]
    blas = dt in ("float32", "float64") and a.type.dtype == dt and b.type.dtype == dt  # type: ignore[attr-defined]
    an, bn, on = ctx.name(a), ctx.name(b), ctx.name(out)
    if not blas:
        _emit_loop_dot(node, ctx)
        return
    ctx.uses_blas = True
    p = "s" if dt == "float32" else "d"
    ct = ctype(dt)
    size = f"sizeof({ct})"
    ctx.line("{")
    ctx.line("const int64_t sg_int_max = 2147483647;")
    if a.ndim == 2 and b.ndim == 2:  # type: ignore[attr-defined]
        _check_aligned(ctx, an, bn, 1, 0)
        ctx.alloc(out, [f"{an}.shape[0]", f"{bn}.shape[1]"])
        ctx.line(f"const int64_t m = {an}.shape[0], k = {an}.shape[1], n = {bn}.shape[1];")
        ctx.line("if (m > sg_int_max || n > sg_int_max || k > sg_int_max) " + ctx.fail("dot: dimensions too large for 32-bit BLAS"))
        ctx.line(f"if (m > 0 && n > 0) {{ if (k == 0) memset({on}.data, 0, (size_t)(m * n) * {size}); else {{")
        _gemm_call(ctx, p, ct, an, bn, on, "1", "0")
        ctx.line("} }")
    elif a.ndim + b.ndim == 3:  # type: ignore[attr-defined]
        # matrix @ vector, or vector @ matrix = matrix^T @ vector
        mat, vec, transpose = (an, bn, False) if a.ndim == 2 else (bn, an, True)  # type: ignore[attr-defined]
        _check_aligned(ctx, an, bn, 1 if a.ndim == 2 else 0, 0)  # type: ignore[attr-defined]
        rows = f"{mat}.shape[{1 if transpose else 0}]"
        ctx.alloc(out, [rows])
        ctx.line(f"const int64_t m = {rows}, k = {vec}.shape[0];")
        ctx.line("if (m > sg_int_max || k > sg_int_max) " + ctx.fail("dot: dimensions too large for 32-bit BLAS"))
        ctx.line(f"if (m > 0) {{ if (k == 0) memset({on}.data, 0, (size_t)m * {size}); else {{")
        _gemv_call(ctx, p, ct, mat, vec, on, transpose, "1", "0")
        ctx.line("} }")
    elif a.ndim == 1 and b.ndim == 1:  # type: ignore[attr-defined]
        _check_aligned(ctx, an, bn, 0, 0)
        ctx.alloc(out, [])
        ctx.line(f"const int64_t k = {an}.shape[0];")
        ctx.line("if (k > sg_int_max) " + ctx.fail("dot: dimensions too large for 32-bit BLAS"))
        xv, incx = _as_blas_vector(ctx, an, size)
        yv, incy = _as_blas_vector(ctx, bn, size)
        ctx.line(f"*({ct} *){on}.data = k ? scipy_cblas_{p}dot((blasint)k, ({ct} *){xv}.data, {incx}, ({ct} *){yv}.data, {incy}) : 0;")
        ctx.line(f"if (own_{xv}) free({xv}.data); if (own_{yv}) free({yv}.data);")
    else:
        raise Unsupported(f"Dot of ndim {a.ndim} and {b.ndim}")  # type: ignore[attr-defined]
    ctx.line("}")


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


@emit.register(Gemm)
def c_gemm(op: Gemm, node: Apply, ctx: EmitContext) -> None:
    z, alpha, x, y, beta = node.inputs
    out = node.outputs[0]
    dt = out.type.dtype  # type: ignore[attr-defined]
    p = _blas_prefix(dt)
    ct = ctype(dt)
    zn, an, xn, yn, bn, on = (ctx.name(v) for v in (z, alpha, x, y, beta, out))
    ctx.uses_blas = True
    ctx.line("{")
    _check_aligned(ctx, xn, yn, 1, 0)
    ctx.line(f"const int64_t m = {xn}.shape[0], k = {xn}.shape[1], n = {yn}.shape[1];")
    ctx.line(f"if ({zn}.shape[0] != m || {zn}.shape[1] != n) {{ char s1[96]; "
             + ctx.fail("Gemm: z has shape %s, expected (%lld, %lld)", f"sg_shape_str(&{zn}, s1, 96)",
                        "(long long)m", "(long long)n") + " }")
    ctx.line("if (m > 2147483647 || n > 2147483647 || k > 2147483647) " + ctx.fail("Gemm: dimensions too large for 32-bit BLAS"))
    ctx.alloc_over(node, out, z, ["m", "n"])
    # the copy of z, 0 * z for beta == 0 and the product: one function of csrc/symgraph_blas.h
    ctx.line(f"if ({_blas_fn(p)}_update(&{zn}, {on}_over, &{xn}, &{yn}, n, &{on}, m, k, "
             f"*({ct} *){an}.data, *({ct} *){bn}.data)) " + ctx.fail("out of memory"))
    ctx.line("}")


@emit.register(Gemv)
def c_gemv(op: Gemv, node: Apply, ctx: EmitContext) -> None:
    z, alpha, a, x, beta = node.inputs
    out = node.outputs[0]
    dt = out.type.dtype  # type: ignore[attr-defined]
    p = _blas_prefix(dt)
    ct = ctype(dt)
    zn, aln, an, xn, bn, on = (ctx.name(v) for v in (z, alpha, a, x, beta, out))
    ctx.uses_blas = True
    ctx.line("{")
    _check_aligned(ctx, an, xn, 1, 0)
    ctx.line(f"const int64_t m = {an}.shape[0], k = {an}.shape[1];")
    ctx.line(f"if ({zn}.shape[0] != m) {{ char s1[96]; "
             + ctx.fail("Gemv: z has shape %s, expected (%lld,)", f"sg_shape_str(&{zn}, s1, 96)", "(long long)m") + " }")
    ctx.line("if (m > 2147483647 || k > 2147483647) " + ctx.fail("Gemv: dimensions too large for 32-bit BLAS"))
    ctx.alloc_over(node, out, z, ["m"])
    ctx.line(f"if ({_blas_fn(p)}v_update(&{zn}, {on}_over, &{an}, &{xn}, 1, &{on}, m, k, "
             f"*({ct} *){aln}.data, *({ct} *){bn}.data)) " + ctx.fail("out of memory"))
    ctx.line("}")


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
