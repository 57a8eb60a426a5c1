"""NumPy implementations: ops that contain graphs (Map)."""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from symgraph.backends.py.dispatch import perform
from symgraph.control.map import Map
from symgraph.graph.node import Apply

_RUNNERS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


@perform.register(Map)
def py_map(op: Map, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    from symgraph.backends.py.runner import PyRunner

    runner = _RUNNERS.get(op.inner)
    if runner is None:
        runner = _RUNNERS[op.inner] = PyRunner(op.inner)
    n = int(inputs[0])
    args = inputs[1:]
    rows: list[list[np.ndarray]] = [runner([np.asarray(i, dtype="int64"), *args]) for i in range(n)]
    results = []
    for k, out in enumerate(node.outputs):
        if rows:
            results.append(np.stack([row[k] for row in rows]))
        else:
            inner_shape = tuple(0 if s is None else s for s in op.inner.outputs[k].type.shape)
            results.append(np.zeros((0,) + inner_shape, dtype=out.type.dtype))
    return results
