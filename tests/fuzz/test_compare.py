"""The fuzzer's comparison rules (compare.py) on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fuzz.compare import assert_agree, bad_elements

INF, NAN = np.inf, np.nan


def test_close_values_agree_and_far_values_do_not() -> None:
    ref = np.array([1.0, 1e300, 0.0])
    assert not bad_elements(ref * (1 + 1e-9), ref, [], allow_stabilized=True).any()
    assert bad_elements(np.array([1.01, 1e300, 0.0]), ref, [], allow_stabilized=True).tolist() == [
        True,
        False,
        False,
    ]


def test_float32_gets_a_looser_tolerance_than_float64() -> None:
    ref = np.array([1.0], dtype="float32")
    assert not bad_elements(
        np.array([1.0005], dtype="float32"), ref, [], allow_stabilized=False
    ).any()
    assert bad_elements(np.array([1.0005]), np.array([1.0]), [], allow_stabilized=False).all()


def test_stability_allowance_accepts_finite_where_the_reference_is_not_finite() -> None:
    ref = np.array([INF, NAN, -INF])
    got = np.array([800.0, 1.0, -745.0])
    assert not bad_elements(got, ref, [], allow_stabilized=True).any()
    assert bad_elements(got, ref, [], allow_stabilized=False).all()


def test_non_finite_where_the_reference_is_finite_is_never_accepted() -> None:
    ref = np.array([1.0, 2.0, 3.0])
    got = np.array([INF, NAN, -INF])
    assert bad_elements(got, ref, [], allow_stabilized=True).all()


def test_an_infinity_is_never_replaced_by_nan_or_the_other_infinity() -> None:
    ref = np.array([INF, INF, -INF])
    got = np.array([NAN, -INF, -INF])
    assert bad_elements(got, ref, [], allow_stabilized=True).tolist() == [True, True, False]


def test_reference_nan_accepts_any_value_only_with_the_allowance() -> None:
    ref = np.array([NAN, NAN])
    got = np.array([INF, NAN])
    assert bad_elements(got, ref, [], allow_stabilized=True).tolist() == [False, False]
    assert bad_elements(got, ref, [], allow_stabilized=False).tolist() == [True, False]


def test_perturbed_runs_widen_the_tolerance_where_the_reference_is_ill_conditioned() -> None:
    ref = np.array([0.0, 5.0])
    runs = [np.array([1e-3, 5.0]), np.array([-1e-3, 5.0])]
    got = np.array([3e-3, 5.001])
    assert bad_elements(got, ref, runs, allow_stabilized=False).tolist() == [False, True]


def test_a_reference_on_a_cliff_accepts_what_its_perturbed_runs_reached() -> None:
    ref = np.array([-INF, 1.0])
    runs = [np.array([NAN, INF]), np.array([-33.0, 1.0])]
    got = np.array([NAN, INF])
    assert not bad_elements(got, ref, runs, allow_stabilized=False).any()


def test_integer_results_must_be_equal_unless_perturbation_moves_them() -> None:
    ref = np.array([2, 0])
    runs = [np.array([2, 1])]
    assert bad_elements(np.array([2, 1]), ref, [], allow_stabilized=True).tolist() == [False, True]
    assert not bad_elements(np.array([2, 1]), ref, runs, allow_stabilized=True).any()
    assert bad_elements(np.array([True]), np.array([False]), [], allow_stabilized=True).all()


def test_assert_agree_reports_dtype_shape_and_the_disagreeing_elements() -> None:
    with pytest.raises(AssertionError, match="dtype float32 != reference float64"):
        assert_agree(np.zeros(2, "float32"), np.zeros(2), [], True, "out")
    with pytest.raises(AssertionError, match=r"shape \(3,\) != reference \(2,\)"):
        assert_agree(np.zeros(3), np.zeros(2), [], True, "out")
    with pytest.raises(AssertionError, match=r"(?s)1 of 2 elements disagree.*at \(1,\): got"):
        assert_agree(np.array([0.0, 1.0]), np.array([0.0, 2.0]), [], True, "out")
