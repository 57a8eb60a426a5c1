"""ifelse: the lazy conditional (symgraph/control/ifelse.py), in the 'py' and 'c' backends."""

import pickle
from dataclasses import dataclass

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.backends.py.dispatch import perform
from symgraph.control.ifelse import IfElse
from symgraph.gradient.rules import pullback
from symgraph.graph.node import Apply
from symgraph.graph.op import Op

MODES = ["py", "c"]


# -- an op that counts its evaluations (it has no C emitter: the C backend runs it in Python)
CALLS: dict[str, int] = {}


@dataclass(frozen=True)
class Counted(Op):
    """The identity, counting each evaluation under ``label``."""

    label: str

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type.make_variable()])


def _counted_perform(op, node, inputs):
    CALLS[op.label] = CALLS.get(op.label, 0) + 1
    return [np.array(inputs[0])]


perform.register(Counted)(_counted_perform)
pullback.register(Counted)(lambda op, node, grads: [grads[0]])


def _ifelse_nodes(f):
    return [n for n in f.maker.fgraph.apply_nodes if isinstance(n.op, IfElse)]


# -- values and laziness -----------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_ifelse_agrees_with_switch_on_the_tutorial_program(mode):
    a, b = T.dscalars("a", "b")
    x, y = T.dmatrices("x", "y")
    z_switch = T.switch(T.lt(a, b), T.mean(x), T.mean(y))
    z_lazy = sg.ifelse(T.lt(a, b), T.mean(x), T.mean(y))
    f = sg.compile_function([a, b, x, y], [z_switch, z_lazy], mode=mode)
    xv, yv = np.full((20, 30), 2.0), np.full((20, 30), -1.0)
    assert f(0.0, 1.0, xv, yv) == [2.0, 2.0]
    assert f(1.0, 0.0, xv, yv) == [-1.0, -1.0]
    assert len(_ifelse_nodes(f)) == 1


@pytest.mark.parametrize("mode", MODES)
def test_only_the_taken_branch_is_evaluated(mode):
    c = T.iscalar("c")
    x = T.dvector("x")
    z = sg.ifelse(c, Counted(f"then-{mode}")(x * 2).sum(), Counted(f"else-{mode}")(x * 3).sum())
    f = sg.compile_function([c, x], z, mode=mode)
    CALLS.clear()
    assert f(1, [1.0, 2.0]) == 6.0
    assert CALLS == {f"then-{mode}": 1}
    assert f(0, [1.0, 2.0]) == 9.0
    assert f(0, [1.0, 2.0]) == 9.0
    assert CALLS == {f"then-{mode}": 1, f"else-{mode}": 2}


@pytest.mark.parametrize("mode", MODES)
def test_what_the_condition_needs_is_computed_once(mode):
    # s is computed before the choice (the condition reads it): the branch reads it too
    x = T.dvector("x")
    s = Counted(f"shared-{mode}")(x).sum()
    f = sg.compile_function([x], sg.ifelse(s > 0, s * 2, -s), mode=mode)
    CALLS.clear()
    assert f([1.0, 2.0]) == 6.0
    assert f([-1.0, -2.0]) == 3.0
    assert CALLS == {f"shared-{mode}": 2}


@pytest.mark.parametrize("mode", MODES)
def test_the_untaken_branch_may_be_invalid_for_the_inputs(mode):
    # dot(x, y) fails for these shapes: ifelse must not compute it when c is false
    c = T.bscalar("c")
    x, y = T.dmatrices("x", "y")
    f = sg.compile_function([c, x, y], sg.ifelse(c, T.dot(x, y).sum(), x.sum() - y.sum()), mode=mode)
    xv, yv = np.ones((2, 3)), np.ones((2, 3))
    assert f(0, xv, yv) == 0.0
    with pytest.raises(ValueError):
        f(1, xv, yv)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("cond", "taken"), [(True, 0), (0, 1), (0.0, 1), (-2, 0), (0.5, 0)])
def test_any_nonzero_scalar_condition_is_true(mode, cond, taken):
    dtype = {bool: "bool", int: "int32", float: "float64"}[type(cond)]
    c = T.scalar("c", dtype=dtype)
    x = T.dvector("x")
    f = sg.compile_function([c, x], sg.ifelse(c, x + 1, x - 1), mode=mode)
    np.testing.assert_array_equal(f(cond, [1.0, 2.0]), [[2.0, 3.0], [0.0, 1.0]][taken])


@pytest.mark.parametrize("mode", MODES)
def test_branches_of_different_shapes_at_run_time(mode):
    a = T.dscalar("a")
    v = T.dvector("v")
    z = sg.ifelse(a > 0, v, v[:2] * 10)
    f = sg.compile_function([a, v], [z, z.shape[0]], mode=mode)
    out, n = f(1.0, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(out, [1.0, 2.0, 3.0])
    assert n == 3
    out, n = f(-1.0, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(out, [10.0, 20.0])
    assert n == 2


def test_the_output_type_joins_both_static_shapes():
    c = T.bscalar("c")
    p = T.tensor("float64", shape=(3, 1, None), name="p")
    q = T.tensor("float64", shape=(3, 4, None), name="q")
    assert sg.ifelse(c, p, q).type.shape == (3, None, None)
    assert sg.ifelse(c, p, p * 2).type.shape == (3, 1, None)


@pytest.mark.parametrize("mode", MODES)
def test_lists_and_tuples_of_outputs(mode):
    c = T.bscalar("c")
    x = T.dvector("x")
    n = T.lscalar("n")
    as_list = sg.ifelse(c, [x * 2, n + 1], [x * 3, n - 1])
    as_tuple = sg.ifelse(c, (x.sum(),), (x.max(),))
    assert isinstance(as_list, list) and len(as_list) == 2
    assert isinstance(as_tuple, tuple) and len(as_tuple) == 1
    assert as_list[1].dtype == "int64"
    f = sg.compile_function([c, x, n], [*as_list, *as_tuple], mode=mode)
    for cv, expect in [(1, ([2.0, 4.0], 6, 3.0)), (0, ([3.0, 6.0], 4, 2.0))]:
        out = f(cv, [1.0, 2.0], 5)
        np.testing.assert_array_equal(out[0], expect[0])
        assert out[1] == expect[1] and out[1].dtype == np.int64
        assert out[2] == expect[2]


@pytest.mark.parametrize("mode", MODES)
def test_python_values_take_the_other_branchs_dtype(mode):
    c = T.bscalar("c")
    x = T.fvector("x")
    z = sg.ifelse(c, x, np.array([0, 0]))  # a list would be a list of outputs, as in Theano
    assert z.dtype == "float32"
    f = sg.compile_function([c, x], [z, sg.ifelse(c, 1, 2)], mode=mode)
    out, k = f(0, np.array([1.5, 2.5], dtype="float32"))
    assert out.dtype == np.float32 and list(out) == [0.0, 0.0]
    assert k == 2


def test_mismatched_branches_raise_clear_errors():
    c = T.bscalar("c")
    with pytest.raises(TypeError, match=r"float64 matrix.*float32 matrix"):
        sg.ifelse(c, T.dmatrix("x"), T.fmatrix("y"))
    with pytest.raises(TypeError, match=r"output 1 .*float64 vector.*float64 matrix"):
        sg.ifelse(c, [T.dscalar(), T.dvector()], [T.dscalar(), T.dmatrix()])
    with pytest.raises(TypeError, match="same dtype and ndim"):
        sg.ifelse(c, T.dvector("v"), 0.5)  # a number does not become a vector
    with pytest.raises(ValueError, match="same number"):
        sg.ifelse(c, [T.dscalar(), T.dscalar()], [T.dscalar()])
    with pytest.raises(TypeError, match="condition must be a scalar"):
        sg.ifelse(T.dvector("cv"), T.dscalar(), T.dscalar())


# -- rewrites --------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cond", [True, False])
def test_a_constant_condition_folds_to_the_taken_branch(mode, cond):
    x, y = T.dvectors("x", "y")
    # the condition becomes a constant only after constant folding
    c = T.lt(T.constant(1.0), 2.0) if cond else T.gt(T.constant(1.0), 2.0)
    f = sg.compile_function([x, y], sg.ifelse(c, x * 2, y + 1), mode=mode, on_unused_input="ignore")
    assert f.rewrites_applied["ifelse_constant_condition"] == 1
    assert not _ifelse_nodes(f)
    np.testing.assert_array_equal(f([1.0, 2.0], [5.0, 6.0]), [2.0, 4.0] if cond else [6.0, 7.0])


@pytest.mark.parametrize("mode", MODES)
def test_branch_graphs_are_optimized_when_they_run(mode):
    # as written, log(1 + exp(1000)) overflows to inf; the rewritten branch is softplus
    c = T.bscalar("c")
    x = T.dvector("x")
    f = sg.compile_function([c, x], sg.ifelse(c, T.log(1 + T.exp(x)), x), mode=mode)
    np.testing.assert_allclose(f(1, [1000.0, 0.0]), [1000.0, np.log(2.0)])


@pytest.mark.parametrize("mode", MODES)
def test_outer_rewrites_keep_the_op_working(mode):
    c = T.dscalar("c")
    x = T.dmatrix("x")
    z = sg.ifelse(c, x.T, x * 1 + 0)
    outputs = [z * 1 + 0, z.shape[0], T.exp(z).sum(), (x * 2).sum()]
    f = sg.compile_function([c, x], outputs, mode=mode)
    xv = np.arange(6.0).reshape(2, 3)
    for cv, zv in [(1.0, xv.T), (0.0, xv)]:
        out = f(cv, xv)
        np.testing.assert_array_equal(out[0], zv)
        assert out[1] == zv.shape[0]
        np.testing.assert_allclose(out[2], np.exp(zv).sum())
        assert out[3] == 30.0


@pytest.mark.parametrize("mode", MODES)
def test_outputs_nobody_reads_are_not_computed(mode):
    c = T.bscalar("c")
    x = T.dvector("x")
    w = sg.shared(np.array([1.0, 2.0]), name="w")
    first, _ = sg.ifelse(c, [x * 2, Counted(f"unused-{mode}")(x)], [x * 3, x])
    cost = sg.ifelse(c, (w * x).sum(), x.sum())
    f = sg.compile_function([c, x], [first, T.grad(cost, w)], mode=mode)  # not the gradient of x
    assert f.rewrites_applied["ifelse_unused_outputs"] == 2
    assert sorted(len(n.outputs) for n in _ifelse_nodes(f)) == [1, 1]
    CALLS.clear()
    out = f(1, [1.0, 3.0])
    np.testing.assert_array_equal(out[0], [2.0, 6.0])
    np.testing.assert_array_equal(out[1], [1.0, 3.0])
    np.testing.assert_array_equal(f(0, [1.0, 3.0])[1], [0.0, 0.0])
    assert not CALLS


@pytest.mark.parametrize("mode", MODES)
def test_outputs_never_alias_the_inputs(mode):
    c = T.bscalar("c")
    x = T.dvector("x")
    f = sg.compile_function([c, x], [sg.ifelse(c, x, x * 2), sg.ifelse(c, x[1:], T.constant([7.0, 8.0]))],
                            mode=mode)
    xv = np.array([1.0, 2.0, 3.0])
    out, view = f(1, xv)
    out[0] = -1.0
    view[0] = -1.0
    np.testing.assert_array_equal(xv, [1.0, 2.0, 3.0])
    _, const = f(0, xv)
    const[0] = -1.0
    np.testing.assert_array_equal(f(0, xv)[1], [7.0, 8.0])


# -- gradients -------------------------------------------------------------------------------
def _numeric_grad(f, values, k, eps=1e-6):
    base = [np.array(v, dtype=float) for v in values]
    grad = np.zeros_like(base[k])
    for idx in np.ndindex(base[k].shape):
        hi = [v.copy() for v in base]
        lo = [v.copy() for v in base]
        hi[k][idx] += eps
        lo[k][idx] -= eps
        grad[idx] = (f(*hi) - f(*lo)) / (2 * eps)
    return grad


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cond", [1, 0])
def test_gradient_matches_finite_differences(mode, cond):
    c = T.bscalar("c")
    x, y, w = T.dvectors("x", "y", "w")
    # x feeds both branches, y only the then branch, w only the else branch
    cost = sg.ifelse(c, T.sum(T.sin(x) * y ** 2), T.sum(T.exp(x) * w)) + T.sum(x ** 2)
    grads = T.grad(cost, [x, y, w])
    f_cost = sg.compile_function([c, x, y, w], cost, mode=mode)
    f_grad = sg.compile_function([c, x, y, w], grads, mode=mode)
    rng = np.random.default_rng(0)
    values = [rng.normal(size=3) for _ in range(3)]
    analytic = f_grad(cond, *values)
    for k in range(3):
        numeric = _numeric_grad(lambda *v: f_cost(cond, *v), values, k)
        np.testing.assert_allclose(analytic[k], numeric, rtol=1e-6, atol=1e-8)
    unused = 2 if cond else 1  # the branch not taken gives zeros to what only it reads
    np.testing.assert_array_equal(analytic[unused], np.zeros(3))


@pytest.mark.parametrize("mode", MODES)
def test_verify_grad_through_ifelse_with_a_shared_condition(mode):
    def cost(c, a, b):
        first, second = sg.ifelse(c, [a * b, a.sum()], [T.tanh(a) / 2, (b ** 2).sum()])
        return first.sum() + second

    for flag in (1, 0):
        c = sg.shared(np.int8(flag), name="c")
        sg.gradient.verify_grad(lambda a, b, c=c: cost(c, a, b), [np.array([0.3, -0.7]), np.array([1.1, 0.4])],
                                mode=mode, rng=np.random.default_rng(1))


@pytest.mark.parametrize("mode", MODES)
def test_the_condition_gets_no_gradient(mode):
    a = T.dscalar("a")
    x = T.dvector("x")
    cost = sg.ifelse(a, x.sum(), (x * 2).sum())
    ga, gx = T.grad(cost, [a, x])
    f = sg.compile_function([a, x], [ga, gx], mode=mode)
    out = f(0.0, [1.0, 2.0])
    assert out[0] == 0.0
    np.testing.assert_array_equal(out[1], [2.0, 2.0])


@pytest.mark.parametrize("mode", MODES)
def test_hessian_through_ifelse(mode):
    c = T.bscalar("c")
    x = T.dvector("x")
    H = T.hessian(sg.ifelse(c, T.sum(x ** 3), T.sum(x ** 2)), x)
    f = sg.compile_function([c, x], H, mode=mode)
    v = np.array([1.0, -2.0])
    np.testing.assert_allclose(f(1, v), np.diag(6 * v))
    np.testing.assert_allclose(f(0, v), 2 * np.eye(2))


# -- in functions: shared variables, nesting, other outputs, printing, pickling ---------------
@pytest.mark.parametrize("mode", MODES)
def test_conditional_update_of_a_shared_variable(mode):
    w = sg.shared(np.array([1.0, 2.0]), name="w")
    x = T.dvector("x")
    step = T.lscalar("step")
    cost = T.sum((w * x) ** 2)
    g = T.grad(cost, w)
    f = sg.compile_function([x, step], [cost, w], updates={w: sg.ifelse(T.eq(step % 2, 0), w - 0.1 * g, w)},
                            mode=mode)
    ref = np.array([1.0, 2.0])
    xv = np.array([0.5, -1.0])
    for k in range(4):
        cost_v, w_seen = f(xv, k)
        assert cost_v == pytest.approx(np.sum((ref * xv) ** 2))
        np.testing.assert_array_equal(w_seen, ref)
        if k % 2 == 0:
            ref = ref - 0.1 * 2 * ref * xv ** 2
        np.testing.assert_allclose(w.get_value(), ref)
    w_seen[0] = 99.0  # an output is not the shared value itself
    assert w.get_value()[0] != 99.0


@pytest.mark.parametrize("mode", MODES)
def test_nested_ifelse_and_its_gradient(mode):
    c1, c2 = T.bscalars("c1", "c2")
    x = T.dvector("x")
    z = sg.ifelse(c1, sg.ifelse(c2, T.sum(x ** 2), T.sum(x ** 3)), T.sum(T.sin(x)))
    f = sg.compile_function([c1, c2, x], [z, T.grad(z, x)], mode=mode)
    v = np.array([0.5, 2.0])
    cases = {(1, 1): (np.sum(v ** 2), 2 * v), (1, 0): (np.sum(v ** 3), 3 * v ** 2),
             (0, 1): (np.sum(np.sin(v)), np.cos(v)), (0, 0): (np.sum(np.sin(v)), np.cos(v))}
    for (a, b), (value, grad) in cases.items():
        out = f(a, b, v)
        assert out[0] == pytest.approx(value)
        np.testing.assert_allclose(out[1], grad)


def test_pp_and_debugprint_show_both_branches():
    a, b = T.dscalars("a", "b")
    x, y = T.dmatrices("x", "y")
    z = sg.ifelse(T.lt(a, b), x.sum(), T.exp(y).sum(), name="choose")
    assert sg.pp(z) == "IfElse{choose}((a < b), Sum{axis=(0, 1)}(x), Sum{axis=(0, 1)}(exp(y)))"
    text = sg.printing.debugprint(z, file="str")
    lines = text.splitlines()
    assert lines[0].startswith("IfElse{choose} [id A]")
    assert [ln.split(" [")[0] for ln in lines if ln.startswith(" |") and not ln.startswith(" | ")] == [
        " |Elemwise{lt}", " |Sum{axis=(0, 1)}", " |Sum{axis=(0, 1)}"]
    f = sg.compile_function([a, b, x, y], z, mode="py")
    assert "IfElse{choose}" in sg.printing.debugprint(f, file="str")
    assert "exp" in sg.pp(f)


@pytest.mark.parametrize("mode", MODES)
def test_a_pickled_function_with_ifelse_gives_the_same_results(mode):
    a = T.dscalar("a")
    x = T.dvector("x")
    w = sg.shared(np.array([1.0, -1.0]), name="w")
    z = sg.ifelse(a > 0, T.sum(x * w), T.sum(x) * 3)
    f = sg.compile_function([a, x], [z, T.grad(z, x)], updates={w: sg.ifelse(a > 0, w * 2, w)}, mode=mode)
    g = pickle.loads(pickle.dumps(f))
    for av in (1.0, -1.0, 2.0):
        out_f, out_g = f(av, [1.0, 2.0]), g(av, [1.0, 2.0])
        assert out_f[0] == out_g[0]
        np.testing.assert_array_equal(out_f[1], out_g[1])
    np.testing.assert_array_equal(w.get_value(), [4.0, -4.0])


def test_a_deep_branch_pickles():
    # the branch graphs pickle as flat lists: as objects, pickle recursed once per node
    c = T.bscalar("c")
    x = T.dvector("x")
    y = x
    for _ in range(2000):
        y = T.sin(y)
    op = sg.ifelse(c, y, x).owner.op
    copy = pickle.loads(pickle.dumps(op))
    assert len(copy.then_graph.apply_nodes) == 2000 and copy.else_graph.outputs == copy.else_graph.inputs
    f = sg.compile_function([c, x], IfElse(copy.then_graph, copy.else_graph)(c, x), mode="py")
    np.testing.assert_allclose(f(1, [1.0]), [_sin_n(1.0, 2000)])
    assert f(0, [1.0]) == [1.0]


def _sin_n(value, n):
    for _ in range(n):
        value = np.sin(value)
    return value


@pytest.mark.parametrize("mode", MODES)
def test_a_function_loaded_from_the_function_cache_runs_ifelse(mode):
    a = T.dscalar("a")
    x = T.dvector("x")
    made = []
    for _ in range(2):  # the same graph from the same line: the second compile is a cache hit
        z = sg.ifelse(a > 0, T.sum(x ** 2), T.sum(x))
        made.append(sg.compile_function([a, x], z, mode=mode))
    if made[1].maker.function_cache_status != "hit":
        pytest.skip(f"function cache not used here: {made[1].maker.function_cache_status}")
    assert made[1](1.0, [1.0, 2.0]) == 5.0 and made[1](-1.0, [1.0, 2.0]) == 3.0


def test_theano_compat_spellings():
    from symgraph.compat import theano
    from symgraph.compat.theano.ifelse import ifelse

    assert ifelse is sg.ifelse is theano.ifelse.ifelse
