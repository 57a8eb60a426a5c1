"""Types, constructors, dtype promotion and Python-number handling."""

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.tensor.type import TensorType


@pytest.mark.parametrize(
    "name, dtype, shape",
    [("dscalar", "float64", ()), ("fvector", "float32", (None,)), ("imatrix", "int32", (None, None)),
     ("ltensor3", "int64", (None,) * 3), ("dtensor4", "float64", (None,) * 4), ("brow", "int8", (1, None)),
     ("wcol", "int16", (None, 1)), ("cvector", "complex64", (None,)), ("zmatrix", "complex128", (None, None))],
)
def test_typed_constructors(name, dtype, shape):
    v = getattr(T, name)("v")
    assert v.dtype == dtype and v.type.shape == shape and v.name == "v"


def test_untyped_constructors_use_floatx():
    assert T.matrix().dtype == "float64"
    with sg.config.change_flags(floatX="float32"):
        assert T.matrix().dtype == "float32"
        assert T.vector(dtype="int32").dtype == "int32"
        assert (T.fscalar() * 2.0).dtype == "float32"
    assert T.scalar().dtype == "float64"


def test_plural_constructors():
    a, b = T.dmatrices("a", "b")
    assert (a.name, b.name) == ("a", "b") and a.type == b.type
    x, y, z = T.scalars("x", "y", "z")
    assert z.ndim == 0
    assert len(T.fvectors(3)) == 3


def test_general_tensor_constructor_and_broadcastable():
    t = T.tensor("float64", shape=(None, 1, 3), name="t")
    assert t.broadcastable == (False, True, False)
    assert t.type.shape == (None, 1, 3)
    old_style = T.tensor(dtype="float32", broadcastable=(False, True))
    assert old_style.type.shape == (None, 1)
    with pytest.raises(TypeError, match="dtype"):
        T.tensor("x")


def test_variable_attributes():
    x = T.dmatrix("x")
    assert (x.type, x.dtype, x.ndim, x.broadcastable, x.name) == (
        TensorType("float64", (None, None)), "float64", 2, (False, False), "x")


@pytest.mark.parametrize(
    "a, b, expected",
    [("int32", "float32", "float64"), ("int8", "uint8", "int16"), ("float32", "float64", "float64"),
     ("int64", "int32", "int64"), ("bool", "int8", "int8"), ("complex64", "float64", "complex128")],
)
def test_promotion_follows_numpy(a, b, expected):
    x = T.tensor(a, shape=(None,))
    y = T.tensor(b, shape=(None,))
    assert (x + y).dtype == expected == np.result_type(np.dtype(a), np.dtype(b)).name


def test_python_numbers_are_weak():
    assert (T.fvector() * 2.0).dtype == "float32"
    assert (T.bvector() + 1).dtype == "int8"
    assert (T.bvector() + 1000).dtype == "int64"  # does not fit int8
    assert (T.ivector() * 1.5).dtype == "float64"
    assert (T.fvector() + np.float64(1.0)).dtype == "float64"  # NumPy scalars are strong


def test_constants():
    c = T.constant(2.0)
    assert c.dtype == "float64" and c.ndim == 0
    assert T.constant([1, 2, 3]).dtype == "int64"
    assert T.constant(np.zeros((2, 3), dtype="float32")).type.shape == (2, 3)
    with sg.config.change_flags(floatX="float32"):
        assert T.constant(1.5).dtype == "float32"


def test_numpy_array_on_the_left_builds_a_graph():
    x = T.dvector("x")
    out = np.array([1.0, 2.0]) + x
    assert isinstance(out, T.TensorVariable)
    f = sg.function([x], out, mode="py")
    np.testing.assert_allclose(f([1.0, 1.0]), [2.0, 3.0])


def test_static_broadcast_conflict_is_a_build_error():
    a = T.tensor("float64", shape=(3, 4))
    b = T.tensor("float64", shape=(5, 4))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        a + b


def test_truth_value_of_a_symbolic_variable_is_an_error():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="T.switch"):
        if x > 0:
            pass


def test_setitem_points_to_set_subtensor():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="set_subtensor"):
        x[0] = 1


def test_floatx_from_environment_flags():
    import subprocess
    import sys

    code = "import symgraph as sg, symgraph.tensor as T; print(sg.config.floatX, T.matrix().dtype)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "SYMGRAPH_FLAGS": "floatX=float32"}, check=True)
    assert out.stdout.split() == ["float32", "float32"]


def test_bad_config_values_are_rejected():
    with pytest.raises(ValueError, match="floatX"):
        sg.config.floatX = "float128"
    with pytest.raises(AttributeError, match="no setting"):
        sg.config.flaotX = "float32"


def test_a_bad_flag_value_names_the_setting():
    with pytest.raises(ValueError, match="openmp_threads expects an integer, got 'abc'"):
        sg.config.update_from_flags("openmp_threads=abc")
