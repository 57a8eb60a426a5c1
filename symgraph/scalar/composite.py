"""Composite: several scalar ops fused into one, so a chain of Elemwise ops becomes one loop.

The fused computation is a small straight-line program over values numbered
0 .. n_inputs-1 (the inputs) followed by one value per step. Each value keeps the dtype
it had in the original graph, so fusing never changes a result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from symgraph.scalar.op import ScalarOp


@dataclass(frozen=True)
class Composite(ScalarOp):
    """``steps[k] = (scalar_op, argument value indices)``; the last step is the result.

    ``dtypes`` lists the dtype of every value: the inputs', then each step's.
    """

    input_dtypes: tuple[str, ...]
    steps: tuple[tuple[ScalarOp, tuple[int, ...]], ...]
    dtypes: tuple[str, ...]
    nin: ClassVar[int] = -1  # checked against input_dtypes in check_dtypes

    @property
    def n_inputs(self) -> int:
        return len(self.input_dtypes)

    @property
    def name(self) -> str:
        return "composite{" + ",".join(step[0].name for step in self.steps) + "}"

    def output_dtype(self, *dtypes: str) -> str:
        return self.dtypes[-1]

    def check_dtypes(self, *dtypes: str) -> None:
        if tuple(dtypes) != self.input_dtypes:
            raise TypeError(f"{self.name} was built for inputs {self.input_dtypes}, got {tuple(dtypes)}")

    def describe(self) -> str:
        """The fused expression in math form, e.g. ``exp(i0) * sin(i1)``."""
        texts = [f"i{k}" for k in range(self.n_inputs)]
        for sop, args in self.steps:
            parts = [texts[a] for a in args]
            if sop.symbol and len(parts) >= 2:
                texts.append("(" + f" {sop.symbol} ".join(parts) + ")")
            elif sop.symbol and len(parts) == 1:
                texts.append(f"{sop.symbol}{parts[0]}")
            else:
                texts.append(f"{sop.name}({', '.join(parts)})")
        return texts[-1]

    def __str__(self) -> str:
        return self.name
