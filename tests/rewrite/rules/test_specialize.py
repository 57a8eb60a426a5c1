"""Specialization rules (rewrite/rules/specialize.py)."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph.tensor as T
from symgraph.rewrite.rules.specialize import MAX_SQUARING_EXPONENT, SPECIALIZE
from tests.rewrite.support import assert_not_fired, assert_rewrite_keeps_values, op_names

RULES = SPECIALIZE
V = np.array([0.5, 1.5, 2.25, 3.0])


@pytest.mark.parametrize("exponent, ops", [
    (2, ["sqr"]), (0.5, ["sqrt"]), (-1, ["reciprocal"]), (-0.5, ["sqrt", "reciprocal"]),
])
def test_small_powers_become_cheaper_ops(exponent, ops):
    x = T.dvector("x")
    fgraph = assert_rewrite_keeps_values([x], x ** exponent, RULES, [V],
                                         "pow_to_sqr_sqrt_reciprocal",
                                         rtol=1e-15)
    assert op_names(fgraph) == ops


@pytest.mark.parametrize("exponent", [3, 4, 5, 7, 16, -2, -3, 0])
def test_integer_powers_use_repeated_squaring(exponent):
    x = T.dvector("x")
    fgraph = assert_rewrite_keeps_values([x], x ** exponent, RULES, [V], "pow_integer_by_squaring",
                                         rtol=1e-14)
    assert "pow" not in op_names(fgraph)
    if exponent > 0:
        assert len(fgraph.apply_nodes) <= 2 * int(np.log2(exponent)) + 1


def test_powers_that_stay_pow():
    x = T.dvector("x")
    assert_not_fired([x], x ** (MAX_SQUARING_EXPONENT + 1), RULES, "pow_integer_by_squaring")
    assert_not_fired([x], x ** 2.5, RULES, "pow_integer_by_squaring")
    a = T.ivector("a")
    assert_not_fired([a], a ** -2, RULES, "pow_integer_by_squaring")  # NumPy raises for these
    assert_not_fired([a], a ** 0.5, RULES, "pow_to_sqr_sqrt_reciprocal")
    y = T.dvector("y")
    assert_not_fired([x, y], x ** y, RULES, "pow_to_sqr_sqrt_reciprocal")


def test_integer_powers_of_integers_keep_numpy_wraparound():
    a = T.ivector("a")
    values = [np.array([3, -7, 100000], dtype="int32")]
    assert_rewrite_keeps_values([a], a ** 3, RULES, values, "pow_integer_by_squaring")


def test_x_times_x_is_sqr():
    x, y = T.dvectors("x", "y")
    assert op_names(assert_rewrite_keeps_values([x], x * x, RULES, [V],
                                                "mul_self_to_sqr")) == ["sqr"]
    assert_not_fired([x, y], x * y, RULES, "mul_self_to_sqr")


def test_minus_one_times_x_is_neg():
    x, y = T.dvectors("x", "y")
    fgraph = assert_rewrite_keeps_values([x, y], T.mul(-1, x, y), RULES, [V, V + 1],
                                         "mul_minus_one_to_neg")
    assert op_names(fgraph) == ["mul", "neg"]
    assert_not_fired([x], -2 * x, RULES, "mul_minus_one_to_neg")
    u = T.TensorType("uint8", (None,))("u")
    assert_not_fired([u], u * np.uint8(255), RULES, "mul_minus_one_to_neg")


def test_product_of_exponentials_is_one_exponential():
    x, y, z = T.dvectors("x", "y", "z")
    out = T.exp(x) * T.exp(y) * z
    fgraph = assert_rewrite_keeps_values([x, y, z], T.mul(T.exp(x), T.exp(y), z), RULES, [V, -V, V],
                                         "exp_product_to_exp_sum")
    assert op_names(fgraph).count("exp") == 1
    e = T.exp(x)
    assert_not_fired([x, y], e * T.exp(y) + e, RULES, "exp_product_to_exp_sum")  # e is used twice
    assert out is not None
