"""Scalar ops that have an inlined vector implementation in csrc/symgraph_vecmath.h.

Generated elementwise loops are ``#pragma omp parallel for simd`` loops; a scalar libm
call in their body blocks vectorization. ``symgraph_vecmath.h`` provides branch-free
``static inline`` versions (``sg_vexp_f64``, ``sg_vsin_f32``, ...) that gcc vectorizes with
the whole computation inlined. They are accurate to 2 ulp (see docs/vecmath.rst); compiled
with ``-DSG_SCALAR_MATH`` (config flag ``vecmath=False``) the same names become plain libm
calls, so generated code never has to change with the flag.
"""

from __future__ import annotations

from collections.abc import Sequence

from symgraph import scalar as ps
from symgraph.backends.c.ctypes import helper_suffix
from symgraph.scalar.op import ScalarOp

HEADER = "symgraph_vecmath.h"

# op class -> C function stem; the function is f"{stem}_f64" / f"{stem}_f32"
VECTOR_FUNCTIONS: dict[type[ScalarOp], str] = {
    ps.Exp: "sg_vexp",
    ps.Exp2: "sg_vexp2",
    ps.Expm1: "sg_vexpm1",
    ps.Log: "sg_vlog",
    ps.Log2: "sg_vlog2",
    ps.Log10: "sg_vlog10",
    ps.Log1p: "sg_vlog1p",
    ps.Sin: "sg_vsin",
    ps.Cos: "sg_vcos",
    ps.Tanh: "sg_vtanh",
    ps.Sinh: "sg_vsinh",
    ps.Cosh: "sg_vcosh",
    ps.Sigmoid: "sg_vsigmoid",
    ps.Softplus: "sg_vsoftplus",
}

# The ones generated code uses. For the others glibc's libmvec (declared SIMD-callable in
# symgraph_math.h) is as fast and is accurate on every argument: our sin/cos are accurate
# only up to |x| = 2^40 (float64) / 2^17 (float32). tanh is faster here, and libmvec has
# no sigmoid or softplus at all. log1p alone is about as fast as libmvec's, but inline it
# made the fused W1 loop (exp(x)*sin(y)+log1p(z*z)-tanh(x*y)) 6% faster: a call clobbers
# every vector register, so the loop's other live values are spilled around it. exp stays
# with libmvec: inline it made that loop 12% slower (bench/vecmath.py --only w1 w1gen).
PREFERRED: frozenset[type[ScalarOp]] = frozenset({ps.Tanh, ps.Sigmoid, ps.Softplus, ps.Log1p})

# ops whose fast path is accurate only on a bounded argument range (see range_guard)
RANGE_LIMITED: frozenset[type[ScalarOp]] = frozenset({ps.Sin, ps.Cos})


def vector_call(sop_class: type[ScalarOp], args: Sequence[str], dtype: str) -> str | None:
    """The C expression calling the vector implementation of ``sop_class``, or None.

    Parameters
    ----------
    sop_class : the scalar op's class (``ps.Exp``, ...).
    args : C expressions of the arguments, already of ``dtype``.
    dtype : the dtype the op computes in; only float32 and float64 have vector versions.

    Example
    -------
    >>> vector_call(ps.Exp, ["x[i]"], "float64")
    'sg_vexp_f64(x[i])'
    >>> vector_call(ps.Exp, ["x[i]"], "int64") is None
    True
    """
    stem = VECTOR_FUNCTIONS.get(sop_class)
    if stem is None or dtype not in ("float32", "float64") or len(args) != 1:
        return None
    return f"{stem}_{helper_suffix(dtype)}({args[0]})"


def range_guard(sop_class: type[ScalarOp], arg: str, dtype: str) -> str | None:
    """A C boolean expression that is true when ``arg`` is outside the fast path's accurate
    range (|x| > 2^40 for float64, 2^17 for float32 sin/cos), or None when the op has no
    limit.  An emitter that must match libm on every input can OR it into a flag inside
    the vector loop and recompute the flagged elements with libm after the loop.

    Example
    -------
    >>> range_guard(ps.Sin, "x[i]", "float64")
    '(!sg_vtrig_ok_f64(x[i]))'
    """
    if sop_class not in RANGE_LIMITED or dtype not in ("float32", "float64"):
        return None
    return f"(!sg_vtrig_ok_{helper_suffix(dtype)}({arg}))"
