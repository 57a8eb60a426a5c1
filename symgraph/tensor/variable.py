"""TensorVariable (operators and methods), TensorConstant, and conversion of Python values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from symgraph.graph.node import Constant, Variable
from symgraph.scalar import dtypes as _dt
from symgraph.tensor.type import TensorType

if TYPE_CHECKING:
    from symgraph.graph.node import Apply


def _m() -> Any:
    from symgraph.tensor import math

    return math


class TensorVariable(Variable):
    """A symbolic array. Supports NumPy-style operators, methods and indexing."""

    type: TensorType
    # Make NumPy defer to our reflected operators: ``ndarray + x`` builds a graph.
    __array_ufunc__ = None

    def __init__(self, type: TensorType, owner: Apply | None = None, index: int | None = None, name: str | None = None) -> None:
        super().__init__(type, owner, index, name)

    # -- type information --------------------------------------------------------------
    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def ndim(self) -> int:
        return self.type.ndim

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return self.type.broadcastable

    @property
    def static_shape(self) -> tuple[int | None, ...]:
        return self.type.shape

    @property
    def shape(self) -> TensorVariable:
        """The runtime shape, as a symbolic int64 vector."""
        from symgraph.tensor.shape import shape

        return shape(self)

    @property
    def size(self) -> TensorVariable:
        from symgraph.tensor.reduce import prod
        from symgraph.tensor.shape import shape

        return prod(shape(self))

    # -- Python protocol -----------------------------------------------------------------
    def __bool__(self) -> bool:
        raise TypeError(
            f"the truth value of symbolic {self!r} is unknown until it runs; "
            "use T.switch(cond, a, b) or sg.ifelse for conditions, and T.eq/T.neq to compare"
        )

    def __len__(self) -> int:
        if self.ndim > 0 and self.type.shape[0] is not None:
            return self.type.shape[0]
        raise TypeError(f"len() of symbolic {self!r} is unknown until it runs; use x.shape[0]")

    def __iter__(self) -> Any:
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        if self.name:
            return self.name
        if self.owner is not None:
            return f"{self.owner.op}.out" if len(self.owner.outputs) == 1 else f"{self.owner.op}.{self.index}"
        return f"<{self.type.describe()}>"

    def __str__(self) -> str:
        return self.name if self.name else repr(self)

    # -- arithmetic ----------------------------------------------------------------------
    def __add__(self, other: Any) -> Any:
        return _m().add(self, other)

    def __radd__(self, other: Any) -> Any:
        return _m().add(other, self)

    def __sub__(self, other: Any) -> Any:
        return _m().sub(self, other)

    def __rsub__(self, other: Any) -> Any:
        return _m().sub(other, self)

    def __mul__(self, other: Any) -> Any:
        return _m().mul(self, other)

    def __rmul__(self, other: Any) -> Any:
        return _m().mul(other, self)

    def __truediv__(self, other: Any) -> Any:
        return _m().true_div(self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return _m().true_div(other, self)

    def __floordiv__(self, other: Any) -> Any:
        return _m().int_div(self, other)

    def __rfloordiv__(self, other: Any) -> Any:
        return _m().int_div(other, self)

    def __mod__(self, other: Any) -> Any:
        return _m().mod(self, other)

    def __rmod__(self, other: Any) -> Any:
        return _m().mod(other, self)

    def __pow__(self, other: Any) -> Any:
        return _m().pow(self, other)

    def __rpow__(self, other: Any) -> Any:
        return _m().pow(other, self)

    def __neg__(self) -> Any:
        return _m().neg(self)

    def __pos__(self) -> Any:
        return self

    def __abs__(self) -> Any:
        return _m().abs(self)

    def __invert__(self) -> Any:
        return _m().invert(self)

    def __and__(self, other: Any) -> Any:
        return _m().and_(self, other)

    def __rand__(self, other: Any) -> Any:
        return _m().and_(other, self)

    def __or__(self, other: Any) -> Any:
        return _m().or_(self, other)

    def __ror__(self, other: Any) -> Any:
        return _m().or_(other, self)

    def __xor__(self, other: Any) -> Any:
        return _m().xor(self, other)

    def __rxor__(self, other: Any) -> Any:
        return _m().xor(other, self)

    def __lt__(self, other: Any) -> Any:
        return _m().lt(self, other)

    def __le__(self, other: Any) -> Any:
        return _m().le(self, other)

    def __gt__(self, other: Any) -> Any:
        return _m().gt(self, other)

    def __ge__(self, other: Any) -> Any:
        return _m().ge(self, other)

    __hash__ = Variable.__hash__

    def __matmul__(self, other: Any) -> Any:
        from symgraph.tensor.linalg import matmul

        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        from symgraph.tensor.linalg import matmul

        return matmul(other, self)

    def dot(self, other: Any) -> Any:
        from symgraph.tensor.linalg import dot

        return dot(self, other)

    # -- indexing --------------------------------------------------------------------------
    def __getitem__(self, index: Any) -> Any:
        from symgraph.tensor.subtensor import getitem

        return getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError(
            "symbolic tensors are immutable; use x = T.set_subtensor(x[idx], value) "
            "or T.inc_subtensor(x[idx], value)"
        )

    # -- reductions ------------------------------------------------------------------------
    def sum(self, axis: Any = None, keepdims: bool = False, dtype: Any = None, acc_dtype: Any = None) -> Any:
        from symgraph.tensor.reduce import sum as _sum

        return _sum(self, axis=axis, keepdims=keepdims, dtype=dtype, acc_dtype=acc_dtype)

    def prod(self, axis: Any = None, keepdims: bool = False, dtype: Any = None, acc_dtype: Any = None) -> Any:
        from symgraph.tensor.reduce import prod

        return prod(self, axis=axis, keepdims=keepdims, dtype=dtype, acc_dtype=acc_dtype)

    def mean(self, axis: Any = None, keepdims: bool = False, dtype: Any = None, acc_dtype: Any = None) -> Any:
        from symgraph.tensor.reduce import mean

        return mean(self, axis=axis, keepdims=keepdims, dtype=dtype, acc_dtype=acc_dtype)

    def var(self, axis: Any = None, ddof: int = 0, keepdims: bool = False, corrected: bool = False) -> Any:
        from symgraph.tensor.reduce import var

        return var(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)

    def std(self, axis: Any = None, ddof: int = 0, keepdims: bool = False, corrected: bool = False) -> Any:
        from symgraph.tensor.reduce import std

        return std(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)

    def max(self, axis: Any = None, keepdims: bool = False) -> Any:
        from symgraph.tensor.reduce import max as _max

        return _max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Any:
        from symgraph.tensor.reduce import min as _min

        return _min(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis: Any = None, keepdims: bool = False) -> Any:
        from symgraph.tensor.reduce import argmax

        return argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis: Any = None, keepdims: bool = False) -> Any:
        from symgraph.tensor.reduce import argmin

        return argmin(self, axis=axis, keepdims=keepdims)

    def all(self, axis: Any = None, keepdims: bool = False) -> Any:
        from symgraph.tensor.reduce import all as _all

        return _all(self, axis=axis, keepdims=keepdims)

    def any(self, axis: Any = None, keepdims: bool = False) -> Any:
        from symgraph.tensor.reduce import any as _any

        return _any(self, axis=axis, keepdims=keepdims)

    # -- shape -----------------------------------------------------------------------------
    def reshape(self, *shape: Any, ndim: int | None = None) -> Any:
        from symgraph.tensor.shape import reshape

        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            return reshape(self, shape[0], ndim=ndim)
        return reshape(self, shape, ndim=ndim)

    def dimshuffle(self, *pattern: Any) -> Any:
        from symgraph.tensor.elemwise import dimshuffle

        if len(pattern) == 1 and isinstance(pattern[0], (list, tuple)):
            pattern = tuple(pattern[0])
        return dimshuffle(self, pattern)

    def flatten(self, ndim: int = 1) -> Any:
        from symgraph.tensor.shape import flatten

        return flatten(self, ndim)

    def transpose(self, *axes: Any) -> Any:
        from symgraph.tensor.shape import transpose

        if len(axes) == 1 and isinstance(axes[0], (list, tuple)):
            axes = tuple(axes[0])
        return transpose(self, axes if axes else None)

    @property
    def T(self) -> Any:  # noqa: N802 - NumPy's name
        return self.transpose()

    def squeeze(self, axis: Any = None) -> Any:
        from symgraph.tensor.shape import squeeze

        return squeeze(self, axis)

    def astype(self, dtype: Any) -> Any:
        return _m().cast(self, dtype)

    def clip(self, a_min: Any, a_max: Any) -> Any:
        return _m().clip(self, a_min, a_max)

    def round(self, mode: str = "half_to_even") -> Any:
        return _m().round(self, mode)

    def copy(self, name: str | None = None) -> Any:
        out = _m().tensor_copy(self)
        out.name = name
        return out

    def nonzero(self) -> Any:
        from symgraph.tensor.subtensor import nonzero

        return nonzero(self)

    def eval(self, inputs_to_values: dict[Any, Any] | None = None, mode: str | None = None) -> np.ndarray:
        """Compile (once, cached on the variable) and run this expression.

        ``x.eval({x: 2.0})`` gives the value for those input values.
        """
        from symgraph.compile.function import compile_function

        inputs_to_values = dict(inputs_to_values or {})
        keys = list(inputs_to_values)
        cache = self.tag.__dict__.setdefault("eval_cache", {})
        signature = (tuple(id(k) for k in keys), mode)
        if signature not in cache:
            cache[signature] = compile_function(keys, self, mode=mode, on_unused_input="ignore")
        return cache[signature](*[inputs_to_values[k] for k in keys])


class TensorConstant(Constant, TensorVariable):
    """A tensor with a fixed value."""

    def __init__(self, type: TensorType, data: Any, name: str | None = None) -> None:
        Constant.__init__(self, type, data, name)

    def __repr__(self) -> str:
        if self.name:
            return self.name
        return self.type.value_repr(self.data)

    __hash__ = Variable.__hash__


def constant(value: Any, name: str | None = None, ndim: int | None = None, dtype: Any = None) -> TensorConstant:
    """A constant tensor. Python floats become ``config.floatX``, ints int64.

    >>> T.constant(2.0).dtype
    'float64'
    """
    from symgraph.config import config

    if isinstance(value, TensorConstant) and dtype is None:
        return value
    if isinstance(value, Variable):
        raise TypeError(f"T.constant needs a value, got the symbolic variable {value!r}")
    if dtype is not None:
        arr = np.asarray(value, dtype=_dt.normalize_dtype(dtype))
    elif _is_python_number(value):
        arr = np.asarray(value, dtype=_dt.python_scalar_dtype(value))
    else:
        arr = np.asarray(value)
        if arr.dtype.kind in "OUSV":
            raise TypeError(f"cannot make a tensor constant from {type(value).__name__} {value!r:.80}")
        if not isinstance(value, (np.ndarray, np.generic)):
            # lists of Python numbers follow the same rule as Python numbers
            if arr.dtype == np.float64:
                arr = arr.astype(config.floatX)
    if ndim is not None and arr.ndim != ndim:
        if arr.ndim > ndim and all(s == 1 for s in arr.shape[: arr.ndim - ndim]):
            arr = arr.reshape(arr.shape[arr.ndim - ndim:])
        else:
            raise ValueError(f"T.constant: value has ndim {arr.ndim}, expected {ndim}")
    arr = np.array(arr, copy=True)
    arr.setflags(write=False)
    return TensorConstant(TensorType(arr.dtype.name, arr.shape), arr, name=name)


def _is_python_number(value: Any) -> bool:
    return isinstance(value, (bool, int, float, complex)) and not isinstance(value, np.generic)


def as_tensor_variable(value: Any, name: str | None = None, ndim: int | None = None, dtype: Any = None) -> TensorVariable:
    """Turn a variable, NumPy array, Python number or (nested) list into a tensor variable."""
    if isinstance(value, TensorVariable):
        if ndim is not None and value.ndim != ndim:
            raise TypeError(f"expected a {ndim}-d tensor, got {value!r} with ndim={value.ndim}")
        if dtype is not None and value.dtype != _dt.normalize_dtype(dtype):
            return _m().cast(value, dtype)
        return value
    if isinstance(value, Variable):
        raise TypeError(f"{value!r} of type {value.type} is not a tensor")
    if isinstance(value, (list, tuple)) and _contains_variable(value):
        from symgraph.tensor.shape import stack

        return stack([as_tensor_variable(v) for v in value])
    return constant(value, name=name, ndim=ndim, dtype=dtype)


def _contains_variable(value: Any) -> bool:
    if isinstance(value, Variable):
        return True
    if isinstance(value, (list, tuple)):
        return any(_contains_variable(v) for v in value)
    return False


def as_operand(value: Any, partner_dtype: str | None) -> TensorVariable:
    """Convert an operand of an elementwise op; Python numbers take the partner's dtype (NEP 50)."""
    if _is_python_number(value):
        return constant(value, dtype=_dt.python_scalar_dtype(value, partner_dtype))
    return as_tensor_variable(value)


TensorType.variable_class = TensorVariable  # type: ignore[attr-defined]
