"""Timing helpers: medians of repeated samples after a warm-up, and subprocess runs.

Every figure the benchmark reports is a median over ``repeat`` samples, each sample long
enough (at least ``min_sample_s``) that the clock's resolution and Python's loop overhead do
not matter. The machine is shared, so medians are the statistic of record and every target
is a ratio of figures taken in the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Timing:
    """Seconds per call: the median over samples, plus the samples for the JSON file."""

    median: float
    samples: list[float]
    calls_per_sample: int

    def as_dict(self) -> dict[str, Any]:
        return {"median_s": self.median, "samples_s": self.samples,
                "calls_per_sample": self.calls_per_sample}


def measure(fn: Callable[[], object], repeat: int, min_sample_s: float = 0.02,
            warmup: int = 2) -> Timing:
    """Median seconds per call of ``fn`` over ``repeat`` samples, after ``warmup`` calls.

    A sample runs ``fn`` as many times as needed to last about ``min_sample_s`` (found from
    the warm-up), so microsecond calls are timed in batches.

    Example: ``measure(lambda: np.exp(a), repeat=5).median``.
    """
    start = time.perf_counter()
    for _ in range(max(warmup, 1)):
        fn()
    per_call = (time.perf_counter() - start) / max(warmup, 1)
    number = max(1, min(1_000_000, int(min_sample_s / max(per_call, 1e-9))))
    samples = []
    for _ in range(max(repeat, 1)):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return Timing(statistics.median(samples), samples, number)


def run_python(program: str, env: dict[str, str] | None = None, timeout: float = 600.0,
               ) -> dict[str, Any]:
    """Run ``program`` in a new Python process (repository on the path); return the JSON
    object it prints on its last stdout line.

    Raises RuntimeError with the child's stderr tail when it fails, and TimeoutError when it
    runs past ``timeout`` seconds.
    """
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), full_env.get("PYTHONPATH", "")) if p)
    try:
        proc = subprocess.run([sys.executable, "-c", program], env=full_env, cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"the child process ran past {timeout:.0f} s") from None
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-6:]
        raise RuntimeError(f"child process failed (exit {proc.returncode}): " + " | ".join(tail))
    result: dict[str, Any] = json.loads(lines[-1])
    return result
