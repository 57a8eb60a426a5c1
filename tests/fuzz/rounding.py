"""Monte Carlo arithmetic for the NumPy backend: how much does rounding move a result?

``perturbed_run(fgraph, args, rng)`` runs a graph like the py backend does, but scales the
float inputs and the result of every operation that rounds by ``1 + d`` with ``|d|`` up to
``PERTURB_ULPS`` ulps, drawn at random per element. That simulates another, equally valid
rounding of each operation (the idea of Monte Carlo arithmetic, as in Verificarlo): the
spread of a few such runs shows how sensitive each output element is to rounding, which is
exactly how far a rewritten formula, a fused loop, another libm or another summation order
may legitimately move it. ``compare.py`` turns the spread into a tolerance.

Exact operations are not perturbed (data movement, max/min/argmax, abs, neg, floor, ceil,
rounding, sign, clip, switch, casts, comparisons, set_subtensor): their results carry no
rounding error, and perturbing them would fake a sensitivity that is not there (a perturbed
``floor(x) = 2.0`` would make a following ``ceil`` look ill-conditioned).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from symgraph.backends.py.runner import PyRunner
from symgraph.graph.fgraph import FunctionGraph
from symgraph.scalar import arithmetic as sa
from symgraph.scalar.composite import Composite
from symgraph.scalar.op import BinaryFloatOp, UnaryFloatOp
from symgraph.tensor.blas import Gemm, Gemv, Ger
from symgraph.tensor.elemwise import Elemwise
from symgraph.tensor.linalg import BatchedDot, Dot, MatMul
from symgraph.tensor.nnet import LogSoftmax, Softmax
from symgraph.tensor.reduce import Prod, Sum
from symgraph.tensor.subtensor import AdvancedIncSubtensor, IncSubtensor

PERTURB_ULPS = 16

# Scalar ops whose float result is rounded (transcendental functions are Unary/BinaryFloatOp).
_ROUNDING_SCALAR = (sa.Add, sa.Sub, sa.Mul, sa.Pow, sa.Sqr, sa.Reciprocal, sa.Mod, UnaryFloatOp,
                    BinaryFloatOp)
_ROUNDING_OPS = (Sum, Prod, Dot, MatMul, BatchedDot, Gemm, Gemv, Ger, Softmax, LogSoftmax)


def _rounds(op: Any) -> bool:
    if isinstance(op, Elemwise):
        scalar = op.scalar_op
        if isinstance(scalar, Composite):
            return any(isinstance(step[0], _ROUNDING_SCALAR) for step in scalar.steps)
        return isinstance(scalar, _ROUNDING_SCALAR)
    if isinstance(op, (IncSubtensor, AdvancedIncSubtensor)):
        return not op.set_instead_of_inc  # increments add; sets only copy
    return isinstance(op, _ROUNDING_OPS)


def perturb(values: Any, rng: np.random.Generator) -> Any:
    """``values`` scaled elementwise by ``1 + d``, ``|d| <= PERTURB_ULPS * eps`` (floats only)."""
    arr = np.asarray(values)
    if arr.dtype.kind != "f":
        return values
    eps = np.finfo(arr.dtype).eps
    scale = 1.0 + rng.uniform(-PERTURB_ULPS, PERTURB_ULPS, size=arr.shape) * eps
    with np.errstate(all="ignore"):
        return np.asarray(arr.astype(np.float64) * scale).astype(arr.dtype)


class _PerturbedRunner(PyRunner):
    """The py runner with every rounding operation's result perturbed (see module doc)."""

    def __init__(self, fgraph: FunctionGraph, rng: np.random.Generator) -> None:
        super().__init__(fgraph)
        self.rng = rng

    def __call__(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        storage: list[Any] = [None] * self.n_slots
        storage[: self.n_inputs] = [perturb(np.array(a), self.rng) for a in inputs]
        for slot, data in self.constants:
            storage[slot] = data
        for impl, node, in_slots, out_slots in self.steps:
            results = impl(node.op, node, [storage[i] for i in in_slots])
            rounds = _rounds(node.op)
            for slot, out, value in zip(out_slots, node.outputs, results):
                value = np.asarray(value, dtype=out.type.dtype)
                storage[slot] = perturb(value, self.rng) if rounds else value
        return [np.asarray(storage[s]) for s in self.output_slots]


def perturbed_run(fgraph: FunctionGraph, args: Sequence[np.ndarray], rng: np.random.Generator) -> list[np.ndarray] | None:
    """One Monte Carlo run of ``fgraph`` on ``args``; None if it raised."""
    with np.errstate(all="ignore"):
        try:
            return _PerturbedRunner(fgraph, rng)(args)
        except (ValueError, IndexError, ZeroDivisionError, FloatingPointError):
            return None
