"""theano.gradient: symgraph.gradient under Theano's module name (so that
``from theano.gradient import verify_grad`` works as well as ``theano.gradient.grad``)."""

from symgraph.gradient import *  # noqa: F403
from symgraph.gradient import __all__  # noqa: F401
