"""Differential testing: compile one graph with every backend, compare with py and NumPy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import symgraph as sg
from symgraph.backends.registry import backend_names, get_backend
from symgraph.tensor.type import TensorType


def available_backends() -> list[str]:
    names = []
    for name in backend_names():
        ok, _ = get_backend(name).available()
        if ok:
            names.append(name)
    return names


def assert_same(actual: Any, expected: Any, rtol: float, atol: float, what: str) -> None:
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != expected {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != expected {expected.dtype}"
    if actual.dtype.kind in "fc":
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=what)


def assert_backends_agree(inputs: Sequence[Any], outputs: Any, values: Sequence[Any],
                          rtol: float = 1e-7, atol: float = 0.0, optimizer: str = "fast_run") -> list[Any]:
    """Compile with every available backend; each must match the py backend. Returns py's result."""
    reference = sg.compile_function(list(inputs), outputs, mode="py", optimizer=optimizer,
                                    on_unused_input="ignore")(*values)
    for name in available_backends():
        if name == "py":
            continue
        got = sg.compile_function(list(inputs), outputs, mode=name, optimizer=optimizer,
                                  on_unused_input="ignore")(*values)
        for k, (a, b) in enumerate(zip(_as_list(got), _as_list(reference))):
            assert_same(a, b, rtol, atol, f"backend {name} output {k}")
    return reference  # type: ignore[no-any-return]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


@dataclass
class OpCase:
    """One op test: how to build it symbolically, its NumPy meaning, and its inputs.

    ``inputs`` lists (dtype, shape) pairs; values are drawn uniformly from ``domain``
    (ints are drawn from the integers in it). ``expected_dtype`` overrides NumPy's dtype
    where symgraph's documented rule differs (int8 math gives float32, as Theano).
    """

    name: str
    build: Callable[..., Any]
    numpy: Callable[..., Any]
    inputs: list[tuple[str, tuple[int, ...]]]
    domain: tuple[float, float] = (-2.0, 2.0)
    differentiable: bool = True
    rtol: float = 1e-7
    atol: float = 1e-12
    expected_dtype: str | None = None
    grad_domain: tuple[float, float] | None = None
    shapes: list[list[tuple[int, ...]]] = field(default_factory=list)

    def values(self, rng: np.random.Generator, shapes: list[tuple[int, ...]] | None = None,
               domain: tuple[float, float] | None = None) -> list[np.ndarray]:
        low, high = domain or self.domain
        out = []
        for (dtype, shape), override in zip(self.inputs, shapes or [None] * len(self.inputs)):
            shape = override if override is not None else shape
            if dtype == "bool":
                out.append(rng.random(shape) < 0.5)
            elif np.dtype(dtype).kind in "iu":
                lo, hi = int(np.ceil(low)), int(np.floor(high))
                out.append(rng.integers(lo, hi + 1, size=shape).astype(dtype))
            else:
                out.append(rng.uniform(low, high, size=shape).astype(dtype))
        return out

    def variables(self) -> list[Any]:
        return [TensorType(dtype, (None,) * len(shape)).make_variable(f"in{i}")
                for i, (dtype, shape) in enumerate(self.inputs)]
