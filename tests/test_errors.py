"""A catalogue of mistakes users make, and the errors they get.

Each test checks the exception type and that the message names the input or the op, what
was expected and what was given; failures at run time also name the user's line (the text
of the line in this file that built the failing node). Runtime failures are checked with
every available backend: a bad input must raise, never crash the interpreter.
"""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.compile import UnusedInputError
from symgraph.errors import MissingInputError, NaNGuardError, ShapeMismatchError
from symgraph.gradient import DisconnectedInputError
from symgraph.graph.traversal import toposort
from tests.differential.harness import available_backends

THIS_FILE = "test_errors.py"


@pytest.fixture(params=available_backends())
def mode(request):
    return request.param


def _assert_mentions(message: str, *parts: str) -> None:
    missing = [p for p in parts if p not in message]
    assert not missing, f"the message lacks {missing}:\n{message}"


def _assert_points_at_line(message: str, line_text: str) -> None:
    """The message shows where the node was built: this file and the line's own text."""
    _assert_mentions(message, THIS_FILE, line_text)


# ---------------------------------------------------------------------------------------------
# Calling a compiled function with the wrong arguments
# ---------------------------------------------------------------------------------------------
def _add_function(mode="py"):
    x, y = T.dvector("x"), T.dvector("y")
    return sg.compile_function([x, y], x + y, mode=mode)


def test_too_many_arguments_say_how_many_were_expected_and_given():
    f = _add_function()
    with pytest.raises(TypeError) as info:
        f(np.ones(3), np.ones(3), np.ones(3))
    _assert_mentions(str(info.value), "takes 2 inputs", "3 were given")


def test_a_missing_argument_is_named():
    f = _add_function()
    with pytest.raises(TypeError) as info:
        f(np.ones(3))
    _assert_mentions(str(info.value), "missing input 'y'", "position 1")


def test_an_unknown_keyword_lists_the_input_names():
    f = _add_function()
    with pytest.raises(TypeError) as info:
        f(np.ones(3), z=np.ones(3))
    _assert_mentions(str(info.value), "unexpected keyword argument 'z'", "'x'", "'y'")


def test_a_value_given_twice_is_named():
    f = _add_function()
    with pytest.raises(TypeError) as info:
        f(np.ones(3), np.ones(3), x=np.ones(3))
    _assert_mentions(str(info.value), "multiple values", "'x'")


def test_a_lossy_dtype_names_the_input_and_both_dtypes():
    f = _add_function()
    with pytest.raises(TypeError) as info:
        f(np.ones(3, dtype="complex128"), np.ones(3))
    _assert_mentions(str(info.value), "input 'x'", "float64 vector", "complex128")


def test_float64_data_into_a_float32_input_suggests_the_fix():
    v = T.fvector("v")
    f = sg.compile_function([v], v * 2, mode="py")
    with pytest.raises(TypeError) as info:
        f(np.ones(3))
    _assert_mentions(
        str(info.value), "input 'v'", "float32 vector", "float64", "allow_input_downcast"
    )


def test_allow_input_downcast_accepts_float64_data_for_a_float32_input():
    v = T.fvector("v")
    f = sg.compile_function([v], v * 2, mode="py", allow_input_downcast=True)
    assert f(np.ones(3)).dtype == np.float32


def test_a_wrong_ndim_names_the_input_and_both_ndims():
    f = _add_function()
    with pytest.raises(TypeError) as info:
        f(np.ones((2, 3)), np.ones(3))
    _assert_mentions(str(info.value), "input 'x'", "ndim=1", "ndim=2", "(2, 3)")


def test_a_string_argument_is_refused_with_a_type_error():
    f = _add_function()
    with pytest.raises(TypeError) as info:
        f("abc", np.ones(3))
    _assert_mentions(str(info.value), "input 'x'", "float64 vector", "str")


# ---------------------------------------------------------------------------------------------
# Shapes that do not fit at run time: the message names the op, the shapes and the user's line
# ---------------------------------------------------------------------------------------------
def test_non_broadcastable_shapes_name_the_op_the_lengths_and_the_line(mode):
    x, y = T.dvector("x"), T.dvector("y")
    total = x + y  # the node under test
    f = sg.compile_function([x, y], total, mode=mode)
    with pytest.raises(ValueError) as info:
        f(np.ones(3), np.ones(4))
    assert isinstance(info.value, ShapeMismatchError)
    message = str(info.value)
    _assert_mentions(message, "Elemwise{add}", "(3,)", "(4,)")
    _assert_points_at_line(message, "total = x + y  # the node under test")


def test_a_dot_shape_mismatch_names_both_shapes_and_the_line(mode):
    a, b = T.dmatrices("a", "b")
    product = T.dot(a, b)
    f = sg.compile_function([a, b], product, mode=mode)
    with pytest.raises(ValueError) as info:
        f(np.ones((2, 3)), np.ones((4, 2)))
    message = str(info.value)
    _assert_mentions(message, "Dot", "(2, 3)", "(4, 2)", "not aligned")
    _assert_points_at_line(message, "product = T.dot(a, b)")


def test_an_out_of_range_index_names_the_index_the_axis_length_and_the_line(mode):
    x, i = T.dvector("x"), T.lscalar("i")
    picked = x[i]
    f = sg.compile_function([x, i], picked, mode=mode)
    with pytest.raises(ValueError) as info:
        f(np.ones(3), 7)
    message = str(info.value)
    _assert_mentions(message, "Subtensor", "index 7", "length 3", "-3 to 2")
    _assert_points_at_line(message, "picked = x[i]")


def test_an_out_of_range_index_array_names_the_index_and_the_line(mode):
    x, idx = T.dvector("x"), T.lvector("idx")
    gathered = x[idx]
    f = sg.compile_function([x, idx], gathered, mode=mode)
    with pytest.raises(ValueError) as info:
        f(np.ones(3), np.array([0, 5]))
    message = str(info.value)
    _assert_mentions(message, "AdvancedSubtensor", "5", "size 3")
    _assert_points_at_line(message, "gathered = x[idx]")


def test_a_constant_index_out_of_a_static_shape_fails_when_the_graph_is_built():
    x = T.tensor("float64", shape=(3,), name="x")
    with pytest.raises(IndexError) as info:
        x[5]
    _assert_mentions(str(info.value), "index 5", "axis 0", "length 3")


def test_reshape_to_the_wrong_size_names_both_shapes_and_the_line(mode):
    x = T.dvector("x")
    square = x.reshape((2, 2))
    f = sg.compile_function([x], square, mode=mode)
    with pytest.raises(ValueError) as info:
        f(np.ones(3))
    message = str(info.value)
    _assert_mentions(message, "Reshape", "(3,)", "(2, 2)")
    _assert_points_at_line(message, "square = x.reshape((2, 2))")


def test_reshape_of_a_static_shape_to_the_wrong_size_fails_when_the_graph_is_built():
    x = T.tensor("float64", shape=(3,), name="x")
    with pytest.raises(ValueError) as info:
        x.reshape((2, 2))
    _assert_mentions(str(info.value), "cannot reshape", "(3,)", "(2, 2)")


def test_a_join_mismatch_names_the_shapes_the_axis_and_the_line(mode):
    a, b = T.dmatrices("a", "b")
    joined = T.concatenate([a, b])
    f = sg.compile_function([a, b], joined, mode=mode)
    with pytest.raises(ValueError) as info:
        f(np.ones((2, 3)), np.ones((2, 4)))
    message = str(info.value)
    _assert_mentions(message, "Join", "(2, 3)", "(2, 4)", "axis 0")
    _assert_points_at_line(message, "joined = T.concatenate([a, b])")


def test_joining_tensors_of_different_ndim_fails_when_the_graph_is_built():
    with pytest.raises(ValueError) as info:
        T.concatenate([T.dmatrix("a"), T.dvector("b")])
    _assert_mentions(str(info.value), "same ndim", "ndim 2", "ndim 1")


def test_max_of_an_empty_axis_names_the_op_the_shape_and_the_line(mode, request):
    m = T.dmatrix("m")
    peak = T.max(m, axis=0)
    f = sg.compile_function([m], peak, mode=mode)
    with pytest.raises(ValueError) as info:
        f(np.zeros((0, 3)))
    message = str(info.value)
    _assert_mentions(message, "Max", "(0, 3)")
    _assert_points_at_line(message, "peak = T.max(m, axis=0)")


def test_inverting_a_singular_matrix_names_the_op_and_the_line(mode):
    m = T.dmatrix("m")
    inverse = T.nlinalg.inv(m)
    f = sg.compile_function([m], inverse, mode=mode)
    with pytest.raises(ValueError) as info:
        f(np.zeros((2, 2)))
    message = str(info.value)
    _assert_mentions(message, "MatrixInverse", "Singular matrix")
    _assert_points_at_line(message, "inverse = T.nlinalg.inv(m)")


def test_inverting_a_non_square_matrix_fails_when_the_graph_is_built():
    with pytest.raises(ValueError) as info:
        T.nlinalg.inv(T.tensor("float64", shape=(2, 3)))
    _assert_mentions(str(info.value), "matrix_inverse", "square", "(2, 3)")


def test_inverting_a_vector_names_the_expected_and_given_ndim():
    with pytest.raises(TypeError) as info:
        T.nlinalg.inv(T.dvector("v"))
    _assert_mentions(str(info.value), "matrix_inverse", "ndim=2", "vector")


def test_nan_guard_names_the_op_that_made_a_nan_and_the_line(mode):
    x = T.dvector("x")
    logs = T.log(x)
    with sg.config.change_flags(nan_guard=True):
        f = sg.compile_function([x], logs * 2, mode=mode, optimizer="none")
    with pytest.raises(NaNGuardError) as info:
        f(np.array([-1.0, 1.0]))
    message = str(info.value)
    _assert_mentions(message, "Elemwise{log}", "NaN")
    _assert_points_at_line(message, "logs = T.log(x)")


def test_without_nan_guard_a_nan_is_returned_quietly():
    x = T.dvector("x")
    f = sg.compile_function([x], T.log(x), mode="py")
    with np.errstate(invalid="ignore"):
        assert np.isnan(f(np.array([-1.0]))[0])


# ---------------------------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------------------------
def test_a_non_scalar_cost_names_its_ndim_and_the_fix():
    x = T.dvector("x")
    with pytest.raises(TypeError) as info:
        T.grad(x * 2, x)
    _assert_mentions(str(info.value), "cost must be a scalar", "ndim 1", "sum()")


def test_a_disconnected_wrt_is_named():
    x, y = T.dvectors("x", "y")
    with pytest.raises(DisconnectedInputError) as info:
        T.grad((x * 2).sum(), y)
    assert isinstance(info.value, ValueError)
    _assert_mentions(
        str(info.value), "wrt[0]", "y", "float64 vector", "disconnected_inputs='ignore'"
    )


def test_disconnected_inputs_ignore_gives_zeros():
    x, y = T.dvectors("x", "y")
    gy = T.grad((x * 2).sum(), y, disconnected_inputs="ignore")
    f = sg.compile_function([x, y], gy, mode="py", on_unused_input="ignore")
    np.testing.assert_array_equal(f(np.ones(2), np.ones(2)), np.zeros(2))


def test_nodes_built_by_grad_point_at_the_users_grad_line():
    m = T.dmatrix("m")
    cost = (m ** 2).sum()
    gradient = T.grad(cost, m)
    nodes = [node for node in toposort([gradient]) if node.source is not None]
    sources = {node.source.filename.rsplit("/", 1)[-1] for node in nodes}
    assert sources == {THIS_FILE}, f"gradient nodes claim to be built in {sorted(sources)}"


def test_a_runtime_failure_in_a_gradient_points_at_the_users_line():
    m = T.dmatrix("m")
    d_det = T.grad(T.nlinalg.det(m), m)
    f = sg.compile_function([m], d_det, mode="py", optimizer="none")
    with pytest.raises(ValueError) as info:
        f(np.zeros((2, 2)))
    _assert_points_at_line(str(info.value), "d_det = T.grad(T.nlinalg.det(m), m)")


# ---------------------------------------------------------------------------------------------
# compile_function arguments: unused, missing and shared inputs, updates
# ---------------------------------------------------------------------------------------------
def test_an_unused_input_is_named_with_the_ways_out():
    x, y = T.dvectors("x", "y")
    with pytest.raises(UnusedInputError) as info:
        sg.compile_function([x, y], x * 2, mode="py")
    assert isinstance(info.value, ValueError)
    _assert_mentions(str(info.value), "input 'y'", "not used", "on_unused_input")


def test_a_missing_input_is_named_with_the_line_that_uses_it():
    x, y = T.dvectors("x", "y")
    uses_y = x + y
    with pytest.raises(MissingInputError) as info:
        sg.compile_function([x], uses_y, mode="py")
    message = str(info.value)
    _assert_mentions(message, "needs the input y", "float64 vector", "not in the inputs list")
    _assert_points_at_line(message, "uses_y = x + y")


def test_a_shared_variable_given_as_an_explicit_input_is_refused():
    w = sg.shared(np.ones(3), name="w")
    with pytest.raises(TypeError) as info:
        sg.compile_function([w], w * 2, mode="py")
    _assert_mentions(str(info.value), "input 0", "w", "shared variable", "leave it out")


def test_an_input_listed_twice_is_refused():
    x = T.dvector("x")
    with pytest.raises(ValueError) as info:
        sg.compile_function([x, x], x * 2, mode="py")
    _assert_mentions(str(info.value), "listed twice", "position 0")


def test_a_single_variable_instead_of_an_inputs_list_is_refused():
    x = T.dvector("x")
    with pytest.raises(TypeError) as info:
        sg.compile_function(x, x * 2, mode="py")
    _assert_mentions(str(info.value), "list of variables", "[x]")


def test_a_float64_update_of_a_float32_shared_variable_names_both_dtypes_and_the_cast():
    w = sg.shared(np.ones(3, dtype="float32"), name="w")
    x = T.dvector("x")
    with pytest.raises(TypeError) as info:
        sg.compile_function([x], x.sum(), updates=[(w, w - 0.1 * x)], mode="py")
    _assert_mentions(str(info.value), "w", "float64", "float32", "T.cast")


def test_a_float32_update_with_a_python_float_learning_rate_stays_float32():
    w = sg.shared(np.ones(3, dtype="float32"), name="w")
    x = T.fvector("x")
    f = sg.compile_function([x], x.sum(), updates=[(w, w - 0.1 * x)], mode="py")
    f(np.ones(3, dtype="float32"))
    assert w.get_value().dtype == np.float32


def test_an_update_of_the_wrong_ndim_names_both():
    w = sg.shared(np.ones(3), name="w")
    with pytest.raises(TypeError) as info:
        sg.compile_function([], [], updates=[(w, w.sum())], mode="py")
    _assert_mentions(str(info.value), "w", "ndim 0", "ndim 1")


def test_updating_a_symbolic_variable_is_refused():
    x = T.dvector("x")
    with pytest.raises(TypeError) as info:
        sg.compile_function([x], x.sum(), updates=[(x, x * 2)], mode="py")
    _assert_mentions(str(info.value), "x", "not a shared variable")


# ---------------------------------------------------------------------------------------------
# Building graphs with bad arguments
# ---------------------------------------------------------------------------------------------
def test_a_static_dot_mismatch_fails_when_the_graph_is_built():
    a = T.tensor("float64", shape=(2, 3), name="a")
    b = T.tensor("float64", shape=(4, 2), name="b")
    with pytest.raises(ValueError) as info:
        T.dot(a, b)
    _assert_mentions(str(info.value), "dot", "(2, 3)", "(4, 2)", "3 != 4")


def test_an_axis_out_of_range_names_the_function_and_the_ndim():
    with pytest.raises(ValueError) as info:
        T.sum(T.dvector("v"), axis=2)
    _assert_mentions(str(info.value), "sum", "axis 2", "ndim 1")


def test_writing_float64_values_into_an_int_tensor_is_refused():
    a, b = T.ivector("a"), T.dvector("b")
    with pytest.raises(TypeError) as info:
        T.set_subtensor(a[:2], b)
    _assert_mentions(str(info.value), "float64", "int32", "T.cast")


def test_set_subtensor_of_a_plain_variable_explains_what_it_needs():
    a, b = T.dvectors("a", "b")
    with pytest.raises(TypeError) as info:
        T.set_subtensor(a, b)
    _assert_mentions(str(info.value), "set_subtensor", "result of indexing", "x[1:3]")


def test_a_float_index_is_refused_with_the_fix():
    with pytest.raises(IndexError) as info:
        T.dvector("v")[T.dvector("i")]
    _assert_mentions(str(info.value), "integers or booleans", "float64 vector", "T.cast")


def test_softmax_of_a_scalar_is_refused():
    with pytest.raises(ValueError) as info:
        T.nnet.softmax(T.dscalar("s"))
    _assert_mentions(str(info.value), "softmax", "scalar")


def test_a_float_label_vector_for_categorical_crossentropy_is_refused():
    with pytest.raises(TypeError) as info:
        T.nnet.categorical_crossentropy(T.dmatrix("p"), T.dvector("y"))
    _assert_mentions(
        str(info.value), "categorical_crossentropy", "integer labels", "float64 vector"
    )
