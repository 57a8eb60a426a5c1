"""Run a FunctionGraph node by node with the NumPy implementations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from symgraph.backends.py.dispatch import perform
from symgraph.errors import NaNGuardError, ShapeMismatchError, built_at
from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply, Constant


def _load_impls() -> None:
    # The implementation modules register themselves in `perform`; import them all here.
    from symgraph.backends.py import impls  # noqa: F401
    from symgraph.backends.py.impls import (  # noqa: F401
        blas,
        control,
        conv,
        linalg,
        nnet,
        random,
        reduce,
        scalar,
        shape,
        subtensor,
    )


def describe_failure(node: Apply, inputs: Sequence[Any], exc: BaseException) -> str:
    shapes = ", ".join(
        f"{getattr(v, 'shape', '?')} {getattr(getattr(v, 'dtype', None), 'name', '')}".rstrip() for v in inputs
    )
    return f"{node.op} failed: {exc}\n  input shapes: {shapes}{built_at(node.source)}"


def _has_nonfinite(value: Any) -> bool:
    arr = np.asarray(value)
    return arr.dtype.kind in "fc" and arr.size > 0 and not np.isfinite(arr).all()


def _check_finite_outputs(node: Apply, args: list[Any], outs: list[Any]) -> None:
    """nan_guard: raise if ``node`` made NaN or inf out of finite inputs."""
    if any(_has_nonfinite(o) for o in outs) and not any(_has_nonfinite(a) for a in args):
        raise NaNGuardError(
            f"nan_guard: {node.op} produced NaN or inf from finite inputs"
            f"{built_at(node.source)}"
        )


class PyRunner:
    """Executes a FunctionGraph with NumPy; the reference every other backend matches."""

    def __init__(self, fgraph: FunctionGraph, nan_guard: bool = False) -> None:
        _load_impls()
        self.fgraph = fgraph
        self.nan_guard = nan_guard
        slots: dict[Any, int] = {}
        for var in fgraph.inputs:
            slots[var] = len(slots)
        self.n_inputs = len(slots)
        self.constants: list[tuple[int, Any]] = []
        self.steps: list[tuple[Any, Apply, list[int], list[int]]] = []
        for node in fgraph.toposort():
            in_slots = []
            for var in node.inputs:
                if var not in slots:
                    slots[var] = len(slots)
                    if isinstance(var, Constant):
                        self.constants.append((slots[var], var.data))
                in_slots.append(slots[var])
            out_slots = []
            for out in node.outputs:
                slots[out] = len(slots)
                out_slots.append(slots[out])
            impl = perform.dispatch(type(node.op))
            self.steps.append((impl, node, in_slots, out_slots))
        for out in fgraph.outputs:
            if out not in slots:
                slots[out] = len(slots)
                if isinstance(out, Constant):
                    self.constants.append((slots[out], out.data))
        self.output_slots = [slots[o] for o in fgraph.outputs]
        self.n_slots = len(slots)

    def __call__(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        storage: list[Any] = [None] * self.n_slots
        storage[: self.n_inputs] = inputs
        for slot, data in self.constants:
            storage[slot] = data
        for impl, node, in_slots, out_slots in self.steps:
            args = [storage[i] for i in in_slots]
            try:
                results = impl(node.op, node, args)
            except (ValueError, IndexError, np.linalg.LinAlgError, ZeroDivisionError) as exc:
                raise ShapeMismatchError(describe_failure(node, args, exc)) from exc
            for slot, out, value in zip(out_slots, node.outputs, results):
                if not isinstance(value, np.ndarray) or value.dtype.name != out.type.dtype:
                    value = np.asarray(value, dtype=out.type.dtype)
                if value.ndim != out.type.ndim:
                    raise AssertionError(
                        f"internal error: {node.op} produced ndim {value.ndim}, its type says {out.type}"
                    )
                storage[slot] = value
            if self.nan_guard:
                _check_finite_outputs(node, args, [storage[s] for s in out_slots])
        return [storage[s] for s in self.output_slots]


class PyBackend:
    name = "py"

    def fingerprint(self) -> str:
        return f"py-numpy{np.__version__}"

    def available(self) -> tuple[bool, str]:
        return True, ""

    def build(self, fgraph: FunctionGraph, nan_guard: bool = False, cache: Any = None) -> PyRunner:
        return PyRunner(fgraph, nan_guard=nan_guard)
