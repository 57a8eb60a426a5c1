"""verify_grad: check a symbolic gradient against central finite differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from symgraph.errors import GradientError
from symgraph.tensor.type import TensorType

# (eps, abs_tol, rel_tol) by the dtype the function computes in
_DEFAULTS = {
    "float64": (1e-6, 1e-5, 1e-5),
    "float32": (3e-3, 1e-2, 1e-2),
    "float16": (1e-1, 1e-1, 1e-1),
}


def verify_grad(
    fun: Callable[..., Any],
    points: Sequence[Any],
    n_tests: int = 2,
    rng: np.random.Generator | np.random.RandomState | None = None,
    eps: float | None = None,
    out_type: Any = None,
    abs_tol: float | None = None,
    rel_tol: float | None = None,
    mode: str | None = None,
    cast_to_output_type: bool = False,
    no_debug_ref: bool = True,
) -> None:
    """Check the gradient of ``fun`` at ``points`` by finite differences.

    ``fun`` takes one symbolic tensor per point and returns one symbolic tensor. The
    output is projected onto a random direction to make a scalar cost; its gradient
    with respect to every input is compared with central differences. Raises
    ``GradientError`` (an AssertionError) describing the worst mismatch.

    >>> verify_grad(lambda x: T.tanh(x).sum(), [np.array([0.1, 0.7])])
    """
    from symgraph.compile.function import compile_function
    from symgraph.gradient.reverse import grad

    if rng is None:
        rng = np.random.default_rng(42)
    arrays = [np.array(p, dtype=np.asarray(p).dtype if np.asarray(p).dtype.kind in "fc" else "float64")
              for p in points]
    inputs = [TensorType(a.dtype.name, (None,) * a.ndim).make_variable(f"input_{i}") for i, a in enumerate(arrays)]
    out = fun(*inputs)
    if isinstance(out, (list, tuple)):
        raise TypeError("verify_grad: fun must return a single tensor")
    from symgraph.tensor.variable import as_tensor_variable

    out = as_tensor_variable(out)
    out_fn = compile_function(inputs, out, mode=mode, on_unused_input="ignore")
    out_value = np.asarray(out_fn(*arrays))
    dtype = out.dtype if out.dtype in _DEFAULTS else "float64"
    for a in arrays:
        if a.dtype.name in _DEFAULTS and _DEFAULTS[a.dtype.name][0] > _DEFAULTS[dtype][0]:
            dtype = a.dtype.name
    d_eps, d_abs, d_rel = _DEFAULTS[dtype]
    eps = d_eps if eps is None else eps
    abs_tol = d_abs if abs_tol is None else abs_tol
    rel_tol = d_rel if rel_tol is None else rel_tol

    for _ in range(n_tests):
        direction = np.asarray(_uniform(rng, out_value.shape), dtype=out.dtype)
        cost = (out * direction).sum()
        cost_fn = compile_function(inputs, cost, mode=mode, on_unused_input="ignore")
        grads = grad(cost, inputs, disconnected_inputs="ignore")
        grad_fn = compile_function(inputs, grads, mode=mode, on_unused_input="ignore")
        analytic = [np.asarray(g, dtype="float64") for g in grad_fn(*arrays)]
        for k, (a, g_sym) in enumerate(zip(arrays, analytic)):
            numeric = np.zeros(a.shape, dtype="float64")
            for pos in np.ndindex(*a.shape):
                args = [x.copy() for x in arrays]
                args[k][pos] = a[pos] + eps
                plus = float(cost_fn(*args))
                args[k][pos] = a[pos] - eps
                minus = float(cost_fn(*args))
                numeric[pos] = (plus - minus) / (2 * eps)
            _compare(k, a, g_sym, numeric, abs_tol, rel_tol, eps)


def _uniform(rng: Any, shape: tuple[int, ...]) -> np.ndarray:
    if hasattr(rng, "random"):
        return 0.5 + rng.random(shape)
    return 0.5 + rng.rand(*shape)


def _compare(k: int, point: np.ndarray, analytic: np.ndarray, numeric: np.ndarray,
             abs_tol: float, rel_tol: float, eps: float) -> None:
    if analytic.shape != numeric.shape:
        raise GradientError(
            f"verify_grad: the gradient of input {k} has shape {analytic.shape}, the input has {numeric.shape}"
        )
    abs_err = np.abs(analytic - numeric)
    rel_err = abs_err / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8)
    bad = (abs_err > abs_tol) & (rel_err > rel_tol) | ~np.isfinite(analytic)
    if bad.any():
        worst = np.unravel_index(np.argmax(np.where(bad, abs_err, -1)), abs_err.shape) if abs_err.ndim else ()
        raise GradientError(
            f"verify_grad: gradient mismatch for input {k} (shape {point.shape}, dtype {point.dtype}) "
            f"at position {tuple(int(i) for i in worst)} where the input is {point[worst]!r}:\n"
            f"  analytic {analytic[worst]!r}\n  numeric  {numeric[worst]!r}\n"
            f"  abs error {abs_err[worst]:.3g} (tolerance {abs_tol:g}), "
            f"rel error {rel_err[worst]:.3g} (tolerance {rel_tol:g}), eps {eps:g}; "
            f"{int(bad.sum())} of {bad.size} positions disagree"
        )
