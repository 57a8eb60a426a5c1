"""What a workload reports: rows of medians per implementation, a limit, a target, a verdict.

A :class:`Row` holds one measured quantity (a time in seconds, or a memory size in MB) for
every implementation that ran: ``symgraph[c]`` (one entry per symgraph backend, so a
``symgraph[cuda]`` column can join later) and the peers (``numpy``, ``pytensor``, ``jax``,
``torch``, ``torch.compile``). Lower is better for every unit used here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PEERS = ("numpy", "pytensor", "jax", "torch", "torch.compile")


def symgraph_impl(backend: str) -> str:
    """The implementation name of a symgraph backend, e.g. ``symgraph[c]``."""
    return f"symgraph[{backend}]"


@dataclass
class Row:
    """One line of the results table.

    ``values`` maps an implementation to its median (seconds for unit ``'s'``, megabytes for
    ``'MB'``); ``notes`` adds a short remark shown in the cell (``'inf'``, ``'error'``,
    ``'n/a'``); ``limit`` is the machine's bound in the same unit; ``met`` maps a symgraph
    implementation to whether the issue's target holds (None: cannot be judged).
    """

    key: str
    label: str
    unit: str = "s"
    values: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    limit: float | None = None
    limit_note: str = ""
    target: str = ""
    met: dict[str, bool | None] = field(default_factory=dict)
    verdict: dict[str, str] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)

    def peer_values(self) -> dict[str, float]:
        """The peers' measured values (errors and missing entries left out)."""
        return {name: v for name, v in self.values.items() if name in PEERS and v is not None}

    def fastest_peer(self) -> tuple[str, float] | None:
        """(name, value) of the best peer, or None when no peer was measured."""
        peers = self.peer_values()
        if not peers:
            return None
        name = min(peers, key=lambda k: peers[k])
        return name, peers[name]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "label": self.label, "unit": self.unit, "values": self.values,
            "notes": self.notes, "limit": self.limit, "limit_note": self.limit_note,
            "target": self.target, "met": self.met, "verdict": self.verdict,
            "detail": self.detail,
        }


def format_value(value: float | None, unit: str) -> str:
    """Seconds as µs/ms/s with three significant digits; megabytes as MB."""
    if value is None:
        return "—"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "s":
        if value < 1e-3:
            return f"{value * 1e6:.3g} µs"
        if value < 1.0:
            return f"{value * 1e3:.3g} ms"
        return f"{value:.3g} s"
    return f"{value:.3g} {unit}"
