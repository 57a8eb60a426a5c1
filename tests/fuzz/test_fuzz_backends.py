"""Random graphs: mode 'c' with the full rewrite pipeline agrees with the py reference."""

from __future__ import annotations

import pytest
from hypothesis import given, seed, settings

from tests.fuzz.checks import check_program
from tests.fuzz.profiles import LONG, LONG_SEED, QUICK
from tests.fuzz.programs import Program
from tests.fuzz.strategies import programs

pytestmark = pytest.mark.needs_gcc


@settings(QUICK, max_examples=150)
@given(programs(max_steps=4))
def test_random_graphs_agree_between_c_fast_run_and_py_reference(program: Program) -> None:
    check_program(program)


@pytest.mark.slow
@seed(LONG_SEED)
@settings(LONG)
@given(programs(max_steps=6))
def test_random_graphs_agree_between_c_fast_run_and_py_reference_long(program: Program) -> None:
    check_program(program)
