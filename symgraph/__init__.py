"""symgraph: build a graph of array math, differentiate it, rewrite it, compile it.

>>> import symgraph as sg
>>> import symgraph.tensor as T
>>> x = T.dscalar('x')
>>> f = sg.compile_function([x], T.grad(x ** 2 + 3, x))
>>> f(2.0)
array(4.)
"""

from symgraph import tensor  # noqa: F401
from symgraph.compile import Function, In, Mode, SharedVariable, compile_function, function, shared
from symgraph.config import config
from symgraph.gradient import Lop, Rop, grad, hessian, jacobian, verify_grad
from symgraph.printing import debugprint, pp

__version__ = "0.1.0"

__all__ = [
    "Function", "In", "Lop", "Mode", "Rop", "SharedVariable", "compile_function", "config", "debugprint",
    "function", "grad", "hessian", "jacobian", "pp", "shared", "tensor", "verify_grad",
]


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    import importlib

    if name in ("printing", "graph", "gradient", "compile", "rewrite", "backends", "scalar", "control", "errors"):
        return importlib.import_module(f"symgraph.{name}")
    raise AttributeError(f"module 'symgraph' has no attribute {name!r}")
