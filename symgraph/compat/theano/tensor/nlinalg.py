"""theano.tensor.nlinalg."""

from symgraph.tensor.nlinalg import *  # noqa: F403
