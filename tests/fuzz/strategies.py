"""Hypothesis strategies for random, well-typed symgraph programs.

``programs()`` draws graphs for the value fuzzer, one to a few steps, each step one of:

- elementwise unary math (exp, log, log1p, expm1, sqrt, trig, tanh, sigmoid, softplus, erf,
  erfc, gammaln, abs, neg, sign, floor/ceil/trunc/round, relu, isnan/isinf, invert), casts
  (``T.cast``, ``astype``) and clip;
- binary ops (arithmetic incl. ``//``, ``%`` and ``**``, maximum/minimum, comparisons,
  bitwise/logical, arctan2) and switch, with a partner that is an existing value, a fresh
  input (same shape, trailing axes, static-1 broadcastable axes, an extra leading axis, or
  'x' axes from dimshuffle) or a Python number (0, +-1, 1e300, 1e-300, inf, ...);
- reductions (sum, prod, max, min, mean, var, std, argmax, argmin, all, any, logsumexp) over
  None, an axis or a tuple of axes (negative ones too), with and without keepdims;
- dimshuffle (permute, drop broadcastable axes, insert 'x'), transpose, reshape (with -1 and
  symbolic shapes), flatten, tile, repeat;
- basic indexing (ints, slices with negative bounds and steps, newaxis, a symbolic start),
  advanced indexing (constant lists or int64/int32 index inputs, one or two index arrays,
  boolean masks), set_subtensor/inc_subtensor on both (repeated indices accumulate);
- dot, matmul (batched too), outer; softmax/log_softmax along any axis; concatenate (also
  of a value with itself, or with an empty piece) and stack;
- "baits": formulas the stability and algebra rewrites recognise (``log(1 + exp(x))``,
  ``x - x``, ``(x * y) / y``, ``log(softmax(x))``, ``log(sum(exp(x)))``, ...).

Inputs are float64, float32, int64, int32 or bool, 0-d to 3-d with lengths 0 to 4; values
are plain or mixed with edge values (signed zeros, +-inf, NaN, subnormals, 1e+-300, values
near exp's overflow, float32 tiny/huge, int extremes); each argument is passed contiguous,
Fortran-ordered, transposed, strided, reversed or as a read-only stride-0 broadcast view.

``smooth_programs()`` draws float64 graphs of smooth operations on safe domains (no
max/min/abs, logs of ``1 + x**2``, distinct advanced indices) for the gradient fuzzer.

Each step picks operands (recent values first, so graphs grow deep rather than wide),
creates fresh inputs of compatible shapes where the operation needs a partner, and runs the
new source line at once: symgraph's own type checks decide which combinations are valid.
The generator tracks every value's concrete runtime shape by hand (``_Entry.shape``); the
fuzz test cross-checks it against the reference results, so a generator mistake shows up as
a failure instead of silently testing less.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import symgraph.tensor as T
from tests.fuzz.programs import InputSpec, Program

DTYPES = ("float64", "float32", "int64", "int32", "bool")
FLOATS = ("float64", "float32")
LENGTHS = (2, 3, 1, 4, 0)  # ordered simplest first: hypothesis shrinks toward the front

# Edge values: the IEEE specials (drawn as often as all the extremes together, so NaN and
# inf reach most operations) and the extremes (subnormal, tiny, huge, near exp's overflow).
_SPECIALS = [math.nan, math.inf, -math.inf, -0.0, 0.0]
_F64_EXTREMES = [
    1e-300,
    -1e-300,
    1e300,
    -1e300,
    5e-324,
    709.0,
    710.0,
    -745.0,
    36.0,
    -36.0,
    1e-8,
    1.0,
    -1.0,
    0.5,
]
_F32_EXTREMES = [
    float(np.finfo(np.float32).tiny),
    -float(np.finfo(np.float32).tiny),
    float(np.float32(1e-45)),
    float(np.finfo(np.float32).max),
    -float(np.finfo(np.float32).max),
    float(np.float32(88.5)),
    float(np.float32(-103.0)),
    float(np.float32(1e-4)),
    1.0,
    -1.0,
    0.5,
]
_INT_EDGES = {
    dtype: [int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)] for dtype in ("int64", "int32")
}

# Python numbers used as the second operand of a binary op (weakly typed, NEP 50).
SCALARS = ("2", "1", "0", "-1", "0.5", "3.0", "-2.5", "1e-300", "1e300", "float('inf')")

UNARY = (
    "exp",
    "log",
    "log1p",
    "expm1",
    "sqrt",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "softplus",
    "arctan",
    "erf",
    "erfc",
    "sqr",
    "abs",
    "neg",
    "sign",
    "floor",
    "ceil",
    "trunc",
    "round_half_to_even",
    "relu",
    "isnan",
    "isinf",
    "arcsinh",
    "cosh",
    "log2",
    "exp2",
    "reciprocal",
    "gammaln",
    "invert",
)
BINARY = (
    "+",
    "-",
    "*",
    "/",
    "//",
    "%",
    "**",
    "maximum",
    "minimum",
    "<",
    "<=",
    ">",
    ">=",
    "eq",
    "neq",
    "&",
    "|",
    "^",
    "arctan2",
)
REDUCTIONS = (
    "sum",
    "max",
    "min",
    "prod",
    "mean",
    "argmax",
    "argmin",
    "all",
    "any",
    "logsumexp",
    "var",
    "std",
)
# Reductions without an identity: NumPy raises on an empty reduced axis.
NEEDS_NONEMPTY = ("max", "min", "argmax", "argmin")

# Formulas that stability/algebra rewrites recognise, so the fuzzer exercises the rewritten
# forms against the naive ones. "{x}" and "{y}" are values of the same shape and dtype.
ELEMENTWISE_BAITS = (
    "T.log(1 + T.exp({x}))",
    "T.log(1 - T.exp({x}))",
    "T.exp({x}) - 1",
    "1 - T.exp({x})",
    "1 - T.sigmoid({x})",
    "T.log(T.sigmoid({x}))",
    "T.log1p(-T.sigmoid({x}))",
    "T.log(T.exp({x}) + T.exp({y}))",
    "T.log(T.exp({x}) - T.exp({y}))",
    "T.log(1 + {x})",
    "T.sqrt({x} * {x})",
    "T.sqrt(T.sqr({x}))",
    "{x} * 1",
    "{x} + 0",
    "{x} - {x}",
    "{x} / {x}",
    "{x} * 0",
    "-(-{x})",
    "({x} * 2) / 2",
    "({x} * {y}) / {y}",
    "T.log(T.exp({x}))",
    "T.exp(T.log({x}))",
    "T.arctanh(T.tanh({x}))",
    "1 - T.erf({x})",
    "T.log(T.erfc({x}))",
    "T.exp({x}) / (1 + T.exp({x}))",
    "T.log1p(T.exp({x}))",
    "abs(abs({x}))",
    "abs(-{x})",
    "T.zeros_like({x}) + {x}",
    "T.ones_like({x}) * {x}",
    "{x} + {x}",
    "{x} * {x} * {x}",
    "T.exp({x}) * T.exp({y})",
    "T.sigmoid({x}) * T.exp(-{x})",
    "{x} ** 2",
    "{x} ** 0.5",
    "{x} ** -1",
    "T.log(-T.expm1({x}))",
    "T.log1p(-T.exp({x}))",
)
# Baits along the last axis (ndim >= 1): same shape as {x}.
LAST_AXIS_BAITS = (
    "T.log(T.nnet.softmax({x}))",
    "T.exp({x}) / T.exp({x}).sum(axis=-1, keepdims=True)",
    "{x} - T.log(T.exp({x}).sum(axis=-1, keepdims=True))",
    "T.exp({x} - {x}.max(axis=-1, keepdims=True))",
    "{x} * T.cast({x}.shape[-1], {x}.dtype)",
)


class _Reject(Exception):
    """The drawn step does not fit (wrong dtype, no compatible operand): draw another."""


@dataclass
class _Entry:
    name: str
    var: Any
    shape: tuple[int, ...]  # the concrete runtime shape

    @property
    def dtype(self) -> str:
        return str(self.var.dtype)

    @property
    def static(self) -> tuple[int | None, ...]:
        return tuple(self.var.type.shape)


def _elements(dtype: str, edges: bool) -> st.SearchStrategy[Any]:
    if dtype == "bool":
        return st.booleans()
    if dtype in ("int64", "int32"):
        plain = st.integers(-5, 5)
        return st.one_of(plain, st.sampled_from(_INT_EDGES[dtype])) if edges else plain
    width = 64 if dtype == "float64" else 32
    plain_float = st.floats(-4, 4, width=width)
    if not edges:
        return plain_float
    extremes = _F64_EXTREMES if width == 64 else _F32_EXTREMES
    return st.one_of(plain_float, st.sampled_from(_SPECIALS), st.sampled_from(extremes))


class _Builder:
    """Draws one program step by step (see the module docstring)."""

    def __init__(self, draw: Any, smooth: bool) -> None:
        self.draw = draw
        self.smooth = smooth
        self.namespace: dict[str, Any] = {"T": T, "np": np}
        self.inputs: list[InputSpec] = []
        self.lines: list[str] = []
        self.pool: list[_Entry] = []
        self.shapes: dict[str, tuple[int, ...]] = {}
        self._counter = 0

    # -- values -------------------------------------------------------------------------
    def _values(self, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
        if self.smooth:
            # Gradients need generic points: no ties (max), no zeros (abs), no shrinking toward
            # 0.0 (which makes every value equal). A seeded NumPy draw gives that.
            seed = self.draw(st.integers(0, 2**32 - 1), label="values seed")
            rng = np.random.default_rng(seed)
            return rng.uniform(-2, 2, size=shape).astype(dtype)
        edges = self.draw(st.booleans(), label="edge values")
        return self.draw(hnp.arrays(np.dtype(dtype), shape, elements=_elements(dtype, edges)))

    def new_input(
        self,
        dtype: str,
        shape: tuple[int, ...],
        static: tuple[int | None, ...] | None = None,
        values: np.ndarray | None = None,
    ) -> _Entry:
        """A fresh input of the given dtype and concrete shape, with a drawn memory layout."""
        if static is None:
            static = (None,) * len(shape)
        if values is None:
            values = self._values(dtype, shape)
        layouts = ["contiguous"]
        if len(shape) >= 2:
            layouts += ["transposed", "fortran"]
        layouts += [
            f"{kind}:{axis}" for axis in range(len(shape)) for kind in ("strided", "reversed")
        ]
        if 0 not in shape:
            layouts += [f"broadcast:{axis}" for axis in range(len(shape)) if shape[axis] > 1]
        layout = self.draw(st.sampled_from(layouts), label="layout")
        source = np.asarray(values)
        if layout.startswith("broadcast"):
            axis = int(layout.partition(":")[2])
            source = np.take(source, [0], axis=axis)
        name = f"x{len(self.inputs)}"
        spec = InputSpec(name, dtype, tuple(static), tuple(shape), source, layout)
        self.inputs.append(spec)
        var = spec.variable()
        self.namespace[name] = var
        self.shapes[name] = tuple(shape)
        return _Entry(name, var, tuple(shape))

    def index_input(self, length: int, count: int, dtype: str = "int64") -> _Entry:
        """An integer index vector of ``count`` valid positions (negative ones too) into an
        axis of ``length``."""
        values = np.array(
            self.draw(st.lists(st.integers(-length, length - 1), min_size=count, max_size=count)),
            dtype=dtype,
        )
        return self.new_input(dtype, (count,), values=values)

    # -- drawing helpers ----------------------------------------------------------------
    def choice(self, options: Any, label: str | None = None) -> Any:
        return self.draw(st.sampled_from(list(options)), label=label)

    def pick(self, accept: Any = lambda e: True) -> _Entry:
        """An operand from the pool, recent values first."""
        candidates = [e for e in reversed(self.pool) if accept(e)]
        if not candidates:
            raise _Reject("no operand fits")
        return candidates[self.draw(st.integers(0, len(candidates) - 1), label="operand")]

    def shape(self, min_ndim: int = 0, max_ndim: int = 3) -> tuple[int, ...]:
        ndim = self.draw(st.integers(min_ndim, max_ndim), label="ndim")
        lengths = LENGTHS if not self.smooth else (2, 3, 1, 4)
        return tuple(self.draw(st.sampled_from(lengths), label="length") for _ in range(ndim))

    def line(self, expr: str, shape: tuple[int, ...]) -> _Entry:
        """Run ``name = expr``; symgraph's checks reject ill-typed steps."""
        name = f"v{self._counter}"
        self._counter += 1
        try:
            exec(f"{name} = {expr}", self.namespace)  # noqa: S102 - generated source
        except (TypeError, ValueError, IndexError) as exc:
            raise _Reject(f"{expr}: {exc}") from exc
        var = self.namespace[name]
        if not hasattr(var, "type") or not hasattr(var.type, "shape"):
            raise _Reject(f"{expr} is not a tensor")
        static = tuple(var.type.shape)
        assert len(static) == len(shape) and all(
            s is None or s == c for s, c in zip(static, shape)
        ), f"generator bug or static-shape bug: {expr} has static shape {static}, runtime {shape}"
        self.lines.append(f"{name} = {expr}")
        self.shapes[name] = shape
        return _Entry(name, var, shape)

    # -- partners with compatible shapes ------------------------------------------------
    def partner(
        self, entry: _Entry, dtype: str | None = None, allow_scalar: bool = True
    ) -> tuple[str, tuple[int, ...]]:
        """A second operand for an elementwise op with ``entry``: its source and the
        broadcast result shape. An existing value, a fresh input or a Python number."""
        kinds = ["fresh", "pool", "scalar"] if allow_scalar else ["fresh", "pool"]
        kind = self.choice(kinds, label="partner kind")
        if kind == "scalar":
            if self.smooth:
                return self.choice(("2.0", "0.5", "-1.5")), entry.shape
            return self.choice(SCALARS, label="scalar"), entry.shape
        if kind == "pool":
            other = self.pick(
                lambda e: _broadcast(entry, e) is not None and (dtype is None or e.dtype == dtype)
            )
            shape = _broadcast(entry, other)
            assert shape is not None
            return other.name, shape
        return self.fresh_partner(entry, dtype)

    def fresh_partner(self, entry: _Entry, dtype: str | None = None) -> tuple[str, tuple[int, ...]]:
        """A fresh input that broadcasts with ``entry`` (trailing axes, static-1 axes, a new
        leading axis, or 'x' axes inserted with dimshuffle)."""
        if dtype is None:
            dtype = (
                "float64" if self.smooth else self.choice((entry.dtype,) + DTYPES, label="dtype")
            )
        ndim = len(entry.shape)
        how = self.choice(
            ("same", "trailing", "broadcastable", "leading", "dimshuffle"), label="how"
        )
        if how == "same" or ndim == 0:
            fresh = self.new_input(dtype, entry.shape)
            return fresh.name, entry.shape
        if how == "trailing":
            keep = self.draw(st.integers(0, ndim - 1), label="trailing ndim")
            shape = entry.shape[ndim - keep :]
            fresh = self.new_input(dtype, shape)
            return fresh.name, entry.shape
        if how == "broadcastable" and not self.smooth:
            flags = [self.draw(st.booleans(), label="broadcastable") for _ in range(ndim)]
            static = tuple(1 if f else None for f in flags)
            shape = tuple(1 if f else n for f, n in zip(flags, entry.shape))
            fresh = self.new_input(dtype, shape, static=static)
            result = tuple(n for n in entry.shape)
            # entry's own static-1 axes broadcast against the fresh input's lengths
            return fresh.name, result
        if how == "leading" and ndim < 3:
            lead = self.choice((2, 1, 3))
            fresh = self.new_input(dtype, (lead,) + entry.shape)
            return fresh.name, (lead,) + entry.shape
        # dimshuffle: keep some axes, put 'x' (broadcastable) at the others
        keep = [self.draw(st.booleans(), label="keep axis") for _ in range(ndim)]
        fresh = self.new_input(dtype, tuple(n for k, n in zip(keep, entry.shape) if k))
        pattern, position = [], 0
        for k in keep:
            if k:
                pattern.append(position)
                position += 1
            else:
                pattern.append("x")
        return f"{fresh.name}.dimshuffle({', '.join(repr(p) for p in pattern)})", entry.shape


def _broadcast(a: _Entry, b: _Entry) -> tuple[int, ...] | None:
    """The shape of ``a op b`` under Theano's rule, or None when they do not broadcast."""
    ndim = max(len(a.shape), len(b.shape))
    sa = (1,) * (ndim - len(a.shape)) + a.shape
    sb = (1,) * (ndim - len(b.shape)) + b.shape
    ta = (1,) * (ndim - len(a.static)) + a.static
    tb = (1,) * (ndim - len(b.static)) + b.static
    out = []
    for la, lb, fa, fb in zip(sa, sb, ta, tb):
        if fa == 1:
            out.append(lb)
        elif fb == 1 or la == lb:
            out.append(la)
        else:
            return None
    return tuple(out)


def _axis_source(axis: Any) -> str:
    return repr(axis)


@dataclass
class _Name:
    """An index part that is a program variable (an index vector, mask or scalar)."""

    name: str
    value: Any


# ---------------------------------------------------------------------------------------
# Steps. Each takes the builder and returns the new entry (or raises _Reject).
# ---------------------------------------------------------------------------------------
def _step_unary(b: _Builder) -> _Entry:
    x = b.pick()
    fn = b.choice(UNARY, label="unary")
    forms = {"abs": "abs({x})", "neg": "-{x}", "invert": "~{x}"}
    expr = forms.get(fn, f"T.{fn}({{x}})").format(x=x.name)
    return b.line(expr, x.shape)


def _step_cast(b: _Builder) -> _Entry:
    x = b.pick()
    dtype = b.choice(DTYPES, label="cast to")
    form = b.choice(("T.cast({x}, {d!r})", "{x}.astype({d!r})"))
    return b.line(form.format(x=x.name, d=dtype), x.shape)


def _step_binary(b: _Builder) -> _Entry:
    x = b.pick()
    other, shape = b.partner(x)
    op = b.choice(BINARY, label="binary")
    left, right = (x.name, other) if b.draw(st.booleans(), label="swap") else (other, x.name)
    if op in ("maximum", "minimum", "eq", "neq", "arctan2"):
        expr = f"T.{op}({left}, {right})"
    else:
        expr = f"({left} {op} {right})"
    return b.line(expr, shape)


def _step_switch(b: _Builder) -> _Entry:
    x = b.pick()
    other, shape = b.partner(x)
    kind = b.choice(("compare", "fresh"), label="condition")
    if kind == "compare":
        cond = f"({x.name} > {b.choice(('0', '1', '-1'))})"
    else:
        cond_entry = b.new_input("bool", x.shape, static=x.static)
        cond = cond_entry.name
    return b.line(f"T.switch({cond}, {x.name}, {other})", shape)


def _step_clip(b: _Builder) -> _Entry:
    x = b.pick()
    lo, hi = b.choice(((-1, 1), (0, 2.5), (-0.5, 0.5), (0, 0), (-2.5, 10)), label="bounds")
    form = b.choice(("T.clip({x}, {lo}, {hi})", "{x}.clip({lo}, {hi})"))
    return b.line(form.format(x=x.name, lo=lo, hi=hi), x.shape)


def _reduce_axes(b: _Builder, ndim: int) -> Any:
    kind = b.choice(("int", "none", "tuple"), label="axis kind")
    if kind == "none" or ndim == 0:
        return None
    if kind == "int":
        return b.draw(st.integers(-ndim, ndim - 1), label="axis")
    axes = b.draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim), label="axes")
    return tuple(a - ndim if b.draw(st.booleans(), label="negative axis") else a for a in axes)


def _step_reduce(b: _Builder) -> _Entry:
    x = b.pick()
    fn = b.choice(REDUCTIONS, label="reduction")
    axis = _reduce_axes(b, len(x.shape))
    keepdims = b.draw(st.booleans(), label="keepdims")
    template = np.empty(x.shape)
    shape = np.sum(template, axis=axis, keepdims=keepdims).shape
    reduced = (
        range(len(x.shape)) if axis is None else [a % len(x.shape) for a in np.atleast_1d(axis)]
    )
    if fn in NEEDS_NONEMPTY and any(x.shape[a] == 0 for a in reduced):
        raise _Reject("no identity for an empty reduction")
    form = b.choice(
        ("T.{fn}({x}, axis={axis}, keepdims={kd})", "{x}.{fn}(axis={axis}, keepdims={kd})")
    )
    if fn == "logsumexp":
        form = "T.logsumexp({x}, axis={axis}, keepdims={kd})"
    return b.line(form.format(fn=fn, x=x.name, axis=_axis_source(axis), kd=keepdims), shape)


def _step_dimshuffle(b: _Builder) -> _Entry:
    x = b.pick()
    kept = [
        a for a in range(len(x.shape)) if x.static[a] != 1 or b.draw(st.booleans(), label="keep")
    ]
    order = b.draw(st.permutations(kept), label="order")
    pattern: list[Any] = list(order)
    for _ in range(b.draw(st.integers(0, 2), label="new axes")):
        pattern.insert(b.draw(st.integers(0, len(pattern)), label="where"), "x")
    shape = tuple(1 if p == "x" else x.shape[p] for p in pattern)
    form = b.choice(("{x}.dimshuffle({p})", "T.dimshuffle({x}, {pl})"))
    return b.line(
        form.format(x=x.name, p=", ".join(repr(p) for p in pattern), pl=repr(pattern)), shape
    )


def _step_transpose(b: _Builder) -> _Entry:
    x = b.pick()
    if b.draw(st.booleans(), label="attribute") or len(x.shape) < 2:
        return b.line(f"{x.name}.T", tuple(reversed(x.shape)))
    perm = b.draw(st.permutations(range(len(x.shape))), label="perm")
    return b.line(f"T.transpose({x.name}, {tuple(perm)!r})", tuple(x.shape[p] for p in perm))


def _factor(b: _Builder, size: int, ndim: int) -> tuple[int, ...]:
    if ndim == 0:
        if size != 1:
            raise _Reject("only size 1 reshapes to a scalar")
        return ()
    lengths = []
    remaining = size
    for _ in range(ndim - 1):
        if remaining == 0:
            lengths.append(b.choice((0, 2, 1, 3)))
        else:
            divisors = [d for d in range(1, remaining + 1) if remaining % d == 0]
            d = b.choice(divisors, label="factor")
            lengths.append(d)
            remaining //= d
    if remaining == 0 and 0 not in lengths:
        lengths.append(0)
    elif remaining == 0:
        lengths.append(b.choice((0, 1, 2)))
    else:
        lengths.append(remaining)
    return tuple(lengths)


def _step_reshape(b: _Builder) -> _Entry:
    x = b.pick()
    size = math.prod(x.shape)
    kind = b.choice(("reshape", "flatten", "symbolic"), label="reshape kind")
    if kind == "flatten":
        if len(x.shape) == 0:
            return b.line(f"{x.name}.flatten()", (1,))
        nd = b.draw(st.integers(1, len(x.shape)), label="flatten ndim")
        shape = x.shape[: nd - 1] + (math.prod(x.shape[nd - 1 :]),)
        return b.line(f"T.flatten({x.name}, {nd})", shape)
    if kind == "symbolic":
        if len(x.shape) < 1 or size == 0:
            raise _Reject("needs a nonempty tensor")
        rest = size // x.shape[-1]
        return b.line(f"T.reshape({x.name}, ({x.name}.shape[-1], -1))", (x.shape[-1], rest))
    ndim = b.draw(st.integers(0, 3), label="new ndim")
    lengths = _factor(b, size, ndim)
    target: list[int] = list(lengths)
    if size > 0 and ndim > 0 and b.draw(st.booleans(), label="minus one"):
        target[b.draw(st.integers(0, ndim - 1))] = -1
    return b.line(f"{x.name}.reshape({tuple(target)!r})", lengths)


def _basic_parts(b: _Builder, shape: tuple[int, ...]) -> list[Any]:
    parts: list[Any] = []
    count = b.draw(st.integers(1, max(1, len(shape))), label="indexed axes") if shape else 0
    for axis in range(count):
        n = shape[axis]
        kind = b.choice(("slice", "int", "newaxis", "symbolic"), label="index kind")
        if kind == "int" and n > 0:
            parts.append(b.draw(st.integers(-n, n - 1), label="int index"))
        elif kind == "newaxis":
            parts.append(None)
            parts.append(slice(None))
        elif kind == "symbolic" and n > 0 and not b.smooth:
            value = b.draw(st.integers(-n, n - 1), label="symbolic index")
            scalar = b.new_input("int64", (), values=np.array(value, dtype=np.int64))
            parts.append(slice(_Name(scalar.name, value), None))
        else:
            bound = st.one_of(st.none(), st.integers(-n - 2, n + 2))
            start = b.draw(bound, label="start")
            stop = b.draw(bound, label="stop")
            step = b.draw(st.sampled_from([None, 1, 2, -1, -2, 3]), label="step")
            parts.append(slice(start, stop, step))
    if not parts:
        parts.append(None)
    return parts


def _slice_text(part: slice) -> str:
    def word(v: Any) -> str:
        if v is None:
            return ""
        return v.name if isinstance(v, _Name) else str(v)

    text = f"{word(part.start)}:{word(part.stop)}"
    return text + (f":{part.step}" if part.step is not None else "")


def _numpy_part(part: Any) -> Any:
    if isinstance(part, _Name):
        return part.value
    if isinstance(part, slice):
        return slice(*(_numpy_part(v) for v in (part.start, part.stop, part.step)))
    if isinstance(part, list):
        return np.array(part, dtype=np.int64)
    return part


def _index_text(parts: list[Any]) -> str:
    words = []
    for part in parts:
        if isinstance(part, slice):
            words.append(_slice_text(part))
        elif isinstance(part, _Name):
            words.append(part.name)
        else:
            words.append(repr(part))
    return ", ".join(words)


def _advanced_parts(b: _Builder, shape: tuple[int, ...]) -> list[Any] | None:
    if not shape:
        return None
    kind = b.choice(("one", "pair", "mask"), label="advanced kind")
    count = b.choice((2, 1, 3, 0), label="index count")
    if kind == "mask" and not b.smooth:
        lead = b.draw(st.integers(1, len(shape)), label="mask ndim")
        values = np.array(b.draw(hnp.arrays(np.bool_, shape[:lead])), dtype=bool)
        mask = b.new_input("bool", shape[:lead], values=values)
        return [_Name(mask.name, entry_value(b, mask.name))]
    axis = b.draw(st.integers(0, len(shape) - 1), label="array axis")
    axes = [axis]
    if kind == "pair" and len(shape) >= 2:
        second = b.draw(
            st.integers(0, len(shape) - 1).filter(lambda a: a != axis), label="second axis"
        )
        axes = sorted([axis, second])
    if b.smooth:
        count = min([count] + [shape[a] for a in axes if shape[a] > 0])
    parts: list[Any] = [slice(None)] * (max(axes) + 1)
    for a in axes:
        n = shape[a]
        if n == 0:
            parts[a] = []  # the only valid index into an empty axis
            continue
        if b.smooth:
            # distinct positions: set_subtensor with repeated indices has no gradient
            positions = b.draw(
                st.lists(
                    st.integers(0, n - 1),
                    unique=True,
                    min_size=min(count, n),
                    max_size=min(count, n),
                ),
                label="index list",
            )
            parts[a] = [p - n if b.draw(st.booleans(), label="negative") else p for p in positions]
        elif b.draw(st.booleans(), label="index input"):
            entry = b.index_input(n, count, dtype=b.choice(("int64", "int32")))
            parts[a] = _Name(entry.name, entry_value(b, entry.name))
        else:
            parts[a] = b.draw(
                st.lists(st.integers(-n, n - 1), min_size=count, max_size=count), label="index list"
            )
    # the other indexed axes may be sliced too
    for a in range(len(parts)):
        if a not in axes and b.draw(st.booleans(), label="slice other"):
            parts[a] = slice(None, None, b.choice((2, -1)))
    return parts


def _indexed_shape(shape: tuple[int, ...], parts: list[Any]) -> tuple[int, ...]:
    try:
        return np.empty(shape)[tuple(_numpy_part(p) for p in parts)].shape
    except (IndexError, ValueError) as exc:  # e.g. index arrays that do not broadcast
        raise _Reject(str(exc)) from exc


def entry_value(b: _Builder, name: str) -> np.ndarray:
    spec = next(s for s in b.inputs if s.name == name)
    return spec.values()


def _step_subtensor(b: _Builder) -> _Entry:
    x = b.pick(lambda e: len(e.shape) > 0)
    advanced = b.draw(st.booleans(), label="advanced")
    parts = _advanced_parts(b, x.shape) if advanced else _basic_parts(b, x.shape)
    if parts is None:
        raise _Reject("no index")
    return b.line(f"{x.name}[{_index_text(parts)}]", _indexed_shape(x.shape, parts))


def _step_set_inc(b: _Builder) -> _Entry:
    x = b.pick(lambda e: len(e.shape) > 0)
    advanced = b.draw(st.booleans(), label="advanced")
    parts = _advanced_parts(b, x.shape) if advanced else _basic_parts(b, x.shape)
    if parts is None:
        raise _Reject("no index")
    sub = _indexed_shape(x.shape, parts)
    fn = b.choice(("inc_subtensor", "set_subtensor"), label="update")
    if b.draw(st.booleans(), label="scalar value") and not b.smooth:
        value = b.choice(("1", "-2.5", "0"))
    else:
        keep = b.draw(st.integers(0, len(sub)), label="value ndim")
        shape = sub[len(sub) - keep :]
        dtype = "float64" if b.smooth else b.choice((x.dtype,) + DTYPES)
        static = tuple(
            1 if n == 1 and b.draw(st.booleans()) and not b.smooth else None for n in shape
        )
        value = b.new_input(dtype, shape, static=static).name
    return b.line(f"T.{fn}({x.name}[{_index_text(parts)}], {value})", x.shape)


def _step_dot(b: _Builder) -> _Entry:
    x = b.pick(lambda e: 1 <= len(e.shape) <= 3)
    dtype = "float64" if b.smooth else b.choice((x.dtype,) + DTYPES)
    kind = b.choice(("dot", "matmul", "outer", "left"), label="product")
    n = b.choice((2, 3, 1, 0)) if not b.smooth else b.choice((2, 3, 1))
    if kind == "outer":
        y = b.new_input(dtype, (n,))
        return b.line(f"T.outer({x.name}, {y.name})", (math.prod(x.shape), n))
    if kind == "left":
        # fresh (n, k) @ x: x's first axis is contracted
        k = x.shape[0] if len(x.shape) <= 2 else None
        if k is None:
            raise _Reject("left product of a 3-d value")
        y = b.new_input(dtype, (n, k))
        return b.line(f"T.dot({y.name}, {x.name})", (n,) + x.shape[1:])
    k = x.shape[-1]
    y_shape = (k,) if b.draw(st.booleans(), label="vector") else (k, n)
    if kind == "matmul" and len(x.shape) == 3 and len(y_shape) == 2 and b.draw(st.booleans()):
        y_shape = (x.shape[0],) + y_shape
    if kind == "dot" and len(x.shape) == 3:
        raise _Reject("keep dot to matrices")
    y = b.new_input(dtype, y_shape)
    template = np.empty(x.shape) @ np.empty(y_shape)
    expr = f"T.dot({x.name}, {y.name})" if kind == "dot" else f"({x.name} @ {y.name})"
    return b.line(expr, template.shape)


def _step_softmax(b: _Builder) -> _Entry:
    x = b.pick(lambda e: len(e.shape) >= 1)
    fn = b.choice(("softmax", "log_softmax"), label="softmax")
    axis = b.draw(st.integers(-len(x.shape), len(x.shape) - 1), label="axis")
    return b.line(f"T.nnet.{fn}({x.name}, axis={axis})", x.shape)


def _step_join(b: _Builder) -> _Entry:
    x = b.pick()
    kind = b.choice(("concatenate", "stack", "self"), label="join")
    dtype = "float64" if b.smooth else b.choice((x.dtype,) + DTYPES)
    ndim = len(x.shape)
    if kind == "stack":
        axis = b.draw(st.integers(-ndim - 1, ndim), label="axis")
        y = b.new_input(dtype, x.shape)
        shape = np.stack([np.empty(x.shape)] * 2, axis=axis).shape
        return b.line(f"T.stack([{x.name}, {y.name}], axis={axis})", shape)
    if ndim == 0:
        raise _Reject("cannot concatenate scalars")
    axis = b.draw(st.integers(-ndim, ndim - 1), label="axis")
    if kind == "self":
        shape = np.concatenate([np.empty(x.shape)] * 2, axis=axis).shape
        return b.line(f"T.concatenate([{x.name}, {x.name}], axis={axis})", shape)
    length = b.choice((2, 1, 0, 3)) if not b.smooth else b.choice((2, 1, 3))
    y_shape = tuple(length if a == axis % ndim else n for a, n in enumerate(x.shape))
    y = b.new_input(dtype, y_shape)
    shape = np.concatenate([np.empty(x.shape), np.empty(y_shape)], axis=axis).shape
    return b.line(f"T.concatenate([{x.name}, {y.name}], axis={axis})", shape)


def _step_tile_repeat(b: _Builder) -> _Entry:
    x = b.pick()
    counts = (2, 1, 3) if b.smooth else (2, 1, 0, 3)  # (no empty results for gradients)
    if b.draw(st.booleans(), label="tile"):
        reps = tuple(b.choice(counts) for _ in range(b.draw(st.integers(1, 3), label="reps")))
        return b.line(f"T.tile({x.name}, {reps!r})", np.tile(np.empty(x.shape), reps).shape)
    count = b.choice(counts, label="repeats")
    if not x.shape or b.draw(st.booleans(), label="flattened"):
        return b.line(f"T.repeat({x.name}, {count})", (math.prod(x.shape) * count,))
    axis = b.draw(st.integers(-len(x.shape), len(x.shape) - 1), label="axis")
    shape = np.repeat(np.empty(x.shape), count, axis=axis).shape
    return b.line(f"T.repeat({x.name}, {count}, axis={axis})", shape)


def _step_bait(b: _Builder) -> _Entry:
    x = b.pick()
    templates = ELEMENTWISE_BAITS + (LAST_AXIS_BAITS if len(x.shape) >= 1 else ())
    template = b.choice(templates, label="bait")
    y = ""
    if "{y}" in template:
        y = b.new_input(x.dtype, x.shape, static=x.static).name
    return b.line(template.format(x=x.name, y=y), x.shape)


def _step_reduce_bait(b: _Builder) -> _Entry:
    x = b.pick(lambda e: len(e.shape) >= 1 and 0 not in e.shape)
    options = {
        "T.log(T.exp({x}).sum(axis=-1))": x.shape[:-1],
        "T.log(T.sum(T.exp({x})))": (),
        "T.sum({x} * 2.0) / 2.0": (),
        "T.sum({x}, axis=0) / {x}.shape[0]": x.shape[1:],
        "T.max({x}, axis=-1) - T.min({x}, axis=-1)": x.shape[:-1],
        "T.sum(T.exp({x} - {x}.max(axis=-1, keepdims=True)), axis=-1)": x.shape[:-1],
        "T.mean({x} * {x}) - T.mean({x}) ** 2": (),
    }
    template = b.choice(list(options), label="reduce bait")
    return b.line(template.format(x=x.name), options[template])


# Elementwise steps are listed more than once: they have the most variants (31 unary
# functions, 19 binary ops with four kinds of partner) and are where NaN/inf handling lives.
VALUE_STEPS = (
    _step_unary,
    _step_binary,
    _step_reduce,
    _step_dimshuffle,
    _step_subtensor,
    _step_bait,
    _step_cast,
    _step_switch,
    _step_clip,
    _step_transpose,
    _step_reshape,
    _step_set_inc,
    _step_dot,
    _step_softmax,
    _step_join,
    _step_reduce_bait,
    _step_tile_repeat,
    _step_unary,
    _step_binary,
    _step_binary,
    _step_bait,
)


@st.composite
def programs(draw: Any, max_steps: int = 5) -> Program:
    """A random well-typed program over 1-2 inputs with up to ``max_steps`` operations and
    one or two outputs."""
    b = _Builder(draw, smooth=False)
    for _ in range(draw(st.integers(1, 2), label="inputs")):
        dtype = draw(st.sampled_from(("float64",) + DTYPES), label="input dtype")
        shape = b.shape()
        broadcastable = tuple(
            draw(st.booleans(), label="broadcastable") if n == 1 else False for n in shape
        )
        b.pool.append(
            b.new_input(dtype, shape, static=tuple(1 if f else None for f in broadcastable))
        )
    steps = draw(st.sampled_from(range(1, max_steps + 1)), label="steps")
    for _ in range(steps):
        for _attempt in range(4):
            saved = (len(b.inputs), len(b.lines))
            step = draw(st.sampled_from(VALUE_STEPS), label="step")
            try:
                b.pool.append(step(b))
                break
            except _Reject:
                del b.inputs[saved[0] :]
                del b.lines[saved[1] :]
    # every computed value no later line uses is an output (the most recent three), so no
    # step is dead code; sometimes an input or a used value is returned as well
    outputs = [e.name for e in _leaves(b.pool)][-3:] or [b.pool[-1].name]
    others = [e for e in b.pool if e.name not in outputs]
    if others and draw(st.booleans(), label="extra output"):
        outputs.append(draw(st.sampled_from(others), label="extra").name)
    return Program(b.inputs, b.lines, outputs, dict(b.shapes))


def _leaves(pool: list[_Entry]) -> list[_Entry]:
    """The computed values (not inputs) that no other value in the pool is built from."""
    used: set[Any] = set()
    for entry in pool:
        stack = list(entry.var.owner.inputs) if entry.var.owner is not None else []
        while stack:
            var = stack.pop()
            if var not in used:
                used.add(var)
                if var.owner is not None:
                    stack.extend(var.owner.inputs)
    return [e for e in pool if e.var.owner is not None and e.var not in used]


# ---------------------------------------------------------------------------------------
# Smooth programs for the gradient fuzzer
# ---------------------------------------------------------------------------------------
SMOOTH_UNARY = (
    "T.sin({x})",
    "T.cos({x})",
    "T.tanh({x})",
    "T.sigmoid({x})",
    "T.softplus({x})",
    "T.arctan({x})",
    "T.erf({x})",
    "T.sqr({x})",
    "-{x}",
    "T.exp(T.sin({x}))",
    "T.log(1 + T.sqr({x}))",
    "T.sqrt(1 + T.sqr({x}))",
    "1 / (1 + T.sqr({x}))",
    "(1 + T.sqr({x})) ** 1.5",
    "T.log(T.sigmoid({x}))",
    "T.log1p(T.exp({x}))",
    "T.log(1 + T.exp({x}))",
    "1 - T.sigmoid({x})",
    "T.exp({x}) / (1 + T.exp({x}))",
    "T.clip({x}, -1.0, 1.0)",
    "T.switch({x} > 0, {x}, 0.5 * {x})",
    "{x} * 3.0 + 1.0",
    "T.arcsinh({x})",
    "T.cosh(T.tanh({x}))",
)
SMOOTH_BINARY = (
    "({a} + {b})",
    "({a} - {b})",
    "({a} * {b})",
    "({a} / (1 + T.sqr({b})))",
    "T.log(T.exp({a}) + T.exp({b}))",
    "T.arctan2({a}, 2 + T.sqr({b}))",
)
SMOOTH_REDUCTIONS = ("sum", "mean", "prod", "logsumexp", "var")


def _smooth_unary(b: _Builder) -> _Entry:
    x = b.pick()
    return b.line(b.choice(SMOOTH_UNARY, label="smooth unary").format(x=x.name), x.shape)


def _smooth_binary(b: _Builder) -> _Entry:
    x = b.pick()
    other, shape = b.partner(x, dtype="float64")
    template = b.choice(SMOOTH_BINARY, label="smooth binary")
    left, right = (x.name, other) if b.draw(st.booleans(), label="swap") else (other, x.name)
    return b.line(template.format(a=left, b=right), shape)


def _smooth_reduce(b: _Builder) -> _Entry:
    x = b.pick()
    fn = b.choice(SMOOTH_REDUCTIONS, label="reduction")
    axis = _reduce_axes(b, len(x.shape))
    keepdims = b.draw(st.booleans(), label="keepdims")
    shape = np.sum(np.empty(x.shape), axis=axis, keepdims=keepdims).shape
    if fn == "prod":
        # keep products of a few factors of moderate size
        return b.line(f"T.prod(T.tanh({x.name}) + 1.5, axis={axis!r}, keepdims={keepdims})", shape)
    return b.line(f"T.{fn}({x.name}, axis={axis!r}, keepdims={keepdims})", shape)


SMOOTH_STEPS = (
    _smooth_unary,
    _smooth_binary,
    _smooth_reduce,
    _step_dimshuffle,
    _step_subtensor,
    _step_transpose,
    _step_reshape,
    _step_set_inc,
    _step_dot,
    _step_softmax,
    _step_join,
    _step_tile_repeat,
)


@st.composite
def smooth_programs(draw: Any, max_steps: int = 4) -> Program:
    """A random float64 program of smooth operations (for ``verify_grad``). Its inputs have
    no broadcastable axes, since ``verify_grad`` makes its own input variables."""
    b = _Builder(draw, smooth=True)
    for _ in range(draw(st.integers(1, 2), label="inputs")):
        b.pool.append(b.new_input("float64", b.shape(max_ndim=2)))
    steps = draw(st.sampled_from(range(1, max_steps + 1)), label="steps")
    for _ in range(steps):
        for _attempt in range(4):
            saved = (len(b.inputs), len(b.lines))
            step = draw(st.sampled_from(SMOOTH_STEPS), label="step")
            try:
                b.pool.append(step(b))
                break
            except _Reject:
                del b.inputs[saved[0] :]
                del b.lines[saved[1] :]
    return Program(b.inputs, b.lines, [b.pool[-1].name], dict(b.shapes))
