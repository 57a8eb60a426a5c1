"""Indexing rules (rewrite/rules/subtensor.py)."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph.tensor as T
from symgraph.rewrite.rules.subtensor import SUBTENSOR_CANONICALIZE, _compose
from symgraph.tensor.subtensor import FULL_SLICE, Subtensor
from tests.rewrite.support import assert_not_fired, assert_rewrite_keeps_values

RULES = SUBTENSOR_CANONICALIZE
X = np.arange(12.0)
M = np.arange(20.0).reshape(4, 5)


def _subtensors(fgraph):
    return [n for n in fgraph.apply_nodes if isinstance(n.op, Subtensor)]


def test_full_slices_are_the_identity():
    m = T.dmatrix("m")
    out = Subtensor((FULL_SLICE, FULL_SLICE))(m)
    fgraph = assert_rewrite_keeps_values([m], out, RULES, [M], "useless_subtensor")
    assert not fgraph.apply_nodes


@pytest.mark.parametrize("index", [
    lambda x: x[2:10][1:5],
    lambda x: x[1:][::2],
    lambda x: x[::2][1:3],
    lambda x: x[3:8:2][1:],
    lambda x: x[2:][0:100],
    lambda x: x[10:][0:2],
    lambda x: x[1:9][2:4][1:],
])
def test_an_index_of_an_index_becomes_one(index):
    x = T.dvector("x")
    fgraph = assert_rewrite_keeps_values([x], index(x), RULES, [X], "merge_nested_subtensors")
    assert len(_subtensors(fgraph)) == 1


def test_nested_indices_over_several_axes_and_integers():
    m = T.dmatrix("m")
    out = m[1:, 2][1:3]
    fgraph = assert_rewrite_keeps_values([m], out, RULES, [M], "merge_nested_subtensors")
    assert len(_subtensors(fgraph)) == 1
    out = m[:, 1:][2]
    assert_rewrite_keeps_values([m], out, RULES, [M], "merge_nested_subtensors")


def test_indices_that_need_range_checks_or_negative_bounds_stay():
    x, i = T.dvector("x"), T.lscalar("i")
    assert_not_fired([x], x[1:][3], RULES, "merge_nested_subtensors")  # x[1:][3] checks len - 1
    assert_not_fired([x], x[1:][:-1], RULES, "merge_nested_subtensors")
    assert_not_fired([x, i], x[i:][1:], RULES, "merge_nested_subtensors")


def test_slice_composition_matches_python():
    for first in (slice(2, 9), slice(None, None, 3), slice(1, None, 2), slice(4, 6)):
        for second in (slice(1, 4), slice(None, None, 2), slice(0, 100), slice(3, None)):
            composed = _compose(first, second)
            assert list(range(20))[first][second] == list(range(20))[composed]
