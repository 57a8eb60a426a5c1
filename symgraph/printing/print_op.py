"""``Print``: Theano's debugging op (``theano.printing.Print``). It passes its input through
unchanged and, each time the function runs it, prints a message and the value (or the
attributes named in ``attrs``), e.g. ``this is a very important value __str__ = [1. 2. 3.]``.

>>> x_printed = sg.printing.Print('this is a very important value')(x)
>>> f = sg.function([x], x_printed * 5)   # f([1, 2, 3]) prints, then returns [5, 10, 15]

It is never constant-folded or removed by the rewrites (printing is its point); with the C
backend it runs between compiled segments. Its gradient passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from symgraph.graph.node import Apply
from symgraph.graph.op import Op
from symgraph.tensor.variable import as_tensor_variable

__all__ = ["Print"]


@dataclass(frozen=True)
class Print(Op):
    """``Print(message, attrs=('__str__',))(x)``: ``x``, printing ``message`` and the value
    (``__str__``) or any of its attributes (``'shape'``, ``'dtype'``, ...) when it runs."""

    message: str = ""
    attrs: tuple[str, ...] = ("__str__",)

    no_constant_folding: ClassVar[bool] = True  # see rewrite/engine.py

    def __post_init__(self) -> None:
        attrs = (self.attrs,) if isinstance(self.attrs, str) else tuple(self.attrs)
        unknown = [a for a in attrs if not hasattr(np.ndarray, a)]
        if unknown:
            raise ValueError(f"Print({self.message!r}): attrs must name attributes of a NumPy array "
                             f"('__str__', 'shape', 'dtype', ...), got {unknown}")
        object.__setattr__(self, "attrs", attrs)

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type.make_variable()])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [tuple(input_shapes[0])]

    def show(self, value: np.ndarray) -> str:
        """The line printed for ``value``."""
        parts = []
        for attr in self.attrs:
            found = getattr(value, attr)
            parts.append(f"{attr} = {found() if callable(found) else found}")
        return f"{self.message} " + " ".join(parts)

    def __str__(self) -> str:
        return f"Print{{{self.message}}}"
