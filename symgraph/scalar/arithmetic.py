"""Arithmetic scalar ops: + - * / // % ** and friends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from symgraph.scalar import dtypes as _dt
from symgraph.scalar.op import BinaryFloatOp, ScalarOp


class Add(ScalarOp):
    nin = -1
    symbol = "+"
    commutative = True
    associative = True
    identity = 0


class Mul(ScalarOp):
    nin = -1
    symbol = "*"
    commutative = True
    associative = True
    identity = 1


class Sub(ScalarOp):
    nin = 2
    symbol = "-"

    def output_dtype(self, *dtypes: str) -> str:
        # NumPy has no bool - bool (it raises when called); refuse it when the graph is built
        if all(d == "bool" for d in dtypes):
            raise TypeError("cannot subtract bool tensors; use x ^ y (xor), or cast them to an "
                            "integer dtype first")
        return super().output_dtype(*dtypes)


class TrueDiv(BinaryFloatOp):
    symbol = "/"


class IntDiv(ScalarOp):
    """Floor division, as Python and NumPy define it."""

    nin = 2
    symbol = "//"
    accepts = "real"


class Mod(ScalarOp):
    """Remainder with the sign of the divisor (NumPy's ``%``)."""

    nin = 2
    symbol = "%"
    accepts = "real"


class Pow(ScalarOp):
    nin = 2
    symbol = "**"


class Neg(ScalarOp):
    symbol = "-"

    def output_dtype(self, *dtypes: str) -> str:
        if dtypes[0] == "bool":
            raise TypeError("cannot negate a bool tensor; use ~x (invert) instead")
        return dtypes[0]


class Abs(ScalarOp):
    def output_dtype(self, *dtypes: str) -> str:
        return {"complex64": "float32", "complex128": "float64"}.get(dtypes[0], dtypes[0])


class Sign(ScalarOp):
    accepts = "real"

    def output_dtype(self, *dtypes: str) -> str:
        # NumPy has no sign of bool (it raises when called); refuse it when the graph is built
        if dtypes[0] == "bool":
            raise TypeError("sign is not defined for a bool tensor; cast it to an integer dtype first")
        return dtypes[0]


class Sqr(ScalarOp):
    """x * x."""


class Reciprocal(ScalarOp):
    """1 / x."""

    def output_dtype(self, *dtypes: str) -> str:
        return _dt.upgrade_to_float(*dtypes)


class Maximum(ScalarOp):
    nin = 2
    commutative = True
    associative = True
    accepts = "real"


class Minimum(ScalarOp):
    nin = 2
    commutative = True
    associative = True
    accepts = "real"


class Floor(ScalarOp):
    accepts = "real"


class Ceil(ScalarOp):
    accepts = "real"


class Trunc(ScalarOp):
    accepts = "real"


class RoundHalfToEven(ScalarOp):
    accepts = "real"


class RoundHalfAwayFromZero(ScalarOp):
    accepts = "real"


class Clip(ScalarOp):
    """clip(x, lo, hi) = min(max(x, lo), hi)."""

    nin = 3
    accepts = "real"


class Identity(ScalarOp):
    pass


class Second(ScalarOp):
    """second(a, b) = b, broadcast to the shape of both; the basis of ``fill``."""

    nin = 2

    def output_dtype(self, *dtypes: str) -> str:
        return dtypes[1]


@dataclass(frozen=True)
class Cast(ScalarOp):
    """Convert to ``dtype`` (NumPy's ``astype``: floats truncate toward zero)."""

    dtype: str
    nin: ClassVar[int] = 1

    def output_dtype(self, *dtypes: str) -> str:
        return self.dtype

    @property
    def name(self) -> str:
        return f"cast_{self.dtype}"


add = Add()
mul = Mul()
sub = Sub()
true_div = TrueDiv()
int_div = IntDiv()
mod = Mod()
pow = Pow()  # noqa: A001 - the op is called pow, as in NumPy
neg = Neg()
abs_ = Abs()
sign = Sign()
sqr = Sqr()
reciprocal = Reciprocal()
maximum = Maximum()
minimum = Minimum()
floor = Floor()
ceil = Ceil()
trunc = Trunc()
round_half_to_even = RoundHalfToEven()
round_half_away_from_zero = RoundHalfAwayFromZero()
clip = Clip()
identity = Identity()
second = Second()
