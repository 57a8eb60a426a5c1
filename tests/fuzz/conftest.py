"""Fuzz-test fixtures: skip without gcc, keep hypothesis' files out of the repository, and
print the seed of long (slow) runs."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from symgraph.backends.registry import get_backend
from tests.fuzz.profiles import LONG, LONG_SEED

_HYPOTHESIS_HOME = Path(tempfile.mkdtemp(prefix="symgraph-hypothesis-"))


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
        with capsys.disabled():
            print(
                f"\n{request.node.name}: {LONG.max_examples} examples, seed {LONG_SEED} "
                f"(replay with SYMGRAPH_FUZZ_SEED={LONG_SEED})"
            )
    yield
