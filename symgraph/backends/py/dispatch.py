"""The py backend's dispatch table: op class -> NumPy implementation.

An implementation is ``fn(op, node, inputs) -> list of outputs`` where ``inputs`` are
NumPy arrays. Register with ``@perform.register(OpClass)``.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from symgraph.graph.node import Apply
from symgraph.graph.op import Op


class NoImplementationError(TypeError):
    pass


@functools.singledispatch
def perform(op: Op, node: Apply, inputs: list[np.ndarray]) -> list[Any]:
    raise NoImplementationError(f"the py backend has no implementation of {op} ({type(op).__name__})")


def has_impl(op_class: type) -> bool:
    return perform.dispatch(op_class) is not perform.dispatch(object)
