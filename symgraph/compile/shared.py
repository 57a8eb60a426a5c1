"""Shared variables: symbolic tensors with a value that persists between calls."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from symgraph.scalar import dtypes as _dt
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import TensorVariable

#: held by every call of a function that uses a shared variable some compiled function
#: updates in place, and by get_value's copy of such a variable: a call then never reads
#: a value another call is writing over (see Function.__call__)
IN_PLACE_LOCK = threading.RLock()


class SharedVariable(TensorVariable):
    """A tensor whose value lives with it; an implicit input of every function using it.

    Use ``get_value()`` / ``set_value()`` to read and write it, and ``updates`` in
    ``compile_function`` to change it after each call.

    A compiled function may compute an update in the variable's own buffer (the C
    backend does so for ``W - lr * dot(a, b)`` and the like, as Theano did): an array
    obtained with ``get_value(borrow=True)``, or given with ``borrow=True``, may then
    change when the function is called. Without ``borrow`` you always get a copy.
    """

    #: set once a compiled function may compute this variable's update in place
    updated_in_place = False

    def __init__(self, type: TensorType, value: np.ndarray, name: str | None = None,
                 allow_downcast: bool | None = None) -> None:
        super().__init__(type, None, None, name)
        self._allow_downcast = allow_downcast
        self._value = type.filter(value, name=self._label(), allow_downcast=allow_downcast)
        self.default_update: Any = None

    def _label(self) -> str:
        return f"shared variable {self.name!r}" if self.name else "shared variable"

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> np.ndarray:
        """The current value (a copy unless ``borrow=True``)."""
        if borrow:
            return self._value
        if self.updated_in_place:
            with IN_PLACE_LOCK:
                return self._value.copy()
        return self._value.copy()

    def set_value(self, value: Any, borrow: bool = False) -> None:
        """Replace the value; it must fit the variable's type (dtype and ndim)."""
        new = self.type.filter(value, name=self._label(), allow_downcast=self._allow_downcast)
        if new is value and not borrow:
            new = new.copy()
        self._value = new

    @property
    def container_value(self) -> np.ndarray:
        return self._value

    def clone(self, name: str | None = None) -> SharedVariable:
        new = SharedVariable(self.type, self._value, self.name if name is None else name, self._allow_downcast)
        new.default_update = self.default_update
        return new

    def __repr__(self) -> str:
        return self.name or f"<shared {self.type.describe()}>"

    __hash__ = TensorVariable.__hash__


class GeneratorState:
    """What ``get_value()`` of a random draw's state variable gives (Theano's ``rv.rng``):
    the generator state, with the methods Theano's tutorials call on it. ``seed(n)``,
    ``set_state(s)``; ``get_state()`` returns a state ``set_state`` accepts. Hand it back
    with ``set_value``. Taken with ``get_value(borrow=True)``, its changes reach the
    variable at once, as Theano's borrowed RandomState did."""

    def __init__(self, words: np.ndarray) -> None:
        self.words = words

    def seed(self, seed: int | None = None) -> None:
        """Start again from ``seed`` (NumPy's PCG64 seeded with it)."""
        from symgraph.tensor.random import encode_state

        self.words[...] = encode_state(np.random.PCG64(seed))

    def get_state(self) -> np.ndarray:
        """A copy of the state (an int64 vector), for ``set_state``."""
        return self.words.copy()

    def set_state(self, state: Any) -> None:
        """Continue from ``state``: one ``get_state`` gave, or another ``GeneratorState``."""
        words = state.words if isinstance(state, GeneratorState) else np.asarray(state, dtype=np.int64)
        if words.shape != self.words.shape:
            raise ValueError(f"set_state: a generator state has {self.words.shape[0]} int64 words, "
                             f"got an array of shape {words.shape}")
        self.words[...] = words

    def generator(self) -> np.random.Generator:
        """A NumPy Generator continuing from this state (drawing from it leaves the state alone)."""
        from symgraph.tensor.random import decode_state

        return decode_state(self.words)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.words if dtype is None else self.words.astype(dtype)

    def __repr__(self) -> str:
        return f"GeneratorState({self.generator().bit_generator.state['state']})"


class RandomStateVariable(SharedVariable):
    """The shared generator state of one random draw (``RandomStream``): an int64 vector in
    the graph; ``get_value()`` gives it as a ``GeneratorState`` (``return_internal_type=True``:
    the vector), ``set_value`` takes either."""

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> Any:
        words = super().get_value(borrow=borrow)
        return words if return_internal_type else GeneratorState(words)

    def set_value(self, value: Any, borrow: bool = False) -> None:
        if isinstance(value, GeneratorState):
            value = value.words
        elif isinstance(value, np.random.Generator):
            from symgraph.tensor.random import encode_state

            if not isinstance(value.bit_generator, np.random.PCG64):
                raise TypeError(f"{self._label()}: only a PCG64 Generator's state can be set, "
                                f"got {type(value.bit_generator).__name__}")
            value = encode_state(value.bit_generator)
        super().set_value(value, borrow=borrow)

    def clone(self, name: str | None = None) -> SharedVariable:
        new = RandomStateVariable(self.type, self._value, self.name if name is None else name, self._allow_downcast)
        new.default_update = self.default_update
        return new


def shared(
    value: Any,
    name: str | None = None,
    borrow: bool = False,
    strict: bool = False,
    allow_downcast: bool | None = None,
    shape: Sequence[int | None] | None = None,
    broadcastable: Sequence[bool] | None = None,
) -> SharedVariable:
    """A shared variable holding ``value`` (NumPy array or number).

    Its type has the value's dtype and ndim; lengths are left unknown (so the value
    may change shape) unless ``shape`` or Theano's ``broadcastable`` says otherwise.

    >>> w = sg.shared(np.zeros(3), name='w'); w.get_value()
    array([0., 0., 0.])
    """
    if isinstance(value, TensorVariable):
        raise TypeError("sg.shared needs a value (a NumPy array or number), not a symbolic variable")
    arr = np.asarray(value)
    if arr.dtype.kind in "OUSV":
        raise TypeError(f"sg.shared cannot hold {type(value).__name__} values")
    if not borrow or not isinstance(value, np.ndarray):
        arr = np.array(arr, copy=True)
    dtype = _dt.normalize_dtype(arr.dtype)
    if shape is None:
        shape = [1 if b else None for b in broadcastable] if broadcastable is not None else [None] * arr.ndim
    return SharedVariable(TensorType(dtype, shape), arr, name=name, allow_downcast=allow_downcast)
