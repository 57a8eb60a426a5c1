"""The optimizations behind issue 6's benchmark figures happen (structure, not timings).

Timings live in ``bench/``; these tests check what makes them possible, on the same graphs
the benchmark compiles, so a change that silently undoes an optimization fails here.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from bench.workloads.mlp import initial_state, symgraph_step_graph
from symgraph.tensor.elemwise import Elemwise

pytestmark = pytest.mark.needs_gcc


def _source(f) -> str:  # type: ignore[no-untyped-def]
    return "".join(s.source for s in f.maker.runner.sources)


def test_w1_is_one_fused_loop_calling_simd_math() -> None:
    x, y, z = T.dvectors("x", "y", "z")
    f = sg.compile_function([x, y, z], T.exp(x) * T.sin(y) + T.log1p(z * z) - T.tanh(x * y), mode="c")
    nodes = f.maker.fgraph.apply_nodes
    assert len(nodes) == 1 and isinstance(next(iter(nodes)).op, Elemwise)
    source = _source(f)
    # one vectorizable loop over contiguous data, in a range function that the threads of
    # one parallel region (a large input) or the kernel itself (a small one) call: a first
    # pass with the inline sin, and the same loop with libmvec's sin that runs only when an
    # argument was past the inline one's range (or the output overlaps an input)
    assert source.count("#pragma omp simd reduction(|:sg_trig_bad)") == 1
    assert source.count("#pragma omp simd\n") == 1
    assert "if (!sg_trig_bad) return;" in source
    assert source.count("#pragma omp parallel") == 1
    assert re.search(r"#pragma omp parallel\n\s*\{ int64_t lo, hi; sg_thread_share\(n, 16, &lo, &hi\); sg_ew_\w+_range\(lo, hi,", source)
    assert re.search(r"\} else sg_ew_\w+_range\(0, n,", source)
    # the math is the SIMD kind: glibc's vector exp and symgraph's inlined sin, log1p, tanh
    assert "sg_vtanh_f64" in source and "sg_vlog1p_f64" in source and "sg_vsin_f64(p1[k])" in source
    values = [np.linspace(-2, 2, 1001), np.linspace(0, 3, 1001), np.linspace(-1, 1, 1001)]
    expected = (np.exp(values[0]) * np.sin(values[1]) + np.log1p(values[2] ** 2)
                - np.tanh(values[0] * values[1]))
    np.testing.assert_allclose(f(*values), expected, rtol=1e-13, atol=1e-15)


def test_w2_step_is_one_c_segment_of_five_blas_calls_with_transposes_as_flags() -> None:
    state = initial_state()
    inputs, loss, updates = symgraph_step_graph(state)
    f = sg.compile_function(inputs, loss, updates=updates, mode="c")
    runner = f.maker.runner
    assert runner.python_nodes == [] and len(runner.steps) == 1
    source = _source(f)
    # two forward products, the hidden layer's gradient and two weight gradients folded
    # into Gemm updates (W - lr * a.T @ b): five calls of the product nodes of
    # csrc/symgraph_blas.h (three products, two updates over the weights' own buffers),
    # which pass a transposed operand's layout as BLAS's flag (sg_blas_layout); the
    # transposes stay views (DimShuffle{1,0}), not copies
    assert source.count("sg_dot_f32(err, ") == 3
    assert len(re.findall(r"sg_gemm_f32\(err, \d+, &sg_blas, &sg_over, ", source)) == 2
    assert '#include "symgraph_blas.h"' in source and source.count("DimShuffle{1,0}") >= 2
    ops = [type(n.op).__name__ for n in f.maker.fgraph.apply_nodes]
    assert ops.count("Gemm") == 2 and ops.count("Dot") == 3
    # the bias and tanh are one loop that writes over the product's buffer, vectorized
    # along the rows (a contiguous row plus the broadcast bias)
    assert "composite{add,tanh}} (" in source and "[in place]" in source
    kernel = source[source.index("/* Elemwise{composite{add,tanh}} */"):]
    kernel = kernel[:kernel.index("\n}\n")]
    assert "#pragma omp simd" in kernel and "sg_vtanh_f32" in kernel
    # intermediates live in a handful of reusable workspace slots
    assert max(s.n_slots for s in runner.sources) <= 8
    x, y = state["x"], state["y"]
    # the step makes no copies of its weights: all four are updated in their own buffers
    params = [var for var, _ in updates]
    assert len(runner.destroyed_inputs) == len(params) == 4
    buffers = [p.get_value(borrow=True) for p in params]
    first = float(f(x, y))
    second = float(f(x, y))
    assert np.isfinite(first) and second < first  # the step trains
    assert all(p.get_value(borrow=True) is b for p, b in zip(params, buffers))


def test_w3_call_goes_straight_to_c() -> None:
    x = T.dscalar("x")
    f = sg.compile_function([x], x * 2 + 1, mode="c")
    assert f._c_call is not None and f(1.0) == 3.0
    assert "if(parallel:" not in _source(f)  # small loops never enter libgomp


def test_w5_logsumexp_as_written_is_one_max_pass_and_one_fused_exp_sum_pass() -> None:
    z = T.dmatrix("z")
    f = sg.compile_function([z], T.log(T.sum(T.exp(z), axis=1)), mode="c")
    ops = [type(n.op).__name__ for n in f.maker.fgraph.toposort()]
    assert "ElemwiseReduce" in ops and ops.count("Max") + ops.count("ElemwiseReduce") >= 2
    assert "Join" not in ops and "Alloc" not in ops  # the -inf start costs no copy of z
    values = np.random.default_rng(0).uniform(-1e3, 1e3, size=(50, 40))
    from scipy.special import logsumexp

    np.testing.assert_allclose(f(values), logsumexp(values, axis=1), rtol=1e-13)
