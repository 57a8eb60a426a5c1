"""Run classic Theano code: ``import symgraph.compat.theano as theano``.

Aliases onto symgraph's own modules; no logic of its own beyond accepting Theano-only
settings that have no meaning here.
"""

from typing import Any

import symgraph as _sg
from symgraph import gradient, printing  # noqa: F401
from symgraph.compat.theano import tensor  # noqa: F401
from symgraph.compat.theano.config import config  # noqa: F401
from symgraph.compile import In, Mode, SharedVariable, shared  # noqa: F401
from symgraph.compile import compile_function as function  # noqa: F401
from symgraph.gradient import Lop, Rop, grad  # noqa: F401
from symgraph.printing import pp  # noqa: F401
from symgraph.tensor.linalg import dot  # noqa: F401

__version__ = "1.0.5+symgraph" + _sg.__version__


def Param(variable: Any, default: Any = None, name: str | None = None) -> In:  # noqa: N802 - Theano's name
    """Theano's old spelling of ``In(variable, value=default, name=name)``."""
    return In(variable, name=name, value=default)


def __getattr__(name: str) -> Any:
    import importlib

    lazy = {"scan": ("symgraph.control.scan", "scan"), "ifelse": ("symgraph.compat.theano.ifelse", None),
            "sandbox": ("symgraph.compat.theano.sandbox", None), "scan_module": ("symgraph.control.scan", None)}
    if name in lazy:
        module_name, attr = lazy[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise AttributeError(f"theano.{name} is not available in this version of symgraph yet") from None
        return getattr(module, attr) if attr else module
    raise AttributeError(f"module 'theano' (symgraph.compat.theano) has no attribute {name!r}")
