"""C emitters for indexing: ``Subtensor`` (a view), ``AdvancedSubtensor`` (a gather),
``IncSubtensor`` / ``AdvancedIncSubtensor`` (a copy of ``x`` whose indexed region is set or
incremented), and ``Nonzero``.

All four share one plan of the index, worked out from ``idx_list`` when the code is
emitted: integers move the base offset, slices give an output axis a length and a stride
(``slice.indices`` semantics at run time), ``None`` adds an axis of length 1, and integer
arrays are broadcast together and gathered, their result placed as NumPy places it. A
boolean mask is what NumPy makes of it, the integer arrays of its true positions
(``mask.nonzero()``): its index shape is ``(count,)``, and once every check has passed
the element offsets of those positions are listed in a scratch buffer that the gather or
update loop reads. Runtime errors use the py backend's wording
(``backends/py/impls/subtensor.py``) and NumPy's for index arrays and masks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from symgraph.backends.c.ctypes import Unsupported, ctype
from symgraph.backends.c.emit import EmitContext, emit, is_constant_scalar
from symgraph.backends.c.emit.shape import (
    BUF, axis_loops, check_ndim, emit_loops, fail_if, int_scalar, ints_str, offset_expr, shape_str,
)
from symgraph.graph.node import Apply, Variable
from symgraph.scalar import dtypes as _dt
from symgraph.tensor.subtensor import (
    ARRAY, INT, MASK, AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor, IndexEntry,
    Nonzero, SliceSpec, Subtensor, group_index_inputs,
)

#: (start, stop, step) of a slice: each an index input, or None where the slice leaves it out
Bounds = tuple[Variable | None, Variable | None, Variable | None]
FULL: Bounds = (None, None, None)


@dataclass
class _OutAxis:
    """One axis of the indexed result."""

    kind: str  # "slice" (of x's axis x_axis), "new" (None in the index), "adv" (index arrays)
    x_axis: int = -1
    bounds: Bounds = FULL
    adv_dim: int = -1  # for "adv": the axis of the broadcast index arrays

    @property
    def whole(self) -> bool:
        """A slice that takes all of its axis (``:``)."""
        # (`is None`, not `==`: comparing variables may build graph)
        return self.kind == "slice" and all(bound is None for bound in self.bounds)


@dataclass
class _IndexArray:
    """An advanced index: an integer array, or a boolean mask covering ``var.ndim`` axes."""

    var: Variable
    axis: int  # the (first) axis of x that it indexes
    mask: bool = False

    @property
    def rank(self) -> int:
        """Number of axes of its index shape; a mask's is ``(count of true entries,)``."""
        return 1 if self.mask else self.var.type.ndim  # type: ignore[attr-defined, no-any-return]


@dataclass
class _Plan:
    """What an index does, known when the code is generated."""

    axes: list[_OutAxis]
    #: in index order, the integers and slices: ("int", index var, x axis) or ("slice", its
    #: output axis, x axis)
    steps: list[tuple[str, Any, int]] = field(default_factory=list)
    arrays: list[_IndexArray] = field(default_factory=list)  # in index order
    adv_ndim: int = 0

    @property
    def masks(self) -> list[tuple[int, _IndexArray]]:
        """The masks among ``arrays``, with their positions there."""
        return [(j, index) for j, index in enumerate(self.arrays) if index.mask]

    def adv_position(self, dim: int) -> int:
        """The output axis that holds axis ``dim`` of the broadcast index arrays."""
        return next(k for k, ax in enumerate(self.axes) if ax.kind == "adv" and ax.adv_dim == dim)


def _make_plan(idx_list: Sequence[IndexEntry], x_ndim: int, values: Sequence[Variable]) -> _Plan:
    """Mirror of ``symgraph.tensor.subtensor._indexed_shape``: NumPy's placement rules."""
    grouped = list(group_index_inputs(idx_list, values))
    consumed = sum(value.type.ndim if entry == MASK else 1 for entry, value in grouped
                   if entry in (INT, ARRAY, MASK) or isinstance(entry, SliceSpec))
    plan = _Plan(axes=[])
    adv_positions: list[int] = []
    insert_at = 0
    axis = 0
    for position, (entry, value) in enumerate(grouped):
        if entry is None:
            plan.axes.append(_OutAxis("new"))
        elif entry is Ellipsis:
            for _ in range(x_ndim - consumed):
                plan.axes.append(_OutAxis("slice", axis))
                axis += 1
        elif isinstance(entry, SliceSpec):
            out_axis = _OutAxis("slice", axis, value)
            plan.steps.append(("slice", out_axis, axis))
            plan.axes.append(out_axis)
            axis += 1
        elif entry in (INT, ARRAY, MASK):
            if not adv_positions:
                insert_at = len(plan.axes)
            adv_positions.append(position)
            if entry == INT:
                plan.steps.append(("int", value, axis))
            else:
                plan.arrays.append(_IndexArray(value, axis, mask=entry == MASK))
            axis += value.type.ndim if entry == MASK else 1
        else:
            raise Unsupported(f"index entry {entry!r}")
    plan.axes.extend(_OutAxis("slice", a) for a in range(axis, x_ndim))
    if plan.arrays:
        plan.adv_ndim = max(index.rank for index in plan.arrays)
        if adv_positions != list(range(adv_positions[0], adv_positions[-1] + 1)):
            insert_at = 0  # advanced indices apart from each other: their result goes first
        adv_axes = [_OutAxis("adv", adv_dim=d) for d in range(plan.adv_ndim)]
        plan.axes[insert_at:insert_at] = adv_axes
    return plan


def _slice_bound(ctx: EmitContext, var: Variable | None) -> tuple[str, str]:
    """(C flag saying the bound is given, its int64 value)."""
    return ("0", "0") if var is None else ("1", int_scalar(ctx, var))


def _emit_basic(ctx: EmitContext, plan: _Plan, shapes: str, strides: str) -> None:
    """Declare ``off``, ``ilen[]`` and ``ist[]``: the base offset and, per output axis, length
    and stride, for the integers and slices of ``plan`` (index-array axes are set later).

    ``shapes`` names the sg_array whose lengths are indexed (and checked), ``strides`` the one
    whose strides are used (a copy of it, for the Inc ops).
    """
    ndim = len(plan.axes)
    ctx.line(f"  int64_t off = 0, ilen[{max(ndim, 1)}], ist[{max(ndim, 1)}];")
    for k, ax in enumerate(plan.axes):
        if ax.kind == "new":
            ctx.line(f"  ilen[{k}] = 1; ist[{k}] = 0;")
        elif ax.whole:
            ctx.line(f"  ilen[{k}] = {shapes}.shape[{ax.x_axis}]; "
                     f"ist[{k}] = {strides}.strides[{ax.x_axis}];")
    # checks in index order, as the py backend makes them
    for kind, what, axis in plan.steps:
        if kind == "int":
            ctx.line(f"  {{ const int64_t i = {int_scalar(ctx, what)}, n = {shapes}.shape[{axis}];")
            fail_if(ctx, "i < -n || i >= n",
                    f"index %lld is out of bounds for axis {axis} with length %lld "
                    "(valid indices: %lld to %lld)",
                    "(long long)i", "(long long)n", "(long long)-n", "(long long)(n - 1)",
                    indent="    ")
            ctx.line(f"    off += sg_wrap_index(i, n) * {strides}.strides[{axis}]; }}")
            continue
        ax = what
        k = next(k for k, other in enumerate(plan.axes) if other is ax)
        if ax.whole:
            continue
        start, stop, step = ax.bounds
        has_start, start_v = _slice_bound(ctx, start)
        has_stop, stop_v = _slice_bound(ctx, stop)
        step_v = "1" if step is None else int_scalar(ctx, step)
        ctx.line(f"  {{ const int64_t n = {shapes}.shape[{axis}], step = {step_v};")
        if step is not None and not is_constant_scalar(step):
            fail_if(ctx, "step == 0", f"slice step cannot be zero (axis {axis})", indent="    ")
        ctx.line("    int64_t first, count;")
        ctx.line(f"    sg_slice_indices(n, {has_start}, {start_v}, {has_stop}, {stop_v}, step, "
                 "&first, &count);")
        ctx.line(f"    ilen[{k}] = count; ist[{k}] = {strides}.strides[{axis}] * step;")
        ctx.line(f"    if (count > 0) off += first * {strides}.strides[{axis}]; }}")


def _mask_loops(ctx: EmitContext, index: _IndexArray) -> tuple[list[tuple[str, str]], str]:
    """Loops over a mask's axes (indices ``m0, m1, ...``) and the C expression of its entry."""
    name = ctx.name(index.var)
    rank = index.var.type.ndim  # type: ignore[attr-defined]
    loops = axis_loops([f"{name}.shape[{e}]" for e in range(rank)], "m")
    where = offset_expr([f"m{e} * {name}.strides[{e}]" for e in range(rank)])
    entry = f"{ctx.data(index.var)}[{where}]"
    return loops, entry


def _emit_masks(ctx: EmitContext, plan: _Plan, shapes: str) -> None:
    """Check each mask's shape against the axes it covers (NumPy's message) and count its true
    entries (``mcount<j>``); ``mshape<j>`` describes its index shape ``(count,)``."""
    for j, index in plan.masks:
        name = ctx.name(index.var)
        if index.var.type.dtype != "bool":  # type: ignore[attr-defined]
            raise Unsupported(f"mask {index.var} is not boolean")
        for e in range(index.var.type.ndim):  # type: ignore[attr-defined]
            axis = index.axis + e
            fail_if(ctx, f"{name}.shape[{e}] != {shapes}.shape[{axis}]",
                    f"boolean index did not match indexed array along axis {axis}; size of axis "
                    "is %lld but size of corresponding boolean axis is %lld",
                    f"(long long){shapes}.shape[{axis}]", f"(long long){name}.shape[{e}]")
        loops, entry = _mask_loops(ctx, index)
        ctx.line(f"  int64_t mcount{j} = 0;")
        emit_loops(ctx, loops, [f"mcount{j} += {entry} != 0;"])
        ctx.line(f"  sg_array mshape{j} = {{0}}; mshape{j}.ndim = 1; "
                 f"mshape{j}.shape[0] = mcount{j};")


def _emit_mask_offsets(ctx: EmitContext, plan: _Plan, strides: str) -> None:
    """List, per mask, the element offsets (with ``strides``'s strides) of its true entries in
    C order: ``mofs<j>[]``, freed by ``_free_mask_offsets``. Emit this after every check that
    can fail, so that no failure leaves these buffers behind."""
    masks = plan.masks
    if not masks:
        return
    for j, _ in masks:
        # (one spare entry: the branch-free fill below writes one past the last true entry)
        ctx.line(f"  int64_t *mofs{j} = malloc(sizeof(int64_t) * (size_t)(mcount{j} + 1));")
    missing = " || ".join(f"!mofs{j}" for j, _ in masks)
    ctx.line(f"  if ({missing}) {{ {_free_mask_offsets(plan)} {ctx.fail('out of memory')} }}")
    for j, index in masks:
        loops, entry = _mask_loops(ctx, index)
        rank = index.var.type.ndim  # type: ignore[attr-defined]
        where = offset_expr([f"m{e} * {strides}.strides[{index.axis + e}]" for e in range(rank)])
        # branch-free: every entry writes its offset, and only a true one keeps it
        ctx.line("  { int64_t q = 0;")
        emit_loops(ctx, loops, [f"mofs{j}[q] = {where}; q += {entry} != 0;"], indent="    ")
        ctx.line("  }")


def _free_mask_offsets(plan: _Plan) -> str:
    return " ".join(f"free(mofs{j});" for j, _ in plan.masks)


def _emit_index_arrays(ctx: EmitContext, plan: _Plan, shapes: str) -> None:
    """Broadcast the index arrays (``bshape[]``), check their values against ``shapes``'s
    lengths, and set ``ilen[]`` on their output axes; ``ast<j>[]`` are their broadcast strides.

    Masks are checked and counted first (``_emit_masks``): NumPy checks them when it reads the
    index, before it broadcasts the index arrays and checks their values.
    """
    _emit_masks(ctx, plan, shapes)
    nb = plan.adv_ndim
    ones = ", ".join(["1"] * max(nb, 1))
    ctx.line(f"  int64_t bshape[{max(nb, 1)}] = {{{ones}}}; int mismatch = 0;")
    shapes_of = []  # per index array, the sg_array holding its index shape
    for j, index in enumerate(plan.arrays):
        holder = f"mshape{j}" if index.mask else ctx.name(index.var)
        shapes_of.append(holder)
        for e in range(index.rank):
            d = e + nb - index.rank
            length = f"{holder}.shape[{e}]"
            ctx.line(f"  if ({length} != 1) {{ if (bshape[{d}] == 1) bshape[{d}] = {length}; "
                     f"else if (bshape[{d}] != {length}) mismatch = 1; }}")
    every = ctx.tmp("every")
    pointers = ", ".join("&" + n for n in shapes_of)
    ctx.line(f"  const sg_array *{every}[{len(shapes_of)}] = {{{pointers}}};")
    fail_if(ctx, "mismatch",
            "shape mismatch: indexing arrays could not be broadcast together with shapes %s ",
            f'sg_shapes_str({every}, {len(shapes_of)}, " ", s1, {BUF})', buffers=1)
    # NumPy checks the index values only when the broadcast index is not empty (a mask's
    # true positions are in bounds by construction)
    size = " * ".join(f"bshape[{d}]" for d in range(nb)) or "1"
    ctx.line(f"  if ({size} > 0) {{")
    for index in plan.arrays:
        if index.mask:
            continue
        name, var, axis, rank = ctx.name(index.var), index.var, index.axis, index.rank
        read = _array_read(ctx, var, [f"e{e} * {name}.strides[{e}]" for e in range(rank)])
        failure = ctx.fail(f"index %lld is out of bounds for axis {axis} with size %lld",
                           "(long long)v", "(long long)n")
        body = [f"const int64_t v = {read};", f"if (v < -n || v >= n) {failure}"]
        ctx.line(f"    {{ const int64_t n = {shapes}.shape[{axis}];")
        emit_loops(ctx, axis_loops([f"{name}.shape[{e}]" for e in range(rank)], "e"), body,
                   indent="      ")
        ctx.line("    }")
    ctx.line("  }")
    for j, (holder, index) in enumerate(zip(shapes_of, plan.arrays)):
        rank = index.rank
        ctx.line(f"  int64_t ast{j}[{max(rank, 1)}] = {{0}};")
        for e in range(rank):
            # a mask's offsets are listed contiguously (stride 1)
            stride = "1" if index.mask else f"{holder}.strides[{e}]"
            ctx.line(f"  ast{j}[{e}] = {holder}.shape[{e}] == 1 ? 0 : {stride};")
    for d in range(nb):
        ctx.line(f"  ilen[{plan.adv_position(d)}] = bshape[{d}]; ist[{plan.adv_position(d)}] = 0;")


def _array_read(ctx: EmitContext, var: Variable, terms: Sequence[str]) -> str:
    """An int64 C expression reading an index array at the given offset terms.

    (NumPy converts index arrays to intp, so uint64 values wrap as a C cast does.)
    """
    if not _dt.is_int(var.type.dtype):  # type: ignore[attr-defined]
        raise Unsupported(f"index array {var} is not of an integer dtype")
    return f"((int64_t){ctx.data(var)}[{offset_expr(terms)}])"


def _source_offset(ctx: EmitContext, plan: _Plan, strides: str) -> str:
    """The element offset, at output position (i0, i1, ...), of the indexed element."""
    terms = ["off"] + [f"i{k} * ist[{k}]" for k, ax in enumerate(plan.axes) if ax.kind != "adv"]
    nb = plan.adv_ndim
    for j, index in enumerate(plan.arrays):
        rank = index.rank
        where = [f"i{plan.adv_position(e + nb - rank)} * ast{j}[{e}]" for e in range(rank)]
        if index.mask:
            terms.append(f"mofs{j}[{offset_expr(where)}]")
            continue
        value = _array_read(ctx, index.var, where)
        wrapped = f"sg_wrap_index({value}, {strides}.shape[{index.axis}])"
        terms.append(f"{wrapped} * {strides}.strides[{index.axis}]")
    return offset_expr(terms)


def _check_out(node: Apply, plan: _Plan) -> None:
    out_ndim = node.outputs[0].type.ndim  # type: ignore[attr-defined]
    if len(plan.axes) != out_ndim:
        raise Unsupported(f"the index plan has {len(plan.axes)} axes, the output {out_ndim}")


# ---------------------------------------------------------------------------------------
# Reading: Subtensor (a view), AdvancedSubtensor (a gather)
# ---------------------------------------------------------------------------------------
@emit.register(Subtensor)
def c_subtensor(op: Subtensor, node: Apply, ctx: EmitContext) -> None:
    x, *values = node.inputs
    out = node.outputs[0]
    check_ndim(x, out)
    cdt = ctype(x.type.dtype)  # type: ignore[attr-defined]
    plan = _make_plan(op.idx_list, x.type.ndim, values)  # type: ignore[attr-defined]
    _check_out(node, plan)
    xn, on = ctx.name(x), ctx.name(out)
    ctx.line("{")
    _emit_basic(ctx, plan, xn, xn)
    ctx.view(out, x)
    ctx.line(f"  {on}.data = (void *)(({cdt} *){xn}.data + off);")
    ctx.line(f"  {on}.ndim = {len(plan.axes)};")
    for k in range(len(plan.axes)):
        ctx.line(f"  {on}.shape[{k}] = ilen[{k}]; {on}.strides[{k}] = ist[{k}];")
    ctx.line("}")


@emit.register(AdvancedSubtensor)
def c_advanced_subtensor(op: AdvancedSubtensor, node: Apply, ctx: EmitContext) -> None:
    x, *values = node.inputs
    out = node.outputs[0]
    check_ndim(x, out)
    cdt = ctype(x.type.dtype)  # type: ignore[attr-defined]
    plan = _make_plan(op.idx_list, x.type.ndim, values)  # type: ignore[attr-defined]
    _check_out(node, plan)
    xn, on = ctx.name(x), ctx.name(out)
    ndim = len(plan.axes)
    ctx.line("{")
    _emit_basic(ctx, plan, xn, xn)
    if plan.arrays:
        _emit_index_arrays(ctx, plan, xn)
    ctx.alloc(out, [f"ilen[{k}]" for k in range(ndim)])
    _emit_mask_offsets(ctx, plan, xn)
    ctx.line(f"  {cdt} *po = ({cdt} *){on}.data;")
    ctx.line(f"  const {cdt} *px = (const {cdt} *){xn}.data;")
    ctx.line("  int64_t k = 0;")
    src = _source_offset(ctx, plan, xn)
    emit_loops(ctx, axis_loops([f"ilen[{k}]" for k in range(ndim)]), [f"po[k++] = px[{src}];"])
    if plan.masks:
        ctx.line("  " + _free_mask_offsets(plan))
    ctx.line("}")


# ---------------------------------------------------------------------------------------
# Writing: IncSubtensor, AdvancedIncSubtensor (into a copy of x)
# ---------------------------------------------------------------------------------------
def _emit_update(node: Apply, ctx: EmitContext, plan: _Plan, set_instead_of_inc: bool) -> None:
    """Copy x into the output, then set or add y over the indexed region, in C order.

    Index arrays with repeated entries therefore accumulate every increment (NumPy's
    ``np.add.at``), and for a set the last write wins.
    """
    x, y = node.inputs[0], node.inputs[1]
    out = node.outputs[0]
    check_ndim(x, y, out)
    cdt = ctype(x.type.dtype)  # type: ignore[attr-defined]
    y_t = ctype(y.type.dtype)  # type: ignore[attr-defined]
    ndim = len(plan.axes)
    y_ndim = y.type.ndim  # type: ignore[attr-defined]
    if y_ndim > ndim:
        raise Unsupported(f"the value has {y_ndim} axes, the indexed region {ndim}")
    xn, yn, on = ctx.name(x), ctx.name(y), ctx.name(out)
    ctx.line("{")
    ctx.alloc(out, [f"{xn}.shape[{a}]" for a in range(x.type.ndim)])  # type: ignore[attr-defined]
    ctx.line(f"  sg_copy_into({on}.data, &{xn}, sizeof({cdt}));")
    # index the copy: x's lengths (the same), the copy's strides
    _emit_basic(ctx, plan, xn, on)
    if plan.arrays:
        _emit_index_arrays(ctx, plan, xn)
    # NumPy assigns through a lone mask covering all of x's axes with words of its own
    idx_list = tuple(node.op.idx_list)  # type: ignore[attr-defined]
    lone_mask = (idx_list == (MASK,)
                 and node.inputs[2].type.ndim == x.type.ndim)  # type: ignore[attr-defined]
    _emit_value_check(ctx, plan, y, set_instead_of_inc, lone_mask)
    _emit_mask_offsets(ctx, plan, on)
    pad = ndim - y_ndim
    ctx.line(f"  {cdt} *po = ({cdt} *){on}.data;")
    ctx.line(f"  const {y_t} *py = (const {y_t} *){yn}.data;")
    dst = _source_offset(ctx, plan, on)
    stretched = y.type.shape  # type: ignore[attr-defined]
    src = offset_expr([f"i{pad + a} * {yn}.strides[{a}]" for a in range(y_ndim)
                       if stretched[a] != 1])
    value = f"({cdt})py[{src}]"
    if set_instead_of_inc:
        body = f"po[{dst}] = {value};"
    elif x.type.dtype == "bool":  # type: ignore[attr-defined]
        # NumPy adds booleans with "or"
        body = f"{{ {cdt} *p = &po[{dst}]; *p = *p | {value}; }}"
    elif _dt.is_int(x.type.dtype):  # type: ignore[attr-defined]
        # add in unsigned arithmetic: it wraps around like NumPy's, with no undefined overflow
        body = f"{{ {cdt} *p = &po[{dst}]; *p = ({cdt})((uint64_t)*p + (uint64_t){value}); }}"
    else:
        body = f"po[{dst}] += {value};"
    emit_loops(ctx, axis_loops([f"ilen[{k}]" for k in range(ndim)]), [body])
    if plan.masks:
        ctx.line("  " + _free_mask_offsets(plan))
    ctx.line("}")


@emit.register(IncSubtensor)
def c_inc_subtensor(op: IncSubtensor, node: Apply, ctx: EmitContext) -> None:
    x, _, *values = node.inputs
    plan = _make_plan(op.idx_list, x.type.ndim, values)  # type: ignore[attr-defined]
    _emit_update(node, ctx, plan, op.set_instead_of_inc)


@emit.register(AdvancedIncSubtensor)
def c_advanced_inc_subtensor(op: AdvancedIncSubtensor, node: Apply, ctx: EmitContext) -> None:
    x, _, *values = node.inputs
    plan = _make_plan(op.idx_list, x.type.ndim, values)  # type: ignore[attr-defined]
    _emit_update(node, ctx, plan, op.set_instead_of_inc)


def _emit_value_check(ctx: EmitContext, plan: _Plan, y: Variable,
                      set_instead_of_inc: bool, lone_mask: bool = False) -> None:
    """Check that y fits the indexed region (lengths ``ilen[]``), failing as the py backend does.

    y stretches only on axes of static length 1 (as in Elemwise). When y has a length of 1
    elsewhere the py backend reports that; any other mismatch is NumPy's own error
    (``lone_mask``: the index is one mask covering every axis of x, which NumPy assigns
    through with a message of its own).
    """
    ndim = len(plan.axes)
    y_ndim = y.type.ndim  # type: ignore[attr-defined]
    pad = ndim - y_ndim
    yn = ctx.name(y)
    checked = [a for a in range(y_ndim) if y.type.shape[a] != 1]  # type: ignore[attr-defined]
    if not checked:
        return
    stretchy = " || ".join(f"{yn}.shape[{a}] == 1" for a in checked)
    y_shape, region = ints_str(f"{yn}.shape", y_ndim, "s3", 2), ints_str("ilen", ndim, "s4", 2)
    if not plan.arrays:
        if set_instead_of_inc:
            numpy_fmt = "could not broadcast input array from shape %s into shape %s"
            numpy_args = [y_shape, region]
        else:
            numpy_fmt = "operands could not be broadcast together with shapes %s %s %s "
            numpy_args = [region, y_shape, region]
    elif set_instead_of_inc and lone_mask:
        # (the region is 1-d, so y is a vector here)
        numpy_fmt = ("NumPy boolean array indexing assignment cannot assign %lld input values to "
                     "the %lld output values where the mask is true")
        numpy_args = [f"(long long){yn}.shape[0]", "(long long)ilen[0]"]
    elif set_instead_of_inc:
        numpy_fmt = ("shape mismatch: value array of shape %s could not be broadcast to indexing "
                     "result of shape %s")
        numpy_args = [y_shape, region]
    else:
        numpy_fmt = "array is not broadcastable to correct shape"  # np.add.at's words
        numpy_args = []
    ctx.line(f"  {{ const int stretchy = {stretchy};")
    for a in checked:
        ctx.line(f"    if ({yn}.shape[{a}] != ilen[{pad + a}]) {{")
        fail_if(ctx, "stretchy",
                f"the value of shape %s does not fit the indexed region of shape %s: axis {a} "
                "has length %lld, expected %lld. Only axes declared broadcastable (static "
                "length 1) broadcast",
                shape_str(yn, "s1"), ints_str("ilen", ndim, "s2"),
                f"(long long){yn}.shape[{a}]", f"(long long)ilen[{pad + a}]",
                buffers=2, indent="      ")
        fail_if(ctx, "1", numpy_fmt, *numpy_args, buffers=4, indent="      ")
        ctx.line("    }")
    ctx.line("  }")


@emit.register(Nonzero)
def c_nonzero(op: Nonzero, node: Apply, ctx: EmitContext) -> None:
    x = node.inputs[0]
    check_ndim(x)
    cdt = ctype(x.type.dtype)  # type: ignore[attr-defined]
    xn = ctx.name(x)
    ndim = x.type.ndim  # type: ignore[attr-defined]
    loops = axis_loops([f"{xn}.shape[{a}]" for a in range(ndim)])
    where = offset_expr([f"i{a} * {xn}.strides[{a}]" for a in range(ndim)])
    ctx.line("{")
    ctx.line(f"  const {cdt} *px = (const {cdt} *){xn}.data;")
    ctx.line("  int64_t count = 0;")
    emit_loops(ctx, loops, [f"count += px[{where}] != 0;"])
    for out in node.outputs:
        ctx.alloc(out, ["count"])
    ctx.line("  int64_t k = 0;")
    body = [f"if (px[{where}] != 0) {{"]
    body += [f"  {ctx.data(out)}[k] = i{a};" for a, out in enumerate(node.outputs)]
    body += ["  ++k;", "}"]
    emit_loops(ctx, loops, body)
    ctx.line("}")
