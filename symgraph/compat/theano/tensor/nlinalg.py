"""theano.tensor.nlinalg."""

from symgraph.tensor.nlinalg import *
