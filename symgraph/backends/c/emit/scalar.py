"""The scalar expression table: each scalar op as a C expression.

``scalar_expr(sop, args, in_dtypes, out_dtype, ctx)`` returns a C expression computing
one element. Arguments arrive as C expressions of their own dtypes; the table casts
them to the dtype the op computes in (the output dtype for arithmetic and math, the
common input dtype for comparisons), as NumPy does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from symgraph import scalar as ps
from symgraph.backends.c.ctypes import Unsupported, ctype, helper_suffix, suffix
from symgraph.backends.c.emit.vecmath import PREFERRED, range_guard, vector_call
from symgraph.scalar import dtypes as _dt
from symgraph.scalar.composite import Composite
from symgraph.scalar.op import ScalarOp

Args = Sequence[str]


def _is_f(dtype: str) -> bool:
    return dtype in ("float32", "float64")


def _libm(fn: str) -> Callable[[Args, str], str]:
    """A libm function with float/double variants (expf / exp)."""
    return lambda a, dt: f"{fn}{suffix(dt)}({', '.join(a)})"


def _helper(fn: str) -> Callable[[Args, str], str]:
    """A csrc/symgraph_math.h helper with _f32/_f64 variants."""
    return lambda a, dt: f"sg_{fn}_{helper_suffix(dt)}({', '.join(a)})"


def _int_or_float(int_form: Callable[[Args, str], str], float_form: Callable[[Args, str], str]) -> Callable[[Args, str], str]:
    return lambda a, dt: float_form(a, dt) if _is_f(dt) else int_form(a, dt)


def _floordiv(a: Args, dt: str) -> str:
    if _is_f(dt):
        return f"sg_floordiv_{helper_suffix(dt)}({a[0]}, {a[1]})"
    if dt.startswith("uint"):
        return f"(({ctype(dt)})sg_floordiv_u64({a[0]}, {a[1]}))"
    return f"(({ctype(dt)})sg_floordiv_i64({a[0]}, {a[1]}))"


def _mod(a: Args, dt: str) -> str:
    if _is_f(dt):
        return f"sg_mod_{helper_suffix(dt)}({a[0]}, {a[1]})"
    if dt.startswith("uint"):
        return f"(({ctype(dt)})sg_mod_u64({a[0]}, {a[1]}))"
    return f"(({ctype(dt)})sg_mod_i64({a[0]}, {a[1]}))"


def _nary(op: str) -> Callable[[Args, str], str]:
    return lambda a, dt: "(" + f" {op} ".join(a) + ")"


def _identity_int(a: Args, dt: str) -> str:
    return a[0]


# Ops that compute in the output dtype: arguments are cast to it first.
ARITHMETIC: dict[type[ScalarOp], Callable[[Args, str], str]] = {
    ps.Add: _nary("+"),
    ps.Mul: _nary("*"),
    ps.Sub: _nary("-"),
    ps.TrueDiv: _nary("/"),
    ps.IntDiv: _floordiv,
    ps.Mod: _mod,
    ps.Neg: lambda a, dt: f"(-{a[0]})",
    ps.Abs: _int_or_float(lambda a, dt: f"({a[0]} < 0 ? -{a[0]} : {a[0]})", _libm("fabs")),
    ps.Sign: _int_or_float(lambda a, dt: f"(({ctype(dt)})(({a[0]} > 0) - ({a[0]} < 0)))", _helper("sign")),
    ps.Sqr: lambda a, dt: f"({a[0]} * {a[0]})",
    ps.Reciprocal: lambda a, dt: f"(({ctype(dt)})1 / {a[0]})",
    ps.Maximum: _int_or_float(lambda a, dt: f"({a[0]} > {a[1]} ? {a[0]} : {a[1]})", _helper("max")),
    ps.Minimum: _int_or_float(lambda a, dt: f"({a[0]} < {a[1]} ? {a[0]} : {a[1]})", _helper("min")),
    ps.Floor: _int_or_float(_identity_int, _libm("floor")),
    ps.Ceil: _int_or_float(_identity_int, _libm("ceil")),
    ps.Trunc: _int_or_float(_identity_int, _libm("trunc")),
    ps.RoundHalfToEven: _int_or_float(_identity_int, _libm("rint")),
    ps.RoundHalfAwayFromZero: _int_or_float(_identity_int, _helper("round_half_away")),
    ps.Clip: _int_or_float(
        lambda a, dt: f"({a[0]} < {a[1]} ? {a[1]} : ({a[0]} > {a[2]} ? {a[2]} : {a[0]}))",
        lambda a, dt: f"sg_min_{helper_suffix(dt)}(sg_max_{helper_suffix(dt)}({a[0]}, {a[1]}), {a[2]})",
    ),
    ps.Identity: lambda a, dt: a[0],
    ps.Second: lambda a, dt: a[1],
    ps.Exp: _libm("exp"),
    ps.Exp2: _libm("exp2"),
    ps.Expm1: _libm("expm1"),
    ps.Log: _libm("log"),
    ps.Log2: _libm("log2"),
    ps.Log10: _libm("log10"),
    ps.Log1p: _libm("log1p"),
    ps.Sqrt: _libm("sqrt"),
    ps.Sin: _libm("sin"),
    ps.Cos: _libm("cos"),
    ps.Tan: _libm("tan"),
    ps.ArcSin: _libm("asin"),
    ps.ArcCos: _libm("acos"),
    ps.ArcTan: _libm("atan"),
    ps.ArcTan2: _libm("atan2"),
    ps.Sinh: _libm("sinh"),
    ps.Cosh: _libm("cosh"),
    ps.Tanh: _libm("tanh"),
    ps.ArcSinh: _libm("asinh"),
    ps.ArcCosh: _libm("acosh"),
    ps.ArcTanh: _libm("atanh"),
    ps.Sigmoid: _helper("sigmoid"),
    ps.Softplus: _helper("softplus"),
    ps.Erf: _libm("erf"),
    ps.Erfc: _libm("erfc"),
    ps.Erfinv: _helper("erfinv"),
    ps.Erfcinv: _helper("erfcinv"),
    ps.Gamma: _libm("tgamma"),
    ps.GammaLn: _helper("gammaln"),
    ps.Psi: _helper("psi"),
    ps.TriGamma: _helper("trigamma"),
}

# Comparisons compute in the common input dtype and give bool (uint8 0/1).
COMPARISONS: dict[type[ScalarOp], str] = {
    ps.LT: "<", ps.LE: "<=", ps.GT: ">", ps.GE: ">=", ps.EQ: "==", ps.NEQ: "!=",
}

BITWISE: dict[type[ScalarOp], str] = {ps.And: "&", ps.Or: "|", ps.Xor: "^"}

#: integer ops that wrap around in NumPy (modulo 2**bits) but overflow in C: signed overflow
#: is undefined (gcc -O3 folds (x + y > x) to true for INT64_MAX + 1), and uint16 operands
#: are promoted to a signed int (65535 * 65535 overflows it)
_WRAPPING_OPS = (ps.Add, ps.Sub, ps.Mul, ps.Neg, ps.Sqr, ps.Abs)


def _wrapping(cls: type[ScalarOp], args: Args, dtype: str) -> str:
    """``cls`` on integer ``args`` computed in an unsigned type at least as wide as int, whose
    arithmetic wraps, then converted back to ``dtype`` (gcc keeps the low bits, as NumPy)."""
    c = ctype(dtype)
    wide = "uint64_t" if dtype in ("int64", "uint64") else "uint32_t"
    u = [f"(({wide}){a})" for a in args]
    if cls is ps.Abs:  # abs(INT_MIN) is INT_MIN, as NumPy's
        return f"({args[0]} < 0 ? ({c})(({wide})0 - {u[0]}) : {args[0]})"
    if cls is ps.Neg:
        return f"(({c})(({wide})0 - {u[0]}))"
    if cls is ps.Sqr:
        return f"(({c})({u[0]} * {u[0]}))"
    op = {ps.Add: "+", ps.Sub: "-", ps.Mul: "*"}[cls]
    return f"(({c})(" + f" {op} ".join(u) + "))"


def _cast(expr: str, from_dtype: str, to_dtype: str) -> str:
    if from_dtype == to_dtype:
        return expr
    if to_dtype == "bool":
        return f"((uint8_t)(({expr}) != 0))"
    if _is_f(from_dtype) and to_dtype in _FLOAT_TO_INT:
        # a plain C cast is undefined for NaN, inf and out-of-range values
        return f"(({ctype(to_dtype)}){_FLOAT_TO_INT[to_dtype]}({expr}))"
    return f"(({ctype(to_dtype)})({expr}))"


#: float -> integer conversion helpers (csrc/symgraph_math.h) giving NumPy's x86-64 results
_FLOAT_TO_INT = {"int8": "sg_f2i32", "int16": "sg_f2i32", "int32": "sg_f2i32", "uint8": "sg_f2i32",
                 "uint16": "sg_f2i32", "int64": "sg_f2i64", "uint32": "sg_f2u32", "uint64": "sg_f2u64"}


def scalar_expr(sop: ScalarOp, args: Sequence[str], in_dtypes: Sequence[str], out_dtype: str,
                flags: dict[str, Any]) -> str:
    """C expression for one element of ``sop`` applied to ``args``.

    ``flags`` collects needs of the expression: ``flags['pow_error']`` is set when an
    integer power must check for negative exponents. A caller may put a set of op classes
    in ``flags['vector_ops']``: those use their inline vector version (vecmath.py) too,
    and a list in ``flags['trig_guards']``: sin and cos then use theirs, which are accurate
    on a bounded range only, and the list receives the C conditions that flag an argument
    past it (the caller ORs them into ``int sg_trig_bad`` and recomputes: elemwise.py).
    """
    for d in (*in_dtypes, out_dtype):
        ctype(d)  # raises Unsupported for float16 / complex
    if isinstance(sop, Composite):
        # A GNU statement expression with one local per step that is read more than once,
        # so a shared subexpression is computed once and the C stays linear in the
        # program's size (inlining every use would repeat it, exponentially in the worst case).
        uses = [0] * len(sop.dtypes)
        for _, step_args in sop.steps:
            for a in step_args:
                uses[a] += 1
        values = list(args)
        decls = []
        for k, ((step_op, step_args), dtype) in enumerate(zip(sop.steps, sop.dtypes[sop.n_inputs:])):
            value = scalar_expr(step_op, [values[a] for a in step_args],
                                [sop.dtypes[a] for a in step_args], dtype, flags)
            slot = sop.n_inputs + k
            if uses[slot] > 1 and k < len(sop.steps) - 1:
                flags["_locals"] = flags.get("_locals", 0) + 1
                name = f"sgc_{flags['_locals']}"
                decls.append(f"const {ctype(dtype)} {name} = {value};")
                value = name
            values.append(value)
        if not decls:
            return values[-1]
        return "({ " + " ".join(decls) + f" {values[-1]}; }})"
    cls = type(sop)
    if isinstance(sop, ps.Cast):
        return _cast(args[0], in_dtypes[0], out_dtype)
    if cls in COMPARISONS:
        common = _dt.upcast(*in_dtypes)
        a, b = (_cast(x, d, common) for x, d in zip(args, in_dtypes))
        return f"((uint8_t)({a} {COMPARISONS[cls]} {b}))"
    if cls is ps.IsNan:
        return f"((uint8_t)(isnan({args[0]}) != 0))" if _is_f(in_dtypes[0]) else "((uint8_t)0)"
    if cls is ps.IsInf:
        return f"((uint8_t)(isinf({args[0]}) != 0))" if _is_f(in_dtypes[0]) else "((uint8_t)0)"
    if cls in BITWISE:
        a, b = (_cast(x, d, out_dtype) for x, d in zip(args, in_dtypes))
        return f"(({ctype(out_dtype)})({a} {BITWISE[cls]} {b}))"
    if cls is ps.Invert:
        if out_dtype == "bool":
            return f"((uint8_t)!{args[0]})"
        return f"(({ctype(out_dtype)})~{args[0]})"
    if cls is ps.Switch:
        a = _cast(args[1], in_dtypes[1], out_dtype)
        b = _cast(args[2], in_dtypes[2], out_dtype)
        return f"({args[0]} ? {a} : {b})"
    if cls is ps.Pow:
        a, b = (_cast(x, d, out_dtype) for x, d in zip(args, in_dtypes))
        if _is_f(out_dtype):
            return f"pow{suffix(out_dtype)}({a}, {b})"
        flags["pow_error"] = True
        return f"(({ctype(out_dtype)})sg_pow_i64((int64_t)({a}), (int64_t)({b}), &sg_bad))"
    rule = ARITHMETIC.get(cls)
    if rule is None:
        raise Unsupported(f"no C expression for scalar op {sop}")
    if out_dtype == "bool" and cls in (ps.Add, ps.Mul, ps.Maximum, ps.Minimum):
        # bool arithmetic is logical: True + True == True
        inner = rule([_cast(x, d, "int64") for x, d in zip(args, in_dtypes)], "int64")
        return f"((uint8_t)(({inner}) != 0))"
    compute = out_dtype
    cast_args = [_cast(x, d, compute) for x, d in zip(args, in_dtypes)]
    if cls in _WRAPPING_OPS and compute in (*_dt.INT_DTYPES, *_dt.UINT_DTYPES):
        return _wrapping(cls, cast_args, compute)
    if cls in PREFERRED or cls in flags.get("vector_ops", ()):
        call = vector_call(cls, cast_args, compute)
        if call is not None:
            return call
    guards = flags.get("trig_guards")
    if guards is not None:
        call = _guarded_call(cls, cast_args, compute, guards, flags)
        if call is not None:
            return call
    return rule(cast_args, compute)


#: an argument that is a flat loop's input element or a hoisted scalar (elemwise.py): the
#: guard can read it in a statement of its own, outside the expression
_SIMPLE_ARG = re.compile(r"p\d+\[k\]|s\d+")


def _guarded_call(cls: type[ScalarOp], args: list[str], dtype: str, guards: list[str],
                  flags: dict[str, Any]) -> str | None:
    """The inline vector call of a range-limited op (sin, cos), its range guard added to
    ``guards`` (C conditions, true for an argument past the fast path's accurate range), or
    None for other ops. An argument that is a composite's local (in scope only inside the
    expression) is checked inside the expression, through a local of its own."""
    guard = range_guard(cls, args[0], dtype)
    call = vector_call(cls, args, dtype)
    if guard is None or call is None:
        return None
    if _SIMPLE_ARG.fullmatch(args[0]):
        guards.append(guard)
        return call
    flags["_locals"] = flags.get("_locals", 0) + 1
    local = f"sgt_{flags['_locals']}"
    return (f"({{ const {ctype(dtype)} {local} = {args[0]}; sg_trig_bad |= {range_guard(cls, local, dtype)}; "
            f"{vector_call(cls, [local], dtype)}; }})")
