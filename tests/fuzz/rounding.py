"""Monte Carlo arithmetic for the NumPy backend: how much does rounding move a result?

``perturbed_run(fgraph, args, seed, sign)`` runs a graph like the py backend does, but moves
the result of every operation that rounds by up to ``PERTURB_ULPS`` units in the last place
(``d * spacing(v)``, ``d`` drawn per element). That simulates another, equally valid
rounding of each operation (the idea of Monte Carlo arithmetic, as in Verificarlo): the
spread of a few such runs shows how sensitive each output element is to rounding, which is
exactly how far a rewritten formula, a fused loop, another libm or another summation order
may legitimately move it. ``compare.py`` turns the spread into a tolerance.

Units in the last place, not a relative epsilon: for normal numbers the two agree, but a
subnormal result carries an absolute rounding error (``exp(-745)`` is the smallest subnormal,
its exact value is 0.5 to 1.5 of it, so ``log(exp(-745))`` is -744.44 as written and -745
rewritten, and both are right). Exact zeros, infinities and NaNs are not moved, nor is a
result's sign. The inputs are exact and are not perturbed.

Runs come in antithetic pairs: the same seed with ``sign=-1`` uses ``-d`` everywhere. Where
a result's sign is decided by rounding (``exp(-1e-38) - exp(1e-38)`` is 0 as rounded, but
negative in fact, so its log is -inf as written and NaN in a rewritten form), the two runs
of a pair land on both sides, so the comparison sees the cliff instead of missing it by
chance.

Sums and products are also evaluated in another valid way: the reduced axes in a random
order, and in the antithetic twin with a float64 accumulator (the C backend accumulates
float32 sums in double, which does not overflow where NumPy's float32 pairwise sum does:
``sum([3e38, 3e38, -inf])`` is -inf, not NaN).

Exact operations are not perturbed (data movement, max/min/argmax, abs, neg, floor, ceil,
rounding, sign, clip, switch, comparisons, casts other than float64 to float32,
set_subtensor): their results carry no rounding error, and perturbing them would fake a
sensitivity that is not there (a perturbed ``floor(x) = 2.0`` would make a following
``ceil`` look ill-conditioned).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from symgraph.backends.py.dispatch import perform
from symgraph.backends.py.impls.scalar import check_elemwise_shapes, compute_scalar
from symgraph.backends.py.runner import PyRunner
from symgraph.graph.fgraph import FunctionGraph
from symgraph.scalar import arithmetic as sa
from symgraph.scalar.composite import Composite
from symgraph.scalar.op import BinaryFloatOp, UnaryFloatOp
from symgraph.tensor.blas import Gemm, Gemv, Ger
from symgraph.tensor.elemwise import Elemwise
from symgraph.tensor.linalg import BatchedDot, Dot, MatMul
from symgraph.tensor.nnet import LogSoftmax, Softmax
from symgraph.tensor.reduce import ElemwiseReduce, Prod, Sum
from symgraph.tensor.subtensor import AdvancedIncSubtensor, IncSubtensor

PERTURB_ULPS = 16

# Scalar ops whose float result is rounded (transcendental functions are Unary/BinaryFloatOp).
_ROUNDING_SCALAR = (
    sa.Add,
    sa.Sub,
    sa.Mul,
    sa.Pow,
    sa.Sqr,
    sa.Reciprocal,
    sa.Mod,
    UnaryFloatOp,
    BinaryFloatOp,
)
_ROUNDING_OPS = (Sum, Prod, Dot, MatMul, BatchedDot, Gemm, Gemv, Ger, Softmax, LogSoftmax)


def _step_rounds(scalar: Any, in_dtype: str, out_dtype: str) -> bool:
    """Whether one scalar operation rounds its float result."""
    if isinstance(scalar, sa.Cast):
        return in_dtype == "float64" and out_dtype == "float32"
    return isinstance(scalar, _ROUNDING_SCALAR)


def _rounds(node: Any) -> bool:
    """Whether the node's result is perturbed as a whole (a fused Composite is perturbed step
    by step instead, in ``_PerturbedRunner._composite``)."""
    op = node.op
    if isinstance(op, Elemwise):
        if isinstance(op.scalar_op, Composite):
            return False
        in_dtype = node.inputs[0].type.dtype if node.inputs else ""
        return _step_rounds(op.scalar_op, in_dtype, node.outputs[0].type.dtype)
    if isinstance(op, (IncSubtensor, AdvancedIncSubtensor)):
        return not op.set_instead_of_inc  # increments add; sets only copy
    if isinstance(op, ElemwiseReduce):
        return isinstance(op.reduce, (Sum, Prod))  # (its elementwise part is perturbed inside)
    return isinstance(op, _ROUNDING_OPS)


def perturb(values: Any, rng: np.random.Generator, sign: float = 1.0) -> Any:
    """``values`` moved elementwise by ``sign * d`` units in the last place, ``|d| <=
    PERTURB_ULPS`` (floats only; zeros, infinities, NaNs and signs are kept)."""
    arr = np.asarray(values)
    if arr.dtype.kind != "f":
        return values
    steps = sign * rng.uniform(-PERTURB_ULPS, PERTURB_ULPS, size=arr.shape)
    with np.errstate(all="ignore"):
        spacing = np.spacing(np.abs(arr)).astype(np.float64)
        moved = (arr.astype(np.float64) + steps * spacing).astype(arr.dtype)
        keep = (arr == 0) | ~np.isfinite(arr) | (np.signbit(moved) != np.signbit(arr))
    return np.asarray(np.where(keep, arr, moved))


class _PerturbedRunner(PyRunner):
    """The py runner with every rounding operation's result perturbed (see module doc)."""

    def __init__(self, fgraph: FunctionGraph, seed: int, sign: float) -> None:
        super().__init__(fgraph)
        self.rng = np.random.default_rng(seed)
        self.sign = sign

    def __call__(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        storage: list[Any] = [None] * self.n_slots
        storage[: self.n_inputs] = [np.array(a) for a in inputs]
        for slot, data in self.constants:
            storage[slot] = data
        for impl, node, in_slots, out_slots in self.steps:
            args = [storage[i] for i in in_slots]
            results = self._evaluate(impl, node, args)
            rounds = _rounds(node)
            for slot, out, value in zip(out_slots, node.outputs, results):
                value = np.asarray(value, dtype=out.type.dtype)
                storage[slot] = perturb(value, self.rng, self.sign) if rounds else value
        return [np.asarray(storage[s]) for s in self.output_slots]

    def _evaluate(self, impl: Any, node: Any, args: list[Any]) -> list[Any]:
        op = node.op
        out_dtype = node.outputs[0].type.dtype
        if isinstance(op, (Sum, Prod)) and out_dtype.startswith("float"):
            return [self._vary_reduction(op, args[0], out_dtype)]
        if isinstance(op, Elemwise) and isinstance(op.scalar_op, Composite):
            return [self._composite(node, args)]
        if isinstance(op, ElemwiseReduce):
            # the fused form of Elemwise then Sum/Max/Min: vary both parts as for the two nodes
            inner = Elemwise(op.scalar_op).make_node(*node.inputs)
            if isinstance(op.scalar_op, Composite):
                values = self._composite(inner, args)
            else:
                (values,) = perform(inner.op, inner, args)
                values = np.asarray(values, dtype=inner.outputs[0].type.dtype)
                if _rounds(inner):
                    values = perturb(values, self.rng, self.sign)
            if isinstance(op.reduce, (Sum, Prod)) and out_dtype.startswith("float"):
                return [self._vary_reduction(op.reduce, values, out_dtype)]
            outer = op.reduce.make_node(inner.outputs[0])
            return list(perform(outer.op, outer, [values]))
        return list(impl(op, node, args))

    def _composite(self, node: Any, args: list[Any]) -> np.ndarray:
        """A fused elementwise node, one step at a time, each rounding step perturbed (as
        the unfused nodes would be: fusing must not hide a step's rounding)."""
        sop = node.op.scalar_op
        shape = check_elemwise_shapes(node, args)
        values = list(args)
        for (step, step_args), dtype in zip(sop.steps, sop.dtypes[sop.n_inputs :]):
            result = compute_scalar(step, [values[a] for a in step_args], dtype)
            in_dtype = sop.dtypes[step_args[0]] if step_args else ""
            if _step_rounds(step, in_dtype, dtype):
                result = perturb(result, self.rng, self.sign)
            values.append(result)
        return np.array(np.broadcast_to(values[-1], shape), dtype=node.outputs[0].type.dtype)

    def _vary_reduction(self, op: Any, x: np.ndarray, out_dtype: str) -> np.ndarray:
        """Another valid evaluation of a float sum or product: the reduced axes in a random
        order, and in the antithetic twin a float64 accumulator (a float32 sum accumulated in
        double does not overflow where the float32 one does)."""
        for axis in op.axis:
            x = np.take(x, self.rng.permutation(x.shape[axis]), axis=axis)
        acc = op.acc_dtype or ("float64" if self.sign < 0 else out_dtype)
        reduce = np.sum if isinstance(op, Sum) else np.prod
        return np.asarray(reduce(x, axis=op.axis, dtype=acc)).astype(out_dtype)


def perturbed_run(
    fgraph: FunctionGraph, args: Sequence[np.ndarray], seed: int, sign: float
) -> list[np.ndarray] | None:
    """One Monte Carlo run of ``fgraph`` on ``args`` (``sign=-1``: the antithetic twin of the
    run with the same seed); None if it raised."""
    with np.errstate(all="ignore"):
        try:
            return _PerturbedRunner(fgraph, seed, sign)(args)
        except (ValueError, IndexError, ZeroDivisionError, FloatingPointError):
            return None
