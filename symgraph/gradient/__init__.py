"""Gradients: reverse mode over the graph (grad), and jacobian, hessian, Lop, Rop."""

from symgraph.errors import DisconnectedInputError, GradientError
from symgraph.gradient.api import Lop, Rop, hessian, jacobian
from symgraph.gradient.modifiers import disconnected_grad, grad_clip, zero_grad
from symgraph.gradient.reverse import grad
from symgraph.gradient.verify import verify_grad

__all__ = [
    "DisconnectedInputError", "GradientError", "Lop", "Rop", "disconnected_grad", "grad", "grad_clip", "hessian",
    "jacobian", "verify_grad", "zero_grad",
]
