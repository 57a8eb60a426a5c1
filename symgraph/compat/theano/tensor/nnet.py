"""theano.tensor.nnet."""

from symgraph.tensor.nnet import *  # noqa: F403
