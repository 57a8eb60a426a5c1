"""The settings a run shares with every workload, and the loop that times implementations."""

from __future__ import annotations

import sys
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.workloads.result import Row, format_value, symgraph_impl
from bench.workloads.timing import measure

#: an implementation's builder returns the zero-argument callable that is timed
Builder = Callable[[], Callable[[], Any]]
#: a check looks at one output and returns a note for the cell (None: nothing to say)
Check = Callable[[str, Any], "str | None"]


@dataclass
class Context:
    """What the command line chose, the machine's limits (measured on first use) and the
    errors met so far."""

    repeat: int
    quick: bool
    backends: list[str]
    peers: list[str]
    scratch: Path
    w6_sizes: list[int]
    w6_budget_s: float
    child_timeout_s: float = 600.0
    errors: list[dict[str, str]] = field(default_factory=list)
    _machine: Any = None

    @property
    def impls(self) -> list[str]:
        """symgraph backends first, then the peers, in table order."""
        return [symgraph_impl(b) for b in self.backends] + list(self.peers)

    def machine(self) -> Any:
        """The machine's limits (bandwidth, BLAS peak), probed once per run."""
        if self._machine is None:
            from bench.workloads.machine import probe_machine

            self.log("machine: probing memory bandwidth and BLAS peak")
            self._machine = probe_machine(self)
        return self._machine

    @property
    def measured_machine(self) -> Any:
        """The machine's limits if some workload needed them, else None (nothing probed)."""
        return self._machine

    def log(self, message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    def record_error(self, row: Row, impl: str, exc: BaseException) -> None:
        """Mark ``impl``'s cell of ``row`` as an error and keep the message for the report."""
        text = f"{type(exc).__name__}: {exc}".strip()
        row.notes[impl] = "error"
        row.values.pop(impl, None)
        frames = traceback.format_exception(type(exc), exc, exc.__traceback__)
        self.errors.append({"row": row.key, "impl": impl, "error": text[:2000],
                            "traceback": "".join(frames)[-4000:]})
        self.log(f"{row.key} {impl}: {text.splitlines()[0][:300] if text else 'error'}")


def time_impls(ctx: Context, row: Row, builders: dict[str, Builder],
               check: Check | None = None, min_sample_s: float = 0.02) -> dict[str, Any]:
    """Build and time each implementation that this run includes; fill ``row``.

    Each builder is called once (compiling whatever it compiles), its callable is run once
    for ``check`` and then timed with :func:`measure`. A failure in one implementation is
    recorded in its cell and does not stop the others. Returns the first outputs by name.
    """
    outputs: dict[str, Any] = {}
    for impl in ctx.impls:
        build = builders.get(impl)
        if build is None:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn = build()
                out = fn()
                outputs[impl] = out
                if check is not None:
                    note = check(impl, out)
                    if note:
                        row.notes[impl] = note
                timing = measure(fn, ctx.repeat, min_sample_s=min_sample_s)
        except Exception as exc:  # noqa: BLE001 (one broken implementation must not end the run)
            ctx.record_error(row, impl, exc)
            continue
        row.values[impl] = timing.median
        row.detail.setdefault("timings", {})[impl] = timing.as_dict()
        ctx.log(f"{row.key} {impl}: {format_value(timing.median, row.unit)}"
                + (f" ({row.notes[impl]})" if impl in row.notes else ""))
    return outputs
