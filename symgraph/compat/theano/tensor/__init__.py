"""theano.tensor: symgraph.tensor under Theano's module layout."""

import importlib as _importlib

from symgraph.gradient import (  # noqa: F401
    Lop,
    Rop,
    disconnected_grad,
    grad,
    grad_clip,
    hessian,
    jacobian,
    verify_grad,
    zero_grad,
)
from symgraph.tensor import *
from symgraph.tensor import CONSTRUCTORS, TensorConstant, TensorType, TensorVariable  # noqa: F401

# Theano's submodules, loaded by name: the star import above already bound ``nnet`` and
# ``nlinalg`` to symgraph.tensor's own modules, and ``from <this package> import nnet``
# would return those instead of loading this package's submodule
for _name in ("extra_ops", "nlinalg", "nnet", "shared_randomstreams", "signal"):
    globals()[_name] = _importlib.import_module(f"{__name__}.{_name}")

globals().update(CONSTRUCTORS)
