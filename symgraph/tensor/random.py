"""Random streams: draws from NumPy's PCG64 generator as graph nodes (``sg.RandomStream``).

A draw is a ``RandomDraw`` node: it reads a generator state (an int64 vector, so that it is
an ordinary tensor: shared, pickled and cached like any other) and returns the advanced
state and the sample. Each draw made by a ``RandomStream`` gets its own state in a shared
variable whose ``default_update`` is the advanced state, so a compiled function moves the
stream forward on every call (``no_default_updates=True`` keeps it fixed), as Theano's
RandomStreams did.

>>> srng = sg.RandomStream(seed=234)
>>> u = srng.uniform(size=(2, 2))
>>> f = sg.function([], u)        # f() gives new numbers on every call
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from symgraph.graph.node import Apply
from symgraph.graph.op import Op
from symgraph.scalar import dtypes as _dt
from symgraph.tensor.shape import _as_int64_scalar, _as_length, _shape_entries, _static_int
from symgraph.tensor.type import TensorType, _resolve_dtype
from symgraph.tensor.variable import TensorVariable, as_tensor_variable

__all__ = ["STATE_LENGTH", "RandomDraw", "RandomStream", "decode_state", "encode_state"]

#: a PCG64 state as int64 words: state (high, low), increment (high, low), has_uint32, uinteger
STATE_LENGTH = 6
_MASK = (1 << 64) - 1

#: distribution -> (number of parameters, NumPy Generator method); ``choice`` takes one more
#: (the probabilities) when its op has ``with_p``
_DISTRIBUTIONS: dict[str, tuple[int, str]] = {
    "uniform": (2, "uniform"),          # low, high
    "normal": (2, "normal"),            # loc, scale
    "binomial": (2, "binomial"),        # n, p
    "integers": (2, "integers"),        # low, high (exclusive)
    "choice": (1, "choice"),            # a (an int n for range(n), or a vector) [, p]
    "permutation": (1, "permutation"),  # x (an int n for range(n), or a tensor shuffled on axis 0)
    "multinomial": (2, "multinomial"),  # n, pvals (last axis: the categories)
}


def encode_state(bit_generator: np.random.PCG64) -> np.ndarray:
    """A PCG64 generator's state as an int64 vector of ``STATE_LENGTH`` words."""
    st = bit_generator.state
    words = [st["state"]["state"] >> 64, st["state"]["state"] & _MASK, st["state"]["inc"] >> 64,
             st["state"]["inc"] & _MASK, st["has_uint32"], st["uinteger"]]
    return np.array(words, dtype=np.uint64).view(np.int64)


def decode_state(words: np.ndarray) -> np.random.Generator:
    """A NumPy Generator continuing from a state made by ``encode_state``."""
    w = [int(v) for v in np.asarray(words, dtype=np.int64).view(np.uint64)]
    if len(w) != STATE_LENGTH:
        raise ValueError(f"a random state has {STATE_LENGTH} int64 words, got {len(w)}")
    bit_generator = np.random.PCG64()
    bit_generator.state = {"bit_generator": "PCG64", "state": {"state": (w[0] << 64) | w[1], "inc": (w[2] << 64) | w[3]},
                           "has_uint32": w[4], "uinteger": w[5]}
    return np.random.Generator(bit_generator)


@dataclass(frozen=True)
class RandomDraw(Op):
    """``(new_state, sample)`` from a generator ``state``, the distribution's parameters and,
    when ``size_given``, one int64 length per axis of the sample (else the parameters'
    broadcast shape). Parameters broadcast against the size as in NumPy's Generator."""

    distribution: str
    dtype: str
    size_given: bool = True
    replace: bool = True   # choice: draw with replacement
    with_p: bool = False   # choice: probabilities given as a second parameter

    is_random: ClassVar[bool] = True  # never constant-folded (see rewrite/engine.py)

    def __post_init__(self) -> None:
        if self.distribution not in _DISTRIBUTIONS:
            raise ValueError(f"RandomDraw: unknown distribution {self.distribution!r}; "
                             f"known: {sorted(_DISTRIBUTIONS)}")

    @property
    def n_params(self) -> int:
        return _DISTRIBUTIONS[self.distribution][0] + int(self.with_p)

    def make_node(self, state: Any, *rest: Any) -> Apply:
        state = as_tensor_variable(state)
        if state.ndim != 1 or state.dtype != "int64":
            raise TypeError(f"RandomDraw: the state must be an int64 vector, got {state.type.describe()}")
        n_params = self.n_params
        params = [as_tensor_variable(p) for p in rest[:n_params]]
        lengths = [as_tensor_variable(v) for v in rest[n_params:]]
        for v in lengths:
            if v.ndim != 0 or v.dtype != "int64":
                raise TypeError(f"RandomDraw: sizes must be int64 scalars, got {v.type.describe()}")
        if self.distribution == "permutation":
            if lengths or self.size_given:
                raise TypeError(f"{self}: a permutation takes no size")
            x = params[0]
            shape: list[int | None] = [None] if x.ndim == 0 else list(x.type.shape)
        elif self.distribution == "multinomial":
            pvals = params[1]
            if pvals.ndim == 0:
                raise TypeError(f"{self}: pvals needs a last axis of categories, got a scalar")
            # counts per category: the size (or pvals' leading axes), then the categories
            lead = [_static_int(v) for v in lengths] if self.size_given else list(pvals.type.shape[:-1])
            shape = lead + [pvals.type.shape[-1]]
        elif self.size_given:
            shape = [_static_int(v) for v in lengths]
            for p in params if self.distribution != "choice" else []:
                if p.ndim > len(shape):
                    raise ValueError(f"{self}: a parameter has {p.ndim} axes, more than the size's {len(shape)}")
        else:
            if lengths:
                raise TypeError(f"{self}: no size was given, so no lengths are expected")
            shaped = [] if self.distribution == "choice" else params  # choice: one value
            ndim = max((p.ndim for p in shaped), default=0)
            padded = [(1,) * (ndim - p.ndim) + tuple(p.type.shape) for p in shaped]
            shape = []
            for axis in range(ndim):
                known = {s[axis] for s in padded if s[axis] != 1}
                shape.append(1 if not known else (known.pop() if len(known) == 1 and None not in known else None))
        outputs = [TensorType("int64", (STATE_LENGTH,)).make_variable(),
                   TensorType(self.dtype, shape).make_variable()]
        return Apply(self, [state, *params, *lengths], outputs)

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        if not self.size_given:
            from symgraph.graph.op import ShapeInferenceError

            raise ShapeInferenceError(f"{self}: the sample's shape is its parameters' broadcast shape")
        lengths = node.inputs[1 + self.n_params:]
        sample = tuple(static if static is not None else length
                       for static, length in zip(node.outputs[1].type.shape, lengths))
        if self.distribution == "multinomial":
            sample = sample + (input_shapes[2][-1],)  # the categories of pvals
        return [(STATE_LENGTH,), sample]

    def __str__(self) -> str:
        return f"RandomDraw{{{self.distribution}, {self.dtype}}}"


class RandomStream:
    """A source of random graph nodes, seeded once (NumPy Generator-style methods).

    Each draw gets a generator state of its own, seeded from this stream's seed, in a
    shared variable (``sample.rng``) that functions advance after each call.

    Parameters
    ----------
    seed : int or None (None: fresh entropy from the operating system).

    >>> srng = sg.RandomStream(42); mask = srng.binomial(1, 0.8, size=x.shape)
    """

    def __init__(self, seed: int | None = None) -> None:
        self._seeder = np.random.default_rng(seed)
        #: (state shared variable, advanced state) of every draw made, in order (Theano's name)
        self.state_updates: list[tuple[Any, TensorVariable]] = []

    def seed(self, seed: int | None = None) -> None:
        """Re-seed this stream and every draw it has made, as if it had just been created."""
        self._seeder = np.random.default_rng(seed)
        for state, _ in self.state_updates:
            state.set_value(self._fresh_state())

    def updates(self) -> list[tuple[Any, TensorVariable]]:
        """The (state, advanced state) pairs of every draw (each is also a default update)."""
        return list(self.state_updates)

    def _fresh_state(self) -> np.ndarray:
        return encode_state(np.random.PCG64(int(self._seeder.integers(2 ** 63))))

    def draw(self, distribution: str, params: Sequence[Any], size: Any, dtype: str,
             **options: Any) -> TensorVariable:
        """A new ``RandomDraw`` node with a state of its own; the building block of the methods."""
        # shared variables belong to compile/, which sits above tensor/: imported when a
        # draw is made, not when symgraph.tensor is
        from symgraph.compile.shared import RandomStateVariable

        state = RandomStateVariable(TensorType("int64", (None,)), self._fresh_state(), name="rng_state")
        if size is None:
            lengths: list[TensorVariable] = []
        else:
            entries = [_as_length(s, "random size") for s in size] if isinstance(size, (list, tuple)) else \
                _shape_entries(size, "random size")
            lengths = [_as_int64_scalar(e) for e in entries]
        op = RandomDraw(distribution, dtype, size_given=size is not None, **options)
        new_state, sample = op(state, *params, *lengths)
        state.default_update = new_state
        sample.rng = state  # type: ignore[attr-defined]  # Theano's rv.rng and rv.update
        sample.update = (state, new_state)  # type: ignore[attr-defined]
        self.state_updates.append((state, new_state))
        return sample

    def uniform(self, low: Any = 0.0, high: Any = 1.0, size: Any = None, dtype: str | None = None) -> TensorVariable:
        """Uniform on ``[low, high)``; dtype defaults to ``config.floatX``."""
        return self.draw("uniform", [low, high], size, _float_dtype(dtype, "uniform"))

    def normal(self, loc: Any = 0.0, scale: Any = 1.0, size: Any = None, dtype: str | None = None) -> TensorVariable:
        """Gaussian with mean ``loc`` and standard deviation ``scale``; dtype defaults to floatX."""
        return self.draw("normal", [loc, scale], size, _float_dtype(dtype, "normal"))

    def binomial(self, n: Any, p: Any, size: Any = None, dtype: str = "int64") -> TensorVariable:
        """Number of successes in ``n`` trials of probability ``p`` (a 0/1 mask for ``n=1``)."""
        return self.draw("binomial", [n, p], size, _resolve_dtype(dtype))

    def integers(self, low: Any, high: Any = None, size: Any = None, dtype: str = "int64") -> TensorVariable:
        """Integers in ``[low, high)`` (``[0, low)`` when ``high`` is None), as NumPy's."""
        if high is None:
            low, high = 0, low
        resolved = _resolve_dtype(dtype)
        if not _dt.is_int(resolved):
            raise TypeError(f"RandomStream.integers: dtype must be an integer dtype, got {dtype!r}")
        return self.draw("integers", [low, high], size, resolved)

    def choice(self, a: Any, size: Any = None, replace: bool = True, p: Any = None) -> TensorVariable:
        """Values drawn from ``a`` (a vector, or an int n for ``range(n)``), with probabilities
        ``p`` (default: uniform), with or without replacement, as NumPy's ``choice``."""
        a = as_tensor_variable(a)
        if a.ndim > 1:
            raise TypeError(f"RandomStream.choice: a must be an int or a vector, got {a.type.describe()}")
        if a.ndim == 0 and not _dt.is_int(a.dtype):
            raise TypeError(f"RandomStream.choice: a scalar a must be an integer (range(a)), got {a.dtype}")
        dtype = "int64" if a.ndim == 0 else a.dtype
        params = [a] if p is None else [a, p]
        return self.draw("choice", params, size, dtype, replace=bool(replace), with_p=p is not None)

    def multinomial(self, n: Any, pvals: Any, size: Any = None, dtype: str = "int64") -> TensorVariable:
        """Counts per category of ``n`` draws with probabilities ``pvals`` (its last axis; one-hot
        rows for ``n=1``). The result has the size's axes (default: pvals' leading axes), then
        the categories."""
        return self.draw("multinomial", [n, pvals], size, _resolve_dtype(dtype))

    def permutation(self, x: Any) -> TensorVariable:
        """A random permutation of ``range(x)`` (an int), or ``x`` shuffled along its first axis."""
        x = as_tensor_variable(x)
        if x.ndim == 0 and not _dt.is_int(x.dtype):
            raise TypeError(f"RandomStream.permutation: a scalar must be an integer (range(x)), got {x.dtype}")
        return self.draw("permutation", [x], None, "int64" if x.ndim == 0 else x.dtype)


def _float_dtype(dtype: str | None, what: str) -> str:
    resolved = _resolve_dtype(dtype)
    if not _dt.is_float(resolved):
        raise TypeError(f"RandomStream.{what}: dtype must be a float dtype, got {dtype!r}")
    return resolved
