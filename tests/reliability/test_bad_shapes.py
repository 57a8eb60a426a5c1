"""Wrong input shapes through every op of the differential table never crash the C backend.

Each case of tests/differential/op_cases.py is compiled once with mode='c' and once with
mode='py'. Then each array input in turn gets one axis one element longer, or one shorter,
than the case's shape (the other inputs keep theirs), and both functions are called:

- py raises: C must raise too, with a ValueError-family exception (ShapeMismatchError,
  LinAlgError, ...) or IndexError, never crash and never return a value read out of bounds;
- py returns: C must return the same result (values, dtype, shape; the case's tolerances,
  with an absolute floor of a few ulps of the result's magnitude, see ``_atol``).

The full table takes minutes (one gcc run per case), so it is marked slow; bench/sanitize_c.sh
runs it under AddressSanitizer + UBSan, where an out-of-bounds access aborts with a report
instead of going unnoticed. The default run covers one case of each family that takes arrays.
Cases without array inputs (``zeros(n)``, ``arange(n)``, ...) have no axis to get wrong.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import symgraph as sg
from symgraph.backends.c.build import compiler
from tests.differential.harness import OpCase, assert_same
from tests.differential.op_cases import ALL_CASES

pytestmark = [pytest.mark.needs_gcc, pytest.mark.skipif(compiler() is None, reason="needs gcc")]

QUICK = [
    "add_broadcast_vector",  # broadcasting elementwise
    "sum_tuple_axes",  # reduction
    "reshape",  # a fixed target shape: every other length is wrong
    "subtensor_symbolic_slice",  # basic indexing
    "advanced_subtensor_index_input",  # integer-array indexing with an index input
    "inc_subtensor",  # writing through indexing
    "concatenate",  # shapes that must agree on all but one axis
    "dot_matrix_vector",  # gemv
    "matmul_tensor3",  # batched gemm
    "softmax_with_bias",  # nnet with a broadcast bias
]
_BY_NAME = {case.name: case for case in ALL_CASES}


def _wrong_shapes(case: OpCase) -> list[list[tuple[int, ...]]]:
    """Input shape lists with one axis of one input made one longer or one shorter."""
    base = [tuple(shape) for _, shape in case.inputs]
    variants = []
    for i, shape in enumerate(base):
        for axis, length in enumerate(shape):
            for new in (length + 1, length - 1):
                if new >= 0:
                    shapes = list(base)
                    shapes[i] = shape[:axis] + (new,) + shape[axis + 1:]
                    variants.append(shapes)
    return variants


def _call(f: Any, values: list[np.ndarray]) -> tuple[list[Any] | None, Exception | None]:
    try:
        with np.errstate(all="ignore"):
            result = f(*values)
    except Exception as exc:  # noqa: BLE001 - every exception is an outcome to compare
        return None, exc
    return (list(result) if isinstance(result, list) else [result]), None


def _atol(case: OpCase, expected: Any) -> float:
    """The case's atol, floored at a few ulps of the result's magnitude: the case's own
    tolerances were set for its own shapes and values, and other shapes can make a result
    (a mean, a sum) cancel to much less than the values it came from."""
    expected = np.asarray(expected)
    if expected.dtype.kind != "f" or expected.size == 0:
        return case.atol
    finite = np.abs(expected[np.isfinite(expected)])
    scale = max(1.0, float(finite.max())) if finite.size else 1.0
    return max(case.atol, 16 * float(np.finfo(expected.dtype).eps) * scale)


def _check_wrong_shapes(case: OpCase) -> None:
    rng = np.random.default_rng(7)
    variables = case.variables()
    out = case.build(*variables)
    c_fn = sg.compile_function(variables, out, mode="c", on_unused_input="ignore")
    py_fn = sg.compile_function(variables, out, mode="py", on_unused_input="ignore")
    problems = []
    for shapes in _wrong_shapes(case):
        values = case.values(rng, shapes)
        expected, py_error = _call(py_fn, values)
        got, c_error = _call(c_fn, values)
        label = f"{case.name} with input shapes {shapes}"
        if c_error is not None and not isinstance(c_error, (ValueError, IndexError)):
            problems.append(f"{label}: C raised {type(c_error).__name__}: {c_error}")
        elif py_error is not None and c_error is None:
            problems.append(f"{label}: py raised {type(py_error).__name__} ({str(py_error)[:200]}) "
                            f"but C returned shapes {[np.shape(g) for g in got or []]}")
        elif py_error is None and c_error is not None:
            problems.append(f"{label}: py returned but C raised "
                            f"{type(c_error).__name__}: {str(c_error)[:300]}")
        elif py_error is None:
            for k, (g, e) in enumerate(zip(got or [], expected or [])):
                try:
                    assert_same(g, e, case.rtol, _atol(case, e), f"{label} output {k}")
                except AssertionError as exc:
                    problems.append(str(exc)[:500])
    assert not problems, "\n".join(problems)


def test_the_table_has_the_quick_cases():
    assert all(name in _BY_NAME for name in QUICK), [n for n in QUICK if n not in _BY_NAME]


@pytest.mark.parametrize("name", QUICK)
def test_wrong_shapes_raise_or_agree_with_py(name):
    _check_wrong_shapes(_BY_NAME[name])


@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in ALL_CASES if c.name not in QUICK and _wrong_shapes(c)],
                         ids=lambda c: c.name)
def test_wrong_shapes_raise_or_agree_with_py_for_every_case(case):
    _check_wrong_shapes(case)
