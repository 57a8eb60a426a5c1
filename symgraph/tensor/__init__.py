"""The tensor namespace: ``import symgraph.tensor as T``.

Constructors (``T.dmatrix``), elementwise math (``T.exp``), reductions, shape ops,
indexing helpers, linear algebra (``T.dot``, ``T.nlinalg``) and neural-network ops
(``T.nnet``). Gradient functions (``T.grad``, ``T.jacobian``, ...) are re-exported
lazily, because the gradient package is built on top of this one.
"""

from __future__ import annotations

from typing import Any

from symgraph.tensor import extra_ops, linalg, nlinalg, nnet, reduce, shape, subtensor  # noqa: F401
from symgraph.tensor.elemwise import DimShuffle, Elemwise, dimshuffle, pad_left  # noqa: F401
from symgraph.tensor.extra_ops import *
from symgraph.tensor.linalg import *
from symgraph.tensor.math import (  # noqa: F401
    abs,
    abs_,
    add,
    and_,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    cast,
    ceil,
    clip,
    cos,
    cosh,
    digamma,
    eq,
    erf,
    erfc,
    erfcinv,
    erfinv,
    exp,
    exp2,
    expm1,
    fill,
    floor,
    gamma,
    gammaln,
    ge,
    gt,
    int_div,
    invert,
    isinf,
    isnan,
    le,
    log,
    log1mexp,
    log1p,
    log2,
    log10,
    lt,
    maximum,
    minimum,
    mod,
    mul,
    neg,
    neq,
    ones_like,
    or_,
    pow,
    psi,
    reciprocal,
    relu,
    round,
    round_half_away_from_zero,
    round_half_to_even,
    second,
    sigmoid,
    sign,
    sin,
    sinh,
    softplus,
    sqr,
    sqrt,
    square,
    sub,
    switch,
    tan,
    tanh,
    tensor_copy,
    trigamma,
    true_div,
    trunc,
    where,
    xor,
    zeros_like,
)
from symgraph.tensor.nnet import *
from symgraph.tensor.reduce import *
from symgraph.tensor.shape import *
from symgraph.tensor.subtensor import *
from symgraph.tensor.type import CONSTRUCTORS, TensorType, tensor  # noqa: F401
from symgraph.tensor.variable import (  # noqa: F401
    TensorConstant,
    TensorVariable,
    as_tensor_variable,
    constant,
)

globals().update(CONSTRUCTORS)

# NumPy-style aliases
true_divide = true_div
floor_divide = int_div
power = pow

_LAZY_GRADIENT = (
    "grad", "jacobian", "hessian", "Lop", "Rop", "verify_grad", "zero_grad", "disconnected_grad",
    "grad_clip",
)


def __getattr__(name: str) -> Any:
    if name in _LAZY_GRADIENT:
        from symgraph import gradient

        return getattr(gradient, name)
    if name == "random":
        import importlib

        return importlib.import_module("symgraph.tensor.random")
    raise AttributeError(f"module 'symgraph.tensor' has no attribute {name!r}")
