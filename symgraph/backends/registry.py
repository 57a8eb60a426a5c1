"""The backend contract and the table of available backends."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from symgraph.graph.fgraph import FunctionGraph


class Runner(Protocol):
    """A compiled function body: input arrays in, output arrays out."""

    def __call__(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]: ...


class Backend(Protocol):
    name: str

    def fingerprint(self) -> str:
        """Everything about the backend that changes generated code (for cache keys)."""
        ...

    def available(self) -> tuple[bool, str]:
        """Whether it can run here, and if not, why."""
        ...

    def build(self, fgraph: FunctionGraph, nan_guard: bool = False, cache: Any = None) -> Runner: ...


_FACTORIES: dict[str, Callable[[], Any]] = {}


def _py_backend() -> Any:
    from symgraph.backends.py.runner import PyBackend

    return PyBackend()


def _c_backend() -> Any:
    from symgraph.backends.c.runner import CBackend

    return CBackend()


_FACTORIES["py"] = _py_backend
_FACTORIES["c"] = _c_backend


def get_backend(name: str) -> Backend:
    if name not in _FACTORIES:
        raise ValueError(f"unknown backend {name!r}; available: {sorted(_FACTORIES)}")
    return _FACTORIES[name]()  # type: ignore[no-any-return]


def backend_names() -> list[str]:
    return sorted(_FACTORIES)
