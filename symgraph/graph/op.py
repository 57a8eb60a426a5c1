"""Base classes for operations and types.

Ops are immutable values, equal and hashable by their parameters: subclasses are
frozen dataclasses, so two identical computations compare equal (this is what
makes merging and caching work). An Op states meaning only: it validates inputs and
infers output types (``make_node``) and symbolic shapes (``infer_shape``). How to
run it, differentiate it or emit code for it lives in tables elsewhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from symgraph.graph.node import Apply, Variable


class Type:
    """What values a Variable may hold. Subclasses are frozen dataclasses."""

    def filter(self, value: Any, name: str = "value", allow_downcast: bool | None = None) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.filter is abstract")

    def make_variable(self, name: str | None = None) -> Variable:
        from symgraph.graph.node import Variable

        return Variable(self, name=name)

    def is_compatible(self, other: Type) -> bool:
        """True if a variable of type ``other`` can stand in for one of this type."""
        return self == other

    def value_signature(self, value: Any) -> Any:
        return value

    def value_repr(self, value: Any) -> str:
        return repr(value)


class Op:
    """An operation. Subclasses are ``@dataclass(frozen=True)``; fields are parameters."""

    def make_node(self, *inputs: Any) -> Apply:
        raise NotImplementedError(f"{type(self).__name__}.make_node is abstract")

    def __call__(self, *inputs: Any) -> Any:
        node = self.make_node(*inputs)
        if len(node.outputs) == 1:
            return node.outputs[0]
        return node.outputs

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Symbolic output shapes from symbolic input shapes (tuples of int64 scalars)."""
        raise ShapeInferenceError(f"{self} does not implement infer_shape")

    def params(self) -> dict[str, Any]:
        if dataclasses.is_dataclass(self):
            return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {}

    def __str__(self) -> str:
        params = self.params()
        if not params:
            return type(self).__name__
        inner = ", ".join(f"{k}={v}" for k, v in params.items())
        return f"{type(self).__name__}{{{inner}}}"


class ShapeInferenceError(Exception):
    """An op cannot say its output shape symbolically."""
