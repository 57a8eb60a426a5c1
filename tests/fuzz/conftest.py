"""Fuzz-test fixtures: skip without gcc, and print the seed of long (slow) runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from symgraph.backends.registry import get_backend
from tests.fuzz.profiles import LONG, LONG_SEED


@pytest.fixture(autouse=True)
def _needs_c_backend(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("needs_gcc") is None:
        return
    ok, why = get_backend("c").available()
    if not ok:
        pytest.skip(f"the fuzzer compares mode 'c' with mode 'py': {why}")


@pytest.fixture(autouse=True)
def _announce_long_run(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    if request.node.get_closest_marker("slow") is not None:
        with capsys.disabled():
            print(f"\n{request.node.name}: {LONG.max_examples} examples, seed {LONG_SEED} "
                  f"(replay with SYMGRAPH_FUZZ_SEED={LONG_SEED})")
    yield
