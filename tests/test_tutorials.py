"""The tutorials run: each ``tutorials/*.py`` script exits with status 0.

Every tutorial asserts what it shows, so running it is a test of the behaviour it teaches.
Each runs in its own interpreter (as a user would run it), with the repository root on
``PYTHONPATH`` so that the checkout's ``symgraph`` is the one imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = sorted((REPO_ROOT / "tutorials").glob("*.py"))
# Each tutorial is meant to finish in under 10 s; the limit leaves room for slow machines.
TIMEOUT_S = 60


def _run(script: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, str(script)], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=TIMEOUT_S,
    )


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


def test_tutorials_directory_has_the_five_tutorials() -> None:
    names = {script.name for script in TUTORIALS}
    assert {"01_basics.py", "02_gradients.py", "03_logistic_regression.py",
            "04_graph_rewrites.py", "05_loops_conditions_randomness.py"} <= names


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda path: path.name)
def test_tutorial_runs_to_completion(script: Path) -> None:
    result = _run(script)
    assert result.returncode == 0, (
        f"{script.name} exited with status {result.returncode}\n"
        f"--- stdout (end) ---\n{_tail(result.stdout)}\n"
        f"--- stderr (end) ---\n{_tail(result.stderr)}"
    )
    # each tutorial ends by saying so; a script that stopped early would not print it
    assert "all checks passed" in result.stdout, (
        f"{script.name} exited early:\n{_tail(result.stdout)}"
    )
