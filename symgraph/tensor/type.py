"""TensorType: dtype plus static shape, and the variable constructors of API.md."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from symgraph.graph.op import Type
from symgraph.scalar import dtypes as _dt

if TYPE_CHECKING:
    from symgraph.tensor.variable import TensorVariable

def _article(word: str) -> str:
    return "an" if word[:1] in "aeio" else "a"  # 'an int64', 'a uint8', 'a float32'



_NDIM_NAMES = {0: "scalar", 1: "vector", 2: "matrix", 3: "tensor3", 4: "tensor4"}


@dataclass(frozen=True)
class TensorType(Type):
    """Arrays of ``dtype`` whose shape matches ``shape``.

    Each entry of ``shape`` is an int (a static length; ``1`` means the axis broadcasts)
    or ``None`` (unknown until run time).
    """

    dtype: str
    shape: tuple[int | None, ...]

    def __init__(self, dtype: Any, shape: Sequence[int | None] = ()) -> None:
        object.__setattr__(self, "dtype", _dt.normalize_dtype(dtype))
        norm: list[int | None] = []
        for s in shape:
            if s is None:
                norm.append(None)
            elif isinstance(s, (bool, np.bool_)):
                # Theano's broadcastable patterns: True means length 1
                norm.append(1 if s else None)
            else:
                s = int(s)
                if s < 0:
                    raise ValueError(f"TensorType shape entries must be >= 0 or None, got {tuple(shape)}")
                norm.append(s)
        object.__setattr__(self, "shape", tuple(norm))
        object.__setattr__(self, "numpy_dtype", np.dtype(self.dtype))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return tuple(s == 1 for s in self.shape)

    def clone(self, dtype: Any = None, shape: Sequence[int | None] | None = None) -> TensorType:
        return TensorType(self.dtype if dtype is None else dtype, self.shape if shape is None else shape)

    def make_variable(self, name: str | None = None) -> TensorVariable:
        from symgraph.tensor.variable import TensorVariable

        return TensorVariable(self, name=name)

    def __call__(self, name: str | None = None) -> TensorVariable:
        """A new symbolic variable of this type: ``T.dmatrix('x')`` (as Theano's types did)."""
        return self.make_variable(name)

    def is_compatible(self, other: Type) -> bool:
        """``other`` can replace this type: same dtype and ndim, no conflicting static length."""
        if not isinstance(other, TensorType) or other.dtype != self.dtype or other.ndim != self.ndim:
            return False
        return all(a is None or b is None or a == b for a, b in zip(self.shape, other.shape))

    def is_super(self, other: TensorType) -> bool:
        """Every value of ``other`` is a value of this type."""
        return (
            other.dtype == self.dtype
            and other.ndim == self.ndim
            and all(a is None or a == b for a, b in zip(self.shape, other.shape))
        )

    def describe(self) -> str:
        """Human words: 'float64 matrix', 'int32 vector of shape (3,)'."""
        base = f"{self.dtype} {_NDIM_NAMES.get(self.ndim, f'{self.ndim}-d tensor')}"
        if any(s is not None for s in self.shape):
            shown = ", ".join("?" if s is None else str(s) for s in self.shape)
            base += f" of shape ({shown}{',' if self.ndim == 1 else ''})"
        return base

    def filter(self, value: Any, name: str = "value", allow_downcast: bool | None = None) -> np.ndarray:
        """Convert ``value`` to an ndarray of this type, or raise a TypeError naming ``name``.

        ``allow_downcast``: True casts freely; False allows only safe casts; None (the
        default) also allows Python numbers and lists when the cast loses nothing, and
        Python floats into ``config.floatX`` inputs.
        """
        if type(value) is np.ndarray and value.dtype == self.numpy_dtype and value.ndim == len(self.shape):
            if all(want is None or want == got for want, got in zip(self.shape, value.shape)):
                return value  # the common case, checked cheaply
        from symgraph.config import config

        is_python = not isinstance(value, (np.ndarray, np.generic))
        try:
            arr = value if isinstance(value, np.ndarray) else np.asarray(value)
        except Exception as exc:
            raise TypeError(f"{name} expects {self.describe()}, got {type(value).__name__} {value!r:.80}") from exc
        if arr.dtype.kind in "OUSV":
            raise TypeError(f"{name} expects {self.describe()}, got {type(value).__name__} {value!r:.80}")
        if arr.ndim != self.ndim:
            raise TypeError(
                f"{name} expects {self.describe()} (ndim={self.ndim}), "
                f"got {_article(arr.dtype.name)} {arr.dtype.name} array with ndim={arr.ndim} and shape {arr.shape}"
            )
        if arr.dtype.name != self.dtype:
            if allow_downcast or np.can_cast(arr.dtype, self.dtype, "safe"):
                arr = arr.astype(self.dtype)
            elif allow_downcast is None and is_python and self._exact_cast(arr):
                arr = arr.astype(self.dtype)
            elif allow_downcast is None and isinstance(value, float) and self.dtype == config.floatX:
                arr = arr.astype(self.dtype)
            else:
                raise TypeError(
                    f"{name} expects {self.describe()}, got {_article(arr.dtype.name)} {arr.dtype.name} "
                    f"{'array' if arr.ndim else 'value'}; converting would lose precision. "
                    f"Pass a {self.dtype} array (e.g. np.asarray(v, dtype='{self.dtype}')), "
                    "or compile with allow_input_downcast=True"
                )
        if not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))  # compiled code reads native byte order
        for axis, (want, got) in enumerate(zip(self.shape, arr.shape)):
            if want is not None and want != got:
                raise ValueError(
                    f"{name} expects {self.describe()}, got shape {arr.shape} "
                    f"(axis {axis} has length {got}, expected {want})"
                )
        return arr

    def _exact_cast(self, arr: np.ndarray) -> bool:
        with np.errstate(all="ignore"):
            cast = arr.astype(self.dtype)
            back = cast.astype(arr.dtype)
        return bool(np.array_equal(back, arr, equal_nan=True))

    def value_signature(self, value: Any) -> Any:
        arr = np.asarray(value)
        if arr.size <= 16:
            return (arr.shape, arr.tobytes())
        import hashlib

        return (arr.shape, hashlib.sha1(np.ascontiguousarray(arr).tobytes()).hexdigest())

    def value_repr(self, value: Any) -> str:
        arr = np.asarray(value)
        if arr.ndim == 0:
            return repr(arr.item())
        if arr.size <= 6:
            return np.array2string(arr, separator=", ").replace("\n", "")
        return f"<{arr.dtype.name} array {arr.shape}>"

    def __str__(self) -> str:
        if all(s is None for s in self.shape) and self.ndim in _NDIM_NAMES:
            return f"TensorType({self.dtype}, {_NDIM_NAMES[self.ndim]})"
        return f"TensorType({self.dtype}, shape={self.shape})"

    def __repr__(self) -> str:
        return str(self)


# ---------------------------------------------------------------------------------------
# Constructors
# ---------------------------------------------------------------------------------------
def _resolve_dtype(dtype: Any) -> str:
    from symgraph.config import config

    return config.floatX if dtype is None else _dt.normalize_dtype(dtype)


def tensor(
    dtype: Any = None,
    shape: Sequence[int | None] | None = None,
    name: str | None = None,
    broadcastable: Sequence[bool] | None = None,
    ndim: int | None = None,
) -> TensorVariable:
    """A symbolic tensor input: ``T.tensor('float64', shape=(None, 1, 3), name='x')``.

    ``None`` in ``shape`` is an unknown length, ``1`` a broadcastable axis. Theano's
    ``broadcastable=(False, True)`` and ``ndim=`` are accepted too.
    """
    if isinstance(dtype, str) and name is None and shape is None and dtype not in _dt.ALL_DTYPES and dtype != "floatX":
        # T.tensor('x') -- a name given positionally is a common slip; make it work clearly
        try:
            _dt.normalize_dtype(dtype)
        except TypeError:
            raise TypeError(
                f"T.tensor's first argument is the dtype, got {dtype!r}; "
                "write T.tensor(dtype='float64', shape=(None, None), name=...)"
            ) from None
    if shape is None:
        if broadcastable is not None:
            shape = [1 if b else None for b in broadcastable]
        elif ndim is not None:
            shape = [None] * ndim
        else:
            raise TypeError("T.tensor needs a shape, e.g. T.tensor('float64', shape=(None, None))")
    return TensorType(_resolve_dtype(dtype), shape).make_variable(name)


def _maker(ndim_shape: tuple[int | None, ...], kind: str, fixed_dtype: str | None = None) -> Any:
    if fixed_dtype is None:

        def make(name: str | None = None, dtype: Any = None, shape: Sequence[int | None] | None = None) -> TensorVariable:
            use_shape = ndim_shape if shape is None else tuple(shape)
            if len(use_shape) != len(ndim_shape):
                raise ValueError(f"{kind}() has ndim {len(ndim_shape)}, got shape {tuple(shape or ())}")
            return TensorType(_resolve_dtype(dtype), use_shape).make_variable(name)

        make.__doc__ = f"A symbolic {kind} (dtype defaults to config.floatX)."
    else:
        # typed forms are the types themselves, callable as constructors (as in Theano)
        return TensorType(fixed_dtype, ndim_shape)
    make.__name__ = kind
    return make


def _plural(single: Any, name: str) -> Any:
    def make_many(*names: str | int, **kwargs: Any) -> list[TensorVariable]:
        if len(names) == 1 and isinstance(names[0], int):
            return [single(**kwargs) for _ in range(names[0])]
        if len(names) == 1 and isinstance(names[0], str) and "," in names[0]:
            names = tuple(n.strip() for n in names[0].split(","))
        return [single(str(n), **kwargs) for n in names]

    make_many.__name__ = _plural_name(name)
    make_many.__doc__ = f"Several {name}s at once: ``a, b = {_plural_name(name)}('a', 'b')``."
    return make_many


_KINDS: dict[str, tuple[int | None, ...]] = {
    "scalar": (),
    "vector": (None,),
    "matrix": (None, None),
    "row": (1, None),
    "col": (None, 1),
    "tensor3": (None, None, None),
    "tensor4": (None, None, None, None),
    "tensor5": (None, None, None, None, None),
}
_PREFIXES = {
    "b": "int8", "w": "int16", "i": "int32", "l": "int64",
    "f": "float32", "d": "float64", "c": "complex64", "z": "complex128",
}



def _plural_name(kind: str) -> str:
    return kind[:-2] + "ices" if kind.endswith("matrix") else kind + "s"


CONSTRUCTORS: dict[str, Any] = {}
for _kind, _shape in _KINDS.items():
    CONSTRUCTORS[_kind] = _maker(_shape, _kind)
    CONSTRUCTORS[_plural_name(_kind)] = _plural(CONSTRUCTORS[_kind], _kind)
    for _prefix, _dtype in _PREFIXES.items():
        _single = _maker(_shape, _prefix + _kind, _dtype)
        CONSTRUCTORS[_prefix + _kind] = _single
        CONSTRUCTORS[_plural_name(_prefix + _kind)] = _plural(_single, _prefix + _kind)
globals().update(CONSTRUCTORS)
