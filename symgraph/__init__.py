"""symgraph: build a graph of array math, differentiate it, rewrite it, compile it.

>>> import symgraph as sg
>>> import symgraph.tensor as T
>>> x = T.dscalar('x')
>>> f = sg.compile_function([x], T.grad(x ** 2 + 3, x))
>>> f(2.0)
array(4.)
"""

from symgraph import tensor
from symgraph.compile import Function, In, Mode, SharedVariable, compile_function, function, shared
from symgraph.config import config
from symgraph.gradient import Lop, Rop, grad, hessian, jacobian, verify_grad
from symgraph.printing import debugprint, pp
from symgraph.tensor.random import RandomStream

__version__ = "0.1.0"

__all__ = [
    "Function", "In", "Lop", "Mode", "RandomStream", "Rop", "SharedVariable", "compile_function", "config", "debugprint",
    "function", "grad", "hessian", "jacobian", "pp", "shared", "tensor", "verify_grad",
]


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    import importlib

    if name in ("printing", "graph", "gradient", "compile", "rewrite", "backends", "scalar", "control", "errors"):
        return importlib.import_module(f"symgraph.{name}")
    # control flow (symgraph/control): imported on first use
    if name in ("scan", "scan_until", "until"):
        return getattr(importlib.import_module("symgraph.control.scan"), name)
    if name == "ifelse":
        return importlib.import_module("symgraph.control.ifelse").ifelse
    raise AttributeError(f"module 'symgraph' has no attribute {name!r}")
