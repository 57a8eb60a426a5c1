"""Gradients of the op table compiled with every backend agree with the py backend."""

from __future__ import annotations

import numpy as np
import pytest

from symgraph.gradient import grad
from symgraph.tensor.type import TensorType
from tests.differential.harness import assert_backends_agree, available_backends
from tests.differential.op_cases import ALL_CASES

pytestmark = pytest.mark.skipif(available_backends() == ["py"], reason="only the py backend is available here")

DIFFERENTIABLE = [c for c in ALL_CASES if c.differentiable]


@pytest.mark.parametrize("case", DIFFERENTIABLE, ids=lambda c: c.name)
def test_gradient_graph_agrees_across_backends(case, rng):
    values = case.values(rng, domain=case.grad_domain)
    float_pos = [i for i, v in enumerate(values) if v.dtype.kind == "f"]
    inputs = [TensorType(v.dtype.name, (None,) * v.ndim).make_variable(f"in{i}") for i, v in enumerate(values)]
    args = [inputs[i] if i in float_pos else values[i] for i in range(len(values))]
    out = case.build(*args)
    # project onto a fixed direction to get a scalar cost, as verify_grad does
    direction = np.random.default_rng(7).uniform(0.5, 1.5, size=np.shape(
        assert_backends_agree([inputs[i] for i in float_pos], out, [values[i] for i in float_pos],
                              rtol=case.rtol, atol=case.atol))).astype(out.dtype)
    cost = (out * direction).sum()
    grads = grad(cost, [inputs[i] for i in float_pos], disconnected_inputs="ignore")
    tol = max(case.rtol, 1e-9)
    assert_backends_agree([inputs[i] for i in float_pos], grads, [values[i] for i in float_pos],
                          rtol=tol, atol=max(case.atol, 1e-12))
