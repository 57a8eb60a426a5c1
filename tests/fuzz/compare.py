"""When the fuzzer calls two results equal.

The reference is the graph as written (``optimizer='none'``) run by the NumPy backend. The
candidate is the rewritten graph run in C. Three things make a naive ``allclose`` wrong:

1. **Ordinary rounding.** Different libm routines, fused loops, BLAS and summation orders
   differ in the last few bits. ``RTOL`` covers that for well-conditioned results: 1e-6 for
   float64 (about 4500 ulps: room for a chain of a few ops of a few ulps each, still six
   digits) and 1e-3 for float32 (about 8400 ulps; float32 paths may round each step or
   compute in double, and float32 libm/vector routines are allowed several ulps). ``ATOL``
   is the floor for results that should be zero or are far smaller than the values they
   were computed from: a relative tolerance is meaningless for them.

2. **Ill-conditioned formulas.** Where the formula cancels (``a*b - a*c``, a sum of +-1e300,
   ``1 - exp(1e-300)``) or sits on a cliff (``floor(2.0000001)``, ``exp(709.78)``, an argmax
   tie), a rewritten form may differ from the naive one by far more than ``RTOL`` while
   both are equally right. We do not guess conditioning: we *measure* it. The reference is
   also run ``SAMPLES`` times with Monte Carlo arithmetic (``rounding.py``: every rounding
   operation's result moved by a few units in the last place), and an element may differ
   from the reference by ``CONDITIONING_FACTOR`` times the spread those runs show. A
   well-conditioned element has a spread of a few ulps, so this adds nothing there; an
   element whose reference flips to inf/NaN under perturbation may be any finite value or
   that inf/NaN, and an integer or boolean result may take any value the perturbed runs
   took.

3. **Stability rewrites.** ``log(1 + exp(x))`` overflows to inf for x > ~709 where
   ``softplus(x)`` is finite and right; ``x - x`` gives NaN for x = inf where the rewritten
   ``0`` is finite. So an element may be finite where the reference is inf or NaN
   (``allow_stabilized``). A reference NaN means the formula as written hit an invalid
   operation (``inf * 0``, ``0 / 0``); a rewritten form that avoids it may give any value
   there, inf included (``(x * y) / y -> x`` gives x = inf for y = 0). Never the other way
   around: a NaN or inf in the candidate needs the same NaN/inf in the reference (or in one
   of its perturbed runs), an inf in the reference is never replaced by NaN or by the other
   inf, and when the two graphs are the same (C against py on the rewritten graph) the
   allowance is off.

Integer and boolean results must be equal except where perturbation shows them to depend
on rounding. dtypes and shapes must always be equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

RTOL = {"float64": 1e-6, "float32": 1e-3}
ATOL = {"float64": 1e-12, "float32": 1e-6}
CONDITIONING_FACTOR = 4.0
SAMPLES = 4  # two antithetic pairs


def roll(values: np.ndarray) -> np.ndarray:
    """Second-call values: the same elements, moved by one place (keeps indices valid)."""
    return np.roll(values.ravel(), 1).reshape(values.shape)


def bad_elements(
    got: np.ndarray, ref: np.ndarray, samples: Sequence[np.ndarray], allow_stabilized: bool
) -> np.ndarray:
    """A boolean array, True where ``got`` disagrees with the reference (see module doc)."""
    got = np.asarray(got)
    ref = np.asarray(ref)
    runs = [np.asarray(s) for s in samples if s is not None and np.shape(s) == ref.shape]
    if ref.dtype.kind != "f":
        as_int = (lambda a: a.astype(np.int64)) if ref.dtype.kind == "b" else (lambda a: a)
        stack = np.stack([as_int(ref)] + [as_int(r) for r in runs])
        value = as_int(got)
        return ~((value >= stack.min(axis=0)) & (value <= stack.max(axis=0)))
    dtype = ref.dtype.name
    with np.errstate(all="ignore"):
        ref64 = ref.astype(np.float64)
        got64 = got.astype(np.float64)
        finite_ref = np.isfinite(ref64)
        finite_got = np.isfinite(got64)
        spread = np.zeros(ref.shape)
        for run in runs:
            run64 = run.astype(np.float64)
            # a reference that leaves the finite numbers under rounding-level perturbation
            # sits on a cliff: any finite value is as good as its own
            diff = np.where(np.isfinite(run64), np.abs(run64 - ref64), np.inf)
            spread = np.maximum(spread, np.where(finite_ref, diff, 0.0))
        tolerance = RTOL[dtype] * np.abs(ref64) + ATOL[dtype] + CONDITIONING_FACTOR * spread
        close = finite_ref & finite_got & (np.abs(got64 - ref64) <= tolerance)
        if allow_stabilized:
            stabilized = (finite_got & ~finite_ref) | np.isnan(ref64)
        else:
            stabilized = np.zeros(ref.shape, bool)
        nan_ok = np.isnan(got64) & (np.isnan(ref64) | _any(runs, np.isnan))
        inf_ok = np.isinf(got64) & (
            (got64 == ref64) | _any(runs, lambda r: r.astype(np.float64) == got64)
        )
    return ~(close | stabilized | nan_ok | inf_ok)


def _any(runs: Sequence[np.ndarray], test: Any) -> Any:
    result: Any = False
    for run in runs:
        result = result | test(run)
    return result


def assert_agree(
    got: Any, ref: Any, samples: Sequence[Any], allow_stabilized: bool, what: str
) -> None:
    """Raise AssertionError describing the first disagreeing elements, if any."""
    got = np.asarray(got)
    ref = np.asarray(ref)
    assert got.dtype == ref.dtype, f"{what}: dtype {got.dtype} != reference {ref.dtype}"
    assert got.shape == ref.shape, f"{what}: shape {got.shape} != reference {ref.shape}"
    bad = bad_elements(got, ref, samples, allow_stabilized)
    if not bad.any():
        return
    positions = np.argwhere(bad)[:5]
    lines = [
        f"{what}: {int(bad.sum())} of {bad.size} elements disagree ({ref.dtype}{list(ref.shape)})"
    ]
    for pos in positions:
        index = tuple(int(i) for i in pos)
        seen = [np.asarray(s)[index] for s in samples if s is not None and np.shape(s) == ref.shape]
        lines.append(
            f"  at {index}: got {got[index]!r}, reference {ref[index]!r}, "
            f"perturbed reference {seen!r}"
        )
    raise AssertionError("\n".join(lines))
