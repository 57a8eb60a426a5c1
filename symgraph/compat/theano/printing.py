"""theano.printing: symgraph.printing under Theano's module name (so that
``from theano.printing import pydotprint`` works as well as ``theano.printing.pp``)."""

from symgraph.printing import *  # noqa: F403
from symgraph.printing import __all__  # noqa: F401
