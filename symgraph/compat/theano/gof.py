"""theano.gof (and ``theano.Op``, ``theano.Apply``): writing a new Op the way Theano's
"Creating a new Op" tutorial does, with methods instead of symgraph's registrations.

A subclass of this ``Op`` defines ``make_node`` (returning ``Apply(self, inputs,
outputs)``), ``perform(node, inputs, output_storage)`` (storing each result in
``output_storage[k][0]``) and optionally ``grad(inputs, output_grads)`` (or
``L_op(inputs, outputs, output_grads)``) and ``infer_shape(node, input_shapes)``. Ops
compare equal when they are of the same class with equal ``__props__``. Such an op runs on
NumPy in every mode (between compiled segments with the C backend).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symgraph.backends.py.dispatch import perform
from symgraph.gradient.rules import pullback
from symgraph.graph.node import Apply, Constant, Variable
from symgraph.graph.op import Op as _SymgraphOp
from symgraph.graph.op import ShapeInferenceError

__all__ = ["Apply", "Constant", "Op", "Variable"]


class Op(_SymgraphOp):
    """Base of Theano-style ops (see the module docstring)."""

    __props__: tuple[str, ...] = ()
    __abstract_op__ = True  # the real ops are users' subclasses

    def _props(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__props__)

    def _declares_props(self) -> bool:
        # Theano compared ops that declare no __props__ by identity; __props__ = () makes all
        # instances of the class equal
        return any("__props__" in c.__dict__ for c in type(self).__mro__ if c is not Op)

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return False
        if not self._declares_props():
            return self is other
        return self._props() == other._props()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        if not self._declares_props():
            return id(self)
        return hash((type(self), self._props()))

    def params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__props__}

    def infer_shape(self, node: Apply, input_shapes: Any) -> Any:
        raise ShapeInferenceError(f"{self} does not implement infer_shape")

    def __str__(self) -> str:
        props = self.params()
        inner = ", ".join(f"{k}={v}" for k, v in props.items())
        return f"{type(self).__name__}{{{inner}}}" if props else type(self).__name__


@perform.register(Op)
def _perform_theano_op(op: Op, node: Apply, inputs: list[np.ndarray]) -> list[Any]:
    storage: list[list[Any]] = [[None] for _ in node.outputs]
    op.perform(node, list(inputs), storage)  # type: ignore[attr-defined]
    results = []
    for k, (cell, out) in enumerate(zip(storage, node.outputs)):
        if cell[0] is None:
            raise ValueError(f"{op}.perform stored nothing in output_storage[{k}][0]")
        results.append(np.asarray(cell[0], dtype=out.type.dtype))  # type: ignore[attr-defined]
    return results


@pullback.register(Op)
def _pullback_theano_op(op: Op, node: Apply, output_grads: list[Any]) -> list[Any]:
    if hasattr(op, "L_op"):
        grads = op.L_op(list(node.inputs), list(node.outputs), list(output_grads))
    elif hasattr(op, "grad"):
        grads = op.grad(list(node.inputs), list(output_grads))
    else:
        raise NotImplementedError(f"{op} defines neither grad nor L_op, so it cannot be differentiated")
    return list(grads)
