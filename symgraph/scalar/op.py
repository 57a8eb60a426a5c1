"""ScalarOp: a function of scalars, with its dtype rule and algebraic properties.

Elemwise lifts a ScalarOp over arrays. Scalar ops are frozen dataclasses (equal by
parameters); most have none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from symgraph.scalar import dtypes as _dt


@dataclass(frozen=True)
class ScalarOp:
    """Base of scalar functions. ``nin`` is the input count (-1 for n-ary)."""

    nin: ClassVar[int] = 1
    #: symbol used by the pretty printer for infix/prefix ops, e.g. "+"
    symbol: ClassVar[str | None] = None
    commutative: ClassVar[bool] = False
    associative: ClassVar[bool] = False
    #: neutral element (x op identity == x), if any
    identity: ClassVar[float | None] = None
    #: which input dtypes are accepted: 'any', 'inexact', 'float' (real), 'int' (discrete)
    accepts: ClassVar[str] = "any"

    @property
    def name(self) -> str:
        return type(self).__name__.lower()

    def output_dtype(self, *dtypes: str) -> str:
        """The dtype of the result given the input dtypes."""
        return _dt.upcast(*dtypes)

    def check_dtypes(self, *dtypes: str) -> None:
        if self.accepts == "any":
            return
        for d in dtypes:
            ok = {
                "float": not _dt.is_complex(d),
                "int": _dt.is_discrete(d),
                "real": not _dt.is_complex(d),
            }.get(self.accepts, True)
            if not ok:
                raise TypeError(f"{self.name} does not accept {d} inputs (it needs {self.accepts} dtypes)")

    def __str__(self) -> str:
        return self.name


class UnaryFloatOp(ScalarOp):
    """A unary op whose result is floating point (ints are upgraded, see upgrade_to_float)."""

    def output_dtype(self, *dtypes: str) -> str:
        return _dt.upgrade_to_float(*dtypes)


class BinaryFloatOp(ScalarOp):
    nin = 2

    def output_dtype(self, *dtypes: str) -> str:
        return _dt.upgrade_to_float(*dtypes)


class PredicateOp(ScalarOp):
    """An op whose result is bool."""

    def output_dtype(self, *dtypes: str) -> str:
        return "bool"
