"""One C source per segment: elementwise kernels, the entry point, node code, cleanup.

Layout. The elementwise kernels (emit/elemwise.py: one function per distinct loop) come
first, in a section of their own that build.py may compile as a separate translation
unit; then the other emitters' helpers and ``sg_segment``. The segment's arrays are the
elements of one local array ``sg_v``, each named in node code by a macro (``v12`` is
``sg_v[12]``); a run of TABLE_RUN or more consecutive kernel calls is a table walked by
a loop. Both keep gcc's time on the entry point proportional to the graph (issue 6, W6).

Memory plan. Every array a node allocates is one of:

- a *segment output* (read by a later step or returned to the caller): a fresh ``malloc``
  buffer handed to NumPy without a copy;
- an *intermediate*: it lives in a slot of the segment's workspace, which persists across
  calls. Slots are given out by liveness: once an intermediate (and every view of it) has
  been read for the last time, its slot goes to the next array allocated. An elementwise
  node whose input dies at that node and has the output's dtype and broadcast pattern
  writes its result over that input (in place), so chains of elementwise work need at
  most two buffers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symgraph.backends.c import runtime
from symgraph.backends.c.build import ENTRY_SECTION, KERNEL_PIECE, KERNELS_SECTION
from symgraph.backends.c.ctypes import ctype
from symgraph.backends.c.emit import EmitContext
from symgraph.backends.c.emit.elemwise import (
    KERNEL_PARAMETERS,
    KERNEL_PREFIX,
    WS_SLOT,
    kernel_declaration,
    parse_kernel_call,
)
from symgraph.graph.node import Apply, Variable
from symgraph.tensor.elemwise import Elemwise


@dataclass
class SegmentSource:
    source: str
    inputs: list[Variable]
    outputs: list[Variable]
    nodes: list[Apply]
    uses_blas: bool = False
    notes: list[str] = field(default_factory=list)
    n_slots: int = 0
    in_place: list[Apply] = field(default_factory=list)
    #: positions in ``inputs`` of arrays a node may overwrite (updates of shared variables;
    #: backends/c/inplace.py): such an output is returned as that input's own buffer
    destroys: list[int] = field(default_factory=list)
    #: per output, the workspace slot its buffer comes from (-1: none; see MemoryPlan)
    out_slots: list[int] = field(default_factory=list)


@dataclass
class MemoryPlan:
    slots: dict[Variable, int]
    n_slots: int
    in_place: set[Apply]
    #: per segment output, the workspace slot its buffer is allocated in (-1: none): an
    #: *output slot*, which the caller empties after every successful call (the buffer is
    #: the returned array's) and may fill before a call with a big buffer of an earlier
    #: result nobody holds any more (symgraph_call.c, recycling)
    out_slots: list[int] = field(default_factory=list)


def plan_memory(ctx: EmitContext, nodes: list[Apply], outputs: list[Variable]) -> MemoryPlan:
    """Give each intermediate a workspace slot by liveness (see the module docstring)."""
    end = len(nodes)
    leaving = set(outputs)
    position = {node: j for j, node in enumerate(nodes)}
    # arrays that are not allocated by their node are views of (some of) its inputs: an
    # allocated buffer lives as long as anything that may view it
    roots: dict[Variable, set[Variable]] = {}
    for node in nodes:
        for out in node.outputs:
            if out in ctx.owning:
                roots[out] = {out}
            else:
                roots[out] = set().union(*(roots.get(v, set()) for v in node.inputs)) if node.inputs else set()
    last: dict[Variable, int] = {v: position[v.owner] for v in roots if v in ctx.owning}  # type: ignore[index]
    for j, node in enumerate(nodes):
        for var in node.inputs:
            for root in roots.get(var, ()):
                last[root] = max(last[root], j)
    for var in leaving:
        for root in roots.get(var, ()):
            last[root] = end

    dies_at: dict[int, list[Variable]] = {}
    for var, j in last.items():
        dies_at.setdefault(j, []).append(var)

    slots: dict[Variable, int] = {}
    free: list[int] = []
    n_slots = 0
    in_place: set[Apply] = set()
    for j, node in enumerate(nodes):
        donated: set[Variable] = set()
        for out in node.outputs:
            if out not in ctx.owning or out in leaving:
                continue
            donor = None
            if isinstance(node.op, Elemwise) and len(node.outputs) == 1:
                for var in node.inputs:
                    if (var in slots and var not in donated and last.get(var) == j
                            and var.type.dtype == out.type.dtype  # type: ignore[attr-defined]
                            and var.type.broadcastable == out.type.broadcastable  # type: ignore[attr-defined]
                            # no other input may be a view of the buffer being overwritten
                            and not any(w is not var and var in roots.get(w, ()) for w in node.inputs)):
                        donor = var
                        break
            if donor is not None:
                slots[out] = slots[donor]
                donated.add(donor)
                in_place.add(node)
            elif free:
                slots[out] = free.pop()
            else:
                slots[out] = n_slots
                n_slots += 1
        for var in dies_at.get(j, ()):
            if var in slots and var not in donated:
                free.append(slots[var])
    # buffers that leave the segment, after the intermediates' slots: one output slot each
    # (not an in-place update's, which may be an input's buffer; a variable listed twice
    # is handed over once and copied after that)
    out_slots = []
    for var in outputs:
        if var in ctx.owning and var not in slots and var not in ctx.aliases:
            slots[var] = n_slots
            out_slots.append(n_slots)
            n_slots += 1
        else:
            out_slots.append(-1)
    return MemoryPlan(slots, n_slots, in_place, out_slots)


#: a run of at least this many consecutive kernel calls becomes a table and a loop: gcc's
#: time on the entry point then no longer grows with the number of nodes (issue 6, W6)
TABLE_RUN = 16


def _label(node: Apply) -> str:
    where = f" ({node.source.filename}:{node.source.lineno})" if node.source else ""
    return f"{node.op}{where}".replace("*/", "* /")


def _node_code(ctx: EmitContext, node: Apply, body: list[str], plan: MemoryPlan) -> list[str]:
    """A node's statements with its outputs' workspace slots filled in."""
    lines = [f"  /* {_label(node)}{' [in place]' if node in plan.in_place else ''} */"]
    replace = [(f"sg_alloc(&{ctx.name(o)}, ", f"sg_ws_alloc(&sg_ws[{plan.slots[o]}], &{ctx.name(o)}, ")
               for o in node.outputs if o in plan.slots]
    # a kernel that allocates its output is told the slot (NULL: a fresh buffer)
    replace += [(WS_SLOT.format(ctx.name(o)), f"&sg_ws[{plan.slots[o]}]" if o in plan.slots else "NULL")
                for o in node.outputs]
    for line in body:
        for old, new in replace:
            line = line.replace(old, new)
        if node in plan.in_place:
            line = line.replace("*restrict ", "*")  # the output overwrites an input
        lines.append("  " + line)
    return lines


def _call_table(nodes: list[Apply], calls: list[tuple[str, int, str, list[str]]], plan: MemoryPlan,
                index: dict[str, int]) -> list[str]:
    """Consecutive kernel calls as a table walked by a loop (same calls, same order);
    ``index`` gives each array's position in ``sg_v``."""
    entries, arguments = [], []
    for node, (kernel, node_index, out, ins) in zip(nodes, calls):
        slot = plan.slots.get(node.outputs[0], -1)
        entries.append(f"    {{{kernel}, {node_index}, {slot}, {index[out]}, {len(arguments)}, {len(ins)}}},"
                       f" /* {_label(node)} */")
        arguments += [str(index[name]) for name in ins]
    widest = max(1, *(len(ins) for _, _, _, ins in calls))
    return [
        f"  /* nodes {calls[0][1]} to {calls[-1][1]}: elementwise kernels, called in this order */",
        "  { static const sg_kernel_call sg_calls[] = {",
        *entries,
        "    };",
        f"    static const int32_t sg_call_args[] = {{{', '.join(arguments) or '0'}}};",
        f"    for (int32_t sg_c = 0; sg_c < {len(calls)}; ++sg_c) {{",
        "      const sg_kernel_call *sg_k = &sg_calls[sg_c];",
        f"      sg_array *sg_args[{widest}];",
        "      for (int32_t sg_j = 0; sg_j < sg_k->n_args; ++sg_j) sg_args[sg_j] = &sg_v[sg_call_args[sg_k->first_arg + sg_j]];",
        "      if (sg_k->kernel(err, sg_k->node, sg_k->slot < 0 ? NULL : &sg_ws[sg_k->slot], &sg_v[sg_k->out], sg_args))",
        "        goto sg_cleanup;",
        "    }",
        "  }",
    ]


def assemble(ctx: EmitContext, nodes: list[Apply], node_lines: list[list[str]],
             outputs: list[Variable]) -> SegmentSource:
    """Wrap emitted node code into the segment's entry point::

        int sg_segment(sg_array *in, sg_array *out, sg_error *err, sg_ws_slot *ws)
    """
    produced = {out for node in nodes for out in node.outputs}
    inputs = [v for v in ctx.names if v not in produced]
    plan = plan_memory(ctx, nodes, outputs)
    lines = [
        "/* generated by symgraph: one segment of a compiled function */",
        *([runtime.LINKED_LINE] if ctx.links_runtime else []),
        '#include "symgraph_runtime.h"',
        '#include "symgraph_math.h"',
        '#include "symgraph_vecmath.h"',
        '#include "symgraph_nnet.h"',
    ]
    if ctx.uses_blas:
        lines.append("#include <cblas.h>")
        lines.append('#include "symgraph_blas.h"')
    # elementwise kernels first, in a section of their own: build.py may compile a large
    # source as several translation units at once, the kernels apart from the rest
    kernels = [code for name, code in ctx.helpers.items() if name.startswith(KERNEL_PREFIX)]
    if kernels:
        lines.append("#ifndef SG_KERNEL")
        lines.append("#define SG_KERNEL static __attribute__((noinline))")
        lines.append("#endif")
        lines.append(f"typedef int (*sg_kernel_fn)({KERNEL_PARAMETERS});")
        lines.append("typedef struct { sg_kernel_fn kernel; int32_t node, slot, out, first_arg, n_args; } sg_kernel_call;")
        lines += [d for d in map(kernel_declaration, kernels) if d]
        lines.append(KERNELS_SECTION)
        for code in kernels:  # pieces build.py may deal out to several translation units
            lines += [KERNEL_PIECE, code]
        lines.append(ENTRY_SECTION)
    lines += [code for name, code in ctx.helpers.items() if not name.startswith(KERNEL_PREFIX)]
    lines.append(f"/* workspace: {plan.n_slots} slot(s) */")
    lines.append("void sg_ws_release(sg_ws_slot *ws, int64_t n) {")
    lines.append("  for (int64_t k = 0; k < n; ++k) { free(ws[k].ptr); ws[k].ptr = NULL; ws[k].cap = 0; }")
    lines.append("}")
    # The segment's arrays are the elements of one local array, sg_v, each known to the
    # emitted code by its own name through a macro: a call table can then index them, and
    # gcc's time on the function does not grow with hundreds of separate locals.
    index = {name: k for k, name in enumerate(ctx.names.values())}
    lines += [f"#define {name} sg_v[{k}]" for name, k in index.items()]
    lines.append("int sg_segment(sg_array *sg_in, sg_array *sg_out, sg_error *err, sg_ws_slot *sg_ws) {")
    lines.append("  int sg_status = 1;")
    lines.append(f"  sg_array sg_v[{max(len(index), 1)}];")
    lines.append("  memset(sg_v, 0, sizeof sg_v);")
    for k, var in enumerate(inputs):
        lines.append(f"  {ctx.name(var)} = sg_in[{k}];")
    calls = [parse_kernel_call(body[0]) if len(body) == 1 else None for body in node_lines]
    j = 0
    while j < len(nodes):
        end = j
        while end < len(nodes) and calls[end] is not None:
            end += 1
        if end - j >= TABLE_RUN:
            lines += _call_table(nodes[j:end], calls[j:end], plan, index)  # type: ignore[arg-type]
            j = end
            continue
        for node, body in zip(nodes[j:max(end, j + 1)], node_lines[j:max(end, j + 1)]):
            lines += _node_code(ctx, node, body, plan)
        j = max(end, j + 1)
    transferred = []
    for k, var in enumerate(outputs):
        name = ctx.name(var)
        if var in ctx.owning and (plan.out_slots[k] >= 0 or var in ctx.aliases) and var not in transferred:
            lines.append(f"  sg_out[{k}] = {name};")
            transferred.append(var)
        else:
            lines.append(
                f"  if (!sg_copy_contiguous(&sg_out[{k}], &{name}, sizeof({ctype(var.type.dtype)}))) "  # type: ignore[attr-defined]
                + '{ err->node = -1; snprintf(err->message, sizeof(err->message), "out of memory"); goto sg_cleanup; }'
            )
    lines.append("  sg_status = 0;")
    lines.append("sg_cleanup:")
    for var in ctx.owning:
        if var in plan.slots:
            continue  # workspace buffers stay for the next call (output slots: till it ends)
        name = ctx.name(var)
        # an output that took an input's buffer (EmitContext.alloc_over) is not ours to free
        mine = f" && {name}.data != {ctx.name(ctx.aliases[var])}.data" if var in ctx.aliases else ""
        if var in transferred:
            lines.append(f"  if (sg_status{mine}) free({name}.data);")
        else:
            lines.append(f"  if (1{mine}) free({name}.data);" if mine else f"  free({name}.data);")
    lines.append("  return sg_status;")
    lines.append("}")
    destroys = sorted({inputs.index(src) for src in ctx.aliases.values() if src in inputs})
    return SegmentSource("\n".join(lines) + "\n", inputs, list(outputs), list(nodes), ctx.uses_blas,
                         n_slots=plan.n_slots, in_place=[n for n in nodes if n in plan.in_place],
                         destroys=destroys, out_slots=plan.out_slots)
