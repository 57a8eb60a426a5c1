"""pp: print a graph as one line of math, e.g. ``sigmoid((x @ w) + b)``."""

from __future__ import annotations

from typing import Any

from symgraph.graph.node import Constant, Variable

# binding strength of infix operators (higher binds tighter)
_PRECEDENCE = {"|": 1, "^": 2, "&": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4,
               "+": 5, "-": 5, "*": 6, "/": 6, "//": 6, "%": 6, "@": 6, "**": 8}
_MAX_DEPTH = 60


def pp(var: Any, max_depth: int = _MAX_DEPTH) -> str:
    """One-line math for a variable (or each output of a compiled function).

    >>> x = T.dscalar('x'); pp(x ** 2 + 3)
    '((x ** 2) + 3.0)'
    """
    from symgraph.compile.function import Function

    if isinstance(var, Function):
        return "\n".join(pp(o, max_depth) for o in var.maker.fgraph.outputs)
    if isinstance(var, (list, tuple)):
        return "; ".join(pp(v, max_depth) for v in var)
    return _Printer(max_depth).show(var, 0)


class _Printer:
    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth

    def show(self, var: Variable, depth: int) -> str:
        from symgraph.tensor.elemwise import DimShuffle, Elemwise

        if isinstance(var, Constant):
            return var.type.value_repr(var.data) if var.name is None else var.name
        node = var.owner
        if node is None:
            return var.name or f"<{getattr(var.type, 'describe', lambda: var.type)()}>"
        if var.name and depth > 0:
            return var.name
        if depth >= self.max_depth:
            return "..."
        op = node.op
        if isinstance(op, DimShuffle):
            kept = [o for o in op.new_order if o != "x"]
            inner = self.show(node.inputs[0], depth + 1)
            if kept == sorted(kept) and not op.dropped:
                return inner  # only adds broadcastable axes: invisible in math
            if op.new_order == tuple(reversed(range(op.input_ndim))):
                return f"{self._wrap(inner)}.T"
            return f"{self._wrap(inner)}.dimshuffle({', '.join(repr(o) for o in op.new_order)})"
        if isinstance(op, Elemwise):
            sop = op.scalar_op
            args = [self.show(i, depth + 1) for i in node.inputs]
            symbol = getattr(sop, "symbol", None)
            if symbol is not None and len(args) >= 2:
                return "(" + f" {symbol} ".join(args) + ")"
            if symbol is not None and len(args) == 1:
                return f"{symbol}{self._wrap(args[0])}"
            return f"{sop.name}({', '.join(args)})"
        shown = getattr(op, "shown_inputs", None)
        if shown is not None:  # an op holding graphs (IfElse) shows them over its inputs
            args = [self.show(i, depth + 1) for i in shown(node, var.index)]
            return f"{op}({', '.join(args)})"
        args = [self.show(i, depth + 1) for i in node.inputs]
        label = str(op)
        text = f"{label}({', '.join(args)})"
        if len(node.outputs) > 1:
            text += f"[{var.index}]"
        return text

    @staticmethod
    def _wrap(text: str) -> str:
        simple = text.replace("_", "").replace(".", "").isalnum()
        return text if simple or (text.startswith("(") and text.endswith(")")) else f"({text})"
