"""Input specifications for compile_function (Theano's ``In``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from symgraph.graph.node import Variable

_NO_VALUE = object()


@dataclass
class In:
    """An input with options: a default ``value``, a keyword ``name``.

    >>> f = sg.function([x, sg.In(y, value=1)], x + y); f(2)   # y defaults to 1
    """

    variable: Variable
    name: str | None = None
    value: Any = _NO_VALUE
    update: Any = None
    mutable: bool = False
    borrow: bool = False
    implicit: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.variable, Variable):
            raise TypeError(f"In() needs a symbolic variable, got {type(self.variable).__name__}")
        if self.name is None:
            self.name = self.variable.name

    @property
    def has_default(self) -> bool:
        return self.value is not _NO_VALUE
