"""theano.tensor.nnet."""

from symgraph.tensor import conv  # noqa: F401  (the old tutorial's theano.tensor.nnet.conv.conv2d)
from symgraph.tensor.nnet import *
