"""compile_function: inputs, outputs, updates, givens, shared variables, modes, errors, pickling."""

import pickle
import warnings

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.compile import UnusedInputError


def test_single_output_returns_array_list_returns_list():
    x = T.dscalar("x")
    f = sg.compile_function([x], x * 2, mode="py")
    g = sg.compile_function([x], [x * 2, x + 1], mode="py")
    assert isinstance(f(1.0), np.ndarray) and f(1.0) == 2.0
    out = g(1.0)
    assert isinstance(out, list) and [float(v) for v in out] == [2.0, 2.0]


def test_function_alias_and_call_by_name():
    x, y = T.dscalars("x", "y")
    f = sg.function([x, y], x - y, mode="py")
    assert f(5.0, 3.0) == 2.0
    assert f(y=3.0, x=5.0) == 2.0
    assert f(5.0, y=3.0) == 2.0


def test_default_values_with_in():
    x, y, w = T.dscalars("x", "y", "w")
    f = sg.function([x, sg.In(y, value=1), sg.In(w, value=2, name="w_by_name")], (x + y) * w, mode="py")
    assert f(33) == 68
    assert f(33, 2) == 70
    assert f(33, 0, 1) == 33
    assert f(33, w_by_name=1) == 34
    assert f(33, w_by_name=1, y=0) == 33


def test_wrong_argument_count_names_the_problem():
    x, y = T.dscalars("x", "y")
    f = sg.function([x, y], x + y, mode="py", name="f")
    with pytest.raises(TypeError, match=r"f\(\) takes 2 inputs but 3 were given"):
        f(1, 2, 3)
    with pytest.raises(TypeError, match="missing input 'y'"):
        f(1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        f(1, z=2)


def test_wrong_dtype_and_ndim_raise_type_error_naming_the_input():
    x = T.dmatrix("x")
    f = sg.function([x], x * 2, mode="py", name="f")
    with pytest.raises(TypeError, match=r"f\(\): input 'x' expects float64 matrix \(ndim=2\), got an int64 array with ndim=1"):
        f(np.arange(3))
    i = T.ivector("i")
    g = sg.function([i], i + 1, mode="py", name="g")
    with pytest.raises(TypeError, match="input 'i' expects int32 vector.*lose precision"):
        g(np.array([1.5, 2.0]))


def test_safe_casts_and_downcasting():
    x = T.fvector("x")
    f = sg.function([x], x * 2, mode="py")
    with pytest.raises(TypeError, match="allow_input_downcast"):
        f(np.array([1.5, 2.0]))  # float64 array into float32
    np.testing.assert_allclose(f([1.5, 2.0]), [3.0, 4.0])  # Python lists that fit exactly
    g = sg.function([x], x * 2, mode="py", allow_input_downcast=True)
    assert g(np.array([0.1, 0.2])).dtype == np.float32
    d = T.dvector("d")
    h = sg.function([d], d * 2, mode="py")
    np.testing.assert_allclose(h(np.array([1, 2], dtype="int32")), [2.0, 4.0])  # safe upcast


def test_shared_accumulator_with_updates():
    state = sg.shared(0, name="state")
    inc = T.iscalar("inc")
    accumulator = sg.function([inc], state, updates=[(state, state + inc)], mode="py")
    assert accumulator(1) == 0
    assert state.get_value() == 1
    accumulator(300)
    assert state.get_value() == 301
    state.set_value(-1)
    accumulator(3)
    assert state.get_value() == 2
    decrementor = sg.function([inc], state, updates=[(state, state - inc)], mode="py")
    decrementor(2)
    assert state.get_value() == 0


def test_updates_are_applied_atomically_after_the_call():
    a = sg.shared(1.0, name="a")
    b = sg.shared(10.0, name="b")
    f = sg.function([], [a, b], updates={a: b, b: a}, mode="py")
    assert [float(v) for v in f()] == [1.0, 10.0]
    assert (a.get_value(), b.get_value()) == (10.0, 1.0)


def test_update_with_a_different_dtype_is_a_clear_error():
    w = sg.shared(np.zeros(3, dtype="float32"), name="w")
    g = T.dvector("g")
    with pytest.raises(TypeError, match=r"new value for w has dtype float64.*T.cast"):
        sg.function([g], [], updates=[(w, w - 0.1 * g)], mode="py")


def test_givens_substitute_before_compiling():
    state = sg.shared(0, name="state")
    inc = T.iscalar("inc")
    fn_of_state = state * 2 + inc
    foo = T.scalar(dtype=state.dtype)
    skip_shared = sg.function([inc, foo], fn_of_state, givens=[(state, foo)], mode="py")
    assert skip_shared(1, 3) == 7
    assert state.get_value() == 0


def test_unused_input_raises_warns_or_is_ignored():
    x, y = T.dscalars("x", "y")
    with pytest.raises(UnusedInputError, match="input 'y' is not used"):
        sg.function([x, y], x * 2, mode="py")
    with pytest.warns(UserWarning, match="not used"):
        sg.function([x, y], x * 2, mode="py", on_unused_input="warn")
    f = sg.function([x, y], x * 2, mode="py", on_unused_input="ignore")
    assert f(1.0, 5.0) == 2.0


def test_missing_input_names_the_variable():
    x, y = T.dscalars("x", "y")
    with pytest.raises(ValueError, match="needs the input y"):
        sg.function([x], x + y, mode="py")


def test_shared_variable_as_explicit_input_is_rejected():
    w = sg.shared(1.0, name="w")
    with pytest.raises(TypeError, match="implicit inputs"):
        sg.function([w], w * 2, mode="py")


def test_shared_get_set_value_copies_and_checks():
    value = np.zeros(3)
    w = sg.shared(value, name="w")
    value[0] = 5
    assert w.get_value()[0] == 0  # shared copies unless borrow=True
    got = w.get_value()
    got[1] = 7
    assert w.get_value()[1] == 0
    with pytest.raises(TypeError, match="ndim"):
        w.set_value(np.zeros((2, 2)))
    w.set_value(np.ones(5))  # a new length is fine: lengths are not fixed
    assert w.get_value().shape == (5,)


def test_outputs_do_not_alias_inputs_or_shared_values():
    x = T.dvector("x")
    f = sg.function([x], x, mode="py")
    data = np.ones(3)
    out = f(data)
    out[0] = 9
    assert data[0] == 1
    w = sg.shared(np.zeros(2), name="w")
    g = sg.function([], w, mode="py")
    g()[0] = 3
    assert w.get_value()[0] == 0


def test_default_mode_falls_back_to_py_with_one_warning(monkeypatch):
    import symgraph.compile.maker as maker

    monkeypatch.setattr(maker, "_WARNED_FALLBACK", set())
    x = T.dscalar("x")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = sg.function([x], x + 1)
        sg.function([x], x + 2)
    relevant = [w for w in caught if "not available" in str(w.message)]
    assert len(relevant) <= 1
    assert f(1.0) == 2.0


def test_modes_and_optimizers_give_the_same_numbers():
    x = T.dvector("x")
    out = T.log(1 + T.exp(x)) * 2
    values = np.linspace(-3, 3, 7)
    results = [sg.function([x], out, mode=m, optimizer=o)(values)
               for m in ("py", "FAST_RUN", "FAST_COMPILE") for o in ("none", "stabilize", "fast_run")]
    for r in results[1:]:
        np.testing.assert_allclose(r, results[0], rtol=1e-12)
    with pytest.raises(ValueError, match="unknown mode"):
        sg.function([x], out, mode="turbo")


def test_runtime_shape_mismatch_names_op_and_user_line():
    a, b = T.dvectors("a", "b")
    out = a * b  # the failing line
    f = sg.function([a, b], out, mode="py")
    with pytest.raises(ValueError, match=r"(?s)Elemwise\{mul\}.*\(3,\).*\(4,\).*the failing line"):
        f(np.ones(3), np.ones(4))


def test_pickle_round_trip_keeps_behaviour_and_shared_state():
    w = sg.shared(np.array([1.0, 2.0]), name="w")
    x = T.dvector("x")
    f = sg.function([x], (x * w), updates=[(w, w + 1)], mode="py", name="step")
    f([1.0, 1.0])
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_allclose(g([1.0, 1.0]), [2.0, 3.0])
    np.testing.assert_allclose(f([1.0, 1.0]), [2.0, 3.0])
    assert g.name == "step"


def test_pickle_of_a_deep_graph():
    x = T.dscalar("x")
    y = x
    for _ in range(3000):
        y = y * 1.0001 + 0.5
    f = sg.function([x], y, mode="py", optimizer="none")
    g = pickle.loads(pickle.dumps(f))
    assert g(1.0) == f(1.0)


def test_eval_computes_with_given_values():
    x, y = T.dscalars("x", "y")
    z = x + y
    assert z.eval({x: 16.3, y: 12.1}) == pytest.approx(28.4)
    assert T.constant(3.0).eval() == 3.0


def test_maker_fgraph_and_rewrites_applied():
    x = T.dvector("x")
    f = sg.function([x], T.log(1 + x), mode="py")
    assert f.rewrites_applied["log_one_plus_to_log1p"] == 1
    assert "log1p" in sg.pp(f.maker.fgraph.outputs[0])
    text = f.explain()
    assert "log_one_plus_to_log1p" in text and "before:" in text and "after:" in text
    g = sg.function([x], T.log(1 + x), mode="py", optimizer="none")
    assert not g.rewrites_applied
