"""NumPy implementations of the scalar op library, and of Elemwise and DimShuffle."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from symgraph import scalar as ps
from symgraph.backends.py.dispatch import perform
from symgraph.errors import ShapeMismatchError
from symgraph.graph.node import Apply
from symgraph.scalar import dtypes as _dt
from symgraph.scalar.composite import Composite
from symgraph.scalar.op import BinaryFloatOp, ScalarOp, UnaryFloatOp
from symgraph.tensor.elemwise import DimShuffle, Elemwise


def _round_half_away(x: np.ndarray) -> np.ndarray:
    return np.where(x >= 0, np.floor(x + 0.5), np.ceil(x - 0.5)).astype(x.dtype)


def _second(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape))


def _sqr(x: np.ndarray) -> np.ndarray:
    return x * x


def _reciprocal(x: np.ndarray) -> np.ndarray:
    return 1 / x


def _special(name: str) -> Callable[..., Any]:
    """scipy.special's ``name``, imported on first use: importing scipy.special takes about
    0.4 s, which every compile paid through constant folding (issue 6, W4)."""

    def call(*args: Any) -> Any:
        import scipy.special

        return getattr(scipy.special, name)(*args)

    call.__name__ = name
    return call


def _trigamma(x: np.ndarray) -> np.ndarray:
    import scipy.special

    return scipy.special.polygamma(1, x)


SCALAR_IMPLS: dict[type[ScalarOp], Callable[..., Any]] = {
    # arithmetic
    ps.Add: lambda *a: functools.reduce(np.add, a),
    ps.Mul: lambda *a: functools.reduce(np.multiply, a),
    ps.Sub: np.subtract,
    ps.TrueDiv: np.true_divide,
    ps.IntDiv: np.floor_divide,
    ps.Mod: np.remainder,
    ps.Pow: np.power,
    ps.Neg: np.negative,
    ps.Abs: np.abs,
    ps.Sign: np.sign,
    ps.Sqr: _sqr,
    ps.Reciprocal: _reciprocal,
    ps.Maximum: np.maximum,
    ps.Minimum: np.minimum,
    ps.Floor: np.floor,
    ps.Ceil: np.ceil,
    ps.Trunc: np.trunc,
    ps.RoundHalfToEven: np.round,
    ps.RoundHalfAwayFromZero: _round_half_away,
    ps.Clip: np.clip,
    ps.Identity: np.copy,
    ps.Second: _second,
    # comparison and logic
    ps.LT: np.less,
    ps.LE: np.less_equal,
    ps.GT: np.greater,
    ps.GE: np.greater_equal,
    ps.EQ: np.equal,
    ps.NEQ: np.not_equal,
    ps.IsNan: np.isnan,
    ps.IsInf: np.isinf,
    ps.And: np.bitwise_and,
    ps.Or: np.bitwise_or,
    ps.Xor: np.bitwise_xor,
    ps.Invert: np.invert,
    ps.Switch: np.where,
    # transcendental
    ps.Exp: np.exp,
    ps.Exp2: np.exp2,
    ps.Expm1: np.expm1,
    ps.Log: np.log,
    ps.Log2: np.log2,
    ps.Log10: np.log10,
    ps.Log1p: np.log1p,
    ps.Sqrt: np.sqrt,
    ps.Sin: np.sin,
    ps.Cos: np.cos,
    ps.Tan: np.tan,
    ps.ArcSin: np.arcsin,
    ps.ArcCos: np.arccos,
    ps.ArcTan: np.arctan,
    ps.ArcTan2: np.arctan2,
    ps.Sinh: np.sinh,
    ps.Cosh: np.cosh,
    ps.Tanh: np.tanh,
    ps.ArcSinh: np.arcsinh,
    ps.ArcCosh: np.arccosh,
    ps.ArcTanh: np.arctanh,
    ps.Sigmoid: _special("expit"),
    ps.Softplus: lambda x: np.logaddexp(np.zeros((), x.dtype), x),
    # special
    ps.Erf: _special("erf"),
    ps.Erfc: _special("erfc"),
    ps.Erfinv: _special("erfinv"),
    ps.Erfcinv: _special("erfcinv"),
    ps.Gamma: _special("gamma"),
    ps.GammaLn: _special("gammaln"),
    ps.Psi: _special("psi"),
    ps.TriGamma: _trigamma,
}


def scalar_impl(sop: ScalarOp) -> Callable[..., Any]:
    if isinstance(sop, ps.Cast):
        dtype = sop.dtype
        return lambda x: x.astype(dtype)
    try:
        return SCALAR_IMPLS[type(sop)]
    except KeyError:
        raise TypeError(f"the py backend has no implementation of scalar op {sop}") from None


def check_elemwise_shapes(node: Apply, inputs: list[np.ndarray]) -> tuple[int, ...]:
    """The output shape; raise if an axis that is not statically broadcastable would broadcast."""
    out_shape = []
    for axis in range(node.outputs[0].ndim):
        length = None
        for i, (var, val) in enumerate(zip(node.inputs, inputs)):
            if var.type.shape[axis] == 1:
                continue
            n = val.shape[axis]
            if length is None:
                length, first = n, i
            elif n != length:
                shapes = ", ".join(str(v.shape) for v in inputs)
                raise ShapeMismatchError(
                    f"input shapes {shapes} do not match on axis {axis}: input {first} has length "
                    f"{length}, input {i} has length {n}. Only axes declared broadcastable "
                    "(static length 1, e.g. T.row(), T.col() or x.dimshuffle('x', 0)) broadcast"
                )
        out_shape.append(1 if length is None else length)
    return tuple(out_shape)


_UPGRADING = (UnaryFloatOp, BinaryFloatOp, ps.Reciprocal)


def compute_scalar(sop: ScalarOp, inputs: list[np.ndarray], out_dtype: str) -> np.ndarray:
    """Apply one scalar op to arrays, giving exactly ``out_dtype`` (no broadcasting fix-up)."""
    if isinstance(sop, Composite):
        values = list(inputs)
        for (step_op, args), dtype in zip(sop.steps, sop.dtypes[sop.n_inputs:]):
            values.append(compute_scalar(step_op, [values[a] for a in args], dtype))
        return values[-1]
    if isinstance(sop, _UPGRADING) and _dt.is_inexact(out_dtype):
        # compute in the output precision (NumPy would use float16 for int8 input)
        inputs = [v.astype(out_dtype) if _dt.is_discrete(v.dtype.name) else v for v in inputs]
    with np.errstate(all="ignore"):
        result = np.asarray(scalar_impl(sop)(*inputs))
        if result.dtype.name != out_dtype:
            result = result.astype(out_dtype)
    return result


@perform.register(Elemwise)
def py_elemwise(op: Elemwise, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    shape = check_elemwise_shapes(node, inputs)
    result = compute_scalar(op.scalar_op, list(inputs), node.outputs[0].dtype)
    if result.shape != shape:
        result = np.broadcast_to(result, shape)
    if not result.flags.writeable:  # a broadcast view
        result = np.array(result)
    return [result]


@perform.register(DimShuffle)
def py_dimshuffle(op: DimShuffle, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    (x,) = inputs
    kept = [o for o in op.new_order if o != "x"]
    for axis in op.dropped:
        if x.shape[axis] != 1:
            raise ShapeMismatchError(f"axis {axis} was declared length 1 but has length {x.shape[axis]}")
    squeezed = x.reshape([x.shape[i] for i in range(x.ndim) if i not in op.dropped])
    # positions of kept axes after removing dropped ones
    remaining = [i for i in range(x.ndim) if i not in op.dropped]
    perm = [remaining.index(o) for o in kept]  # type: ignore[arg-type]
    moved = squeezed.transpose(perm)
    out_shape = [1 if o == "x" else x.shape[o] for o in op.new_order]  # type: ignore[index]
    return [moved.reshape(out_shape)]
