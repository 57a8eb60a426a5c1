"""theano.tensor.signal.downsample (Theano before 0.9): ``max_pool_2d``."""

from __future__ import annotations

from typing import Any

from symgraph.compat.theano.tensor.signal.pool import resolve_ignore_border
from symgraph.tensor.conv import pool_2d as _pool_2d
from symgraph.tensor.variable import TensorVariable

__all__ = ["max_pool_2d"]


def max_pool_2d(
    input: Any,  # Theano's name
    ds: Any,
    ignore_border: bool | None = None,
    st: Any = None,
    padding: Any = (0, 0),
    mode: str = "max",
) -> TensorVariable:
    """Theano's old ``max_pool_2d``: ``pool_2d`` with the old argument names.

    >>> pooled = max_pool_2d(T.dtensor4('x'), (2, 2), ignore_border=True)
    """
    return _pool_2d(input, ds, resolve_ignore_border(ignore_border, "max_pool_2d"), st, padding, mode)
