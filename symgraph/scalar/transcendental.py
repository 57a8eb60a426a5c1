"""Exponentials, logarithms, powers, trigonometric and hyperbolic functions."""

from __future__ import annotations

from symgraph.scalar.op import BinaryFloatOp, UnaryFloatOp


class Exp(UnaryFloatOp):
    pass


class Exp2(UnaryFloatOp):
    pass


class Expm1(UnaryFloatOp):
    """exp(x) - 1, accurate for small x."""


class Log(UnaryFloatOp):
    pass


class Log2(UnaryFloatOp):
    pass


class Log10(UnaryFloatOp):
    pass


class Log1p(UnaryFloatOp):
    """log(1 + x), accurate for small x."""


class Sqrt(UnaryFloatOp):
    pass


class Sin(UnaryFloatOp):
    pass


class Cos(UnaryFloatOp):
    pass


class Tan(UnaryFloatOp):
    pass


class ArcSin(UnaryFloatOp):
    pass


class ArcCos(UnaryFloatOp):
    pass


class ArcTan(UnaryFloatOp):
    pass


class ArcTan2(BinaryFloatOp):
    accepts = "real"


class Sinh(UnaryFloatOp):
    pass


class Cosh(UnaryFloatOp):
    pass


class Tanh(UnaryFloatOp):
    pass


class ArcSinh(UnaryFloatOp):
    pass


class ArcCosh(UnaryFloatOp):
    pass


class ArcTanh(UnaryFloatOp):
    pass


class Sigmoid(UnaryFloatOp):
    """1 / (1 + exp(-x)), computed without overflow."""

    accepts = "real"


class Softplus(UnaryFloatOp):
    """log(1 + exp(x)), computed without overflow."""

    accepts = "real"


exp = Exp()
exp2 = Exp2()
expm1 = Expm1()
log = Log()
log2 = Log2()
log10 = Log10()
log1p = Log1p()
sqrt = Sqrt()
sin = Sin()
cos = Cos()
tan = Tan()
arcsin = ArcSin()
arccos = ArcCos()
arctan = ArcTan()
arctan2 = ArcTan2()
sinh = Sinh()
cosh = Cosh()
tanh = Tanh()
arcsinh = ArcSinh()
arccosh = ArcCosh()
arctanh = ArcTanh()
sigmoid = Sigmoid()
softplus = Softplus()
