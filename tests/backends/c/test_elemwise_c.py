"""C backend: elementwise loops, views, fusion, segments with Python nodes, errors."""

from dataclasses import dataclass

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.backends.c.build import compiler
from symgraph.backends.py.dispatch import perform
from symgraph.gradient.rules import mark_non_differentiable
from symgraph.graph.node import Apply
from symgraph.graph.op import Op
from tests.differential.harness import assert_same

pytestmark = pytest.mark.skipif(compiler() is None, reason="needs gcc")


def _both(inputs, out, values, rtol=1e-12):
    fc = sg.function(inputs, out, mode="c")
    fp = sg.function(inputs, out, mode="py")
    got, want = fc(*values), fp(*values)
    for a, b in zip(got if isinstance(got, list) else [got], want if isinstance(want, list) else [want]):
        assert_same(a, b, rtol, 0.0, "c vs py")
    return fc


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "int32", "int8", "uint8", "bool"])
def test_arithmetic_in_every_dtype(dtype, rng):
    x, y = T.tensor(dtype, shape=(None, None)), T.tensor(dtype, shape=(None, None))
    if dtype == "bool":
        vals = [rng.random((3, 4)) < 0.5, rng.random((3, 4)) < 0.5]
        outs = [x & y, x | y, ~x, x ^ y, T.eq(x, y)]
    else:
        vals = [(rng.random((3, 4)) * 9 + 1).astype(dtype), (rng.random((3, 4)) * 9 + 1).astype(dtype)]
        outs = [x + y, x * y, x - y, x // y, x % y, T.maximum(x, y), abs(x), x < y, x / y, T.sqr(x)]
    f = _both([x, y], outs, vals, rtol=1e-6)
    assert not f.maker.runner.python_nodes


def test_transcendental_functions_match_numpy(rng):
    x = T.dvector("x")
    v = rng.uniform(0.1, 0.9, size=50)
    outs = [T.exp(x), T.log(x), T.log1p(x), T.expm1(x), T.sqrt(x), T.sin(x), T.tanh(x), T.arcsin(x),
            T.arctanh(x), T.sigmoid(x * 30 - 15), T.softplus(x * 1000 - 500), T.erf(x), T.erfc(x),
            T.erfinv(x), T.erfcinv(x), T.gamma(x), T.gammaln(x), T.psi(x), T.trigamma(x), T.exp2(x),
            T.log2(x), T.log10(x), T.arctan2(x, 1 - x), T.round_half_to_even(x * 4), T.sign(x - 0.5)]
    f = sg.function([x], outs, mode="c", optimizer="none")
    g = sg.function([x], outs, mode="py", optimizer="none")
    for a, b in zip(f(v), g(v)):
        np.testing.assert_allclose(a, b, rtol=2e-12, atol=0)
    assert not f.maker.runner.python_nodes


def test_special_values_nan_inf_and_signed_zero():
    x = T.dvector("x")
    v = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e308, -1e-310])
    outs = [T.maximum(x, 0.0), T.minimum(x, 1.0), T.exp(x), T.sign(x), T.clip(x, -1, 1), x // 3.0, x % -2.0,
            T.isnan(x), T.isinf(x)]
    f = _both([x], outs, [v])
    assert not f.maker.runner.python_nodes


def test_integer_floor_division_and_modulo_follow_python_signs():
    a, b = T.lvectors("a", "b")
    av = np.array([7, -7, 7, -7, 0, 5, np.iinfo(np.int64).min])
    bv = np.array([2, 2, -2, -2, 3, 0, -1])
    _both([a, b], [a // b, a % b], [av, bv])


def test_integer_power_to_a_negative_exponent_is_an_error():
    a, b = T.lvectors("a", "b")
    f = sg.function([a, b], a ** b, mode="c")
    np.testing.assert_array_equal(f([2, 3], [3, 2]), [8, 9])
    with pytest.raises(ValueError, match="negative integer powers"):
        f([2, 3], [-1, 2])


def test_broadcasting_and_non_contiguous_inputs(rng):
    m = T.dmatrix("m")
    r = T.row("r", dtype="float64")
    c = T.col("c", dtype="float64")
    s = T.dscalar("s")
    out = m * r + c - s
    mv = rng.random((6, 8))[::2, ::3]  # strided view
    values = [mv, rng.random((1, mv.shape[1])), rng.random((mv.shape[0], 1)), 0.5]
    f = _both([m, r, c, s], out, values)
    _both([m], m.T * 2, [mv])
    assert not f.maker.runner.python_nodes


def test_empty_arrays():
    x = T.dmatrix("x")
    _both([x], T.exp(x) + 1, [np.zeros((0, 3))])


def test_runtime_broadcast_mismatch_names_op_and_line():
    a, b = T.dvectors("a", "b")
    out = a + b  # the line in question
    f = sg.function([a, b], out, mode="c")
    with pytest.raises(ValueError, match=r"(?s)Elemwise\{add\}.*\(3,\).*\(4,\).*the line in question"):
        f(np.ones(3), np.ones(4))


def test_elementwise_chain_is_fused_into_one_loop():
    x, y, z = T.dvectors("x", "y", "z")
    expr = T.exp(x) * T.sin(y) + T.log1p(z * z) - T.tanh(x * y)
    f = _both([x, y, z], expr, [np.linspace(0, 1, 7), np.linspace(1, 2, 7), np.linspace(-1, 1, 7)])
    nodes = list(f.maker.fgraph.apply_nodes)
    assert len(nodes) == 1 and "composite" in str(nodes[0].op)
    assert f.rewrites_applied["elemwise_fusion"] >= 1


@dataclass(frozen=True)
class _PythonOnlyDouble(Op):
    """A user's own op with only a NumPy implementation."""

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type.make_variable()])


perform.register(_PythonOnlyDouble)(lambda op, node, inputs: [inputs[0] * 2])
mark_non_differentiable(_PythonOnlyDouble)


def test_ops_without_a_c_emitter_run_in_python_between_c_segments():
    x = T.dvector("x")
    out = T.exp(_PythonOnlyDouble()(T.sin(x))) + 1
    f = _both([x], out, [np.linspace(0, 1, 5)])
    assert [type(n.op) for n in f.maker.runner.python_nodes] == [_PythonOnlyDouble]
    assert len(f.maker.runner.sources) == 2
    text = f.explain()
    assert "nodes run in Python" in text and "_PythonOnlyDouble" in text


@pytest.mark.skipif("libasan" in __import__("os").environ.get("LD_PRELOAD", ""),
                    reason="AddressSanitizer holds freed memory back, so RSS grows by design")
def test_many_calls_do_not_grow_memory():
    import resource

    x = T.dvector("x")
    f = sg.function([x], T.exp(x) * 2 + x.sum(), mode="c")
    v = np.ones(10_000)
    for _ in range(2000):
        f(v)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(20_000):
        f(v)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert after - before < 20_000  # KiB: 20k calls x 80 KB would be 1.6 GB if leaked


def test_a_fused_step_read_several_times_is_computed_once_into_a_local():
    import symgraph as sg_
    import symgraph.tensor as T_

    x = T_.dvector("x")
    e = T_.exp(x)
    f = sg_.compile_function([x], e * e + T_.sin(e) - e, mode="c")
    source = f.maker.runner.sources[0].source
    # once per loop of the range function (which the threads and the serial path share;
    # strided inputs are copied to a contiguous buffer first; sin makes it two loops, the
    # second for arguments past the inline sin's range), not once per use
    assert "sgc_" in source and source.count("exp(") == source.count("#pragma omp simd") == 2
    v = np.linspace(-2, 2, 11)
    np.testing.assert_allclose(f(v), np.exp(v) ** 2 + np.sin(np.exp(v)) - np.exp(v), rtol=1e-13)
    np.testing.assert_allclose(f(v[::2]), (lambda w: np.exp(w) ** 2 + np.sin(np.exp(w)) - np.exp(w))(v[::2]), rtol=1e-13)


def _kernel_text(f) -> str:
    source = "".join(s.source for s in f.maker.runner.sources)
    return source[source.index("/* ---- symgraph: elementwise kernels ---- */"):source.index("/* ---- symgraph: entry point ---- */")]


def test_a_broadcasting_kernel_reads_rows_with_unit_stride_and_copies_other_strides(rng):
    # one vector loop per kernel: inputs that vary along the last axis are read through row
    # pointers (r0[i1]), never with a stride on that axis; an input whose last axis is
    # strided is copied first (sg_ew_rows). Contiguous, sliced, transposed and reversed
    # inputs, in 2 and 3 dimensions, all agree with the py backend.
    m = T.dmatrix("m")
    r = T.row("r", dtype="float64")
    f = _both([m, r], T.exp(m) * r + m, [rng.random((5, 7)), rng.random((1, 7))])
    kernels = _kernel_text(f)
    assert "sg_ew_rows(" in kernels and kernels.count("#pragma omp simd") == 1
    assert "[i1]" in kernels and "i1 * st" not in kernels
    a = rng.random((9, 14))
    for view in (a[:5, :7], a[::2, ::2], a[:7, :5].T, a[::-1, ::-2][:5, :7], np.asfortranarray(a[:5, :7])):
        _both([m, r], T.exp(m) * r + m, [view, rng.random((3, 7))[1:2]])
        _both([m, r], T.exp(m) * r + m, [np.ascontiguousarray(view), rng.random((7, 3)).T[1:2]])
    t3 = T.tensor3("t3", dtype="float64")
    c = T.TensorType("float64", (None, 1, None))("c")
    b = rng.random((4, 6, 10))
    for view in (b[:, :3, :5], b[:, :3, ::2], b.transpose(2, 1, 0)[:4, :3, :6], b[::-1, 1:4, ::-1][:, :, :5]):
        shape = view.shape
        _both([t3, c], t3 * c + 1, [view, rng.random((shape[0], 1, shape[2]))])
        _both([t3, c], t3 * c + 1, [np.ascontiguousarray(view), rng.random((shape[2], 1, shape[0])).transpose(2, 1, 0)])


def test_a_one_element_kernel_is_a_statement_not_a_loop():
    # a 0-d result (a mean's division, a cast) has no loop for gcc to vectorize or thread
    x = T.dvector("x")
    n = T.lscalar("n")
    f = _both([x, n], x.sum() / T.cast(n, "float32"), [np.arange(5.0), 4])
    kernels = _kernel_text(f) if "elementwise kernels" in "".join(s.source for s in f.maker.runner.sources) else ""
    for text in [k for k in kernels.split("SG_KERNEL int ")[1:]]:
        if "sg_ew_alloc(sg_slot, sg_o, 0," in text:
            assert "po[0] = " in text and "for (" not in text and "omp" not in text
    s = T.dscalar("s")
    g = _both([s], T.exp(s) * 2 - s, [0.75])
    source = "".join(src.source for src in g.maker.runner.sources)
    assert "po[0] = " in source and "omp parallel" not in source


def test_a_flat_kernel_compiles_its_loop_once_for_threads_and_serial_calls(rng):
    # the loop lives in a range function; large inputs split it across threads, small ones
    # call it directly. Both sizes agree with NumPy (the threaded split respects the ends)
    x = T.dvector("x")
    y = T.dvector("y")
    f = sg.function([x, y], T.sin(x) * y + x, mode="c")
    source = "".join(s.source for s in f.maker.runner.sources)
    assert source.count("sin(") == 1 and source.count("_range(") == 3  # definition, two calls
    for n in (0, 1, 17, 200_001, 1_000_003):
        a, b = rng.standard_normal(n), rng.standard_normal(n)
        np.testing.assert_allclose(f(a, b), np.sin(a) * b + a, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(f(a[::-1], b), np.sin(a[::-1]) * b + a[::-1], rtol=1e-13, atol=1e-15)
