"""theano.tensor.extra_ops: symgraph.tensor.extra_ops under Theano's module name."""

from symgraph.tensor.extra_ops import *
from symgraph.tensor.extra_ops import CumOp  # noqa: F401
