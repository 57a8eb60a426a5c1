"""Elementwise work fused into the reduction that consumes it (the fuse_reduce phase and the
C emitter for ElemwiseReduce): it fires, the values equal NumPy's on every layout, and the
stabilized logsumexp is one pass that is finite at extreme inputs."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.special as sps

import symgraph as sg
import symgraph.tensor as T
from symgraph.tensor.elemwise import Elemwise
from symgraph.tensor.reduce import ElemwiseReduce

pytestmark = pytest.mark.needs_gcc


def _kinds(f):
    return [type(n.op).__name__ for n in f.maker.fgraph.apply_nodes]


def _check(f, expected, *values, rtol=1e-10):
    got = f(*values)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=0)


def test_sum_of_an_elementwise_tree_is_one_fused_node():
    x, y = T.dmatrices("x", "y")
    f = sg.compile_function([x, y], T.sum((x - y) ** 2 * 0.5, axis=1), mode="c")
    assert "ElemwiseReduce" in _kinds(f)
    # no elementwise loop over the matrix is left (the * 0.5 may move onto the row sums)
    assert not any(isinstance(n.op, Elemwise) and n.outputs[0].ndim == 2 for n in f.maker.fgraph.apply_nodes)
    assert "elemwise_into_reduce" in f.rewrites_applied
    assert not f.maker.runner.python_nodes


@pytest.mark.parametrize("axis", [0, 1, None, (0, 1)])
@pytest.mark.parametrize("kind", ["sum", "max", "min", "mean"])
def test_fused_reductions_agree_with_numpy_on_every_layout(kind, axis):
    x, y = T.dmatrices("x", "y")
    sym = getattr(T, kind)(T.exp(x) * y - 1.0, axis=axis)
    f = sg.compile_function([x, y], sym, mode="c")
    assert "ElemwiseReduce" in _kinds(f)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((37, 29)), rng.standard_normal((37, 29))
    ref = getattr(np, kind)
    for xa, yb in [(a, b), (np.asfortranarray(a), b), (a[::2, 1:], b[::2, 1:]), (a.T.copy().T, b[:, ::-1])]:
        _check(f, np.asarray(ref(np.exp(xa) * yb - 1.0, axis=axis)), xa, yb)


def test_a_three_axis_middle_reduction_takes_the_general_path():
    x = T.dtensor3("x")
    f = sg.compile_function([x], T.sum(T.sqr(x) + 1.0, axis=1), mode="c")
    assert "ElemwiseReduce" in _kinds(f)
    v = np.random.default_rng(1).standard_normal((4, 5, 6))
    _check(f, np.sum(v * v + 1.0, axis=1), v)


def test_float32_fused_sum_accumulates_in_double():
    x = T.fmatrix("x")
    f = sg.compile_function([x], T.sum(x * x, axis=0), mode="c")
    assert "ElemwiseReduce" in _kinds(f)
    v = np.random.default_rng(2).standard_normal((1000, 7)).astype("float32")
    expected = (v * v).astype("float64").sum(axis=0).astype("float32")
    got = f(v)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_nan_propagates_through_fused_max_and_min():
    x = T.dvector("x")
    f = sg.compile_function([x], [T.max(x * 2.0), T.min(x * 2.0)], mode="c")
    mx, mn = f(np.array([1.0, np.nan, 3.0]))
    assert np.isnan(mx) and np.isnan(mn)


def test_fused_max_of_an_empty_axis_raises_like_numpy():
    x = T.dmatrix("x")
    f = sg.compile_function([x], T.max(x * 2.0, axis=1), mode="c")
    with pytest.raises(ValueError, match="zero-size array to reduction operation maximum"):
        f(np.zeros((3, 0)))


def test_fused_sum_of_an_empty_axis_is_zero():
    x = T.dmatrix("x")
    f = sg.compile_function([x], T.sum(x * 2.0, axis=1), mode="c")
    np.testing.assert_array_equal(f(np.zeros((3, 0))), np.zeros(3))


def test_logsumexp_as_written_is_finite_correct_and_reads_its_input_in_one_fused_pass():
    z = T.dmatrix("z")
    f = sg.compile_function([z], T.log(T.sum(T.exp(z), axis=1)), mode="c")
    kinds = _kinds(f)
    assert "ElemwiseReduce" in kinds
    # the exp(z - max) values are never written: the only other elementwise work is on the
    # (rows, 1) column of maxima
    assert not any(isinstance(n.op, Elemwise) and n.outputs[0].type.shape[-1:] != (1,)
                   and n.outputs[0].ndim == 2 for n in f.maker.fgraph.apply_nodes)
    v = np.random.default_rng(3).uniform(-1000, 1000, (200, 300))
    got = f(v)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, sps.logsumexp(v, axis=1), rtol=1e-12)


def test_a_reduction_whose_elementwise_input_has_other_readers_is_not_fused():
    x = T.dmatrix("x")
    e = T.exp(x)
    f = sg.compile_function([x], [T.sum(e, axis=1), e], mode="c")
    assert "ElemwiseReduce" not in _kinds(f)


def test_elemwise_reduce_infers_its_static_shape():
    x = T.tensor("float64", shape=(3, None))
    from symgraph import scalar as ps
    from symgraph.tensor.reduce import Sum

    node = ElemwiseReduce(Sum((1,)), ps.exp)(x)
    assert node.type.shape == (3,)


def test_the_py_backend_runs_a_fused_node_repeatedly_with_the_same_results():
    from symgraph import scalar as ps
    from symgraph.tensor.reduce import Sum

    x = T.dmatrix("x")
    out = ElemwiseReduce(Sum((0,)), ps.exp)(x)
    f = sg.compile_function([x], out, mode="py", optimizer="none")
    rng = np.random.default_rng(5)
    for shape in [(3, 4), (5, 2), (0, 3)]:
        v = rng.standard_normal(shape)
        _check(f, np.exp(v).sum(axis=0), v)


def test_a_fused_row_sum_compiles_its_loop_once_for_every_case():
    # one function sums a part of a row: rows split across threads, one long row split into
    # parts, and the serial path all call it, so gcc compiles the expression once (plus once
    # in the general path's fill function, for inputs that are not contiguous); the three
    # cases are one kernel-section function too, so the entry point has only its call
    x = T.dmatrix("x")
    f = sg.function([x], T.exp(x * 0.5).sum(axis=1), mode="c")
    assert "ElemwiseReduce" in _kinds(f)
    source = "".join(s.source for s in f.maker.runner.sources)
    assert source.count("sg_vexp_f64(") == 2 and "sg_ew_fill_" in source
    assert re.search(r"^\s+sg_ew_rowsums_\w+\(outer, inner, outer \* inner > \d+, po\d+, ", source, re.MULTILINE)
    assert len(re.findall(r"sg_ew_rowsums_\w+_row\(", source)) == 4  # its definition and three calls
    rng = np.random.default_rng(5)
    for shape in [(1, 5), (1, 400_001), (3, 100_000), (700, 400), (4, 0), (0, 3)]:
        v = rng.standard_normal(shape)
        _check(f, np.exp(v * 0.5).sum(axis=1), v, rtol=1e-12)
        _check(f, np.exp(v[::-1] * 0.5).sum(axis=1), v[::-1], rtol=1e-12)
    w = rng.standard_normal((300, 500))
    _check(f, np.exp(w.T * 0.5).sum(axis=1), w.T, rtol=1e-12)  # the general path
