"""Every op case: py agrees with NumPy (values, dtype, shape), other backends agree with py,
and differentiable cases pass verify_grad."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import verify_grad
from tests.differential.harness import assert_backends_agree, assert_same
from tests.differential.op_cases import ALL_CASES


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.name)
def test_op_case_matches_numpy(case, rng):
    variables = case.variables()
    out = case.build(*variables)
    values = case.values(rng)
    got = assert_backends_agree(variables, out, values, rtol=case.rtol, atol=case.atol)
    with np.errstate(all="ignore"):
        expected = np.asarray(case.numpy(*values))
    if case.expected_dtype is not None:
        expected = expected.astype(case.expected_dtype)
    assert_same(got, expected, case.rtol, case.atol, case.name)
    assert out.ndim == expected.ndim


@pytest.mark.parametrize("case", [c for c in ALL_CASES if c.differentiable], ids=lambda c: c.name)
def test_op_case_gradient(case, rng):
    values = [v.astype("float64") if v.dtype.kind == "f" else v
              for v in case.values(rng, domain=case.grad_domain)]
    # non-float inputs (conditions, indices) are held fixed as constants
    float_pos = [i for i, v in enumerate(values) if v.dtype.kind == "f"]

    def build(*float_vars):
        args = list(values)
        for i, var in zip(float_pos, float_vars):
            args[i] = var
        return case.build(*args)

    verify_grad(build, [values[i] for i in float_pos], rng=np.random.default_rng(0), mode="py")


def test_a_gradient_graph_compiles_without_exhausting_the_rewrite_budget():
    m = T.dmatrix("m")
    f = sg.compile_function([m], T.grad(T.var(m), m), mode="py")
    assert "stopped at budget" not in f.explain(), f.explain()[:2000]
