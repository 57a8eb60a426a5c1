"""Random smooth float64 graphs: gradients compiled in C match finite differences."""

from __future__ import annotations

import pytest
from hypothesis import given, seed, settings

from tests.fuzz.checks import check_gradient
from tests.fuzz.profiles import LONG, LONG_SEED, QUICK
from tests.fuzz.programs import Program
from tests.fuzz.strategies import smooth_programs

pytestmark = pytest.mark.needs_gcc


@settings(QUICK, max_examples=12)
@given(smooth_programs(max_steps=3))
def test_random_smooth_graphs_have_correct_c_gradients(program: Program) -> None:
    check_gradient(program)


@pytest.mark.slow
@seed(LONG_SEED)
@settings(LONG)
@given(smooth_programs(max_steps=5))
def test_random_smooth_graphs_have_correct_c_gradients_long(program: Program) -> None:
    check_gradient(program)
