"""Map: evaluate an inner graph for i = 0 .. n-1 and stack the results.

This is the loop behind ``jacobian`` and ``hessian``: row i of a Jacobian is the
gradient of element i of the expression, and the number of rows is only known at run
time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply, Constant
from symgraph.graph.op import Op
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import TensorVariable, as_tensor_variable


@dataclass(frozen=True, eq=False)
class Map(Op):
    """Outputs ``stack([inner(i, *args) for i in range(n)])`` for each inner output.

    ``inner`` is a FunctionGraph whose first input is the int64 index and whose other
    inputs receive the node's ``args``. Maps compare by identity.
    """

    inner: FunctionGraph
    label: str = field(default="map")

    def make_node(self, n: Any, *args: Any) -> Apply:
        n = as_tensor_variable(n)
        if n.ndim != 0 or n.dtype not in ("int64", "int32"):
            raise TypeError(f"Map: the trip count must be an integer scalar, got {n.type}")
        args = tuple(as_tensor_variable(a) for a in args)
        inner_args = self.inner.inputs[1:]
        if len(args) != len(inner_args):
            raise TypeError(f"Map: expected {len(inner_args)} arguments, got {len(args)}")
        for a, b in zip(args, inner_args):
            if not b.type.is_compatible(a.type):
                raise TypeError(f"Map: argument {a!r} of type {a.type} does not fit inner input {b.type}")
        length = int(n.data) if isinstance(n, Constant) else None
        outputs = [
            TensorType(o.type.dtype, (length,) + tuple(o.type.shape)).make_variable()
            for o in self.inner.outputs
        ]
        return Apply(self, [n, *args], outputs)

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        from symgraph.graph.op import ShapeInferenceError

        raise ShapeInferenceError("Map output shapes depend on its inner graph")

    def __str__(self) -> str:
        return f"Map{{{self.label}}}"


def build_map(label: str, n: TensorVariable, index: TensorVariable, args: list[TensorVariable],
              outputs: list[TensorVariable], outer_args: list[TensorVariable] | None = None) -> list[TensorVariable]:
    """Wrap ``outputs`` (a graph of ``index`` and ``args``) in a Map over range(n).

    The Map node is applied to ``outer_args`` (default: ``args`` themselves).
    """
    inner = FunctionGraph([index, *args], outputs, clone=True)
    result = Map(inner, label)(n, *(args if outer_args is None else outer_args))
    return list(result) if isinstance(result, list) else [result]
