"""Special functions: error function family, gamma family."""

from __future__ import annotations

from symgraph.scalar.op import UnaryFloatOp


class Erf(UnaryFloatOp):
    accepts = "real"


class Erfc(UnaryFloatOp):
    accepts = "real"


class Erfinv(UnaryFloatOp):
    accepts = "real"


class Erfcinv(UnaryFloatOp):
    accepts = "real"


class Gamma(UnaryFloatOp):
    accepts = "real"


class GammaLn(UnaryFloatOp):
    """log(|gamma(x)|)."""

    accepts = "real"


class Psi(UnaryFloatOp):
    """The digamma function, d/dx log(gamma(x))."""

    accepts = "real"


class TriGamma(UnaryFloatOp):
    """The trigamma function, d/dx psi(x)."""

    accepts = "real"


erf = Erf()
erfc = Erfc()
erfinv = Erfinv()
erfcinv = Erfcinv()
gamma = Gamma()
gammaln = GammaLn()
psi = Psi()
trigamma = TriGamma()
