"""The demo (the README's first command) runs and learns."""

import os
import re
import subprocess
import sys


def test_demo_trains_and_reports_what_it_learned():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", "symgraph.demo"], capture_output=True, text=True,
                          timeout=300, env=env, cwd=root)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "== the model as written ==" in out and "after rewriting" in out
    assert "logistic_to_sigmoid" in out
    found = re.search(r"training accuracy ([0-9.]+) \(the true model scores ([0-9.]+)\)", out)
    assert found, out[-500:]
    accuracy, bayes = float(found.group(1)), float(found.group(2))
    assert accuracy > bayes - 0.02


def test_demo_main_returns_its_figures():
    from symgraph.demo import main

    result = main(steps=50)
    assert 0.5 < result["accuracy"] <= 1.0
