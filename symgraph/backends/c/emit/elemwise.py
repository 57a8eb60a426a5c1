"""C emitters for Elemwise (one loop per node, in a kernel shared by equal loops) and DimShuffle (a view).

Each Elemwise node's loop is a small static function (a *kernel*) and the segment calls
it. The kernel's text depends only on what the loop computes (scalar program, dtypes,
broadcast pattern, inlined constants), never on the node's variable names, and it is
named by a hash of that text; nodes that compute the same thing, as the repeated layers
of a network or the steps of an unrolled chain and its gradient do, therefore share one
kernel, and gcc compiles each distinct loop once, in a function of its own (issue 6, W6).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from symgraph.backends.c.ctypes import ctype, literal
from symgraph.backends.c.emit import EmitContext, emit, is_constant_scalar
from symgraph.backends.c.emit.scalar import scalar_expr
from symgraph.graph.node import Apply, Variable
from symgraph.tensor.elemwise import DimShuffle, Elemwise

#: in a call to a kernel, stands for the workspace slot of the output named inside the
#: parentheses; the segment's memory plan replaces it (backends/c/module.py)
WS_SLOT = "SG_WS_SLOT({})"
#: the prefix of kernels' names in ``ctx.helpers`` (what they share, sg_ew_alloc and the
#: like, is in csrc/symgraph_runtime.h, prebuilt in the runtime library); a kernel is defined
#: as ``SG_KERNEL int name(...) {``, ``SG_KERNEL`` being ``static`` and ``noinline``
#: (each kernel stays a small function for gcc, however many nodes call it) unless the
#: source is built as several translation units (module.py, build.py)
KERNEL_PREFIX = "sg_ew_"


#: every kernel's parameters: its node's index (for errors), the output's workspace slot
#: (NULL: a fresh buffer), the output, and its input arrays in the kernel's order
KERNEL_PARAMETERS = "sg_error *err, int64_t sg_node, sg_ws_slot *sg_slot, sg_array *sg_o, sg_array *const *sg_in"
_CALL = re.compile(r"\{ sg_array \*const sg_args\[\] = \{(?P<ins>[^}]*)\}; if \((?P<kernel>\w+)\(err, (?P<node>\d+), "
                   r"SG_WS_SLOT\((?P<out>\w+)\), &(?P=out), sg_args\)\) goto sg_cleanup; \}")


def kernel_declaration(code: str) -> str | None:
    """The prototype of the kernel that ``code`` (a helper) defines, or None."""
    start = code.find("SG_KERNEL ")
    return None if start < 0 else code[start:code.index(") {", start) + 1] + ";"


def kernel_call(kernel: str, node_index: int, out: str, inputs: list[str]) -> str:
    """The statement by which a segment calls ``kernel`` for one node (one line)."""
    args = ", ".join(f"&{name}" for name in inputs) or "NULL"
    return (f"{{ sg_array *const sg_args[] = {{{args}}}; if ({kernel}(err, {node_index}, "
            f"{WS_SLOT.format(out)}, &{out}, sg_args)) goto sg_cleanup; }}")


def borrow_slot(ctx: EmitContext, out: Variable, var: Variable) -> str:
    """The opening of a block that lends ``var``'s buffer to ``out`` through a workspace slot
    named ``sg_over`` (an update computed over the variable's own buffer: backends/c/inplace.py).
    The slot lends it only when ``var`` is C-contiguous and not empty, and sg_ws_alloc takes
    it only for a result of exactly its size (SG_WS_BORROWED); otherwise the slot is empty and
    ``out`` gets a fresh buffer. The caller closes the block."""
    vn = ctx.name(var)
    ctx.aliases[out] = var
    return (f"{{ sg_ws_slot sg_over = {{0}}; if (sg_is_contiguous(&{vn}) && sg_size(&{vn}) > 0) "
            f"{{ sg_over.ptr = {vn}.data; "
            f"sg_over.cap = ((size_t)sg_size(&{vn}) * sizeof({ctype(var.type.dtype)})) | SG_WS_BORROWED; }}")  # type: ignore[attr-defined]


def parse_kernel_call(line: str) -> tuple[str, int, str, list[str]] | None:
    """``kernel_call``'s arguments back from its statement, or None for any other line."""
    match = _CALL.fullmatch(line)
    if match is None:
        return None
    ins = match["ins"]
    names = [] if ins == "NULL" else [name.strip().lstrip("&") for name in ins.split(",")]
    return match["kernel"], int(match["node"]), match["out"], names


def emit_shape_check(node: Apply, ctx: EmitContext, shape_var: str,
                     name: Callable[[Variable], str] | None = None,
                     fail: Callable[..., str] | None = None) -> None:
    """Compute the broadcast output shape into ``shape_var``; fail on a mismatch.

    Only axes of static length 1 broadcast, as in the py backend. ``name`` and ``fail``
    default to ``ctx.name`` and ``ctx.fail`` (a kernel passes its own parameter names).
    """
    name = name or ctx.name
    fail = fail or ctx.fail
    out = node.outputs[0]
    ndim = out.type.ndim  # type: ignore[attr-defined]
    for axis in range(ndim):
        sources = [i for i, v in enumerate(node.inputs) if v.type.shape[axis] != 1]  # type: ignore[attr-defined]
        if not sources:
            ctx.line(f"{shape_var}[{axis}] = 1;")
            continue
        first = name(node.inputs[sources[0]])
        ctx.line(f"{shape_var}[{axis}] = {first}.shape[{axis}];")
        for i in sources[1:]:
            other = name(node.inputs[i])
            ctx.line(
                f"if ({other}.shape[{axis}] != {shape_var}[{axis}]) {{ char s1[96], s2[96]; "
                + fail(
                    f"input shapes %s and %s do not match on axis {axis}: input {sources[0]} has length %lld, "
                    f"input {i} has length %lld. Only axes declared broadcastable (static length 1, e.g. "
                    "T.row(), T.col() or x.dimshuffle('x', 0)) broadcast",
                    f"sg_shape_str(&{first}, s1, 96)", f"sg_shape_str(&{other}, s2, 96)",
                    f"(long long){shape_var}[{axis}]", f"(long long){other}.shape[{axis}]",
                )
                + " }"
            )


def _kernel_fail(fmt: str, *args: str) -> str:
    """``ctx.fail`` inside a kernel: the node index is the kernel's ``sg_node`` argument."""
    extra = "".join(f", {a}" for a in args)
    escaped = fmt.replace('"', '\\"')
    return f'SG_FAIL(err, sg_node, "{escaped}"{extra});'




#: the most sin/cos calls a loop computes inline (_guarded_trig_loop): each is about 25 vector
#: instructions where a libmvec call is one, in a loop gcc compiles 8 wide. W6's gradient
#: kernels have up to 6 cos each: inline, its N=1000 compile took 2.9 s instead of 1.4 s
MAX_GUARDED_TRIG = 2


def _guarded_trig_loop(op: Elemwise, args: list[str], in_dtypes: list[str], out_dtype: str,
                       params: list[tuple[str, str]]) -> str:
    """The fast first pass of a flat range function whose expression has sin or cos: the
    inline sg_vsin/sg_vcos (accurate for |x| <= 2^40, 2^17 in float32; libmvec's are
    accurate everywhere but about 1.5x slower) with their range guards ORed into a flag.
    It returns when no argument was past that range; otherwise the libmvec loop after it
    recomputes the range, so it runs only where the output's range overlaps no input's (an
    output computed in place has overwritten the inputs it would recompute from). Empty
    for an expression without sin or cos, or with more than MAX_GUARDED_TRIG (W1: issue 6)."""
    flags: dict[str, Any] = {"trig_guards": []}
    fast = scalar_expr(op.scalar_op, args, in_dtypes, out_dtype, flags)
    guards = list(dict.fromkeys(flags["trig_guards"]))
    calls = fast.count("sg_vsin_") + fast.count("sg_vcos_")
    if not calls or calls > MAX_GUARDED_TRIG:
        return ""
    apart = " && ".join(f"sg_apart(po + lo, po + hi, {name} + lo, {name} + hi)"
                        for ctype_, name in params[1:] if ctype_.endswith("*"))
    # the int flag also makes gcc vectorize a float64 loop 8 elements at a time (two AVX
    # vectors per value, two chains to interleave): W1's loop took 3.62 ms with it, 4.01 ms
    # with the inline sin and no flag (4 at a time), 3.79 ms with libmvec's sin (docs/vecmath.rst)
    body = "".join(f"      sg_trig_bad |= {g};\n" for g in guards)
    return (f"  if ({apart or '1'}) {{\n    int sg_trig_bad = 0;\n"
            "    #pragma omp simd reduction(|:sg_trig_bad)\n    for (int64_t k = lo; k < hi; ++k) {\n"
            f"{body}      po[k] = {fast};\n    }}\n    if (!sg_trig_bad) return;\n  }}\n")


@emit.register(Elemwise)
def c_elemwise(op: Elemwise, node: Apply, ctx: EmitContext) -> None:
    out = node.outputs[0]
    ndim = out.type.ndim  # type: ignore[attr-defined]
    in_dtypes = [v.type.dtype for v in node.inputs]  # type: ignore[attr-defined]
    out_dtype = out.type.dtype  # type: ignore[attr-defined]
    out_c = ctype(out_dtype)
    flags: dict[str, Any] = {}
    # validate the expression first so an unsupported node emits nothing
    scalar_expr(op.scalar_op, [f"a{i}" for i in range(len(node.inputs))], in_dtypes, out_dtype, flags)

    # the kernel's arrays: the output, then each distinct input read from an array
    pointer: dict[Variable, str] = {}
    for var in node.inputs:
        if not is_constant_scalar(var) and var not in pointer:
            pointer[var] = f"sg_a{len(pointer)}"

    # the kernel's body; nothing in it names a segment variable, so equal loops read equal
    body: list[str] = [f"const sg_array *{name} = sg_in[{k}];" for k, name in enumerate(pointer.values())]
    line = body.append
    line(f"int64_t sg_shape[{max(ndim, 1)}];")
    checked = False
    for axis in range(ndim):
        # a constant scalar (inlined, never an array here) broadcasts whatever its type says
        sources = [v for v in node.inputs if v in pointer and v.type.shape[axis] != 1]  # type: ignore[attr-defined]
        if not sources:
            line(f"sg_shape[{axis}] = 1;")
            continue
        line(f"sg_shape[{axis}] = {pointer[sources[0]]}->shape[{axis}];")
        others = [f"{pointer[v]}->shape[{axis}] != sg_shape[{axis}]" for v in sources[1:]
                  if v is not sources[0]]
        if others:
            line(f"if ({' || '.join(others)}) goto sg_bad_shape;")
            checked = True
    line(f"if (!sg_ew_alloc(sg_slot, sg_o, {ndim}, sg_shape, sizeof({out_c}))) "
         + _kernel_fail("out of memory allocating %lld elements", "(long long)sg_size(sg_o)"))
    # no `restrict`: the memory plan may give the output an input's buffer (in place); the
    # contiguous loop is vectorized by its `omp simd` pragma, which needs no alias proof
    line(f"{out_c} *po = ({out_c} *)sg_o->data;")
    if flags.get("pow_error"):
        line("int sg_bad = 0;")

    # inputs: constants inline, fully broadcast inputs hoisted, others indexed. Without
    # broadcasting, every indexed input has the output's shape: the loop is one flat
    # vectorized pass, a strided input being copied to a contiguous buffer first (rare,
    # and cheaper for gcc than a second, strided copy of the loop in every kernel). With
    # broadcasting, the loop runs along the last axis, each input that varies along it read
    # through a row pointer with unit stride (sg_ew_rows copies an input that has another);
    # gcc then compiles one vector loop, not one per stride case
    indexed = [v for v in node.inputs if not is_constant_scalar(v) and not all(s == 1 for s in v.type.shape)]  # type: ignore[attr-defined]
    broadcasting = any(any(s == 1 for s in v.type.shape) for v in indexed)  # type: ignore[attr-defined]
    scalar_out = not indexed  # every input one element: so is the output
    last = ndim - 1
    copies: dict[Variable, int] = {}
    rows: dict[Variable, tuple[str, str]] = {}  # input -> (row pointer, its definition)
    params: list[tuple[str, str]] = [(f"{out_c} *", "po")]  # the flat loop's range function's parameters
    args = []
    for i, var in enumerate(node.inputs):
        cdt = ctype(var.type.dtype)  # type: ignore[attr-defined]
        if is_constant_scalar(var):
            args.append(literal(np.asarray(var.data).reshape(()).item(), var.type.dtype))  # type: ignore[attr-defined]
            continue
        name = pointer[var]
        if var not in indexed:
            line(f"const {cdt} s{i} = *({cdt} *){name}->data;")
            args.append(f"s{i}")
            params.append((f"const {cdt} ", f"s{i}"))
        elif broadcasting:
            kept = [a for a in range(ndim) if var.type.shape[a] != 1]  # type: ignore[attr-defined]
            if last not in kept:
                line(f"const {cdt} *p{i} = (const {cdt} *){name}->data;")
                for a in kept:
                    line(f"const int64_t st{i}_{a} = {name}->strides[{a}];")
                terms = [f"i{a} * st{i}_{a}" for a in kept]
                args.append(f"p{i}[{' + '.join(terms) if terms else '0'}]")
                continue
            if var not in rows:
                copies[var] = j = len(copies)
                line(f"const sg_array *sg_r{i} = sg_ew_rows({name}, &sg_copy[{j}], sizeof({cdt}));")
                line(f"if (!sg_r{i}) "
                     + _kernel_fail("out of memory copying a strided input to a contiguous buffer"))
                line(f"const {cdt} *p{i} = (const {cdt} *)sg_r{i}->data;")
                for a in kept[:-1]:
                    line(f"const int64_t st{i}_{a} = sg_r{i}->strides[{a}];")
                offset = " + ".join(f"i{a} * st{i}_{a}" for a in kept[:-1]) or "0"
                rows[var] = (f"r{i}", f"const {cdt} *const r{i} = p{i} + {offset};")
            args.append(f"{rows[var][0]}[i{last}]")
        else:
            if var not in copies:
                copies[var] = len(copies)
                line(f"const {cdt} *p{copies[var]} = (const {cdt} *)sg_ew_input({name}, &sg_copy[{copies[var]}], sizeof({cdt}));")
                params.append((f"const {cdt} *", f"p{copies[var]}"))
            args.append(f"p{copies[var]}[k]")
    if copies:
        body.insert(0, f"sg_array sg_copy[{len(copies)}] = {{{{0}}}};")
        if not broadcasting:
            line(f"if ({' || '.join(f'!p{j}' for j in range(len(copies)))}) "
                 + _kernel_fail("out of memory copying a strided input to a contiguous buffer"))

    expr = scalar_expr(op.scalar_op, args, in_dtypes, out_dtype, flags)
    range_fn = ""
    if scalar_out:
        # one element: no loop for gcc to vectorize, unroll or split across threads
        line(f"po[0] = {expr};")
    elif not broadcasting and flags.get("pow_error"):
        line("const int64_t n = sg_size(sg_o);")
        line(ctx.parallel_for("n"))
        line("for (int64_t k = 0; k < n; ++k)")
        line(f"  po[k] = {expr};")
    elif not broadcasting:
        # the loop is compiled once, in a range function that the threads (a large output)
        # or the kernel itself (a small one, without entering OpenMP) call
        names = ", ".join(name for _, name in params)
        range_fn = (f"static __attribute__((noinline)) void (sg_kernel)_range(int64_t lo, int64_t hi, "
                    f"{', '.join(t + name for t, name in params)}) {{\n"
                    + _guarded_trig_loop(op, args, in_dtypes, out_dtype, params)
                    + f"  #pragma omp simd\n  for (int64_t k = lo; k < hi; ++k)\n    po[k] = {expr};\n}}\n")
        line("const int64_t n = sg_size(sg_o);")
        line(f"if (n > {ctx.openmp_threshold}) {{")
        line(f"  {ctx.parallel_region()}")
        line(f"  {{ int64_t lo, hi; sg_thread_share(n, 16, &lo, &hi); (sg_kernel)_range(lo, hi, {names}); }}")
        line(f"}} else (sg_kernel)_range(0, n, {names});")
    else:
        # one vectorized pass along the last axis per position of the others (a bias add
        # over rows: a contiguous row plus a broadcast one)
        line("int64_t k = 0;")
        for a in range(last):
            line(f"for (int64_t i{a} = 0; i{a} < sg_shape[{a}]; ++i{a})")
        line("{")
        line(f"  {out_c} *const pr = po + k;")
        for _, definition in rows.values():
            line(f"  {definition}")
        line("  #pragma omp simd")
        line(f"  for (int64_t i{last} = 0; i{last} < sg_shape[{last}]; ++i{last})")
        line(f"    pr[i{last}] = {expr};")
        line(f"  k += sg_shape[{last}];")
        line("}")
    if flags.get("pow_error"):
        line("if (sg_bad) " + _kernel_fail("Integers to negative integer powers are not allowed."))
    release = "".join(f"free(sg_copy[{j}].data); " for j in range(len(copies)))
    line(f"{release}return 0;")
    if checked:
        arrays = ", ".join(pointer.get(v, "NULL") for v in node.inputs)
        pattern = "".join("1" if s == 1 or v not in pointer else "." for v in node.inputs  # type: ignore[attr-defined]
                          for s in v.type.shape)
        line(f"sg_bad_shape: {{ const sg_array *const sg_all[] = {{{arrays}}};")
        line(f'  return sg_ew_shape_error(err, sg_node, sg_all, {len(node.inputs)}, {ndim}, "{pattern}"); }}')

    text = (f"(sg_kernel)({KERNEL_PARAMETERS}) {{\n" + "".join(f"  {t}\n" for t in body)
            + f"sg_cleanup:\n  {release}return 1;\n}}")
    kernel = KERNEL_PREFIX + hashlib.sha1((range_fn + text).encode()).hexdigest()[:16]
    ctx.helper(kernel, f"/* {op} */\n" + range_fn.replace("(sg_kernel)", kernel)
               + "SG_KERNEL int " + text.replace("(sg_kernel)", kernel))
    ctx.owning[out] = None  # the kernel allocates it (sg_alloc, or its workspace slot)
    call = kernel_call(kernel, ctx.node_index, ctx.name(out), [ctx.name(v) for v in pointer])
    if node in ctx.destroy:
        # an update computed over the variable's own buffer (backends/c/inplace.py): the
        # kernel's slot lends that buffer, which has the result's shape (a result of any
        # other size would get a fresh buffer: SG_WS_BORROWED); a strided or empty
        # variable leaves the slot empty, so the kernel allocates a fresh one
        ctx.line(borrow_slot(ctx, out, node.inputs[ctx.destroy[node]]))
        ctx.line("  " + call.replace(WS_SLOT.format(ctx.name(out)), "&sg_over") + " }")
        return
    ctx.line(call)


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
