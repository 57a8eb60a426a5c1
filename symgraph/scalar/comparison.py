"""Comparisons, logic, predicates and switch."""

from __future__ import annotations

from symgraph.scalar import dtypes as _dt
from symgraph.scalar.op import PredicateOp, ScalarOp


class LT(PredicateOp):
    nin = 2
    symbol = "<"


class LE(PredicateOp):
    nin = 2
    symbol = "<="


class GT(PredicateOp):
    nin = 2
    symbol = ">"


class GE(PredicateOp):
    nin = 2
    symbol = ">="


class EQ(PredicateOp):
    nin = 2
    symbol = "=="
    commutative = True


class NEQ(PredicateOp):
    nin = 2
    symbol = "!="
    commutative = True


class IsNan(PredicateOp):
    pass


class IsInf(PredicateOp):
    pass


class _BitwiseOp(ScalarOp):
    nin = 2
    accepts = "int"
    commutative = True
    associative = True

    def check_dtypes(self, *dtypes: str) -> None:
        for d in dtypes:
            if not _dt.is_discrete(d):
                raise TypeError(f"{self.name} needs bool or integer inputs, got {d}")


class And(_BitwiseOp):
    symbol = "&"


class Or(_BitwiseOp):
    symbol = "|"


class Xor(_BitwiseOp):
    symbol = "^"


class Invert(ScalarOp):
    """~x: logical not for bool, bitwise not for integers."""

    symbol = "~"

    def check_dtypes(self, *dtypes: str) -> None:
        if not _dt.is_discrete(dtypes[0]):
            raise TypeError(f"invert (~) needs a bool or integer input, got {dtypes[0]}")


class Switch(ScalarOp):
    """switch(cond, a, b): a where cond is true, else b."""

    nin = 3

    def output_dtype(self, *dtypes: str) -> str:
        return _dt.upcast(dtypes[1], dtypes[2])


lt = LT()
le = LE()
gt = GT()
ge = GE()
eq = EQ()
neq = NEQ()
isnan = IsNan()
isinf = IsInf()
and_ = And()
or_ = Or()
xor = Xor()
invert = Invert()
switch = Switch()
