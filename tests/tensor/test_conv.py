"""conv2d and pool_2d (symgraph/tensor/conv.py): values against direct loops written here,
shapes, dtypes, errors, gradients by finite differences (first and second order), the C
backend (through its Python fallback), the Theano compat modules and a tiny LeNet that
trains."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pytest
import scipy.signal

import symgraph as sg
import symgraph.tensor as T
from symgraph.gradient import verify_grad
from symgraph.tensor.conv import (
    AveragePool2dGrad,
    Conv2d,
    Conv2dGradInputs,
    Conv2dGradWeights,
    MaxPool2dGrad,
    MaxPool2dGradGrad,
    Pool2d,
)
from tests.differential.harness import OpCase, assert_backends_agree, assert_same

MODES = ["py", "c"]


# ---------------------------------------------------------------------------------------
# Slow references: direct loops over every output element
# ---------------------------------------------------------------------------------------
def _padding(border_mode: Any, kh: int, kw: int) -> tuple[int, int]:
    if border_mode == "valid":
        return 0, 0
    if border_mode == "full":
        return kh - 1, kw - 1
    if border_mode == "half":
        return kh // 2, kw // 2
    if isinstance(border_mode, int):
        return border_mode, border_mode
    return tuple(border_mode)  # type: ignore[return-value]


def _zero_padded(x: np.ndarray, ph: int, pw: int) -> np.ndarray:
    out = np.zeros(x.shape[:-2] + (x.shape[-2] + 2 * ph, x.shape[-1] + 2 * pw), dtype=x.dtype)
    out[..., ph:ph + x.shape[-2], pw:pw + x.shape[-1]] = x
    return out


def _conv_geometry(x_shape, w_shape, border_mode, subsample):
    kh, kw = w_shape[2:]
    ph, pw = _padding(border_mode, kh, kw)
    sh, sw = subsample
    oh = (x_shape[2] + 2 * ph - kh) // sh + 1
    ow = (x_shape[3] + 2 * pw - kw) // sw + 1
    return ph, pw, sh, sw, oh, ow


def ref_conv2d(x, w, border_mode="valid", subsample=(1, 1), filter_flip=True):
    ph, pw, sh, sw, oh, ow = _conv_geometry(x.shape, w.shape, border_mode, subsample)
    xp = _zero_padded(x, ph, pw)
    kernel = w[:, :, ::-1, ::-1] if filter_flip else w
    kh, kw = w.shape[2:]
    out = np.zeros((x.shape[0], w.shape[0], oh, ow), dtype=np.result_type(x, w))
    for n, o, i, j in np.ndindex(*out.shape):
        out[n, o, i, j] = np.sum(xp[n, :, i * sh:i * sh + kh, j * sw:j * sw + kw] * kernel[o])
    return out


def ref_conv2d_grad_input(x_shape, w, g, border_mode="valid", subsample=(1, 1), filter_flip=True):
    """d sum(conv2d(x, w) * g) / dx."""
    ph, pw, sh, sw, _, _ = _conv_geometry(x_shape, w.shape, border_mode, subsample)
    kernel = w[:, :, ::-1, ::-1] if filter_flip else w
    kh, kw = w.shape[2:]
    gxp = np.zeros((x_shape[0], x_shape[1], x_shape[2] + 2 * ph, x_shape[3] + 2 * pw))
    for n, o, i, j in np.ndindex(*g.shape):
        gxp[n, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += g[n, o, i, j] * kernel[o]
    return gxp[:, :, ph:ph + x_shape[2], pw:pw + x_shape[3]]


def ref_conv2d_grad_weights(x, w_shape, g, border_mode="valid", subsample=(1, 1), filter_flip=True):
    """d sum(conv2d(x, w) * g) / dw."""
    ph, pw, sh, sw, _, _ = _conv_geometry(x.shape, w_shape, border_mode, subsample)
    xp = _zero_padded(x, ph, pw)
    kh, kw = w_shape[2:]
    gw = np.zeros(w_shape)
    for n, o, i, j in np.ndindex(*g.shape):
        gw[o] += g[n, o, i, j] * xp[n, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
    return gw[:, :, ::-1, ::-1] if filter_flip else gw


def _pool_count(length, ws, st, pad, ignore_border):
    """How many windows, by trying: whole windows only, or enough to cover the input."""
    count = 0
    if ignore_border:
        while count * st + ws <= length + 2 * pad:
            count += 1
    elif st >= ws:
        while count * st < length:
            count += 1
    else:
        count = 1
        while (count - 1) * st + ws < length:
            count += 1
    return count


def _pool_windows(shape, ws, ignore_border, stride, pad, mode):
    """For each output position (r, c): the row and column ranges of its window in padded
    coordinates (Theano's rule: the window clipped to the padded input, and to the real
    input for every mode but average_inc_pad)."""
    stride = stride or ws
    counts = [_pool_count(shape[-2 + a], ws[a], stride[a], pad[a], ignore_border) for a in range(2)]
    for r in range(counts[0]):
        for c in range(counts[1]):
            ranges = []
            for axis, start in enumerate((r * stride[0], c * stride[1])):
                length = shape[-2 + axis]
                end = min(start + ws[axis], length + 2 * pad[axis])
                if mode != "average_inc_pad":
                    start, end = max(start, pad[axis]), min(end, pad[axis] + length)
                ranges.append((start, end))
            yield r, c, ranges, counts


def ref_pool(x, ws, ignore_border=True, stride=None, pad=(0, 0), mode="max"):
    xp = _zero_padded(x, *pad)
    out = None
    for r, c, ((r0, r1), (c0, c1)), counts in _pool_windows(x.shape, ws, ignore_border, stride, pad, mode):
        if out is None:
            dtype = x.dtype if mode in ("max", "sum") else np.result_type(x.dtype, np.float64)
            out = np.zeros(x.shape[:-2] + tuple(counts), dtype=dtype)
        window = xp[..., r0:r1, c0:c1]
        if mode == "max":
            out[..., r, c] = window.max(axis=(-2, -1))
        elif mode == "sum":
            out[..., r, c] = window.sum(axis=(-2, -1))
        else:
            out[..., r, c] = window.sum(axis=(-2, -1)) / ((r1 - r0) * (c1 - c0))
    return out


def ref_pool_grad(x, g, ws, ignore_border=True, stride=None, pad=(0, 0), mode="max"):
    """d sum(pool(x) * g) / dx; for max, every position equal to the window's max gets g."""
    xp = _zero_padded(x, *pad)
    gxp = np.zeros(xp.shape)
    pooled = ref_pool(x, ws, ignore_border, stride, pad, mode)
    for r, c, ((r0, r1), (c0, c1)), _ in _pool_windows(x.shape, ws, ignore_border, stride, pad, mode):
        g_rc = g[..., r, c][..., None, None]
        if mode == "max":
            hit = xp[..., r0:r1, c0:c1] == pooled[..., r, c][..., None, None]
            gxp[..., r0:r1, c0:c1] += hit * g_rc
        elif mode == "sum":
            gxp[..., r0:r1, c0:c1] += g_rc
        else:
            gxp[..., r0:r1, c0:c1] += g_rc / ((r1 - r0) * (c1 - c0))
    return gxp[..., pad[0]:pad[0] + x.shape[-2], pad[1]:pad[1] + x.shape[-1]]


def _sample(shape, dtype="float64", seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, size=shape).astype(dtype)


def _compile(inputs, outputs, mode):
    return sg.compile_function(inputs, outputs, mode=mode)


# ---------------------------------------------------------------------------------------
# conv2d values
# ---------------------------------------------------------------------------------------
BORDER_MODES = ["valid", "full", "half", 1, (2, 0)]
SUBSAMPLES = [(1, 1), (2, 1), (2, 3)]


@pytest.mark.parametrize("border_mode", BORDER_MODES, ids=str)
@pytest.mark.parametrize("subsample", SUBSAMPLES, ids=str)
@pytest.mark.parametrize("filter_flip", [True, False])
def test_conv2d_matches_loops(border_mode, subsample, filter_flip):
    x, w = T.dtensor4("x"), T.dtensor4("w")
    y = T.nnet.conv2d(x, w, border_mode=border_mode, subsample=subsample, filter_flip=filter_flip)
    xv, wv = _sample((2, 3, 7, 6), seed=1), _sample((4, 3, 3, 2), seed=2)
    expected = ref_conv2d(xv, wv, border_mode, subsample, filter_flip)
    got = assert_backends_agree([x, w], y, [xv, wv], rtol=1e-12, atol=1e-12)
    assert_same(got, expected, 1e-12, 1e-12, "conv2d")


@pytest.mark.parametrize("mode", ["valid", "full"])
def test_conv2d_single_channel_is_scipy_convolve2d(mode):
    xv, wv = _sample((1, 1, 6, 5), seed=3), _sample((1, 1, 3, 4), seed=4)
    x, w = T.dtensor4("x"), T.dtensor4("w")
    f = _compile([x, w], [T.nnet.conv2d(x, w, border_mode=mode),
                          T.nnet.conv2d(x, w, border_mode=mode, filter_flip=False)], "py")
    conv, corr = f(xv, wv)
    np.testing.assert_allclose(conv[0, 0], scipy.signal.convolve2d(xv[0, 0], wv[0, 0], mode=mode), atol=1e-12)
    np.testing.assert_allclose(corr[0, 0], scipy.signal.correlate2d(xv[0, 0], wv[0, 0], mode=mode), atol=1e-12)


@pytest.mark.parametrize(("x_dtype", "w_dtype", "expected"), [
    ("float32", "float32", "float32"), ("float32", "float64", "float64"), ("float64", "float32", "float64"),
])
def test_conv2d_dtype_is_the_upcast(x_dtype, w_dtype, expected):
    x, w = T.tensor4("x", dtype=x_dtype), T.tensor4("w", dtype=w_dtype)
    y = T.nnet.conv2d(x, w, border_mode="half")
    assert y.dtype == expected
    xv, wv = _sample((2, 2, 5, 5), x_dtype), _sample((3, 2, 3, 3), w_dtype)
    got = assert_backends_agree([x, w], y, [xv, wv], rtol=1e-6, atol=1e-6)
    assert got.dtype == np.dtype(expected)
    np.testing.assert_allclose(got, ref_conv2d(xv.astype("float64"), wv.astype("float64"), "half"),
                               rtol=1e-5, atol=1e-5)


def test_conv2d_static_shape_and_symbolic_shape():
    x = T.tensor("float64", shape=(None, 3, 28, None), name="x")
    w = T.tensor("float64", shape=(8, 3, 5, 5), name="w")
    assert T.nnet.conv2d(x, w).type.shape == (None, 8, 24, None)
    assert T.nnet.conv2d(x, w, border_mode="full", subsample=(2, 2)).type.shape == (None, 8, 16, None)
    assert T.nnet.conv2d(x, w, border_mode="half").type.shape == (None, 8, 28, None)
    xs, ws = T.dtensor4("xs"), T.dtensor4("ws")
    xv, wv = _sample((2, 3, 9, 8)), _sample((4, 3, 4, 3))
    for border_mode in BORDER_MODES:
        for subsample in SUBSAMPLES:
            y = T.nnet.conv2d(xs, ws, border_mode=border_mode, subsample=subsample)
            # the shape alone, which infer_shape answers without running the convolution
            f = _compile([xs, ws], [y.shape, y], "py")
            shape, value = f(xv, wv)
            assert tuple(shape) == value.shape == ref_conv2d(xv, wv, border_mode, subsample).shape
            assert not any(isinstance(n.op, Conv2d) for n in _compile([xs, ws], y.shape, "py").maker.fgraph.toposort())


def test_conv2d_rejects_bad_inputs_with_clear_errors():
    x, w = T.tensor("float64", shape=(None, 3, None, None)), T.tensor("float64", shape=(4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"\(\?, 3, \?, \?\).*3 channels.*\(4, 2, 3, 3\).*expect 2"):
        T.nnet.conv2d(x, w)
    with pytest.raises(TypeError, match="4-d"):
        T.nnet.conv2d(T.dmatrix(), T.dtensor4())
    with pytest.raises(TypeError, match="float32 or float64"):
        T.nnet.conv2d(T.itensor4(), T.dtensor4())
    with pytest.raises(ValueError, match="border_mode"):
        T.nnet.conv2d(T.dtensor4(), T.dtensor4(), border_mode="same")
    with pytest.raises(ValueError, match="subsample"):
        T.nnet.conv2d(T.dtensor4(), T.dtensor4(), subsample=(0, 1))
    with pytest.raises(ValueError, match="filter_dilation"):
        T.nnet.conv2d(T.dtensor4(), T.dtensor4(), filter_dilation=(0, 2))
    with pytest.raises(ValueError, match="num_groups must be a positive integer, got 0"):
        T.nnet.conv2d(T.dtensor4(), T.dtensor4(), num_groups=0)
    grouped = T.tensor("float64", shape=(None, 6, None, None))
    with pytest.raises(ValueError, match=r"num_groups=4 must divide the filters' 6 output channels"):
        T.nnet.conv2d(grouped, T.tensor("float64", shape=(6, 3, 3, 3)), num_groups=4)
    with pytest.raises(ValueError, match=r"num_groups=3.*\(6, 3, 3, 3\) take 3 channels.*needs 9.*"
                                         r"\(\?, 6, \?, \?\) has 6"):
        T.nnet.conv2d(grouped, T.tensor("float64", shape=(6, 3, 3, 3)), num_groups=3)


def _ref_dilated(w, dilation):
    dh, dw = dilation
    o, c, kh, kw = w.shape
    spread = np.zeros((o, c, (kh - 1) * dh + 1, (kw - 1) * dw + 1), dtype=w.dtype)
    spread[:, :, ::dh, ::dw] = w
    return spread


def _ref_grouped(x, w, groups, **kwargs):
    cg, og = w.shape[1], w.shape[0] // groups
    return np.concatenate([ref_conv2d(x[:, g * cg:(g + 1) * cg], w[g * og:(g + 1) * og], **kwargs)
                           for g in range(groups)], axis=1)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("border_mode", ["valid", "half", "full", (1, 2)])
@pytest.mark.parametrize("filter_flip", [True, False])
def test_conv2d_filter_dilation_matches_loops_with_spread_kernels(mode, border_mode, filter_flip):
    # Theano's atrous convolution: taps (d - 1) apart; 'half' and 'full' pad for the span
    x, w = T.dtensor4("x"), T.dtensor4("w")
    xv, wv = _sample((2, 3, 11, 10), seed=1), _sample((4, 3, 3, 2), seed=2)
    for dilation, subsample in [((2, 3), (1, 1)), ((3, 1), (2, 1))]:
        f = _compile([x, w], T.nnet.conv2d(x, w, border_mode=border_mode, subsample=subsample,
                                           filter_flip=filter_flip, filter_dilation=dilation), mode)
        want = ref_conv2d(xv, _ref_dilated(wv, dilation), border_mode, subsample, filter_flip)
        got = f(xv, wv)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # only the taps get gradients
    verify_grad(lambda a, b: T.nnet.conv2d(a, b, border_mode="half", filter_dilation=(2, 2)),
                [xv[:1, :, :6, :6], wv[:2]], mode=mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("groups", [2, 3])
def test_conv2d_num_groups_convolves_each_channel_group_with_its_filters(mode, groups):
    x, w = T.dtensor4("x"), T.dtensor4("w")
    xv, wv = _sample((2, 2 * groups, 7, 6), seed=3), _sample((2 * groups, 2, 3, 3), seed=4)
    f = _compile([x, w], T.nnet.conv2d(x, w, border_mode="half", num_groups=groups), mode)
    np.testing.assert_allclose(f(xv, wv), _ref_grouped(xv, wv, groups, border_mode="half"),
                               rtol=1e-12, atol=1e-12)
    both = _compile([x, w], T.nnet.conv2d(x, w, num_groups=groups, filter_dilation=(2, 1)), mode)
    np.testing.assert_allclose(both(xv, wv), _ref_grouped(xv, _ref_dilated(wv, (2, 1)), groups),
                               rtol=1e-12, atol=1e-12)
    verify_grad(lambda a, b: T.nnet.conv2d(a, b, num_groups=groups), [xv[:1, :, :5, :5], wv], mode=mode)
    # channels the graph did not know at compile time are checked when it runs
    with pytest.raises(Exception, match=r"reshape|size"):
        f(_sample((2, 2 * groups + 1, 7, 6)), wv)


@pytest.mark.parametrize("mode", MODES)
def test_conv2d_channel_mismatch_at_run_time_names_both_shapes(mode):
    x, w = T.dtensor4("x"), T.dtensor4("w")
    f = _compile([x, w], T.tanh(T.nnet.conv2d(x, w)), mode)
    with pytest.raises(ValueError, match=r"\(2, 3, 5, 5\) has 3 channels.*\(4, 2, 3, 3\) expect 2"):
        f(_sample((2, 3, 5, 5)), _sample((4, 2, 3, 3)))
    with pytest.raises(ValueError, match="larger than the input"):
        f(_sample((2, 2, 2, 5)), _sample((4, 2, 3, 3)))


def test_conv2d_shape_hints_are_checked_against_static_shapes():
    x = T.tensor("float64", shape=(None, 1, 28, 28))
    w = T.dtensor4("w")
    y = T.nnet.conv2d(x, w, input_shape=(50, 1, 28, 28), filter_shape=(20, 1, 5, 5))
    assert y.type.shape == (None, None, None, None)  # the hints do not change the graph
    with pytest.raises(ValueError, match="input_shape"):
        T.nnet.conv2d(x, w, input_shape=(50, 3, 28, 28))
    with pytest.raises(ValueError, match="filter_shape"):
        T.nnet.conv2d(x, w, filter_shape=(20, 1, 5))
    with pytest.raises(TypeError, match="input_shape=..."):
        T.nnet.conv2d(x, w, (50, 1, 28, 28))  # Theano's positional input_shape


def test_functions_with_conv_and_pool_pickle():
    import pickle

    x, w = T.dtensor4("x"), T.dtensor4("w")
    y = T.nnet.pool_2d(T.nnet.conv2d(x, w, border_mode=(1, 2), subsample=(2, 1)), (2, 2), mode="sum")
    f = _compile([x, w], [y, T.grad(y.sum(), w)], "c")
    xv, wv = _sample((2, 2, 6, 5)), _sample((3, 2, 3, 3))
    for got, expected in zip(pickle.loads(pickle.dumps(f))(xv, wv), f(xv, wv)):
        np.testing.assert_array_equal(got, expected)


# ---------------------------------------------------------------------------------------
# pool_2d values
# ---------------------------------------------------------------------------------------
POOL_MODES = ["max", "sum", "average_inc_pad", "average_exc_pad"]
POOL_SETTINGS = [  # (ws, ignore_border, stride, pad)
    ((2, 2), True, None, (0, 0)),
    ((2, 2), False, None, (0, 0)),
    ((3, 2), True, (1, 2), (0, 0)),
    ((3, 2), False, (1, 2), (0, 0)),
    ((2, 3), False, (3, 1), (0, 0)),
    ((3, 3), True, (2, 2), (1, 2)),
    ((2, 3), True, None, (1, 1)),
]


@pytest.mark.parametrize("mode", POOL_MODES)
@pytest.mark.parametrize("settings", POOL_SETTINGS, ids=str)
def test_pool_2d_matches_loops(mode, settings):
    ws, ignore_border, stride, pad = settings
    x = T.dtensor4("x")
    y = T.nnet.pool_2d(x, ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode)
    xv = _sample((2, 3, 7, 5), seed=5)
    got = assert_backends_agree([x], y, [xv], rtol=1e-12, atol=1e-12)
    assert_same(got, ref_pool(xv, ws, ignore_border, stride, pad, mode), 1e-12, 1e-12, "pool_2d")


def test_pool_2d_known_values_of_partial_windows():
    x = T.dmatrix("x")
    value = np.arange(25.0).reshape(5, 5)
    f = _compile([x], [T.nnet.pool_2d(x, (2, 2), ignore_border=False),
                       T.nnet.pool_2d(x, (2, 2), ignore_border=False, mode="average_exc_pad"),
                       T.nnet.pool_2d(x, (2, 2), ignore_border=True)], "py")
    biggest, average, whole = f(value)
    np.testing.assert_array_equal(biggest, [[6, 8, 9], [16, 18, 19], [21, 23, 24]])
    np.testing.assert_array_equal(average[2], [20.5, 22.5, 24.0])  # the corner window holds 24 alone
    np.testing.assert_array_equal(whole, [[6, 8], [16, 18]])


def test_pool_2d_max_never_picks_padding_and_averages_count_it_as_told():
    x = T.dmatrix("x")
    value = -np.ones((2, 2))  # every real value is below the zero padding
    f = _compile([x], [T.nnet.pool_2d(x, (2, 2), pad=(1, 1), mode=mode) for mode in POOL_MODES], "py")
    biggest, total, inc_pad, exc_pad = f(value)
    np.testing.assert_array_equal(biggest, -np.ones((2, 2)))
    np.testing.assert_array_equal(total, -np.ones((2, 2)))
    np.testing.assert_array_equal(inc_pad, -np.ones((2, 2)) / 4)
    np.testing.assert_array_equal(exc_pad, -np.ones((2, 2)))


@pytest.mark.parametrize("ndim", [2, 3, 5])
def test_pool_2d_pools_the_last_two_axes_of_any_rank(ndim):
    x = T.tensor("float64", shape=(None,) * ndim)
    xv = _sample((2, 3, 4, 6, 5)[-ndim:], seed=6)
    y = T.nnet.pool_2d(x, (2, 3), ignore_border=False, mode="average_inc_pad")
    got = assert_backends_agree([x], y, [xv], rtol=1e-12, atol=1e-12)
    assert_same(got, ref_pool(xv, (2, 3), False, None, (0, 0), "average_inc_pad"), 1e-12, 1e-12, "pool")


@pytest.mark.parametrize(("dtype", "mode", "expected"), [
    ("float32", "max", "float32"), ("float32", "average_exc_pad", "float32"), ("int32", "max", "int32"),
    ("int32", "sum", "int32"), ("int32", "average_inc_pad", "float64"), ("int8", "average_exc_pad", "float32"),
])
def test_pool_2d_dtypes(dtype, mode, expected):
    x = T.tensor(dtype, shape=(None, None, None))
    y = T.nnet.pool_2d(x, (2, 2), ignore_border=False, mode=mode)
    assert y.dtype == expected
    xv = np.random.default_rng(0).integers(-50, 50, size=(2, 5, 5)).astype(dtype)
    got = assert_backends_agree([x], y, [xv], rtol=1e-6, atol=1e-6)
    assert got.dtype == np.dtype(expected)
    np.testing.assert_allclose(got, ref_pool(xv.astype("float64"), (2, 2), False, None, (0, 0), mode), rtol=1e-6)


def test_pool_2d_static_and_symbolic_shapes():
    x = T.tensor("float64", shape=(None, 4, 7, None))
    assert T.nnet.pool_2d(x, (2, 2)).type.shape == (None, 4, 3, None)
    assert T.nnet.pool_2d(x, (2, 2), ignore_border=False).type.shape == (None, 4, 4, None)
    assert T.nnet.pool_2d(x, (3, 3), stride=(1, 1), pad=(1, 1)).type.shape == (None, 4, 7, None)
    xs = T.dtensor4("xs")
    xv = _sample((2, 3, 7, 5))
    for ws, ignore_border, stride, pad in POOL_SETTINGS:
        y = T.nnet.pool_2d(xs, ws, ignore_border=ignore_border, stride=stride, pad=pad)
        shape, value = _compile([xs], [y.shape, y], "py")(xv)
        assert tuple(shape) == value.shape == ref_pool(xv, ws, ignore_border, stride, pad).shape


def test_pool_2d_rejects_bad_arguments():
    x = T.dtensor4("x")
    with pytest.raises(ValueError, match="ignore_border=True"):
        T.nnet.pool_2d(x, (2, 2), ignore_border=False, pad=(1, 1))
    with pytest.raises(ValueError, match="smaller than ws"):
        T.nnet.pool_2d(x, (2, 2), pad=(2, 0))
    with pytest.raises(ValueError, match="mode"):
        T.nnet.pool_2d(x, (2, 2), mode="average")
    with pytest.raises(TypeError, match="at least 2 axes"):
        T.nnet.pool_2d(T.dvector(), (2, 2))
    with pytest.raises(ValueError, match="ws"):
        T.nnet.pool_2d(x, (0, 2))


# ---------------------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("border_mode", "subsample", "filter_flip"), [
    ("valid", (1, 1), True), ("full", (2, 1), True), ("half", (1, 2), False), ((1, 2), (2, 2), True),
    (2, (3, 1), False),
], ids=str)
def test_conv2d_gradients_match_loops_and_finite_differences(border_mode, subsample, filter_flip):
    xv, wv = _sample((2, 2, 6, 5), seed=7), _sample((3, 2, 3, 2), seed=8)
    params = {"border_mode": border_mode, "subsample": subsample, "filter_flip": filter_flip}
    verify_grad(lambda a, b: T.nnet.conv2d(a, b, **params), [xv, wv], mode="py")
    x, w = T.dtensor4("x"), T.dtensor4("w")
    y = T.nnet.conv2d(x, w, **params)
    g = _sample(ref_conv2d(xv, wv, border_mode, subsample, filter_flip).shape, seed=9)
    gx, gw = T.grad((y * g).sum(), [x, w])
    got_x, got_w = assert_backends_agree([x, w], [gx, gw], [xv, wv], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_x, ref_conv2d_grad_input(xv.shape, wv, g, **params), atol=1e-12)
    np.testing.assert_allclose(got_w, ref_conv2d_grad_weights(xv, wv.shape, g, **params), atol=1e-12)


def test_conv2d_gradient_where_stride_skips_the_last_rows():
    # (7 - 3) // 3 + 1 = 2 rows of output cover input rows 0..5; row 6 gets zero gradient
    xv, wv = _sample((1, 1, 7, 4)), _sample((1, 1, 3, 3))
    x, w = T.dtensor4("x"), T.dtensor4("w")
    gx = T.grad(T.nnet.conv2d(x, w, subsample=(3, 1)).sum(), x)
    value = _compile([x, w], gx, "py")(xv, wv)
    assert value.shape == xv.shape and not value[0, 0, 6].any() and value[0, 0, 5].any()


@pytest.mark.parametrize("mode", POOL_MODES)
@pytest.mark.parametrize("settings", [s for s in POOL_SETTINGS if s[2] is not None or s[3] != (0, 0)]
                         + [((2, 2), False, None, (0, 0))], ids=str)
def test_pool_2d_gradients_match_loops_and_finite_differences(mode, settings):
    ws, ignore_border, stride, pad = settings
    xv = _sample((2, 2, 7, 5), seed=10)
    kwargs = {"ignore_border": ignore_border, "stride": stride, "pad": pad, "mode": mode}
    verify_grad(lambda a: T.nnet.pool_2d(a, ws, **kwargs), [xv], mode="py")
    x = T.dtensor4("x")
    y = T.nnet.pool_2d(x, ws, **kwargs)
    g = _sample(ref_pool(xv, ws, ignore_border, stride, pad, mode).shape, seed=11)
    gx = T.grad((y * g).sum(), x)
    got = assert_backends_agree([x], gx, [xv], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, ref_pool_grad(xv, g, ws, ignore_border, stride, pad, mode), atol=1e-12)


def test_max_pool_gradient_goes_to_every_tied_maximum():
    x = T.dmatrix("x")
    value = np.array([[1.0, 3.0, 0.0], [3.0, 2.0, 5.0]])
    gx = T.grad(T.nnet.pool_2d(x, (2, 2), ignore_border=False).sum(), x)
    np.testing.assert_array_equal(_compile([x], gx, "py")(value), [[0, 1, 0], [1, 0, 1]])


@pytest.mark.parametrize("case", ["conv_input", "conv_weights", "max", "average_exc_pad"])
def test_second_derivatives_by_finite_differences(case):
    # the pullbacks of the gradient ops (Conv2dGradInputs/Weights, MaxPool2dGrad(Grad),
    # AveragePool2dGrad) checked by differentiating a gradient
    xv, wv = _sample((2, 2, 5, 4), seed=12), _sample((2, 2, 2, 3), seed=13)
    params = {"border_mode": (1, 0), "subsample": (2, 1)}
    if case == "conv_input":
        def fun(a, b):
            return T.grad((T.nnet.conv2d(a, b, **params) ** 2).sum(), a)
        verify_grad(fun, [xv, wv], mode="py")
    elif case == "conv_weights":
        def fun(a, b):
            return T.grad((T.nnet.conv2d(a, b, **params) ** 2).sum(), b)
        verify_grad(fun, [xv, wv], mode="py")
    else:
        def fun(a):
            return T.grad((T.nnet.pool_2d(a, (2, 2), stride=(1, 2), mode=case) ** 2).sum(), a)
        verify_grad(fun, [xv], mode="py")


def test_gradient_graphs_use_the_gradient_ops():
    x, w = T.dtensor4("x"), T.dtensor4("w")
    y = T.nnet.pool_2d(T.nnet.conv2d(x, w), (2, 2))
    z = T.nnet.pool_2d(x, (2, 2), mode="sum")
    grads = T.grad((y ** 2).sum() + z.sum(), [x, w])
    hessian_part = T.grad((grads[0] ** 2).sum(), x)
    ops = {type(n.op) for n in sg.graph.traversal.toposort([*grads, hessian_part])}
    assert {Conv2d, Conv2dGradInputs, Conv2dGradWeights, Pool2d, MaxPool2dGrad, AveragePool2dGrad,
            MaxPool2dGradGrad} <= ops


# ---------------------------------------------------------------------------------------
# Cases in the differential-table form (tests/differential/harness.py); the lead may move
# CONV_CASES into tests/differential/op_cases.py
# ---------------------------------------------------------------------------------------
F, X4, W4, G4 = "float64", (2, 2, 5, 4), (3, 2, 2, 3), (2, 3, 4, 2)


def _conv_grad_input(x, w, g):
    return T.grad((T.nnet.conv2d(x, w) * g).sum(), x)


def _conv_grad_weights(x, w, g):
    return T.grad((T.nnet.conv2d(x, w) * g).sum(), w)


def _max_pool_hessian_vector(x, v):
    gx = T.grad((T.nnet.pool_2d(x, (2, 2), ignore_border=False) ** 2).sum(), x)
    return T.grad((gx * v).sum(), x, consider_constant=[v])


def _ref_max_pool_hessian_vector(x, v):
    # with y = pool(x) and e = the max positions: d/dx sum(2 y * e-routing . v) = 2 pool-route of
    # (v at the max positions) back to the max positions
    pooled = ref_pool(x, (2, 2), False)
    routed = np.zeros(pooled.shape)
    xp = x
    for r, c, ((r0, r1), (c0, c1)), _ in _pool_windows(x.shape, (2, 2), False, None, (0, 0), "max"):
        hit = xp[..., r0:r1, c0:c1] == pooled[..., r, c][..., None, None]
        routed[..., r, c] = (hit * v[..., r0:r1, c0:c1]).sum(axis=(-2, -1))
    return ref_pool_grad(x, 2 * routed, (2, 2), False, None, (0, 0), "max")


CONV_CASES = [
    OpCase("conv2d", lambda x, w: T.nnet.conv2d(x, w), ref_conv2d, [(F, X4), (F, W4)]),
    OpCase("conv2d_full_subsample_correlate",
           lambda x, w: T.nnet.conv2d(x, w, border_mode="full", subsample=(2, 1), filter_flip=False),
           lambda x, w: ref_conv2d(x, w, "full", (2, 1), False), [(F, X4), (F, W4)]),
    OpCase("conv2d_float32_half", lambda x, w: T.nnet.conv2d(x, w, border_mode="half"),
           lambda x, w: ref_conv2d(x, w, "half"), [("float32", X4), ("float32", W4)], rtol=1e-5, atol=1e-6,
           differentiable=False),
    OpCase("conv2d_grad_input", _conv_grad_input,
           lambda x, w, g: ref_conv2d_grad_input(x.shape, w, g), [(F, X4), (F, W4), (F, G4)]),
    OpCase("conv2d_grad_weights", _conv_grad_weights,
           lambda x, w, g: ref_conv2d_grad_weights(x, w.shape, g), [(F, X4), (F, W4), (F, G4)]),
    OpCase("pool_2d_max", lambda x: T.nnet.pool_2d(x, (2, 2), ignore_border=False),
           lambda x: ref_pool(x, (2, 2), False), [(F, (2, 3, 5, 4))]),
    OpCase("pool_2d_average_exc_pad_padded",
           lambda x: T.nnet.pool_2d(x, (3, 2), stride=(2, 1), pad=(1, 1), mode="average_exc_pad"),
           lambda x: ref_pool(x, (3, 2), True, (2, 1), (1, 1), "average_exc_pad"), [(F, (2, 5, 4))]),
    OpCase("pool_2d_sum_int32", lambda x: T.nnet.pool_2d(x, (2, 2), mode="sum"),
           lambda x: ref_pool(x, (2, 2), True, None, (0, 0), "sum"), [("int32", (3, 4, 4))], domain=(-9, 9),
           differentiable=False),
    OpCase("pool_2d_max_grad",
           lambda x, g: T.grad((T.nnet.pool_2d(x, (2, 2), stride=(1, 1)) * g).sum(), x),
           lambda x, g: ref_pool_grad(x, g, (2, 2), True, (1, 1)), [(F, (2, 4, 5)), (F, (2, 3, 4))]),
    OpCase("pool_2d_average_inc_pad_grad",
           lambda x, g: T.grad((T.nnet.pool_2d(x, (2, 2), pad=(1, 1), mode="average_inc_pad") * g).sum(), x),
           lambda x, g: ref_pool_grad(x, g, (2, 2), True, None, (1, 1), "average_inc_pad"),
           [(F, (2, 4, 5)), (F, (2, 3, 3))]),
    OpCase("pool_2d_max_hessian_vector", _max_pool_hessian_vector, _ref_max_pool_hessian_vector,
           [(F, (2, 5, 4)), (F, (2, 5, 4))], differentiable=False),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: c.name)
def test_conv_case_matches_numpy_on_every_backend(case, rng):
    variables = case.variables()
    out = case.build(*variables)
    values = case.values(rng)
    got = assert_backends_agree(variables, out, values, rtol=case.rtol, atol=case.atol)
    expected = np.asarray(case.numpy(*values))
    assert_same(got, expected, case.rtol, max(case.atol, 1e-12), case.name)


def test_conv_cases_cover_every_op_of_the_family():
    built = set()
    for case in CONV_CASES:
        out = case.build(*case.variables())
        built |= {type(n.op) for n in sg.graph.traversal.toposort([out])}
    assert {Conv2d, Conv2dGradInputs, Conv2dGradWeights, Pool2d, MaxPool2dGrad, AveragePool2dGrad,
            MaxPool2dGradGrad} <= built


# ---------------------------------------------------------------------------------------
# The C backend runs these ops through its Python fallback
# ---------------------------------------------------------------------------------------
def test_c_mode_runs_conv_and_pool_between_c_segments():
    x, w, b = T.dtensor4("x"), T.dtensor4("w"), T.dvector("b")
    h = T.tanh(T.nnet.pool_2d(T.nnet.conv2d(x * 2, w), (2, 2)) + b.dimshuffle("x", 0, "x", "x"))
    cost = (h ** 2).mean()
    outputs = [h, *T.grad(cost, [x, w, b])]
    values = [_sample((3, 2, 9, 8), seed=14), _sample((4, 2, 3, 3), seed=15), _sample((4,), seed=16)]
    assert_backends_agree([x, w, b], outputs, values, rtol=1e-12, atol=1e-12)
    runner = _compile([x, w, b], outputs, "c").maker.runner
    names = {type(n.op).__name__ for n in runner.python_nodes}
    assert {"Conv2d", "Pool2d", "Conv2dGradInputs", "Conv2dGradWeights", "MaxPool2dGrad"} <= names
    assert runner.sources, "the elementwise parts should still be compiled C"


# ---------------------------------------------------------------------------------------
# Theano compatibility
# ---------------------------------------------------------------------------------------
def test_theano_compat_names():
    from symgraph.compat import theano
    from symgraph.compat.theano.tensor.nnet import conv2d
    from symgraph.compat.theano.tensor.signal import downsample, pool

    assert conv2d is T.nnet.conv2d and theano.tensor.nnet.conv2d is T.nnet.conv2d
    x = theano.tensor.dtensor4("x")
    xv = _sample((1, 2, 5, 5))
    explicit = pool.pool_2d(x, ws=(2, 2), ignore_border=True)
    old_names = pool.pool_2d(input=x, ds=(2, 2), st=(1, 1), padding=(1, 1), ignore_border=True, mode="sum")
    legacy = downsample.max_pool_2d(x, (2, 2), ignore_border=True)
    f = theano.function([x], [explicit, old_names, legacy])
    got = f(xv)
    np.testing.assert_allclose(got[0], ref_pool(xv, (2, 2), True))
    np.testing.assert_allclose(got[1], ref_pool(xv, (2, 2), True, (1, 1), (1, 1), "sum"))
    np.testing.assert_allclose(got[2], got[0])
    with pytest.raises(ValueError, match="not both"):
        pool.pool_2d(x, ws=(2, 2), ds=(2, 2), ignore_border=True)


def test_theano_compat_pool_without_ignore_border_keeps_partial_windows_and_warns():
    from symgraph.compat.theano.tensor.signal import downsample, pool

    x = T.dtensor4("x")
    with pytest.warns(DeprecationWarning, match="ignore_border"):
        y = pool.pool_2d(x, (2, 2))
    with pytest.warns(DeprecationWarning, match="ignore_border"):
        z = downsample.max_pool_2d(x, (2, 2))
    assert y.owner.op.ignore_border is False and z.owner.op.ignore_border is False
    assert T.nnet.pool_2d(x, (2, 2)).owner.op.ignore_border is True


# ---------------------------------------------------------------------------------------
# A tiny LeNet: conv-pool-tanh-conv-pool-tanh-dense-softmax-NLL, trained by SGD
# ---------------------------------------------------------------------------------------
def _lenet_losses(mode: str, steps: int = 8) -> list[float]:
    rng = np.random.default_rng(0)
    images = rng.normal(size=(24, 1, 12, 12))
    labels = (images[:, 0, :6].sum(axis=(1, 2)) > 0).astype("int64") + (images[:, 0, :, :6].mean(axis=(1, 2)) > 0)

    def param(shape, scale, name):
        return sg.shared(rng.normal(0, scale, size=shape), name=name)

    w1, b1 = param((4, 1, 3, 3), 0.3, "w1"), param((4,), 0.0, "b1")
    w2, b2 = param((6, 4, 2, 2), 0.3, "w2"), param((6,), 0.0, "b2")
    w3, b3 = param((24, 3), 0.3, "w3"), param((3,), 0.0, "b3")
    x, y = T.dtensor4("x"), T.lvector("y")
    h1 = T.tanh(T.nnet.pool_2d(T.nnet.conv2d(x, w1), (2, 2)) + b1.dimshuffle("x", 0, "x", "x"))  # 4x5x5
    h2 = T.tanh(T.nnet.pool_2d(T.nnet.conv2d(h1, w2), (2, 2), ignore_border=False)
                + b2.dimshuffle("x", 0, "x", "x"))  # 6x2x2
    p = T.nnet.softmax(T.dot(h2.flatten(2), w3) + b3)
    loss = T.nnet.categorical_crossentropy(p, y).mean()
    params = [w1, b1, w2, b2, w3, b3]
    updates = [(v, v - 0.2 * g) for v, g in zip(params, T.grad(loss, params))]
    train = sg.compile_function([x, y], loss, updates=updates, mode=mode)
    return [float(train(images, labels)) for _ in range(steps)]


def test_tiny_lenet_trains_and_backends_agree():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losses = {mode: _lenet_losses(mode) for mode in MODES}
    py_losses = losses["py"]
    assert py_losses[-1] < 0.8 * py_losses[0], py_losses
    assert all(b < a for a, b in itertools.pairwise(py_losses)), py_losses
    np.testing.assert_allclose(losses["c"], py_losses, rtol=1e-9)


@pytest.mark.slow  # a timing: run it on a quiet machine (pytest -m slow)
def test_lenet_layer_takes_milliseconds():
    # batch 50, 1 -> 20 channels, 28x28, 5x5 filters (LeNet's first layer), with gradients:
    # ~10 ms on one idle core; direct loops take seconds. On CPUs shared with other busy
    # processes, OpenBLAS threads contend and a call can take ~2 s, hence not a default test.
    import time

    x, w = T.dtensor4("x"), T.dtensor4("w")
    y = T.nnet.pool_2d(T.tanh(T.nnet.conv2d(x, w)), (2, 2))
    f = _compile([x, w], [y, *T.grad(y.sum(), [x, w])], "py")
    xv, wv = _sample((50, 1, 28, 28)), _sample((20, 1, 5, 5))
    f(xv, wv)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        f(xv, wv)
        times.append(time.perf_counter() - start)
    assert sorted(times)[2] < 0.5, times
