"""``from theano.ifelse import ifelse``: symgraph's lazy conditional under Theano's name."""

from symgraph.control.ifelse import ifelse

__all__ = ["ifelse"]
