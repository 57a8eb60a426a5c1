"""Pullbacks of Elemwise (per scalar op), DimShuffle and casts.

Each scalar rule receives the (rank-padded) inputs, the output ``z`` and the output
gradient ``g``, and returns one elementwise gradient per input. The Elemwise pullback
then sums each gradient over the axes where its input was broadcast.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from symgraph import scalar as ps
from symgraph.gradient.rules import pullback
from symgraph.graph.node import Apply
from symgraph.scalar import dtypes as _dt
from symgraph.scalar.op import ScalarOp
from symgraph.tensor import math as tm
from symgraph.tensor.elemwise import DimShuffle, Elemwise, dimshuffle
from symgraph.tensor.variable import TensorVariable

V = TensorVariable
ScalarRule = Callable[[Any, Sequence[V], V, V], list[Any]]

_SQRT_PI = math.sqrt(math.pi)
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _mul_rule(sop: Any, xs: Sequence[V], z: V, g: V) -> list[Any]:
    grads = []
    for i in range(len(xs)):
        others = [x for j, x in enumerate(xs) if j != i]
        grads.append(tm.mul(g, *others) if others else g)
    return grads


def _pow_rule(sop: Any, xs: Sequence[V], z: V, g: V) -> list[Any]:
    x, y = xs
    gx = tm.mul(g, y, tm.pow(x, tm.sub(y, 1)))
    # d/dy x**y = x**y log(x); at x == 0 the limit is 0 (for y > 0), not 0 * -inf
    gy = tm.switch(tm.eq(x, 0), 0, tm.mul(g, z, tm.log(x)))
    return [gx, gy]


SCALAR_PULLBACKS: dict[type[ScalarOp], ScalarRule] = {
    # arithmetic
    ps.Add: lambda op, xs, z, g: [g] * len(xs),
    ps.Sub: lambda op, xs, z, g: [g, tm.neg(g)],
    ps.Mul: _mul_rule,
    ps.TrueDiv: lambda op, xs, z, g: [tm.true_div(g, xs[1]), tm.neg(tm.true_div(tm.mul(g, z), xs[1]))],
    ps.Mod: lambda op, xs, z, g: [g, tm.neg(tm.mul(g, tm.int_div(xs[0], xs[1])))],
    ps.Pow: _pow_rule,
    ps.Neg: lambda op, xs, z, g: [tm.neg(g)],
    ps.Abs: lambda op, xs, z, g: [tm.mul(g, tm.sign(xs[0]))],
    ps.Sqr: lambda op, xs, z, g: [tm.mul(g, 2, xs[0])],
    ps.Reciprocal: lambda op, xs, z, g: [tm.neg(tm.mul(g, z, z))],
    # ties go to the first argument, so the gradient is never counted twice
    ps.Maximum: lambda op, xs, z, g: [tm.switch(tm.ge(xs[0], xs[1]), g, 0), tm.switch(tm.lt(xs[0], xs[1]), g, 0)],
    ps.Minimum: lambda op, xs, z, g: [tm.switch(tm.le(xs[0], xs[1]), g, 0), tm.switch(tm.gt(xs[0], xs[1]), g, 0)],
    ps.Clip: lambda op, xs, z, g: [
        tm.switch(tm.and_(tm.ge(xs[0], xs[1]), tm.le(xs[0], xs[2])), g, 0),
        tm.switch(tm.lt(xs[0], xs[1]), g, 0),
        tm.switch(tm.gt(xs[0], xs[2]), g, 0),
    ],
    ps.Identity: lambda op, xs, z, g: [g],
    ps.Second: lambda op, xs, z, g: [None, g],
    ps.Cast: lambda op, xs, z, g: [g],
    ps.Switch: lambda op, xs, z, g: [None, tm.switch(xs[0], g, 0), tm.switch(xs[0], 0, g)],
    # exponentials and logarithms
    ps.Exp: lambda op, xs, z, g: [tm.mul(g, z)],
    ps.Exp2: lambda op, xs, z, g: [tm.mul(g, z, _LN2)],
    ps.Expm1: lambda op, xs, z, g: [tm.mul(g, tm.add(z, 1))],
    ps.Log: lambda op, xs, z, g: [tm.true_div(g, xs[0])],
    ps.Log2: lambda op, xs, z, g: [tm.true_div(g, tm.mul(xs[0], _LN2))],
    ps.Log10: lambda op, xs, z, g: [tm.true_div(g, tm.mul(xs[0], _LN10))],
    ps.Log1p: lambda op, xs, z, g: [tm.true_div(g, tm.add(xs[0], 1))],
    ps.Sqrt: lambda op, xs, z, g: [tm.true_div(tm.mul(g, 0.5), z)],
    # trigonometric and hyperbolic
    ps.Sin: lambda op, xs, z, g: [tm.mul(g, tm.cos(xs[0]))],
    ps.Cos: lambda op, xs, z, g: [tm.neg(tm.mul(g, tm.sin(xs[0])))],
    ps.Tan: lambda op, xs, z, g: [tm.mul(g, tm.add(1, tm.sqr(z)))],
    ps.ArcSin: lambda op, xs, z, g: [tm.true_div(g, tm.sqrt(tm.sub(1, tm.sqr(xs[0]))))],
    ps.ArcCos: lambda op, xs, z, g: [tm.neg(tm.true_div(g, tm.sqrt(tm.sub(1, tm.sqr(xs[0])))))],
    ps.ArcTan: lambda op, xs, z, g: [tm.true_div(g, tm.add(1, tm.sqr(xs[0])))],
    ps.ArcTan2: lambda op, xs, z, g: [
        tm.true_div(tm.mul(g, xs[1]), tm.add(tm.sqr(xs[0]), tm.sqr(xs[1]))),
        tm.neg(tm.true_div(tm.mul(g, xs[0]), tm.add(tm.sqr(xs[0]), tm.sqr(xs[1])))),
    ],
    ps.Sinh: lambda op, xs, z, g: [tm.mul(g, tm.cosh(xs[0]))],
    ps.Cosh: lambda op, xs, z, g: [tm.mul(g, tm.sinh(xs[0]))],
    ps.Tanh: lambda op, xs, z, g: [tm.mul(g, tm.sub(1, tm.sqr(z)))],
    ps.ArcSinh: lambda op, xs, z, g: [tm.true_div(g, tm.sqrt(tm.add(tm.sqr(xs[0]), 1)))],
    ps.ArcCosh: lambda op, xs, z, g: [tm.true_div(g, tm.sqrt(tm.sub(tm.sqr(xs[0]), 1)))],
    ps.ArcTanh: lambda op, xs, z, g: [tm.true_div(g, tm.sub(1, tm.sqr(xs[0])))],
    ps.Sigmoid: lambda op, xs, z, g: [tm.mul(g, z, tm.sub(1, z))],
    ps.Softplus: lambda op, xs, z, g: [tm.mul(g, tm.sigmoid(xs[0]))],
    # special functions
    ps.Erf: lambda op, xs, z, g: [tm.mul(g, 2 / _SQRT_PI, tm.exp(tm.neg(tm.sqr(xs[0]))))],
    ps.Erfc: lambda op, xs, z, g: [tm.mul(g, -2 / _SQRT_PI, tm.exp(tm.neg(tm.sqr(xs[0]))))],
    ps.Erfinv: lambda op, xs, z, g: [tm.mul(g, _SQRT_PI / 2, tm.exp(tm.sqr(z)))],
    ps.Erfcinv: lambda op, xs, z, g: [tm.mul(g, -_SQRT_PI / 2, tm.exp(tm.sqr(z)))],
    ps.Gamma: lambda op, xs, z, g: [tm.mul(g, z, tm.psi(xs[0]))],
    ps.GammaLn: lambda op, xs, z, g: [tm.mul(g, tm.psi(xs[0]))],
    ps.Psi: lambda op, xs, z, g: [tm.mul(g, tm.trigamma(xs[0]))],
}

#: scalar ops through which no gradient flows, with the reason
NON_DIFFERENTIABLE_SCALARS: dict[type[ScalarOp], str] = {
    **{cls: "piecewise constant" for cls in (
        ps.Sign, ps.Floor, ps.Ceil, ps.Trunc, ps.RoundHalfToEven, ps.RoundHalfAwayFromZero, ps.IntDiv,
    )},
    **{cls: "boolean result" for cls in (
        ps.LT, ps.LE, ps.GT, ps.GE, ps.EQ, ps.NEQ, ps.IsNan, ps.IsInf,
    )},
    **{cls: "bitwise/logical op on integers" for cls in (ps.And, ps.Or, ps.Xor, ps.Invert)},
    ps.TriGamma: "its derivative (polygamma of order 2) is not in the op library",
}


def _composite_rule(sop: Any, xs: Sequence[V], z: V, g: V) -> list[Any]:
    # expand the fused program back into Elemwise nodes and differentiate those
    from symgraph.gradient.reverse import grad

    values: list[Any] = list(xs)
    for (step_op, args), dtype in zip(sop.steps, sop.dtypes[sop.n_inputs:]):
        value = Elemwise(step_op)(*[values[a] for a in args])
        values.append(tm.cast(value, dtype))
    diff = [x for x in xs if _dt.is_float(x.dtype)]
    grads = iter(grad(None, diff, known_grads={values[-1]: g}, disconnected_inputs="ignore")) if diff else iter(())
    return [next(grads) if _dt.is_float(x.dtype) else None for x in xs]


SCALAR_PULLBACKS[ps.Composite] = _composite_rule


def reduce_to_shape_of(grad: TensorVariable, target: TensorVariable) -> TensorVariable:
    """Sum ``grad`` over the axes where ``target`` was broadcast, and match its dtype."""
    from symgraph.tensor.reduce import sum as _sum

    axes = tuple(
        axis for axis, (t, gs) in enumerate(zip(target.type.shape, grad.type.shape)) if t == 1 and gs != 1
    )
    if axes:
        grad = _sum(grad, axis=axes, keepdims=True)
    if grad.dtype != target.dtype:
        grad = tm.cast(grad, target.dtype)
    return grad


@pullback.register(Elemwise)
def _elemwise_pullback(op: Elemwise, node: Apply, output_grads: list[Any]) -> list[Any]:
    (g,) = output_grads
    out = node.outputs[0]
    sop = op.scalar_op
    if _dt.is_discrete(out.dtype) or type(sop) in NON_DIFFERENTIABLE_SCALARS:
        return [None] * len(node.inputs)
    rule = SCALAR_PULLBACKS.get(type(sop))
    if rule is None:
        raise TypeError(f"no gradient rule for scalar op {sop}")
    grads = rule(sop, node.inputs, out, g)
    result: list[Any] = []
    for inp, grad in zip(node.inputs, grads):
        if grad is None or _dt.is_discrete(inp.dtype):
            result.append(None)
        else:
            result.append(reduce_to_shape_of(grad, inp))
    return result


@pullback.register(DimShuffle)
def _dimshuffle_pullback(op: DimShuffle, node: Apply, output_grads: list[Any]) -> list[Any]:
    from symgraph.tensor.reduce import sum as _sum

    (g,) = output_grads
    new_axes = tuple(i for i, o in enumerate(op.new_order) if o == "x")
    if new_axes:
        g = _sum(g, axis=new_axes)
    kept = [o for o in op.new_order if o != "x"]
    # g's axes now follow `kept`; put them back in input order, re-inserting dropped axes
    pattern: list[int | str] = []
    for axis in range(op.input_ndim):
        pattern.append("x" if axis in op.dropped else kept.index(axis))
    return [dimshuffle(g, pattern)]


def _check_tables() -> None:
    for cls in set(SCALAR_PULLBACKS) & set(NON_DIFFERENTIABLE_SCALARS):
        raise AssertionError(f"{cls.__name__} is both differentiable and not")


_check_tables()
