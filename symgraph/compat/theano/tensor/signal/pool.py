"""theano.tensor.signal.pool: ``pool_2d`` with Theano's argument names and defaults.

symgraph's own ``T.nnet.pool_2d`` is the implementation. Only the spelling differs here:
Theano's deprecated names (``ds`` for ``ws``, ``st`` for ``stride``, ``padding`` for ``pad``)
are accepted, and ``ignore_border`` left unset means False with a warning, as in Theano
(symgraph's own default is True).
"""

from __future__ import annotations

import warnings
from typing import Any

from symgraph.tensor.conv import pool_2d as _pool_2d
from symgraph.tensor.variable import TensorVariable

__all__ = ["pool_2d"]


def _renamed(new: Any, old: Any, new_name: str, old_name: str) -> Any:
    if old is None:
        return new
    if new is not None:
        raise ValueError(f"pool_2d: give {new_name} or its old name {old_name}, not both")
    return old


def resolve_ignore_border(ignore_border: bool | None, where: str) -> bool:
    """Theano's default: unset means False, with the warning Theano gave."""
    if ignore_border is None:
        warnings.warn(
            f"{where}: ignore_border was not given; it is False, as in Theano (symgraph's "
            "T.nnet.pool_2d defaults to True). Pass ignore_border explicitly.",
            DeprecationWarning,
            stacklevel=3,
        )
        return False
    return ignore_border


def pool_2d(
    input: Any,  # Theano's name
    ws: Any = None,
    ignore_border: bool | None = None,
    stride: Any = None,
    pad: Any = None,
    mode: str = "max",
    ds: Any = None,
    st: Any = None,
    padding: Any = None,
) -> TensorVariable:
    """Theano's ``pool_2d``; see ``symgraph.tensor.nnet.pool_2d``.

    >>> pooled = pool_2d(T.dtensor4('x'), ws=(2, 2), ignore_border=True)
    """
    ws = _renamed(ws, ds, "ws", "ds")
    if ws is None:
        raise TypeError("pool_2d: the window size ws is required")
    stride = _renamed(stride, st, "stride", "st")
    pad = _renamed(pad, padding, "pad", "padding")
    if mode == "max_deterministic":  # Theano's name for max pooling with a deterministic gradient
        mode = "max"
    return _pool_2d(input, ws, resolve_ignore_border(ignore_border, "pool_2d"), stride,
                    (0, 0) if pad is None else pad, mode)
