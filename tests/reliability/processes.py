"""Running test programs in child Python processes with a private compile cache.

Tests that may crash the interpreter (threads racing in C), that need several processes
(cache contention) or a process-wide setting (an unwritable cache) run their work in a
child, so a failure is reported by the test instead of taking the test session down.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]


def child_env(compiledir: str | os.PathLike[str], **extra: str) -> dict[str, str]:
    """The current environment with ``compiledir`` appended to SYMGRAPH_FLAGS.

    Appending (later settings win) keeps flags the caller set, such as the sanitizer's
    ``cflags`` when bench/sanitize_c.sh runs these tests.
    """
    flags = os.environ.get("SYMGRAPH_FLAGS", "")
    env = {**os.environ, **extra}
    env["SYMGRAPH_FLAGS"] = f"{flags},compiledir={compiledir}" if flags else f"compiledir={compiledir}"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO), os.environ.get("PYTHONPATH")) if p)
    return env


def start_python(code: str, env: dict[str, str], **popen_args: object) -> subprocess.Popen[str]:
    """Start ``python -c code`` (dedented) with pipes for stdout and stderr."""
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=str(_REPO),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen_args,
    )


def run_python(code: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -c code`` (dedented) to completion and return its result."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=str(_REPO),
                          capture_output=True, text=True, timeout=timeout, check=False)


def describe(proc: subprocess.CompletedProcess[str] | subprocess.Popen[str], out: str, err: str) -> str:
    """A failure message: exit status (with the signal when it died of one) and output."""
    code = proc.returncode
    status = f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"
    return f"child {status}\n--- stdout ---\n{out[-3000:]}\n--- stderr ---\n{err[-6000:]}"
