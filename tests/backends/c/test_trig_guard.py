"""Flat elementwise loops compute sin and cos with the inline sg_vsin/sg_vcos, which are
accurate only for |x| <= 2^40 (2^17 in float32), and recompute the loop's range through
libmvec when an argument is past that (emit/elemwise.py, _guarded_trig_loop). These tests
put such arguments among ordinary ones, in every form the emitter produces: a direct input,
a composite's shared local, float32, and an update computed over its own buffer (where the
inputs are overwritten, so the loop must not take the fast pass at all)."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph as sg
import symgraph.tensor as T
from symgraph.backends.c import build

pytestmark = [pytest.mark.needs_gcc, pytest.mark.skipif(build.compiler() is None, reason="needs gcc")]

N = 300_000  # past the OpenMP threshold: each thread checks its own range


def _source(f) -> str:
    return "\n".join(s.source for s in f.maker.runner.sources)


def _ulp(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """|got - want| in units of want's last place (want computed in the same dtype)."""
    want = want.astype(got.dtype)
    both_nan = np.isnan(got) & np.isnan(want)
    spacing = np.spacing(np.abs(want)).astype(np.float64)
    err = np.abs(got.astype(np.float64) - want.astype(np.float64)) / spacing
    return np.where(both_nan, 0.0, err)


def _arguments(dtype: str, rng: np.random.Generator, huge_every: int | None) -> np.ndarray:
    v = rng.uniform(-50, 50, N)
    if huge_every:
        limit = 2.0 ** 40 if dtype == "float64" else 2.0 ** 17
        v[::huge_every] = rng.uniform(2, 1e6, v[::huge_every].size) * limit * rng.choice([-1, 1])
    return v.astype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("fn", ["sin", "cos"])
@pytest.mark.parametrize("huge_every", [None, 997, N - 1])
def test_fast_trig_matches_numpy_including_huge_arguments(dtype, fn, huge_every, rng):
    x = T.tensor(dtype, shape=(None,))
    f = sg.compile_function([x], getattr(T, fn)(x) * 2 + 1, mode="c")
    tag = "f64" if dtype == "float64" else "f32"
    source = _source(f)
    assert f"sg_v{fn}_{tag}(p0[k])" in source and f"sg_trig_bad |= (!sg_vtrig_ok_{tag}(p0[k]))" in source
    v = _arguments(dtype, rng, huge_every)
    got = np.asarray(f(v))
    want = getattr(np, fn)(v.astype(np.float64)) * 2 + 1
    # 2 ulp of sin/cos, doubled and shifted by 1; past the fast range the fast pass would
    # give +-1 (sin(0) * 2 + 1 and the like), wrong by up to 2
    tol = 8 * np.finfo(dtype).eps
    bad = np.abs(got - want) > tol
    assert not bad.any(), list(zip(v[bad][:5], got[bad][:5], want[bad][:5]))


def test_huge_argument_in_a_composites_shared_local(rng):
    """sin and cos of a value the fused loop computes once (a local of the composite's
    statement expression): the guard is checked inside the expression."""
    x = T.dvector("x")
    s = x * 3.0
    f = sg.compile_function([x], T.sin(s) + T.cos(s), mode="c")
    source = _source(f)
    assert "sgt_" in source and "sg_trig_bad |= (!sg_vtrig_ok_f64(sgt_" in source
    for huge_every in (None, 5001):
        v = _arguments("float64", rng, huge_every) / 3
        s_ = v * 3.0
        want = np.sin(s_) + np.cos(s_)
        got = np.asarray(f(v))
        np.testing.assert_allclose(got, want, rtol=0, atol=16 * np.finfo(float).eps)


def test_update_over_its_own_buffer_recomputes_from_the_original_values():
    """w <- sin(w) * 2 is computed over w's buffer: the fast pass would have overwritten the
    arguments it must recompute from, so the kernel goes straight to the libmvec loop."""
    vals = np.linspace(-3, 3, N)
    vals[::1000] = 3e15
    w = sg.shared(vals.copy(), name="w")
    f = sg.compile_function([], [], updates={w: T.sin(w) * 2.0}, mode="c")
    source = _source(f)
    assert "sg_over" in source and "sg_apart(po + lo, po + hi, p0 + lo, p0 + hi)" in source
    f()
    np.testing.assert_allclose(w.get_value(), np.sin(vals) * 2, rtol=0, atol=8 * np.finfo(float).eps)


def test_special_values():
    x = T.dvector("x")
    f = sg.compile_function([x], T.sin(x), mode="c")
    g = sg.compile_function([x], T.cos(x), mode="c")
    v = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 2.0 ** 40, 2.0 ** 41, -(2.0 ** 60), 1e308, 5e-324])
    for fn, ref in ((f, np.sin), (g, np.cos)):
        with np.errstate(invalid="ignore"):
            got, want = np.asarray(fn(v)), ref(v)
        same = (np.isnan(got) & np.isnan(want)) | ((np.abs(got - want) <= 4e-16) & (np.signbit(got) == np.signbit(want)))
        assert same.all(), (fn, v[~same], got[~same], want[~same])


def test_a_loop_with_many_sin_and_cos_keeps_libmvec(rng):
    """Past MAX_GUARDED_TRIG calls the inline code would cost gcc more than it saves (W6's
    gradient kernels): one plain loop calling libmvec, as accurate everywhere."""
    from symgraph.backends.c.emit.elemwise import MAX_GUARDED_TRIG

    x = T.dvector("x")
    terms = [T.sin(x * (k + 1.0)) for k in range(MAX_GUARDED_TRIG + 1)]
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    f = sg.compile_function([x], out, mode="c")
    source = _source(f)
    assert "sg_trig_bad" not in source and "sg_vsin_f64" not in source
    assert source.count("#pragma omp simd") == 1
    v = _arguments("float64", rng, 997) / (MAX_GUARDED_TRIG + 1)
    want = sum(np.sin(v * (k + 1.0)) for k in range(MAX_GUARDED_TRIG + 1))
    np.testing.assert_allclose(np.asarray(f(v)), want, rtol=0, atol=16 * np.finfo(float).eps)
