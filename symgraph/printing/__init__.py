"""Seeing the graph: one-line math (pp), trees (debugprint), pictures (pydotprint)."""

from symgraph.printing.debugprint import debugprint
from symgraph.printing.pp import pp
from symgraph.printing.print_op import Print

#: Theano's name for pp (``theano.printing.pprint``)
pprint = pp

__all__ = ["Print", "debugprint", "pp", "pprint", "pydotprint"]


def pydotprint(*args, **kwargs):  # type: ignore[no-untyped-def]
    """Draw the graph to an image file (needs the ``graphviz`` extra); see printing.pydot."""
    from symgraph.printing.pydot import pydotprint as _pydotprint

    return _pydotprint(*args, **kwargs)
