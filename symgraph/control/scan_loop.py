"""Running a Scan: the loop (registered for the 'py' backend, and run by the C backend as a
Python node between its compiled segments).

The inner graph is rewritten once (the same pipeline as the outer function) and run at each
step by the py backend's runner or, when the node is marked ``node.tag.backend == 'c'`` (the
C runner's Python nodes), by the C backend: one compiled call per step costs a few
microseconds where the NumPy reference costs tens.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from symgraph.control.inner import PREPARERS, backend_of, build_runner
from symgraph.control.scan_op import Scan
from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply

_RUNNERS: weakref.WeakKeyDictionary[FunctionGraph, dict[str, Any]] = weakref.WeakKeyDictionary()


class ScanError(ValueError):
    """A scan failed at run time (wrong lengths, a shape that changed between steps)."""


def inner_runner(op: Scan, backend: str = "py") -> Any:
    """The runner of ``op``'s inner graph for ``backend`` ('py' or 'c'): rewritten, then built."""
    runners = _RUNNERS.get(op.inner)
    if runners is None:
        runners = _RUNNERS[op.inner] = {}
    runner = runners.get(backend)
    if runner is None:
        fgraph, _ = op.inner.clone()
        runner = runners[backend] = build_runner(fgraph, backend)
    return runner


PREPARERS[Scan] = lambda node, backend: inner_runner(node.op, backend)  # type: ignore[arg-type]


def _name(op: Scan, k: int) -> str:
    return op.output_names[k] if k < len(op.output_names) else f"output {k}"


def _count_steps(op: Scan, n_steps: int, seqs: list[np.ndarray]) -> int:
    if n_steps < -1:  # a negative n_steps given by the caller (scan.py moved it below -1)
        raise ScanError(f"{op}: n_steps must be >= 0, got {n_steps + 1}")
    if n_steps < 0:
        if not seqs:
            raise ScanError(f"{op}: no n_steps and no sequences: the number of steps is unknown")
        return min(s.shape[0] for s in seqs)
    for k, s in enumerate(seqs):
        if s.shape[0] < n_steps:
            raise ScanError(f"{op}: n_steps is {n_steps}, but sequence {k} (after its taps) has only "
                            f"{s.shape[0]} steps")
    return n_steps


def run_scan(op: Scan, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The outputs of a Scan node (see ``Scan``) for input values ``inputs``."""
    runner = inner_runner(op, backend_of(node))
    a = 1 + op.n_seqs
    b = a + op.n_states
    c = b + op.n_carries
    seqs, inits, carries, nonseqs = list(inputs[1:a]), inputs[a:b], list(inputs[b:c]), list(inputs[c:])
    n = _count_steps(op, int(inputs[0]), seqs)

    buffers = []
    depths = []
    for k, init in enumerate(inits):
        m = op.state_depth(k)
        init = np.asarray(init)
        if init.shape[0] < m:
            raise ScanError(f"{op}: the initial value of {_name(op, k)} needs {m} rows for its taps "
                            f"{list(op.state_taps[k])}, got an array of shape {init.shape}")
        buf = np.empty((m + n,) + init.shape[1:], dtype=node.outputs[k].type.dtype)
        buf[:m] = init[:m]
        buffers.append(buf)
        depths.append(m)
    nitsot_first = op.n_states + op.n_carries
    stacked: list[np.ndarray | None] = [None] * op.n_nitsot
    steps_run = n
    for t in range(n):
        args = [s[t] for s in seqs]
        for buf, m, taps in zip(buffers, depths, op.state_taps):
            args.extend(buf[t + m + tap] for tap in taps)
        args.extend(carries)
        args.extend(nonseqs)
        outs = runner(args)
        for k, (buf, m) in enumerate(zip(buffers, depths)):
            value = outs[k]
            if value.shape != buf.shape[1:]:
                raise ScanError(
                    f"{op}: at step {t}, {_name(op, k)} has shape {value.shape}, but its previous values "
                    f"(and initial value) have shape {buf.shape[1:]}; a fed-back output must keep its shape"
                )
            buf[t + m] = value
        for j in range(op.n_carries):
            value = outs[op.n_states + j]
            carries[j] = value if value.base is None else np.array(value)
        for j in range(op.n_nitsot):
            value = outs[nitsot_first + j]
            arr = stacked[j]
            if arr is None:
                arr = stacked[j] = np.empty((n,) + value.shape, dtype=value.dtype)
            elif value.shape != arr.shape[1:]:
                raise ScanError(
                    f"{op}: at step {t}, {_name(op, op.n_states + j)} has shape {value.shape}, but at "
                    f"step 0 it had shape {arr.shape[1:]}; every step must give the same shape"
                )
            arr[t] = value
        if op.has_until and bool(outs[-1]):
            steps_run = t + 1
            break

    results: list[np.ndarray] = [buf[: m + steps_run] for buf, m in zip(buffers, depths)]
    # a carry may still be its initial value (no steps ran, or fn returned it unchanged): the
    # node's outputs are arrays of their own, as every other node's are
    results.extend(np.array(v) if any(np.may_share_memory(v, x) for x in inputs) else v for v in carries)
    for j, arr in enumerate(stacked):
        if arr is None:
            inner_out = op.inner.outputs[nitsot_first + j]
            shape = tuple(0 if s is None else s for s in inner_out.type.shape)
            arr = np.zeros((0,) + shape, dtype=inner_out.type.dtype)
        results.append(arr[:steps_run])
    results.append(np.asarray(steps_run, dtype="int64"))
    return results
