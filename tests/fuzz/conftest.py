"""Fuzz-test fixtures: skip without gcc, keep hypothesis' files out of the repository, and
print the seed of long (slow) runs and, at the end, what they checked."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from symgraph.backends.registry import get_backend
from tests.fuzz.checks import GRAPHS, STATS
from tests.fuzz.profiles import LONG, LONG_SEED

_HYPOTHESIS_HOME = Path(tempfile.mkdtemp(prefix="symgraph-hypothesis-"))
_LONG_TESTS_RUN: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    # hypothesis writes failure patches and caches of source constants under ./.hypothesis
    # (the example database is off in both profiles); keep them out of the repository. This
    # runs when this conftest is loaded, before the test modules are imported.
    set_hypothesis_home_dir(_HYPOTHESIS_HOME)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_HYPOTHESIS_HOME, ignore_errors=True)


@pytest.fixture(autouse=True)
def _needs_c_backend(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("needs_gcc") is None:
        return
    ok, why = get_backend("c").available()
    if not ok:
        pytest.skip(f"the fuzzer compares mode 'c' with mode 'py': {why}")


@pytest.fixture(autouse=True)
def _announce_long_run(
    request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> Iterator[None]:
    if request.node.get_closest_marker("slow") is not None:
        _LONG_TESTS_RUN.append(request.node.name)
        with capsys.disabled():
            print(
                f"\n{request.node.name}: {LONG.max_examples} examples, seed {LONG_SEED} "
                f"(replay with SYMGRAPH_FUZZ_SEED={LONG_SEED})"
            )
    yield


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # the long run's report: graphs checked (value graphs count each example once, gradient
    # graphs likewise), how many of them were distinct graphs, and the other counters
    if not _LONG_TESTS_RUN:
        return
    value_graphs = sum(1 for key in GRAPHS if key[0] != "gradient")
    terminalreporter.write_line(
        f"fuzz: {STATS['programs']} value graphs checked ({value_graphs} distinct), "
        f"{STATS['gradients']} gradient graphs checked ({len(GRAPHS) - value_graphs} distinct), "
        f"seed {LONG_SEED}"
    )
    for what, count in sorted(STATS.items()):
        if what not in ("programs", "gradients"):
            terminalreporter.write_line(f"fuzz:   {what}: {count}")
