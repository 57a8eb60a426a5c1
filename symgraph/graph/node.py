"""The bipartite graph: Variables are values, Apply nodes are operations on them."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from symgraph.errors import SourceInfo, user_frame

if TYPE_CHECKING:
    from symgraph.graph.op import Op, Type


class Variable:
    """A value in the graph: an input (no owner), or an output of an Apply node.

    Parameters
    ----------
    type : Type
        What values this variable can hold.
    owner : Apply, optional
        The node that computes it.
    index : int, optional
        Its position among ``owner.outputs``.
    name : str, optional
        A name for printing and for calling functions by keyword.
    """

    def __init__(
        self,
        type: Type,
        owner: Apply | None = None,
        index: int | None = None,
        name: str | None = None,
    ) -> None:
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = SimpleNamespace()

    def clone(self, name: str | None = None) -> Variable:
        """A new ownerless variable of the same class and type."""
        new = self.__class__.__new__(self.__class__)
        Variable.__init__(new, self.type, None, None, self.name if name is None else name)
        new.tag = SimpleNamespace(**vars(self.tag))
        return new

    def auto_name(self) -> str:
        if self.name:
            return self.name
        if self.owner is not None:
            return f"{self.owner.op}.{self.index}" if len(self.owner.outputs) > 1 else str(self.owner.op)
        return f"<{self.type}>"

    def __repr__(self) -> str:
        if self.name:
            return self.name
        return f"{self.__class__.__name__}({self.type})"

    # Variables are compared by identity: `==` on tensors is not elementwise (use T.eq).
    __hash__ = object.__hash__


class Constant(Variable):
    """A Variable with a fixed value, ``data``."""

    def __init__(self, type: Type, data: Any, name: str | None = None) -> None:
        Variable.__init__(self, type, None, None, name)
        self.data = data

    def signature(self) -> tuple[Any, ...]:
        """A hashable key: two constants with equal signatures are interchangeable."""
        return (self.type, self.type.value_signature(self.data))

    def clone(self, name: str | None = None) -> Constant:
        new = self.__class__.__new__(self.__class__)
        Constant.__init__(new, self.type, self.data, self.name if name is None else name)
        return new

    def __repr__(self) -> str:
        if self.name:
            return self.name
        return f"{self.__class__.__name__}({self.type.value_repr(self.data)})"


class Apply:
    """One application of an Op to input Variables, producing output Variables.

    The user stack frame that built the node is recorded in ``source`` so that
    errors can point at it.
    """

    def __init__(
        self,
        op: Op,
        inputs: Sequence[Variable],
        outputs: Sequence[Variable],
        source: SourceInfo | None = None,
    ) -> None:
        self.op = op
        self.inputs: list[Variable] = list(inputs)
        self.outputs: list[Variable] = list(outputs)
        for i, out in enumerate(self.outputs):
            if out.owner is not None and out.owner is not self:
                raise ValueError(f"output {i} of {op} already belongs to another node")
            out.owner = self
            out.index = i
        self.source = source if source is not None else user_frame()
        self.tag = SimpleNamespace()

    @property
    def out(self) -> Variable:
        if len(self.outputs) != 1:
            raise ValueError(f"{self.op} has {len(self.outputs)} outputs; use .outputs")
        return self.outputs[0]

    def clone_with_new_inputs(self, inputs: Sequence[Variable]) -> Apply:
        """A copy of this node applied to ``inputs`` (same op, fresh outputs)."""
        node = self.op.make_node(*inputs)
        node.source = self.source
        for old, new in zip(self.outputs, node.outputs):
            new.name = old.name
        return node

    def __repr__(self) -> str:
        args = ", ".join(repr(v) for v in self.inputs)
        return f"{self.op}({args})"
