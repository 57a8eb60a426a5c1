"""Run the issue-6 workloads W1-W7 for symgraph and every installed peer; print a table.

Usage: ``python -m bench`` (or ``python bench/run.py``) with, optionally,
``--only W1,W3``, ``--quick`` (fewer repeats, smaller W6), ``--repeat N``, ``--json PATH``,
``--peers numpy,jax``, ``--backends c``, ``--w6-sizes 1000,2000``, ``--w6-budget SECONDS``.

Prints a markdown table of medians and ratios (symgraph against NumPy, against the fastest
peer and against the machine limit measured in the same run, and whether the issue's target
is met), and writes it with the raw figures to ``bench/results/latest.json`` and
``bench/results/latest.md``. See ``bench/README.md`` for what each workload measures.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.workloads.context import Context
from bench.workloads.machine import cpu_name
from bench.workloads.peers import installed_peers, versions
from bench.workloads.result import PEERS, Row, format_value, symgraph_impl

RESULTS_DIR = Path(__file__).resolve().parent / "results"

#: workload key -> module under bench.workloads with a ``run(ctx) -> list[Row]``
WORKLOADS = {
    "W1": "elementwise",
    "W2": "mlp",
    "W3": "call_overhead",
    "W4": "compile_time",
    "W5": "logsumexp",
    "W6": "chain",
    "W7": "softmax",
}

PEER_TITLES = {"numpy": "NumPy", "pytensor": "PyTensor (C)", "jax": "JAX jit",
               "torch": "torch", "torch.compile": "torch.compile"}

W6_SIZES = [1000, 2000, 5000, 10000]
W6_SIZES_QUICK = [100, 300, 1000]


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", type=_csv, default=list(WORKLOADS),
                        help="comma-separated workloads to run, e.g. W1,W3 (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats, smaller W6 sizes, shorter time budgets")
    parser.add_argument("--repeat", type=int, default=None,
                        help="timed samples per figure (default 15, 5 with --quick)")
    parser.add_argument("--json", type=Path, default=RESULTS_DIR / "latest.json",
                        help="where to write the JSON results; the markdown goes next to it")
    parser.add_argument("--peers", type=_csv, default=None,
                        help=f"peers to include among {', '.join(PEERS)} (default: all installed)")
    parser.add_argument("--backends", type=_csv, default=["c"],
                        help="symgraph backends to measure (default: c)")
    parser.add_argument("--w6-sizes", type=lambda s: [int(v) for v in _csv(s)], default=None,
                        help=f"W6 chain lengths (default {W6_SIZES}, quick {W6_SIZES_QUICK})")
    parser.add_argument("--w6-budget", type=float, default=None,
                        help="seconds of W6 compile time per implementation before larger "
                             "sizes are skipped (default 120, 60 with --quick)")
    args = parser.parse_args(argv)
    unknown = [k for k in args.only if k.upper() not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {', '.join(WORKLOADS)}")
    args.only = [k.upper() for k in args.only]
    installed = installed_peers()
    if args.peers is None:
        args.peers = installed
    else:
        bad = [p for p in args.peers if p not in PEERS]
        if bad:
            parser.error(f"unknown peer(s) {bad}; choose from {', '.join(PEERS)}")
        missing = [p for p in args.peers if p not in installed]
        if missing:
            print(f"[bench] not installed, left out: {', '.join(missing)}", file=sys.stderr)
        args.peers = [p for p in PEERS if p in args.peers and p in installed]
    args.not_installed = [p for p in PEERS if p not in installed]
    return args


def _runner(key: str) -> Callable[[Context], list[Row]]:
    module = importlib.import_module(f"bench.workloads.{WORKLOADS[key]}")
    run: Callable[[Context], list[Row]] = module.run
    return run


# -- the report ----------------------------------------------------------------------------
def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}x"


def _cell(row: Row, impl: str) -> str:
    value = row.values.get(impl)
    note = row.notes.get(impl)
    if value is None:
        return note or "—"
    text = format_value(value, row.unit)
    return f"{text} ({note})" if note else text


def render_table(rows: Sequence[Row], backends: Sequence[str], peers: Sequence[str]) -> str:
    """The markdown table: one column per implementation, then ratios per symgraph backend."""
    impls = [symgraph_impl(b) for b in backends]
    head = ["workload"] + [f"symgraph {b}" for b in backends] + [PEER_TITLES[p] for p in peers]
    head.append("machine limit")
    for b in backends:
        head += [f"{b} / NumPy", f"{b} / fastest peer", f"{b} / limit", f"{b} target met"]
    head.append("target")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row.label] + [_cell(row, i) for i in impls] + [_cell(row, p) for p in peers]
        limit = format_value(row.limit, row.unit) if row.limit is not None else "—"
        cells.append(limit + (f" ({row.limit_note})" if row.limit_note else ""))
        fastest = row.fastest_peer()
        for impl in impls:
            mine = row.values.get(impl)
            cells.append(_ratio(mine, row.values.get("numpy")))
            cells.append(f"{_ratio(mine, fastest[1])} ({PEER_TITLES[fastest[0]]})"
                         if fastest and mine is not None else "—")
            cells.append(_ratio(mine, row.limit))
            met = row.met.get(impl)
            verdict = {True: "yes", False: "no", None: "n/a"}[met]
            if row.verdict.get(impl):
                verdict += f" ({row.verdict[impl]})"
            cells.append(verdict)
        cells.append(row.target or "—")
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def render(ctx: Context, rows: Sequence[Row], meta: dict[str, Any]) -> str:
    machine = ctx.measured_machine
    parts = [
        f"## symgraph benchmark ({meta['date']})",
        "",
        f"Machine: {machine.summary() if machine else cpu_name() + ' (limits not probed)'}",
        (f"Versions: {', '.join(f'{k} {v}' for k, v in meta['versions'].items())}. "
         f"Medians of {ctx.repeat} samples after warm-up; ratios are symgraph's figure divided "
         "by the other one (below 1: symgraph is faster or smaller). The machine is shared, so "
         "figures are noisy: compare ratios taken in one run "
         f"(load average at the start: {meta['load_average']:.1f} on {os.cpu_count()} cores)."),
    ]
    if meta["not_installed"]:
        parts.append(f"Peers not installed (left out): {', '.join(meta['not_installed'])}.")
    parts += ["", render_table(rows, ctx.backends, ctx.peers)]
    notes = [f"- {row.key}: {row.detail['note']}" for row in rows if row.detail.get("note")]
    if notes:
        parts += ["", "Notes:", *notes]
    if ctx.errors:
        parts += ["", "Errors:"]
        parts += [f"- {e['row']} {e['impl']}: {e['error'].splitlines()[0][:300]}"
                  for e in ctx.errors]
    return "\n".join(parts) + "\n"


def _refresh_bytecode() -> None:
    """Bring symgraph's cached bytecode up to date before anything is timed, as installing a
    package does. An editable checkout run with PYTHONDONTWRITEBYTECODE=1 (as on the
    project's machines) otherwise compiles every module edited since its .pyc from source on
    each import: the C backend's modules, imported by the first compile, cost W4 cold about
    20 ms that no installed peer pays."""
    import compileall

    import symgraph

    compileall.compile_dir(str(Path(symgraph.__file__).parent), quiet=2)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected workloads; print the table and write the JSON and markdown files."""
    args = parse_args(argv)
    repeat = args.repeat if args.repeat is not None else (5 if args.quick else 15)
    started = time.perf_counter()
    _refresh_bytecode()
    load_average = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with tempfile.TemporaryDirectory(prefix="symgraph_bench_") as scratch:
        ctx = Context(
            repeat=repeat, quick=args.quick, backends=args.backends, peers=args.peers,
            scratch=Path(scratch),
            w6_sizes=args.w6_sizes or (W6_SIZES_QUICK if args.quick else W6_SIZES),
            w6_budget_s=args.w6_budget or (60.0 if args.quick else 120.0))
        rows: list[Row] = []
        for key in WORKLOADS:
            if key not in args.only:
                continue
            ctx.log(f"{key}: running")
            try:
                rows.extend(_runner(key)(ctx))
            except Exception as exc:  # noqa: BLE001 (report a broken workload, keep the others)
                failed = Row(key=key, label=f"{key} (failed)")
                ctx.record_error(failed, "all", exc)
                rows.append(failed)
        meta = {
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "argv": list(argv) if argv is not None else sys.argv[1:],
            "repeat": repeat, "quick": args.quick, "backends": args.backends,
            "peers": args.peers, "not_installed": args.not_installed,
            "versions": versions(args.peers), "python": platform.python_version(),
            "symgraph_flags": os.environ.get("SYMGRAPH_FLAGS", ""),
            "thread_env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                      "MKL_NUM_THREADS") if k in os.environ},
            "load_average": load_average,
            "wall_s": round(time.perf_counter() - started, 1),
        }
        markdown = render(ctx, rows, meta)
        print(markdown)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        md_path = args.json.with_suffix(".md")
        md_path.write_text(markdown)
        machine = ctx.measured_machine
        payload = {"meta": meta, "machine": machine.as_dict() if machine else None,
                   "rows": [row.as_dict() for row in rows], "errors": ctx.errors}
        args.json.write_text(json.dumps(payload, indent=1, default=str))
        ctx.log(f"wrote {args.json} and {md_path} ({meta['wall_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
