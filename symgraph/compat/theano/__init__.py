"""Run classic Theano code: ``import symgraph.compat.theano as theano``.

Aliases onto symgraph's own modules; no logic of its own beyond accepting Theano-only
settings that have no meaning here.
"""

from typing import Any

import symgraph as _sg

# theano.gradient and theano.printing are modules of this package (re-exporting symgraph's),
# so that ``from theano.gradient import verify_grad`` imports as well as attribute access works
from symgraph.compat.theano import gradient, printing, tensor  # noqa: F401
from symgraph.compat.theano.config import config  # noqa: F401
from symgraph.compile import In, Mode, SharedVariable, shared  # noqa: F401
from symgraph.compile import compile_function as function  # noqa: F401
from symgraph.gradient import Lop, Rop, grad  # noqa: F401
from symgraph.printing import pp  # noqa: F401
from symgraph.tensor.linalg import dot  # noqa: F401

__version__ = "1.0.5+symgraph" + _sg.__version__


def Param(variable: Any, default: Any = None, name: str | None = None) -> In:
    """Theano's old spelling of ``In(variable, value=default, name=name)``."""
    return In(variable, name=name, value=default)


def Out(variable: Any, borrow: bool = False) -> Any:
    """Theano's output specification: accepted in a function's outputs list.

    ``borrow`` is ignored (accepted for Theano): the py backend returns fresh arrays, and
    the C backend hands its own output buffers to NumPy without a copy already.
    """
    return variable


def clone(output: Any, replace: Any = None, strict: bool = True, share_inputs: bool = True) -> Any:
    """Theano's graph copy: a fresh copy of the graph of ``output`` (a variable or a list of
    them), with the variables in ``replace`` substituted.

    Parameters
    ----------
    output : variable, or list/tuple of variables
    replace : dict or list of ``(old, new)`` pairs; ``new`` may be a number or array
    strict : if True, each ``new`` must have a type compatible with ``old`` (same dtype
        and ndim); if False, types are inferred again through the copied graph
    share_inputs : if False, the graph's input variables are copied too

    >>> y2 = theano.clone(x ** 2, replace={x: x + 1})   # (x + 1) ** 2
    """
    from symgraph.graph.node import Variable
    from symgraph.graph.traversal import clone_nodes, clone_replace
    from symgraph.tensor.variable import as_tensor_variable

    single = not isinstance(output, (list, tuple))
    outputs = [output] if single else list(output)
    pairs = list(replace.items()) if isinstance(replace, dict) else list(replace or [])
    mapping = {}
    for old, new in pairs:
        if not isinstance(old, Variable):
            raise TypeError(f"clone: replace keys must be variables, got {type(old).__name__} {old!r:.60}")
        new = new if isinstance(new, Variable) else as_tensor_variable(new, dtype=old.type.dtype)
        if strict and not old.type.is_compatible(new.type):
            raise TypeError(
                f"clone: cannot replace {old!r} ({old.type}) by {new!r} ({new.type}); "
                "cast the replacement, or pass strict=False"
            )
        mapping[old] = new
    copied, _ = clone_replace(outputs, mapping, copy_inputs=not share_inputs)
    copied, _, _ = clone_nodes(copied, [])  # every node fresh, as Theano's clone gave
    if single:
        return copied[0]
    return type(output)(copied) if isinstance(output, tuple) else copied


def __getattr__(name: str) -> Any:
    import importlib

    lazy = {"scan": ("symgraph.control.scan", "scan"), "ifelse": ("symgraph.compat.theano.ifelse", None),
            "sandbox": ("symgraph.compat.theano.sandbox", None),
            "scan_module": ("symgraph.compat.theano.scan_module", None),
            "compile": ("symgraph.compat.theano.compile", None),
            "gof": ("symgraph.compat.theano.gof", None), "Op": ("symgraph.compat.theano.gof", "Op"),
            "Apply": ("symgraph.compat.theano.gof", "Apply"),
            "map": ("symgraph.control.scan", "map"), "reduce": ("symgraph.control.scan", "reduce"),
            "foldl": ("symgraph.control.scan", "foldl"), "foldr": ("symgraph.control.scan", "foldr")}
    if name in lazy:
        module_name, attr = lazy[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise AttributeError(f"theano.{name} is not available in this version of symgraph yet") from None
        return getattr(module, attr) if attr else module
    raise AttributeError(f"module 'theano' (symgraph.compat.theano) has no attribute {name!r}")
