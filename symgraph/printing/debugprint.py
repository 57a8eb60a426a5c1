"""debugprint: the graph as an indented tree, one node per line, with ids for shared parts."""

from __future__ import annotations

import string
import sys
from typing import IO, Any

from symgraph.graph.node import Constant, Variable


def _ids() -> Any:
    letters = string.ascii_uppercase
    n = 0
    while True:
        label, k = "", n
        while True:
            label = letters[k % 26] + label
            k = k // 26 - 1
            if k < 0:
                break
        yield label
        n += 1


def debugprint(
    obj: Any,
    file: IO[str] | str | None = None,
    print_type: bool = True,
    depth: int = -1,
) -> str | None:
    """Print the tree of a variable, list of variables or compiled function.

    Each line is an op or variable with an ``[id X]`` label; a subgraph printed once is
    referred to by its id afterwards. With ``file='str'`` the text is returned instead
    of printed (as Theano did).

    >>> debugprint(x * 2 + 1, file='str')
    """
    from symgraph.compile.function import Function

    lines: list[str] = []
    labels: dict[Any, str] = {}
    gen = _ids()
    if isinstance(obj, Function):
        fgraph = obj.maker.fgraph
        outputs = list(fgraph.outputs)
        n_out = len(outputs) - len(obj.maker.update_pairs)
        for i, out in enumerate(outputs):
            if i == n_out:
                lines.append("Updates:")
            if i >= n_out:
                shared = obj.maker.update_pairs[i - n_out][0]
                lines.append(f" {shared.name or 'shared'} <- ")
            _print_tree(out, "", lines, labels, gen, print_type, depth, set())
    else:
        for out in obj if isinstance(obj, (list, tuple)) else [obj]:
            _print_tree(out, "", lines, labels, gen, print_type, depth, set())
    _print_inner_graphs(lines, labels, gen, print_type, depth)
    text = "\n".join(lines)
    if file == "str":
        return text
    print(text, file=sys.stdout if file is None else file)  # type: ignore[arg-type]
    return None


def _describe_type(var: Variable) -> str:
    describe = getattr(var.type, "describe", None)
    return f" <{describe()}>" if describe else f" <{var.type}>"


def _print_tree(var: Variable, prefix: str, lines: list[str], labels: dict[Any, str], gen: Any,
                print_type: bool, depth: int, on_stack: set[Any]) -> None:
    # explicit stack instead of recursion: graphs can be thousands of nodes deep
    stack: list[tuple[Variable, str, int]] = [(var, prefix, 0)]
    while stack:
        v, pre, level = stack.pop()
        node = v.owner
        type_text = _describe_type(v) if print_type else ""
        name = f" '{v.name}'" if v.name else ""
        if node is None:
            key: Any = v
            text = repr(v) if isinstance(v, Constant) else (v.name or "<input>")
            if key not in labels:
                labels[key] = next(gen)
            lines.append(f"{pre}{text} [id {labels[key]}]{type_text}")
            continue
        out_index = f".{v.index}" if len(node.outputs) > 1 else ""
        seen = node in labels
        if not seen:
            labels[node] = next(gen)
        lines.append(f"{pre}{node.op}{out_index} [id {labels[node]}]{name}{type_text}")
        if seen or (depth >= 0 and level >= depth):
            continue
        shown = getattr(node.op, "shown_inputs", None)  # an op holding graphs (IfElse) shows them
        for inp in reversed(shown(node) if shown is not None else node.inputs):
            stack.append((inp, pre + " |", level + 1))


def _print_inner_graphs(lines: list[str], labels: dict[Any, str], gen: Any, print_type: bool,
                        depth: int) -> None:
    """After the trees, the graph each loop op (Scan, Map) holds, as Theano printed them:
    the op's line, then its inner outputs' trees marked with ``>``. Loops found inside
    an inner graph get their own section after it."""
    from symgraph.graph.fgraph import FunctionGraph

    def holders(found: dict[Any, str]) -> list[Any]:
        return [n for n in found if hasattr(n, "op") and isinstance(getattr(n.op, "inner", None), FunctionGraph)]

    pending, done = holders(labels), set()
    if pending:
        lines.extend(["", "Inner graphs:"])
    while pending:
        node = pending.pop(0)
        if node.op in done:
            continue
        done.add(node.op)
        lines.extend(["", f"{node.op} [id {labels[node]}]"])
        inner_labels: dict[Any, str] = {}
        for out in node.op.inner.outputs:
            _print_tree(out, " >", lines, inner_labels, gen, print_type, depth, set())
        pending.extend(holders(inner_labels))
        labels.update({n: label for n, label in inner_labels.items() if n not in labels})
