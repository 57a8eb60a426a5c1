"""Elementwise math on tensors: arithmetic, comparisons, logic, transcendental functions.

Each function lifts one scalar op (``symgraph.scalar``) with ``Elemwise``. Python numbers
mixed with tensors take the tensor's dtype when they fit (NumPy 2 / NEP 50), so
``x_float32 * 2.0`` stays float32.
"""

from __future__ import annotations

from typing import Any

from symgraph import scalar as ps
from symgraph.graph.node import Variable
from symgraph.scalar import dtypes as _dt
from symgraph.scalar.op import ScalarOp
from symgraph.tensor.elemwise import Elemwise
from symgraph.tensor.variable import TensorVariable, _is_python_number, as_operand, as_tensor_variable


def apply_elemwise(sop: ScalarOp, *args: Any) -> TensorVariable:
    """Build ``Elemwise(sop)(*args)``, converting Python numbers with NEP 50 rules."""
    strong = [a.dtype for a in args if isinstance(a, Variable)]
    strong += [as_tensor_variable(a).dtype for a in args if not isinstance(a, Variable) and not _is_python_number(a)]
    partner = _dt.upcast(*strong) if strong else None
    operands = [as_operand(a, partner) for a in args]
    return Elemwise(sop)(*operands)


# -- arithmetic ---------------------------------------------------------------------------
def add(*args: Any) -> TensorVariable:
    """Elementwise sum of any number of tensors."""
    return apply_elemwise(ps.add, *args)


def sub(a: Any, b: Any) -> TensorVariable:
    return apply_elemwise(ps.sub, a, b)


def mul(*args: Any) -> TensorVariable:
    """Elementwise product of any number of tensors."""
    return apply_elemwise(ps.mul, *args)


def true_div(a: Any, b: Any) -> TensorVariable:
    """a / b; integer inputs give a floating-point result."""
    return apply_elemwise(ps.true_div, a, b)


def int_div(a: Any, b: Any) -> TensorVariable:
    """a // b: floor division, as NumPy."""
    return apply_elemwise(ps.int_div, a, b)


def mod(a: Any, b: Any) -> TensorVariable:
    """a % b, with the sign of b (NumPy's remainder)."""
    return apply_elemwise(ps.mod, a, b)


def pow(a: Any, b: Any) -> TensorVariable:  # noqa: A001 - NumPy's name
    return apply_elemwise(ps.pow, a, b)


def neg(x: Any) -> TensorVariable:
    return apply_elemwise(ps.neg, x)


def abs(x: Any) -> TensorVariable:  # noqa: A001 - API name
    """|x| (for complex input, the magnitude)."""
    return apply_elemwise(ps.abs_, x)


abs_ = abs


def sign(x: Any) -> TensorVariable:
    return apply_elemwise(ps.sign, x)


def sqr(x: Any) -> TensorVariable:
    """x * x."""
    return apply_elemwise(ps.sqr, x)


square = sqr


def reciprocal(x: Any) -> TensorVariable:
    return apply_elemwise(ps.reciprocal, x)


def maximum(a: Any, b: Any) -> TensorVariable:
    return apply_elemwise(ps.maximum, a, b)


def minimum(a: Any, b: Any) -> TensorVariable:
    return apply_elemwise(ps.minimum, a, b)


def floor(x: Any) -> TensorVariable:
    return apply_elemwise(ps.floor, x)


def ceil(x: Any) -> TensorVariable:
    return apply_elemwise(ps.ceil, x)


def trunc(x: Any) -> TensorVariable:
    return apply_elemwise(ps.trunc, x)


def round_half_to_even(x: Any) -> TensorVariable:
    """Round to nearest, ties to even (NumPy's ``round``)."""
    return apply_elemwise(ps.round_half_to_even, x)


def round_half_away_from_zero(x: Any) -> TensorVariable:
    return apply_elemwise(ps.round_half_away_from_zero, x)


def round(x: Any, mode: str = "half_to_even") -> TensorVariable:  # noqa: A001
    """Round to nearest; ``mode`` is 'half_to_even' (NumPy) or 'half_away_from_zero'."""
    if mode == "half_to_even":
        return round_half_to_even(x)
    if mode == "half_away_from_zero":
        return round_half_away_from_zero(x)
    raise ValueError(f"round: mode must be 'half_to_even' or 'half_away_from_zero', got {mode!r}")


def clip(x: Any, a_min: Any, a_max: Any) -> TensorVariable:
    """Limit values to [a_min, a_max]."""
    return apply_elemwise(ps.clip, x, a_min, a_max)


def cast(x: Any, dtype: Any) -> TensorVariable:
    """Convert to ``dtype``; a no-op if ``x`` already has it."""
    x = as_tensor_variable(x)
    dtype = _dt.normalize_dtype(dtype)
    if x.dtype == dtype:
        return x
    if _dt.is_complex(x.dtype) and not _dt.is_complex(dtype):
        raise TypeError(f"casting {x!r} from {x.dtype} to {dtype} is ambiguous; use abs(), real or imag parts")
    return Elemwise(ps.Cast(dtype))(x)


def tensor_copy(x: Any) -> TensorVariable:
    """An identical copy of x (a separate node, useful for naming)."""
    return apply_elemwise(ps.identity, x)


def second(a: Any, b: Any) -> TensorVariable:
    """b broadcast to the shape of a and b (Theano's ``second``)."""
    return apply_elemwise(ps.second, a, b)


def fill(model: Any, value: Any) -> TensorVariable:
    """An array shaped like ``model`` filled with ``value``."""
    model = as_tensor_variable(model)
    value = as_operand(value, model.dtype)
    return Elemwise(ps.second)(model, value)


def zeros_like(x: Any, dtype: Any = None) -> TensorVariable:
    x = as_tensor_variable(x)
    return fill(x, as_tensor_variable(0, dtype=x.dtype if dtype is None else dtype))


def ones_like(x: Any, dtype: Any = None) -> TensorVariable:
    x = as_tensor_variable(x)
    return fill(x, as_tensor_variable(1, dtype=x.dtype if dtype is None else dtype))


# -- comparisons and logic ----------------------------------------------------------------
def lt(a: Any, b: Any) -> TensorVariable:
    """a < b, elementwise (bool result)."""
    return apply_elemwise(ps.lt, a, b)


def le(a: Any, b: Any) -> TensorVariable:
    return apply_elemwise(ps.le, a, b)


def gt(a: Any, b: Any) -> TensorVariable:
    return apply_elemwise(ps.gt, a, b)


def ge(a: Any, b: Any) -> TensorVariable:
    return apply_elemwise(ps.ge, a, b)


def eq(a: Any, b: Any) -> TensorVariable:
    """a == b, elementwise (bool result). ``==`` itself compares variables by identity."""
    return apply_elemwise(ps.eq, a, b)


def neq(a: Any, b: Any) -> TensorVariable:
    return apply_elemwise(ps.neq, a, b)


def isnan(x: Any) -> TensorVariable:
    return apply_elemwise(ps.isnan, x)


def isinf(x: Any) -> TensorVariable:
    return apply_elemwise(ps.isinf, x)


def and_(a: Any, b: Any) -> TensorVariable:
    """a & b: logical and for bool, bitwise and for integers."""
    return apply_elemwise(ps.and_, a, b)


def or_(a: Any, b: Any) -> TensorVariable:
    return apply_elemwise(ps.or_, a, b)


def xor(a: Any, b: Any) -> TensorVariable:
    return apply_elemwise(ps.xor, a, b)


def invert(x: Any) -> TensorVariable:
    """~x: logical not for bool, bitwise not for integers."""
    return apply_elemwise(ps.invert, x)


bitwise_and, bitwise_or, bitwise_xor, bitwise_not = and_, or_, xor, invert


def switch(cond: Any, a: Any, b: Any) -> TensorVariable:
    """``a`` where ``cond`` is true, else ``b`` (NumPy's ``where`` with three arguments)."""
    cond = as_tensor_variable(cond)
    if cond.dtype != "bool":
        cond = neq(cond, 0)
    return apply_elemwise(ps.switch, cond, a, b)


def where(cond: Any, a: Any = None, b: Any = None) -> TensorVariable:
    """Same as ``switch`` (NumPy's three-argument ``where``)."""
    if a is None or b is None:
        raise TypeError("T.where needs three arguments, where(cond, a, b); for indices use x.nonzero()")
    return switch(cond, a, b)


# -- exponentials, logarithms, trigonometry -----------------------------------------------
def _unary(sop: ScalarOp, doc: str) -> Any:
    def fn(x: Any) -> TensorVariable:
        return apply_elemwise(sop, x)

    fn.__name__ = sop.name
    fn.__doc__ = doc
    return fn


exp = _unary(ps.exp, "e ** x, elementwise.")
exp2 = _unary(ps.exp2, "2 ** x, elementwise.")
expm1 = _unary(ps.expm1, "exp(x) - 1, accurate for small x.")
log = _unary(ps.log, "Natural logarithm, elementwise.")
log2 = _unary(ps.log2, "Base-2 logarithm, elementwise.")
log10 = _unary(ps.log10, "Base-10 logarithm, elementwise.")
log1p = _unary(ps.log1p, "log(1 + x), accurate for small x.")
sqrt = _unary(ps.sqrt, "Square root, elementwise.")
sin = _unary(ps.sin, "Sine, elementwise.")
cos = _unary(ps.cos, "Cosine, elementwise.")
tan = _unary(ps.tan, "Tangent, elementwise.")
arcsin = _unary(ps.arcsin, "Inverse sine, elementwise.")
arccos = _unary(ps.arccos, "Inverse cosine, elementwise.")
arctan = _unary(ps.arctan, "Inverse tangent, elementwise.")
sinh = _unary(ps.sinh, "Hyperbolic sine, elementwise.")
cosh = _unary(ps.cosh, "Hyperbolic cosine, elementwise.")
tanh = _unary(ps.tanh, "Hyperbolic tangent, elementwise.")
arcsinh = _unary(ps.arcsinh, "Inverse hyperbolic sine, elementwise.")
arccosh = _unary(ps.arccosh, "Inverse hyperbolic cosine, elementwise.")
arctanh = _unary(ps.arctanh, "Inverse hyperbolic tangent, elementwise.")
sigmoid = _unary(ps.sigmoid, "1 / (1 + exp(-x)), computed without overflow.")
softplus = _unary(ps.softplus, "log(1 + exp(x)), computed without overflow.")
erf = _unary(ps.erf, "The error function.")
erfc = _unary(ps.erfc, "1 - erf(x), accurate for large x.")
erfinv = _unary(ps.erfinv, "Inverse of erf.")
erfcinv = _unary(ps.erfcinv, "Inverse of erfc.")
gamma = _unary(ps.gamma, "The gamma function.")
gammaln = _unary(ps.gammaln, "log(|gamma(x)|).")
psi = _unary(ps.psi, "The digamma function.")
digamma = psi
trigamma = _unary(ps.trigamma, "The trigamma function.")


def arctan2(y: Any, x: Any) -> TensorVariable:
    """Angle of the point (x, y), elementwise."""
    return apply_elemwise(ps.arctan2, y, x)


def relu(x: Any, alpha: float = 0.0) -> TensorVariable:
    """max(x, 0); with ``alpha``, a leaky ReLU: x if x > 0 else alpha * x."""
    x = as_tensor_variable(x)
    if alpha == 0:
        return switch(gt(x, 0), x, 0)
    return switch(gt(x, 0), x, mul(alpha, x))


def log1mexp(x: Any) -> TensorVariable:
    """log(1 - exp(x)) for x <= 0, accurate over the whole range."""
    x = as_tensor_variable(x)
    return switch(lt(x, -0.6931471805599453), log1p(neg(exp(x))), log(neg(expm1(x))))


