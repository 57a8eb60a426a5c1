"""theano.tensor: symgraph.tensor under Theano's module layout."""

from symgraph.gradient import Lop, Rop, grad, hessian, jacobian, verify_grad  # noqa: F401
from symgraph.tensor import *  # noqa: F403
from symgraph.tensor import CONSTRUCTORS, TensorConstant, TensorType, TensorVariable  # noqa: F401
from symgraph.compat.theano.tensor import nlinalg, nnet  # noqa: E402, F401  (Theano's submodules)

globals().update(CONSTRUCTORS)
