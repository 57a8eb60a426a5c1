"""C emitters for the shape family: reading shapes, reshape, static-shape assertions, join,
split, alloc, arange, eye, tile and repeat.

Ops that only relabel memory (SpecifyShape, Unbroadcast, Split, and Reshape of an array
this segment allocated) are views; the others allocate a fresh C-contiguous output.
Runtime checks use the py backend's wording (``backends/py/impls/shape.py``); the runner
adds the op's name and the user's line.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from symgraph.backends.c.ctypes import Unsupported, ctype, literal
from symgraph.backends.c.emit import EmitContext, emit, is_constant_scalar
from symgraph.graph.node import Apply, Constant, Variable
from symgraph.scalar import dtypes as _dt
from symgraph.tensor.shape import (
    Alloc, ARange, Eye, Join, Repeat, Reshape, Shape, ShapeI, SpecifyShape, Split, Tile,
    Unbroadcast,
)

# (the ``sg_array`` struct holds at most this many axes)
MAX_NDIM = 16
_INT64_MAX = 2**63 - 1
#: bytes of each text buffer that error messages format shapes into
BUF = 512


# ---------------------------------------------------------------------------------------
# Helpers shared with the subtensor emitters
# ---------------------------------------------------------------------------------------
def check_ndim(*variables: Variable) -> None:
    """Raise Unsupported if a variable has more axes than ``sg_array`` holds."""
    for var in variables:
        ndim = var.type.ndim  # type: ignore[attr-defined]
        if ndim > MAX_NDIM:
            raise Unsupported(f"{ndim} axes is more than the C backend's {MAX_NDIM}")


def fail_if(ctx: EmitContext, cond: str, fmt: str, *args: str, buffers: int = 0,
            indent: str = "  ") -> None:
    """``if (cond)`` report ``fmt`` (printf style) for this node; ``buffers`` declares the
    text buffers ``s1, s2, ...`` (``BUF`` bytes each) that ``args`` may format shapes into."""
    names = ", ".join(f"s{k}[{BUF}]" for k in range(1, buffers + 1))
    declare = f"char {names}; " if buffers else ""
    ctx.line(f"{indent}if ({cond}) {{ {declare}{ctx.fail(fmt, *args)} }}")


def shape_str(array: str, buffer: str) -> str:
    """C expression: the shape of the ``sg_array`` named ``array`` as text, e.g. ``(2, 3)``."""
    return f"sg_shape_str(&{array}, {buffer}, {BUF})"


def ints_str(values: str, count: object, buffer: str, style: int = 0) -> str:
    """C expression: ``count`` int64 values as text; style 0 a tuple, 1 a list, 2 NumPy's
    compact shape ``(2,3)``."""
    return f"sg_ints_str({values}, {count}, {style}, {buffer}, {BUF})"


def int_scalar(ctx: EmitContext, var: Variable) -> str:
    """An ``int64_t`` C expression reading the integer scalar ``var`` (any integer dtype).

    Constants become literals; uint64 values past the int64 range saturate.
    """
    dtype = var.type.dtype  # type: ignore[attr-defined]
    if not _dt.is_int(dtype) or var.type.ndim != 0:  # type: ignore[attr-defined]
        raise Unsupported(f"{var} is not an integer scalar")
    if is_constant_scalar(var):
        value = int(np.asarray(var.data).reshape(()))  # type: ignore[attr-defined]
        return literal(min(value, _INT64_MAX), "int64")
    if dtype == "uint64":
        return f"sg_index_from_u64({ctx.data(var)}[0])"
    return f"((int64_t){ctx.data(var)}[0])"


def int_vector_entry(ctx: EmitContext, var: Variable, index: str) -> str:
    """An ``int64_t`` C expression reading entry ``index`` of the integer vector ``var``."""
    if not _dt.is_int(var.type.dtype) or var.type.ndim != 1:  # type: ignore[attr-defined]
        raise Unsupported(f"{var} is not an integer vector")
    return f"((int64_t){ctx.data(var)}[({index}) * {ctx.name(var)}.strides[0]])"


def emit_loops(ctx: EmitContext, loops: Sequence[tuple[str, str]], body: Sequence[str],
               indent: str = "  ") -> None:
    """Nested C loops around ``body``; ``loops`` holds (index, bound) pairs, outermost first."""
    for depth, (name, bound) in enumerate(loops):
        ctx.line(f"{indent}{'  ' * depth}for (int64_t {name} = 0; {name} < {bound}; ++{name}) {{")
    for text in body:
        ctx.line(f"{indent}{'  ' * len(loops)}{text}")
    for depth in reversed(range(len(loops))):
        ctx.line(f"{indent}{'  ' * depth}}}")


def axis_loops(lengths: Sequence[str], index: str = "i") -> list[tuple[str, str]]:
    """One loop per axis: index names ``i0, i1, ...`` over the given lengths."""
    return [(f"{index}{a}", n) for a, n in enumerate(lengths)]


def offset_expr(terms: Sequence[str]) -> str:
    return " + ".join(terms) if terms else "0"


def emit_view_of(ctx: EmitContext, out: Variable, source: Variable) -> None:
    """``out`` views all of ``source``: same data, ndim, shape and strides."""
    on, sn = ctx.name(out), ctx.name(source)
    ctx.view(out, source)
    ctx.line(f"{on}.ndim = {sn}.ndim;")
    for a in range(source.type.ndim):  # type: ignore[attr-defined]
        ctx.line(f"{on}.shape[{a}] = {sn}.shape[{a}]; {on}.strides[{a}] = {sn}.strides[{a}];")


def _show_static(shape: Sequence[int | None]) -> str:
    """A printf format showing a shape, with ``%lld`` where the length is only known at run time."""
    inner = ", ".join("%lld" if s is None else str(s) for s in shape)
    return f"({inner}{',' if len(shape) == 1 else ''})"


# ---------------------------------------------------------------------------------------
# Shape, ShapeI
# ---------------------------------------------------------------------------------------
@emit.register(Shape)
def c_shape(op: Shape, node: Apply, ctx: EmitContext) -> None:
    x, out = node.inputs[0], node.outputs[0]
    check_ndim(x)
    ndim = x.type.ndim  # type: ignore[attr-defined]
    ctx.alloc(out, [str(ndim)])
    for a in range(ndim):
        ctx.line(f"{ctx.data(out)}[{a}] = {ctx.name(x)}.shape[{a}];")


@emit.register(ShapeI)
def c_shape_i(op: ShapeI, node: Apply, ctx: EmitContext) -> None:
    x, out = node.inputs[0], node.outputs[0]
    check_ndim(x)
    ctx.alloc(out, [])
    ctx.line(f"{ctx.data(out)}[0] = {ctx.name(x)}.shape[{op.i}];")


# ---------------------------------------------------------------------------------------
# Reshape, SpecifyShape, Unbroadcast
# ---------------------------------------------------------------------------------------
@emit.register(Reshape)
def c_reshape(op: Reshape, node: Apply, ctx: EmitContext) -> None:
    x, shp = node.inputs
    out = node.outputs[0]
    check_ndim(x, out)
    cdt = ctype(x.type.dtype)  # type: ignore[attr-defined]
    ndim = op.ndim
    xn, on = ctx.name(x), ctx.name(out)
    req = ctx.tmp("req")
    ctx.line("{")
    if isinstance(shp, Constant):
        entries = [literal(int(v), "int64") for v in np.asarray(shp.data).reshape(-1)]
    else:
        if shp.type.shape[0] != ndim:  # type: ignore[attr-defined]
            sn = ctx.name(shp)
            ctx.line(f"  if ({sn}.shape[0] != {ndim}) "
                     + ctx.fail(f"the shape vector has %lld entries, expected {ndim}",
                                f"(long long){sn}.shape[0]"))
        entries = [int_vector_entry(ctx, shp, str(k)) for k in range(ndim)]
    ctx.line(f"  int64_t {req}[{max(ndim, 1)}] = {{{', '.join(entries) or '0'}}};")
    # NumPy's rule: one negative entry stands for the missing length; the rest must fit exactly
    ctx.line(f"  const int64_t size = sg_size(&{xn});")
    ctx.line("  int64_t unknown = -1, known = 1; int bad = 0;")
    ctx.line(f"  for (int64_t k = 0; k < {ndim}; ++k) {{")
    ctx.line(f"    if ({req}[k] < 0) {{ if (unknown >= 0) bad = 1; unknown = k; }}")
    ctx.line(f"    else if (__builtin_mul_overflow(known, {req}[k], &known)) bad = 1;")
    ctx.line("  }")
    ctx.line("  if (!bad) {")
    ctx.line("    if (unknown >= 0) bad = known == 0 || size % known != 0;")
    ctx.line("    else bad = known != size;")
    ctx.line("  }")
    fail_if(ctx, "bad",
            "cannot reshape an array of shape %s (size %lld) into the requested shape %s",
            shape_str(xn, "s1"), "(long long)size", ints_str(req, ndim, "s2"), buffers=2)
    ctx.line(f"  if (unknown >= 0) {req}[unknown] = size / known;")
    if x in ctx.owning:
        # this segment allocated x, so it is C-contiguous: the result is a view
        ctx.view(out, x)
        ctx.line(f"  {on}.ndim = {ndim};")
        for k in range(ndim):
            ctx.line(f"  {on}.shape[{k}] = {req}[{k}];")
        ctx.line(f"  sg_contiguous_strides(&{on});")
    else:
        # x may be a strided view or a caller's array: copy it in C order
        ctx.alloc(out, [f"{req}[{k}]" for k in range(ndim)])
        ctx.line(f"  sg_copy_into({on}.data, &{xn}, sizeof({cdt}));")
    ctx.line("}")


@emit.register(SpecifyShape)
def c_specify_shape(op: SpecifyShape, node: Apply, ctx: EmitContext) -> None:
    x, *lengths = node.inputs
    out = node.outputs[0]
    check_ndim(x)
    ctype(x.type.dtype)  # type: ignore[attr-defined]
    xn = ctx.name(x)
    expected: list[int | None] = list(op.shape)
    runtime: dict[int, str] = {}
    for axis, length in zip(op.symbolic_axes, lengths):
        runtime[axis] = int_scalar(ctx, length)
    conds = [f"{xn}.shape[{a}] != {e}" for a, e in enumerate(expected) if e is not None]
    conds += [f"{xn}.shape[{a}] != {expr}" for a, expr in runtime.items()]
    if conds:
        shown = ", ".join(
            "%lld" if a in runtime else "?" if e is None else str(e) for a, e in enumerate(expected)
        )
        shown = f"({shown}{',' if len(expected) == 1 else ''})"
        args = [f"(long long)({runtime[a]})" for a in range(len(expected)) if a in runtime]
        fail_if(ctx, " || ".join(conds), f"expected shape {shown}, got an array of shape %s",
                *args, shape_str(xn, "s1"), buffers=1, indent="")
    emit_view_of(ctx, out, x)


@emit.register(Unbroadcast)
def c_unbroadcast(op: Unbroadcast, node: Apply, ctx: EmitContext) -> None:
    x, out = node.inputs[0], node.outputs[0]
    check_ndim(x)
    ctype(x.type.dtype)  # type: ignore[attr-defined]
    emit_view_of(ctx, out, x)


# ---------------------------------------------------------------------------------------
# Join, Split
# ---------------------------------------------------------------------------------------
@emit.register(Join)
def c_join(op: Join, node: Apply, ctx: EmitContext) -> None:
    out = node.outputs[0]
    check_ndim(out)
    out_t = ctype(out.type.dtype)  # type: ignore[attr-defined]
    in_types = [ctype(v.type.dtype) for v in node.inputs]  # type: ignore[attr-defined]
    ndim, axis = out.type.ndim, op.axis  # type: ignore[attr-defined]
    names = [ctx.name(v) for v in node.inputs]
    first, on = names[0], ctx.name(out)
    every = ctx.tmp("every")
    ctx.line("{")
    pointers = ", ".join("&" + n for n in names)
    ctx.line(f"  const sg_array *{every}[{len(names)}] = {{{pointers}}};")
    for i, name in enumerate(names[1:], start=1):
        conds = [f"{name}.shape[{a}] != {first}.shape[{a}]" for a in range(ndim) if a != axis]
        if not conds:
            continue
        fail_if(ctx, " || ".join(conds),
                f"input {i} has shape %s but input 0 has shape %s; all lengths must match except "
                f"on the join axis {axis} (input shapes: %s)",
                shape_str(name, "s1"), shape_str(first, "s2"),
                f'sg_shapes_str({every}, {len(names)}, ", ", s3, {BUF})', buffers=3)
    total = " + ".join(f"{n}.shape[{axis}]" for n in names)
    ctx.alloc(out, [total if a == axis else f"{first}.shape[{a}]" for a in range(ndim)])
    ctx.line(f"  {out_t} *po = ({out_t} *){on}.data;")
    ctx.line("  int64_t start = 0;")
    for name, var, in_t in zip(names, node.inputs, in_types):
        ctx.line("  {")
        ctx.line(f"    const {in_t} *pi = (const {in_t} *){name}.data;")
        ctx.line(f"    const int64_t base = start * {on}.strides[{axis}];")
        lengths = [f"{name}.shape[{a}]" for a in range(ndim)]
        dst = offset_expr(["base"] + [f"i{a} * {on}.strides[{a}]" for a in range(ndim)])
        src = offset_expr([f"i{a} * {name}.strides[{a}]" for a in range(ndim)])
        emit_loops(ctx, axis_loops(lengths), [f"po[{dst}] = ({out_t})pi[{src}];"],
                   indent="    ")
        ctx.line(f"    start += {name}.shape[{axis}];")
        ctx.line("  }")
    ctx.line("}")


@emit.register(Split)
def c_split(op: Split, node: Apply, ctx: EmitContext) -> None:
    x, splits = node.inputs
    check_ndim(x)
    cdt = ctype(x.type.dtype)  # type: ignore[attr-defined]
    n, axis = op.n_splits, op.axis
    xn, sn = ctx.name(x), ctx.name(splits)
    sizes = ctx.tmp("sizes")
    ctx.line("{")
    ctx.line(f"  if ({sn}.shape[0] != {n}) "
             + ctx.fail(f"%lld split sizes given for {n} splits", f"(long long){sn}.shape[0]"))
    ctx.line(f"  int64_t {sizes}[{n}], total = 0; int negative = 0;")
    ctx.line(f"  for (int64_t k = 0; k < {n}; ++k) {{")
    ctx.line(f"    {sizes}[k] = {int_vector_entry(ctx, splits, 'k')};")
    ctx.line(f"    negative |= {sizes}[k] < 0; total += {sizes}[k];")
    ctx.line("  }")
    fail_if(ctx, "negative", "split sizes must be >= 0, got %s", ints_str(sizes, n, "s1", 1),
            buffers=1)
    fail_if(ctx, f"total != {xn}.shape[{axis}]",
            f"the split sizes %s add up to %lld, but axis {axis} of the input (shape %s) has "
            "length %lld",
            ints_str(sizes, n, "s1", 1), "(long long)total", shape_str(xn, "s2"),
            f"(long long){xn}.shape[{axis}]", buffers=2)
    ctx.line("  int64_t start = 0;")
    for k, out in enumerate(node.outputs):
        emit_view_of(ctx, out, x)
        on = ctx.name(out)
        ctx.line(f"  {on}.data = (void *)(({cdt} *){xn}.data + start * {xn}.strides[{axis}]);")
        ctx.line(f"  {on}.shape[{axis}] = {sizes}[{k}]; start += {sizes}[{k}];")
    ctx.line("}")


# ---------------------------------------------------------------------------------------
# Alloc, ARange, Eye
# ---------------------------------------------------------------------------------------
@emit.register(Alloc)
def c_alloc(op: Alloc, node: Apply, ctx: EmitContext) -> None:
    value, *lengths = node.inputs
    out = node.outputs[0]
    check_ndim(out)
    cdt = ctype(value.type.dtype)  # type: ignore[attr-defined]
    ndim, vdim = len(lengths), value.type.ndim  # type: ignore[attr-defined]
    pad = ndim - vdim
    vn, on = ctx.name(value), ctx.name(out)
    shp = ctx.tmp("shp")
    ctx.line("{")
    dims = ", ".join(int_scalar(ctx, v) for v in lengths)
    ctx.line(f"  const int64_t {shp}[{max(ndim, 1)}] = {{{dims or '0'}}};")
    if ndim:
        negative = " || ".join(f"{shp}[{a}] < 0" for a in range(ndim))
        fail_if(ctx, negative, "lengths must be >= 0, got %s", ints_str(shp, ndim, "s1"),
                buffers=1)
    stretch = [value.type.shape[a] == 1 for a in range(vdim)]  # type: ignore[attr-defined]
    for a in range(vdim):
        if stretch[a]:
            continue  # as in Elemwise, only axes of static length 1 broadcast
        fail_if(ctx, f"{vn}.shape[{a}] != {shp}[{pad + a}]",
                f"cannot broadcast a value of shape %s to shape %s (axis {pad + a} has length "
                "%lld, requested %lld); only axes of static length 1 broadcast (see "
                "T.addbroadcast)",
                shape_str(vn, "s1"), ints_str(shp, ndim, "s2"),
                f"(long long){vn}.shape[{a}]", f"(long long){shp}[{pad + a}]", buffers=2)
    ctx.alloc(out, [f"{shp}[{a}]" for a in range(ndim)])
    ctx.line(f"  {cdt} *po = ({cdt} *){on}.data;")
    ctx.line(f"  const {cdt} *pv = (const {cdt} *){vn}.data;")
    if all(stretch):
        ctx.line(f"  const {cdt} fill = pv[0];")
        ctx.line(f"  const int64_t n = sg_size(&{on});")
        ctx.line(f"  {ctx.parallel_for('n')}")
        ctx.line("  for (int64_t k = 0; k < n; ++k) po[k] = fill;")
    else:
        terms = [f"i{pad + a} * {vn}.strides[{a}]" for a in range(vdim) if not stretch[a]]
        ctx.line("  int64_t k = 0;")
        emit_loops(ctx, axis_loops([f"{shp}[{a}]" for a in range(ndim)]),
                   [f"po[k++] = pv[{offset_expr(terms)}];"])
    ctx.line("}")


@emit.register(ARange)
def c_arange(op: ARange, node: Apply, ctx: EmitContext) -> None:
    out = node.outputs[0]
    if op.dtype == "bool":
        raise Unsupported("arange of booleans (NumPy has no fill function for them)")
    out_t = ctype(op.dtype)
    in_dtypes = [v.type.dtype for v in node.inputs]  # type: ignore[attr-defined]
    for dtype in in_dtypes:
        ctype(dtype)
    # NumPy reads the bounds as Python numbers: floats if any bound is a float, else ints
    as_float = any(_dt.is_inexact(d) for d in in_dtypes)
    calc_t = "double" if as_float else "int64_t"
    args = []
    for var in node.inputs:
        if is_constant_scalar(var):
            value = np.asarray(var.data).reshape(()).item()  # type: ignore[attr-defined]
            args.append(literal(value, "float64" if as_float else "int64"))
        else:
            args.append(f"(({calc_t}){ctx.data(var)}[0])")
    on = ctx.name(out)
    ctx.line("{")
    ctx.line(f"  const {calc_t} start = {args[0]}, stop = {args[1]}, step = {args[2]};")
    ctx.line("  if (step == 0) " + ctx.fail("step must not be zero"))
    # the length as NumPy computes it: ceil((stop - start) / step) in double precision
    ctx.line("  const double length = ceil((double)(stop - start) / (double)step);")
    ctx.line("  if (isnan(length)) " + ctx.fail("arange: cannot compute length"))
    ctx.line("  if (!(length <= 9.2e18)) " + ctx.fail("Maximum allowed size exceeded"))
    ctx.line("  const int64_t n = length > 0 ? (int64_t)length : 0;")
    ctx.alloc(out, ["n"])
    ctx.line(f"  {out_t} *po = ({out_t} *){on}.data;")
    ctx.line(f"  if (n > 0) po[0] = ({out_t})start;")
    ctx.line(f"  if (n > 1) po[1] = ({out_t})(start + step);")
    if op.dtype in ("float32", "float64"):
        ctx.line(f"  sg_arange_fill_{'f32' if op.dtype == 'float32' else 'f64'}(po, n);")
    else:
        # NumPy's integer fill, in the array's own type (small types wrap around)
        ctx.line("  if (n > 2) {")
        ctx.line(f"    const {out_t} first = po[0], delta = ({out_t})(po[1] - po[0]);")
        ctx.line(f"    for (int64_t i = 2; i < n; ++i) po[i] = ({out_t})(first + i * delta);")
        ctx.line("  }")
    ctx.line("}")


@emit.register(Eye)
def c_eye(op: Eye, node: Apply, ctx: EmitContext) -> None:
    out = node.outputs[0]
    out_t = ctype(op.dtype)
    rows, cols, k = (int_scalar(ctx, v) for v in node.inputs)
    on = ctx.name(out)
    ctx.line("{")
    ctx.line(f"  const int64_t n = {rows}, m = {cols}, k = {k};")
    ctx.line("  if (n < 0 || m < 0) "
             + ctx.fail("n and m must be >= 0, got n=%lld, m=%lld", "(long long)n", "(long long)m"))
    ctx.alloc(out, ["n", "m"])
    ctx.line(f"  {out_t} *po = ({out_t} *){on}.data;")
    ctx.line(f"  for (int64_t i = 0, size = n * m; i < size; ++i) po[i] = ({out_t})0;")
    ctx.line("  if (k < m && k > -n) {")
    ctx.line("    const int64_t first = k < 0 ? -k : 0, end = m - k < n ? m - k : n;")
    ctx.line(f"    for (int64_t i = first; i < end; ++i) po[i * m + i + k] = ({out_t})1;")
    ctx.line("  }")
    ctx.line("}")


# ---------------------------------------------------------------------------------------
# Tile, Repeat
# ---------------------------------------------------------------------------------------
@emit.register(Tile)
def c_tile(op: Tile, node: Apply, ctx: EmitContext) -> None:
    x, out = node.inputs[0], node.outputs[0]
    check_ndim(x)
    cdt = ctype(x.type.dtype)  # type: ignore[attr-defined]
    xn, on = ctx.name(x), ctx.name(out)
    ndim = x.type.ndim  # type: ignore[attr-defined]
    ctx.line("{")
    ctx.alloc(out, [f"{xn}.shape[{a}] * {r}" for a, r in enumerate(op.reps)])
    ctx.line(f"  {cdt} *po = ({cdt} *){on}.data;")
    ctx.line(f"  const {cdt} *px = (const {cdt} *){xn}.data;")
    ctx.line("  int64_t k = 0;")
    # output index on axis a is r * length + j: looping r then j, axis by axis, is C order
    loops: list[tuple[str, str]] = []
    for a, reps in enumerate(op.reps):
        if reps != 1:
            loops.append((f"r{a}", str(reps)))
        loops.append((f"j{a}", f"{xn}.shape[{a}]"))
    src = offset_expr([f"j{a} * {xn}.strides[{a}]" for a in range(ndim)])
    emit_loops(ctx, loops, [f"po[k++] = px[{src}];"])
    ctx.line("}")


@emit.register(Repeat)
def c_repeat(op: Repeat, node: Apply, ctx: EmitContext) -> None:
    x, repeats = node.inputs
    out = node.outputs[0]
    check_ndim(x)
    cdt = ctype(x.type.dtype)  # type: ignore[attr-defined]
    ndim, axis = x.type.ndim, op.axis  # type: ignore[attr-defined]
    xn, on = ctx.name(x), ctx.name(out)
    ctx.line("{")
    ctx.line(f"  const int64_t n = {xn}.shape[{axis}];")
    if repeats.type.ndim == 0:  # type: ignore[attr-defined]
        ctx.line(f"  const int64_t single = {int_scalar(ctx, repeats)};")
        ctx.line("  if (single < 0) "
                 + ctx.fail("repeats must be >= 0, got %lld", "(long long)single"))
        ctx.line("  const int64_t length = n * single;")
        count = "single"
    else:
        rn = ctx.name(repeats)
        ctx.line(f"  const int64_t counts = {rn}.shape[0];")
        fail_if(ctx, "counts != 1 && counts != n",
                f"%lld repeat counts for axis {axis} of length %lld (input shape %s); give one "
                "count per element, or a single count",
                "(long long)counts", "(long long)n", shape_str(xn, "s1"), buffers=1)
        ctx.line("  int64_t length = 0; int negative = 0;")
        ctx.line("  for (int64_t j = 0; j < counts; ++j) {")
        ctx.line(f"    const int64_t c = {int_vector_entry(ctx, repeats, 'j')};")
        ctx.line("    negative |= c < 0; length += c;")
        ctx.line("  }")
        # the counts as Python shows a list: they may be of any integer dtype, and strided
        ctx.line(f"  if (negative) {{ char s1[{BUF}]; size_t used = 0; s1[0] = 0;")
        ctx.line(f'    sg_appendf(s1, {BUF}, &used, "[");')
        ctx.line("    for (int64_t j = 0; j < counts; ++j)")
        ctx.line(f'      sg_appendf(s1, {BUF}, &used, j ? ", %lld" : "%lld", '
                 f"(long long){int_vector_entry(ctx, repeats, 'j')});")
        ctx.line(f'    sg_appendf(s1, {BUF}, &used, "]");')
        ctx.line("    " + ctx.fail("repeats must be >= 0, got %s", "s1") + " }")
        ctx.line("  if (counts == 1) length *= n;")
        first, each = int_vector_entry(ctx, repeats, "0"), int_vector_entry(ctx, repeats, "j")
        count = f"(counts == 1 ? {first} : {each})"
    ctx.alloc(out, ["length" if a == axis else f"{xn}.shape[{a}]" for a in range(ndim)])
    ctx.line(f"  {cdt} *po = ({cdt} *){on}.data;")
    ctx.line(f"  const {cdt} *px = (const {cdt} *){xn}.data;")
    ctx.line("  int64_t k = 0;")
    src = offset_expr([f"{'j' if a == axis else f'i{a}'} * {xn}.strides[{a}]"
                       for a in range(ndim)])
    loops = [(f"i{a}", f"{xn}.shape[{a}]") for a in range(axis)] + [("j", "n"), ("c", count)]
    loops += [(f"i{a}", f"{xn}.shape[{a}]") for a in range(axis + 1, ndim)]
    emit_loops(ctx, loops, [f"po[k++] = px[{src}];"])
    ctx.line("}")
