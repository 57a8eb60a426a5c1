"""Neural-network ops (``T.nnet``), with Theano's conventions.

``softmax`` and ``log_softmax`` are ops of their own, so every backend can compute them
with the max-shift that keeps them finite for large inputs. The crossentropies are
compositions, except the integer-label case, which is an op that picks one probability
per row without building a one-hot matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Any

from symgraph.graph.node import Apply
from symgraph.graph.op import Op
from symgraph.scalar import dtypes as _dt
from symgraph.tensor import math as tm
from symgraph.tensor.conv import conv2d, pool_2d
from symgraph.tensor.linalg import InputShapes, format_shape
from symgraph.tensor.math import relu, sigmoid, softplus
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import TensorVariable, as_tensor_variable

__all__ = [
    "binary_crossentropy",
    "categorical_crossentropy",
    "conv2d",
    "crossentropy_categorical_1hot",
    "crossentropy_softmax_1hot",
    "elu",
    "hard_sigmoid",
    "log_softmax",
    "logsoftmax",
    "pool_2d",
    "relu",
    "selu",
    "sigmoid",
    "sigmoid_binary_crossentropy",
    "softmax",
    "softmax_with_bias",
    "softplus",
    "softsign",
    "ultra_fast_sigmoid",
]


def float_dtype(what: str, dtype: str) -> str:
    """The dtype of a real floating-point function of ``dtype`` (ints are upgraded)."""
    if _dt.is_complex(dtype):
        raise TypeError(f"{what}: complex inputs are not supported, got {dtype}")
    return _dt.upgrade_to_float(dtype)


def normalize_axis(what: str, axis: Any, ndim: int) -> int:
    """``axis`` as a non-negative int, or a ValueError naming the op."""
    if isinstance(axis, bool) or not isinstance(axis, Integral):
        raise TypeError(f"{what}: axis must be an int, got {axis!r}")
    axis = int(axis)
    if ndim == 0:
        raise ValueError(f"{what}: needs at least one axis, got a scalar")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{what}: axis {axis} is out of range for an input with {ndim} axes")
    return axis % ndim


class _AlongAxis:
    """Shared parts of Softmax and LogSoftmax: a float result shaped like the input.

    A mixin rather than an Op base class, so that every Op subclass is a concrete op.
    """

    axis: int

    def __post_init__(self) -> None:
        if isinstance(self.axis, bool) or not isinstance(self.axis, int) or self.axis < 0:
            raise ValueError(
                f"{type(self).__name__}: axis must be a non-negative int (normalise it first), "
                f"got {self.axis!r}"
            )

    def make_node(self, x: Any) -> Apply:
        what = type(self).__name__
        x = as_tensor_variable(x)
        if x.ndim == 0:
            raise ValueError(f"{what}: needs at least one axis, got the scalar {x!r}")
        if self.axis >= x.ndim:
            raise ValueError(
                f"{what}: axis {self.axis} is out of range for {x.type.describe()} {x!r}"
            )
        out = TensorType(float_dtype(what, x.dtype), x.type.shape).make_variable()
        return Apply(self, [x], [out])  # type: ignore[arg-type]

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        return [tuple(input_shapes[0])]


@dataclass(frozen=True)
class Softmax(_AlongAxis, Op):
    """``exp(x) / sum(exp(x), axis)``, computed as ``exp(x - max)`` so it never overflows."""

    axis: int


@dataclass(frozen=True)
class LogSoftmax(_AlongAxis, Op):
    """``x - logsumexp(x, axis)``, computed with the max-shift so it stays finite."""

    axis: int


@dataclass(frozen=True)
class CrossentropyCategorical1Hot(Op):
    """``-log(coding_dist[i, labels[i]])`` for each row ``i``.

    Inputs: ``coding_dist``, an (N, K) matrix of probabilities, and ``labels``, an (N,)
    integer vector with entries in ``[0, K)``. Output: an (N,) vector.
    """

    def make_node(self, coding_dist: Any, labels: Any) -> Apply:
        coding_dist, labels = as_tensor_variable(coding_dist), as_tensor_variable(labels)
        if coding_dist.ndim != 2:
            raise TypeError(
                "crossentropy_categorical_1hot: coding_dist must be a matrix (rows of "
                f"probabilities), got {coding_dist.type.describe()} {coding_dist!r}"
            )
        if labels.ndim != 1 or not _dt.is_int(labels.dtype):
            raise TypeError(
                "crossentropy_categorical_1hot: labels must be an integer vector, got "
                f"{labels.type.describe()} {labels!r}"
            )
        rows, label_count = coding_dist.type.shape[0], labels.type.shape[0]
        if rows is not None and label_count is not None and rows != label_count:
            raise ValueError(
                "crossentropy_categorical_1hot: coding_dist has shape "
                f"{format_shape(coding_dist.type.shape)} but there are {label_count} labels; "
                "expected one label per row"
            )
        dtype = float_dtype("crossentropy_categorical_1hot", coding_dist.dtype)
        out = TensorType(dtype, (rows if rows is not None else label_count,)).make_variable()
        return Apply(self, [coding_dist, labels], [out])

    def infer_shape(self, node: Apply, input_shapes: InputShapes) -> list[tuple[Any, ...]]:
        static = node.outputs[0].type.shape[0]
        return [(static if static is not None else input_shapes[1][0],)]


# ---------------------------------------------------------------------------------------
# User functions
# ---------------------------------------------------------------------------------------
def softmax(x: Any, axis: int = -1) -> TensorVariable:
    """``exp(x) / sum(exp(x))`` along ``axis``, stable for large inputs.

    Parameters
    ----------
    x : tensor-like with at least one axis
    axis : int
        The axis whose entries sum to one (default: the last).

    Examples
    --------
    >>> p = T.nnet.softmax(T.dmatrix('logits'))   # each row sums to 1
    """
    x = as_tensor_variable(x)
    return Softmax(normalize_axis("softmax", axis, x.ndim))(x)


def log_softmax(x: Any, axis: int = -1) -> TensorVariable:
    """``log(softmax(x, axis))``, computed without forming the softmax (stable).

    Parameters
    ----------
    x : tensor-like with at least one axis
    axis : int

    Examples
    --------
    >>> logp = T.nnet.log_softmax(T.dmatrix('logits'))
    """
    x = as_tensor_variable(x)
    return LogSoftmax(normalize_axis("log_softmax", axis, x.ndim))(x)


def softmax_with_bias(x: Any, b: Any) -> TensorVariable:
    """``softmax(x + b)`` over the last axis, with ``b`` a bias vector broadcast over rows.

    Parameters
    ----------
    x : matrix
    b : vector (one entry per column of ``x``)

    Examples
    --------
    >>> p = T.nnet.softmax_with_bias(T.dmatrix('x'), T.dvector('b'))
    """
    return softmax(tm.add(x, b), axis=-1)


def crossentropy_categorical_1hot(coding_dist: Any, true_idx: Any) -> TensorVariable:
    """``-log(coding_dist[i, true_idx[i]])`` for each row ``i``.

    Parameters
    ----------
    coding_dist : (N, K) matrix of probabilities
    true_idx : (N,) integer vector of labels in ``[0, K)``

    Examples
    --------
    >>> loss = T.nnet.crossentropy_categorical_1hot(T.dmatrix('p'), T.lvector('y'))
    """
    return CrossentropyCategorical1Hot()(coding_dist, true_idx)


def categorical_crossentropy(coding_dist: Any, true_dist: Any) -> TensorVariable:
    """Cross-entropy between predicted distributions and targets, one value per row.

    Parameters
    ----------
    coding_dist : (N, K) tensor of probabilities (e.g. a softmax output)
    true_dist : (N,) integer labels, or (N, K) one-hot / probability rows
        Labels give ``-log(coding_dist[i, true_dist[i]])``; rows give
        ``-sum(true_dist * log(coding_dist), axis=-1)``.

    Returns
    -------
    TensorVariable of shape (N,).

    Examples
    --------
    >>> p, y = T.nnet.softmax(T.dmatrix('logits')), T.lvector('y')
    >>> loss = T.nnet.categorical_crossentropy(p, y).mean()
    """
    from symgraph.tensor.reduce import sum as _sum

    coding_dist, true_dist = as_tensor_variable(coding_dist), as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        return tm.neg(_sum(tm.mul(true_dist, tm.log(coding_dist)), axis=coding_dist.ndim - 1))
    if true_dist.ndim == coding_dist.ndim - 1:
        if not _dt.is_int(true_dist.dtype):
            raise TypeError(
                "categorical_crossentropy: true_dist with one axis fewer than coding_dist must "
                f"hold integer labels, got {true_dist.type.describe()} {true_dist!r}"
            )
        return crossentropy_categorical_1hot(coding_dist, true_dist)
    raise TypeError(
        "categorical_crossentropy: true_dist must be integer labels (ndim "
        f"{coding_dist.ndim - 1}) or distributions shaped like coding_dist "
        f"(ndim {coding_dist.ndim}), got {true_dist.type.describe()} {true_dist!r}"
    )


def binary_crossentropy(output: Any, target: Any) -> TensorVariable:
    """``-(target * log(output) + (1 - target) * log(1 - output))``, elementwise.

    Parameters
    ----------
    output : tensor of probabilities in (0, 1)
    target : tensor of targets in [0, 1], broadcastable with ``output``

    Examples
    --------
    >>> loss = T.nnet.binary_crossentropy(T.sigmoid(T.dvector('z')), T.dvector('t')).mean()
    """
    output, target = as_tensor_variable(output), as_tensor_variable(target)
    positive = tm.mul(target, tm.log(output))
    negative = tm.mul(tm.sub(1, target), tm.log(tm.sub(1, output)))
    return tm.neg(tm.add(positive, negative))


def hard_sigmoid(x: Any) -> TensorVariable:
    """A piecewise-linear sigmoid: ``clip(0.2 * x + 0.5, 0, 1)``.

    Parameters
    ----------
    x : tensor-like

    Examples
    --------
    >>> y = T.nnet.hard_sigmoid(T.dvector('x'))
    """
    x = as_tensor_variable(x)
    return tm.clip(tm.add(tm.mul(x, 0.2), 0.5), 0, 1)


def ultra_fast_sigmoid(x: Any) -> TensorVariable:
    """Theano's piecewise approximation of the sigmoid (absolute error below 0.03).

    With ``u = |x| / 2``: ``z = 1.5 u / (1 + u)`` for ``u < 1.7``, a line up to ``u < 3``,
    then the constant ``0.99505475368673``; the result is ``0.5 + sign(x) z / 2``.

    Parameters
    ----------
    x : tensor-like

    Examples
    --------
    >>> y = T.nnet.ultra_fast_sigmoid(T.dvector('x'))
    """
    x = as_tensor_variable(x)
    u = tm.mul(tm.abs(x), 0.5)
    near = tm.true_div(tm.mul(u, 1.5), tm.add(u, 1))
    middle = tm.add(tm.mul(tm.sub(u, 1.7), 0.0458812946797165), 0.935409070603099)
    z = tm.switch(tm.lt(u, 1.7), near, tm.switch(tm.lt(u, 3), middle, 0.99505475368673))
    return tm.add(tm.mul(tm.switch(tm.lt(x, 0), tm.neg(z), z), 0.5), 0.5)


def logsoftmax(x: Any, axis: int = -1) -> TensorVariable:
    """Theano's other name for ``log_softmax``."""
    return log_softmax(x, axis)


def elu(x: Any, alpha: Any = 1.0) -> TensorVariable:
    """The exponential linear unit: ``x`` where ``x > 0``, ``alpha * (exp(x) - 1)`` elsewhere
    (computed with ``expm1``).

    >>> y = T.nnet.elu(T.dvector('x'))
    """
    x = as_tensor_variable(x)
    return tm.switch(tm.gt(x, 0), x, tm.mul(alpha, tm.expm1(x)))


def selu(x: Any) -> TensorVariable:
    """The scaled exponential linear unit, ``1.0507 * elu(x, 1.6733)`` (Klambauer et al.)."""
    return tm.mul(1.0507009873554805, elu(x, 1.6732632423543772))


def softsign(x: Any) -> TensorVariable:
    """``x / (1 + |x|)``.

    >>> y = T.nnet.softsign(T.dvector('x'))
    """
    x = as_tensor_variable(x)
    return tm.true_div(x, tm.add(1, tm.abs(x)))


def sigmoid_binary_crossentropy(output: Any, target: Any) -> TensorVariable:
    """``binary_crossentropy(sigmoid(output), target)`` from the pre-sigmoid ``output``,
    computed stably: ``softplus(output) - target * output``."""
    output, target = as_tensor_variable(output), as_tensor_variable(target)
    return tm.sub(tm.softplus(output), tm.mul(target, output))


def crossentropy_softmax_1hot(x: Any, y_idx: Any) -> list[TensorVariable]:
    """Theano's pair ``(nll, softmax(x))``: the negative log-likelihood of the integer labels
    ``y_idx`` (one per row of the matrix ``x``) under the row softmax, and the softmax.

    >>> nll, sm = T.nnet.crossentropy_softmax_1hot(logits, labels)
    """
    x = as_tensor_variable(x)
    sm = softmax(x, axis=-1)
    return [crossentropy_categorical_1hot(sm, y_idx), sm]
