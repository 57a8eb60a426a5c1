"""Algebraic canonicalization: one way to write each sum, product and simple identity.

Sums and products are flattened (through inner nodes used nowhere else, so no work is
duplicated, and at most MAX_FLAT_TERMS terms), their constants combined, equal terms
cancelled, neutral elements dropped; inverse function pairs collapse; useless casts and
switches go away. Terms are not sorted: merging compares the operands of commutative ops
as multisets, so ``a + b`` and ``b + a`` become one node without reordering what the
user wrote.

Cancelling may turn a NaN of the written form into a number: ``x - x`` is NaN for
``x = inf`` but becomes 0, ``x / x`` is NaN at 0 and becomes 1. These rewrites never
create a NaN or an infinity, and never change a finite result beyond rounding (and the
reassociation of a sum is itself a rounding change). Results keep their shape: a
replacement that would be smaller (a broadcast term survived a cancellation) is broadcast
back by the engine (``rewrite.shapes.fit_to``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from symgraph import scalar as ps
from symgraph.control.ifelse import IfElse
from symgraph.graph.fgraph import OUTPUT, FunctionGraph
from symgraph.graph.node import Apply, Constant, Variable
from symgraph.rewrite import pattern as p
from symgraph.rewrite.engine import LocalRewrite, Replacement
from symgraph.rewrite.match import (
    elemwise_node,
    is_constant_value,
    is_real,
    known_nonnegative,
    like,
    same_shape,
    scalar_constant,
    single_client,
)
from symgraph.rewrite.pattern import Match, PatternVar, Rule, RuleSet
from symgraph.tensor import math as tm
from symgraph.tensor.elemwise import Elemwise
from symgraph.tensor.variable import constant

#: a flattened sum or product keeps at most this many terms: absorbing an inner node
#: rebuilds the whole flat node, so without a bound a chain of n additions would cost n**2
MAX_FLAT_TERMS = 32


def _canonical_dtype(dtype: str) -> bool:
    # bool arithmetic is logic (True + True is True) and unsigned negation wraps: both are
    # left alone; signed ints obey these identities modulo 2**n, floats up to rounding
    return dtype.startswith(("float", "complex", "int"))


def _single_element_constant(var: Variable) -> Any:
    """The value of a constant with one element that broadcasts to nothing larger."""
    value = scalar_constant(var)
    if value is None or any(s != 1 for s in var.type.shape):  # type: ignore[attr-defined]
        return None
    return value


def _typed(value: Any, dtype: str) -> Variable:
    return constant(np.asarray(value, dtype=dtype), dtype=dtype)


def _as_dtype(var: Variable, dtype: str) -> Variable:
    # leaves of another dtype are cast first, so regrouping cannot overflow in a narrow type
    return tm.cast(var, dtype) if var.type.dtype != dtype else var  # type: ignore[attr-defined]


def equivalent(a: Variable, b: Variable, depth: int = 3) -> bool:
    """Same computation up to ``depth`` levels: same ops, same inputs (commutative ops in
    any order), equal constants. Used to tell whether a rebuilt form is new."""
    if a is b:
        return True
    if isinstance(a, Constant) and isinstance(b, Constant):
        return a.signature() == b.signature()
    na, nb = a.owner, b.owner
    if depth == 0 or na is None or nb is None or na.op != nb.op or a.index != b.index:
        return False
    if len(na.inputs) != len(nb.inputs):
        return False
    if getattr(getattr(na.op, "scalar_op", None), "commutative", False):
        unused = list(nb.inputs)
        for x in na.inputs:
            for k, y in enumerate(unused):
                if equivalent(x, y, depth - 1):
                    del unused[k]
                    break
            else:
                return False
        return True
    return all(equivalent(x, y, depth - 1) for x, y in zip(na.inputs, nb.inputs))


# -- sums --------------------------------------------------------------------------------------
@dataclass
class SumTerms:
    """A flattened sum: ``sum(pos) - sum(neg) + const``."""

    pos: list[Variable] = field(default_factory=list)
    neg: list[Variable] = field(default_factory=list)
    const: Any = 0
    n_const: int = 0
    absorbed: int = 0
    cancelled: int = 0


def _minus_one_at(var: Variable) -> int | None:
    """The position of a -1 factor if var is a product -1 * t * ..., else None."""
    node = elemwise_node(var, ps.Mul)
    if node is None:
        return None
    for i, v in enumerate(node.inputs):
        if _single_element_constant(v) == -1:
            return i
    return None


def _negated_term(var: Variable) -> Variable | None:
    """t if var is the product -1 * t (t itself a product of the other factors), else None."""
    at = _minus_one_at(var)
    if at is None:
        return None
    rest = [v for i, v in enumerate(var.owner.inputs) if i != at]  # type: ignore[union-attr]
    return rest[0] if len(rest) == 1 else tm.mul(*rest)


def sum_terms(fgraph: FunctionGraph, node: Apply) -> SumTerms:
    """Flatten the +, -, neg tree rooted at ``node`` through nodes used only inside it."""
    dtype = node.outputs[0].type.dtype  # type: ignore[attr-defined]
    found = SumTerms()
    sop = node.op.scalar_op  # type: ignore[attr-defined]
    if isinstance(sop, ps.Sub):
        start = [(node.inputs[0], 1), (node.inputs[1], -1)]
    elif isinstance(sop, ps.Neg):
        start = [(node.inputs[0], -1)]
    else:
        start = [(v, 1) for v in node.inputs]
    stack = list(reversed(start))
    while stack:
        var, sign = stack.pop()
        value = _single_element_constant(var)
        if value is not None:
            found.const += sign * value
            found.n_const += 1
            continue
        inner = var.owner
        if (
            inner is not None and isinstance(inner.op, Elemwise) and var.type.dtype == dtype  # type: ignore[attr-defined]
            and single_client(fgraph, var)
        ):
            isop = inner.op.scalar_op
            children = None
            if isinstance(isop, ps.Add):
                children = [(v, sign) for v in inner.inputs]
            elif isinstance(isop, ps.Sub):
                children = [(inner.inputs[0], sign), (inner.inputs[1], -sign)]
            elif isinstance(isop, ps.Neg):
                children = [(inner.inputs[0], -sign)]
            else:
                term = _negated_term(var)
                if term is not None:
                    children = [(term, -sign)]
            size = len(found.pos) + len(found.neg) + len(stack) + 1
            if children is not None and size + len(children) - 1 <= MAX_FLAT_TERMS:
                found.absorbed += 1
                stack.extend(reversed(children))
                continue
        (found.pos if sign > 0 else found.neg).append(var)
    _cancel(found.pos, found.neg, found)
    return found


def _cancel(first: list[Variable], second: list[Variable], found: Any) -> None:
    """Remove variables that appear in both lists (once per pair)."""
    if not first or not second:
        return
    where: dict[int, list[int]] = {}
    for i, v in enumerate(first):
        where.setdefault(id(v), []).append(i)
    drop_first: set[int] = set()
    keep_second = []
    for v in second:
        slots = where.get(id(v))
        if slots:
            drop_first.add(slots.pop())
            found.cancelled += 1
        else:
            keep_second.append(v)
    first[:] = [v for i, v in enumerate(first) if i not in drop_first]
    second[:] = keep_second


def build_sum(terms: SumTerms, dtype: str) -> Variable:
    """The canonical graph of a flattened sum: ``(a + b + c) - (d + e)``, ``-(d + e)``,
    constants last (a negative constant is subtracted: ``exp(x) - 1``)."""
    pos = [_as_dtype(v, dtype) for v in terms.pos]
    neg = [_as_dtype(v, dtype) for v in terms.neg]
    c = terms.const
    if c != 0:
        if isinstance(c, complex) or c > 0:
            pos.append(_typed(c, dtype))
        else:
            neg.append(_typed(-c, dtype))
    plus = pos[0] if len(pos) == 1 else tm.add(*pos) if pos else None
    minus = neg[0] if len(neg) == 1 else tm.add(*neg) if neg else None
    if plus is not None and minus is not None:
        return tm.sub(plus, minus)
    if plus is not None:
        return plus
    if minus is not None:
        return tm.neg(minus)
    return _typed(0, dtype)


def _absorbed_by_user(fgraph: FunctionGraph, node: Apply, roots: tuple[type, ...]) -> bool:
    """True if the only user of ``node`` is a node (of ``roots``, same dtype) that the same
    rule rewrites and that will flatten ``node`` into itself: then only that user is.
    Flattening at the top of a tree builds it once, instead of once per level from the
    inputs up (which would cost the tree's size squared)."""
    out = node.outputs[0]
    users = fgraph.clients.get(out, ())
    if len(users) != 1 or users[0][0] == OUTPUT:
        return False
    user = users[0][0]
    return (
        isinstance(user.op, Elemwise) and isinstance(user.op.scalar_op, roots)  # type: ignore[union-attr]
        and user.outputs[0].type.dtype == out.type.dtype  # type: ignore[union-attr, attr-defined]
        and len(user.inputs) + len(node.inputs) - 1 <= MAX_FLAT_TERMS  # type: ignore[union-attr]
    )


#: the ops a sum (product) flattens through, and the ones at whose nodes it is rewritten
_SUM_FAMILY = (ps.Add, ps.Sub, ps.Neg)
_PRODUCT_FAMILY = (ps.Mul, ps.TrueDiv, ps.Reciprocal, ps.Neg)
_SUM_ROOTS = _SUM_FAMILY
_PRODUCT_ROOTS = (ps.Mul, ps.TrueDiv, ps.Reciprocal)


def _may_change(fgraph: FunctionGraph, node: Apply, family: tuple[type, ...]) -> bool:
    """A cheap necessary condition for a sum/product rewrite: an input could be absorbed
    (a single-user node of the family), or appears twice (and may cancel), or constants
    could be combined or dropped."""
    dtype = node.outputs[0].type.dtype  # type: ignore[attr-defined]
    sums = family is _SUM_FAMILY
    seen: set[int] = set()
    constants = []
    for v in node.inputs:
        if id(v) in seen:
            return True
        seen.add(id(v))
        value = _single_element_constant(v)
        if value is not None:
            constants.append(value)
            continue
        owner = v.owner
        if (
            owner is not None and isinstance(owner.op, Elemwise) and v.type.dtype == dtype  # type: ignore[attr-defined]
            and single_client(fgraph, v)
            and len(node.inputs) + len(owner.inputs) - 1 <= MAX_FLAT_TERMS
            and (isinstance(owner.op.scalar_op, family) or (sums and _minus_one_at(v) is not None))
        ):
            return True
    if len(constants) > 1:
        return True
    if len(constants) == 1:
        c = constants[0]
        if c == (0 if sums else 1):
            return True  # a neutral element
        if sums and isinstance(node.op.scalar_op, ps.Add) and not isinstance(c, complex) and c < 0:  # type: ignore[attr-defined]
            return True  # x + (-1) is written x - 1
        if not sums and not isinstance(node.op.scalar_op, ps.Mul):  # type: ignore[attr-defined]
            return True  # a constant in a quotient may move
    return False


def _add_canonical(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # flatten a + (b - c), -(-x), x + y - x, constants together: one sum, one form
    out = node.outputs[0]
    if not _canonical_dtype(out.type.dtype) or not _may_change(fgraph, node, _SUM_FAMILY):  # type: ignore[attr-defined]
        return None
    if _absorbed_by_user(fgraph, node, _SUM_ROOTS):
        return None
    terms = sum_terms(fgraph, node)
    if terms.absorbed == 0 and terms.cancelled == 0 and terms.n_const <= 1:
        is_add = isinstance(node.op.scalar_op, ps.Add)  # type: ignore[attr-defined]
        negative_added = is_add and not isinstance(terms.const, complex) and terms.const < 0
        if not (terms.n_const == 1 and (terms.const == 0 or negative_added)):
            return None
    new = build_sum(terms, out.type.dtype)  # type: ignore[attr-defined]
    if equivalent(new, out):
        return None
    return [new]


# -- products ----------------------------------------------------------------------------------
@dataclass
class ProductFactors:
    """A flattened product: ``coef_num * prod(num) / (coef_den * prod(den))``."""

    num: list[Variable] = field(default_factory=list)
    den: list[Variable] = field(default_factory=list)
    coef_num: Any = 1
    coef_den: Any = 1
    n_const: int = 0
    absorbed: int = 0
    cancelled: int = 0


def product_factors(
    fgraph: FunctionGraph, node: Apply, absorb: bool = True, shared: bool = False
) -> ProductFactors:
    """Flatten the *, /, reciprocal, neg tree rooted at ``node`` through nodes used only
    inside it (with ``absorb=False``, only the root is taken apart; with ``shared=True``
    also through nodes used elsewhere, whose work is then partly repeated)."""
    dtype = node.outputs[0].type.dtype  # type: ignore[attr-defined]
    inexact = dtype.startswith(("float", "complex"))
    found = ProductFactors()
    stack = list(reversed(_product_children(node, 1)))
    while stack:
        var, power = stack.pop()
        value = _single_element_constant(var)
        if value is not None and (power > 0 or (inexact and value != 0)):
            if power > 0:
                found.coef_num *= value
            else:
                found.coef_den *= value
            found.n_const += 1
            continue
        inner = var.owner
        size = len(found.num) + len(found.den) + len(stack) + len(inner.inputs) if inner else 0
        if (
            absorb and inner is not None and isinstance(inner.op, Elemwise)
            and isinstance(inner.op.scalar_op, (ps.Mul, ps.TrueDiv, ps.Reciprocal, ps.Neg))
            and var.type.dtype == dtype and (shared or single_client(fgraph, var))  # type: ignore[attr-defined]
            and size <= MAX_FLAT_TERMS
        ):
            found.absorbed += 1
            if isinstance(inner.op.scalar_op, ps.Neg):
                found.coef_num *= -1
            stack.extend(reversed(_product_children(inner, power)))
            continue
        (found.num if power > 0 else found.den).append(var)
    _cancel(found.num, found.den, found)
    return found


def _product_children(node: Apply, power: int) -> list[tuple[Variable, int]]:
    sop = node.op.scalar_op  # type: ignore[attr-defined]
    if isinstance(sop, ps.TrueDiv):
        return [(node.inputs[0], power), (node.inputs[1], -power)]
    if isinstance(sop, ps.Reciprocal):
        return [(node.inputs[0], -power)]
    return [(v, power) for v in node.inputs]


def build_product(factors: ProductFactors, dtype: str) -> Variable:
    """The canonical graph of a flattened product: ``c * a * b / (d * e)``; a sign is
    taken out: ``-(a * b / d)`` (sums absorb it, and -1 * x is not a multiplication)."""
    num = [_as_dtype(v, dtype) for v in factors.num]
    den = [_as_dtype(v, dtype) for v in factors.den]
    cn, cd = factors.coef_num, factors.coef_den
    if cd != 1 and cn != 1:
        cn, cd = cn / cd, 1
    if cn == -1 and (num or den) and dtype.startswith(("float", "complex", "int")):
        positive = ProductFactors(num=factors.num, den=factors.den, coef_den=cd)
        return tm.neg(build_product(positive, dtype))
    if cn != 1:
        num.insert(0, _typed(cn, dtype))
    if cd != 1:
        den.insert(0, _typed(cd, dtype))
    top = num[0] if len(num) == 1 else tm.mul(*num) if num else None
    bottom = den[0] if len(den) == 1 else tm.mul(*den) if den else None
    if bottom is None:
        return top if top is not None else _typed(1, dtype)
    if top is None:
        return tm.reciprocal(bottom)
    return tm.true_div(top, bottom)


def _mul_canonical(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # flatten a * (b / c), collect constants, cancel x * y / x; -x inside a product is -1 * x
    out = node.outputs[0]
    if not _canonical_dtype(out.type.dtype) or not _may_change(fgraph, node, _PRODUCT_FAMILY):  # type: ignore[attr-defined]
        return None
    if _absorbed_by_user(fgraph, node, _PRODUCT_ROOTS):
        return None
    factors = product_factors(fgraph, node)
    if factors.absorbed == 0 and factors.cancelled == 0 and factors.n_const <= 1:
        if not (factors.n_const == 1 and factors.coef_num == 1 and factors.coef_den == 1):
            return None
    new = build_product(factors, out.type.dtype)  # type: ignore[attr-defined]
    if equivalent(new, out):
        return None
    return [new]


# -- neutral elements (kept as separate, readable rules) --------------------------------------
def _neg_of_neg(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # -(-x) == x exactly
    inner = elemwise_node(node.inputs[0], ps.Neg)
    if isinstance(node.op.scalar_op, ps.Neg) and inner is not None:  # type: ignore[attr-defined]
        return [inner.inputs[0]]
    return None


def _drop_neutral(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # x + 0 == x, x * 1 == x (only when the constant does not broadcast x to a larger shape)
    sop = node.op.scalar_op  # type: ignore[attr-defined]
    if not isinstance(sop, (ps.Add, ps.Mul)) or node.outputs[0].type.dtype == "bool":  # type: ignore[attr-defined]
        return None
    out = node.outputs[0]
    kept = [v for v in node.inputs if not is_constant_value(v, sop.identity)]
    if len(kept) == len(node.inputs) or not kept:
        return None
    if len(kept) == 1:
        if not same_shape(kept[0], out):
            return None
        return [like(kept[0], out)]
    new = Elemwise(sop)(*kept)
    if not same_shape(new, out):
        return None
    return [like(new, out)]


def _trivial_binary(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # x ** 1 == x, x / 1 == x, x - 0 == x
    sop = node.op.scalar_op  # type: ignore[attr-defined]
    if len(node.inputs) != 2:
        return None
    x, y = node.inputs
    if not same_shape(x, node.outputs[0]):
        return None
    if isinstance(sop, ps.Pow) and is_constant_value(y, 1):
        return [like(x, node.outputs[0])]
    if isinstance(sop, ps.TrueDiv) and is_constant_value(y, 1):
        return [like(x, node.outputs[0])]
    if isinstance(sop, ps.Sub) and is_constant_value(y, 0):
        return [like(x, node.outputs[0])]
    return None


# -- inverse function pairs and other one-line identities ------------------------------------
x = PatternVar("x")


def _real(m: Match) -> bool:
    return is_real(m["x"])


def _nonnegative(m: Match) -> bool:
    return known_nonnegative(m["x"])


def _float(m: Match) -> bool:
    # integer x * x wraps around on overflow where |x| does not (and |INT_MIN| < 0), so the
    # identity sqrt(x*x) = |x| only holds for floats
    return str(m["x"].type.dtype).startswith("float")  # type: ignore[attr-defined]


INVERSES = RuleSet("inverses", [
    # exp overflows to inf for x > 709; log(exp(x)) = x for real x
    Rule("log_of_exp", p.log(p.exp(x)), x, _real, doc="log(exp(x)) = x, x real"),
    # log(x) is NaN for x < 0, so only where x is known to be >= 0
    Rule("exp_of_log", p.exp(p.log(x)), x, _nonnegative, doc="exp(log(x)) = x for x >= 0",
         domain={"x": (0.0, 5.0)}),
    Rule("log1p_of_expm1", p.log1p(p.expm1(x)), x, _real, doc="log1p(expm1(x)) = x, x real"),
    Rule("expm1_of_log1p", p.expm1(p.log1p(x)), x, _nonnegative,
         doc="expm1(log1p(x)) = x for x >= -1 (guarded: x known >= 0)", domain={"x": (0.0, 5.0)}),
    # sqr(x) overflows for |x| > 1e154, |x| does not
    Rule("sqrt_of_sqr_to_abs", p.sqrt(p.sqr(x)), p.abs_(x), _float,
         doc="sqrt(x*x) = |x|, x float"),
    Rule("sqrt_of_self_product_to_abs", p.sqrt(x * x), p.abs_(x), _float,
         doc="sqrt(x*x) = |x|, x float"),
    Rule("sqr_of_sqrt", p.sqr(p.sqrt(x)), x, _nonnegative, doc="sqrt(x)**2 = x for x >= 0",
         domain={"x": (0.0, 5.0)}),
    Rule("abs_of_abs", p.abs_(p.abs_(x)), p.abs_(x), doc="||x|| = |x|"),
    Rule("abs_of_neg", p.abs_(-x), p.abs_(x), doc="|-x| = |x|"),
    Rule("abs_of_nonnegative", p.abs_(x), x, _nonnegative, doc="|x| = x for x >= 0",
         domain={"x": (0.0, 5.0)}),
    Rule("sinh_of_arcsinh", p.sinh(p.arcsinh(x)), x, _real, doc="sinh(arcsinh(x)) = x"),
    # sinh overflows for |x| > 710; arcsinh(sinh(x)) = x for real x
    Rule("arcsinh_of_sinh", p.arcsinh(p.sinh(x)), x, _real, doc="arcsinh(sinh(x)) = x"),
    # tanh rounds to 1 for x > 19, where arctanh gives inf; the identity holds for real x
    Rule("arctanh_of_tanh", p.arctanh(p.tanh(x)), x, _real, doc="arctanh(tanh(x)) = x"),
    Rule("reciprocal_of_reciprocal", p.reciprocal(p.reciprocal(x)), x,
         lambda m: m["x"].type.dtype.startswith(("float", "complex")),  # type: ignore[attr-defined]
         doc="1/(1/x) = x (and x = 1e-320 no longer becomes 0)"),
])


# -- casts -------------------------------------------------------------------------------------
def _useless_cast(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # cast to the dtype x already has
    sop = node.op.scalar_op  # type: ignore[attr-defined]
    if isinstance(sop, ps.Cast) and node.inputs[0].type.dtype == sop.dtype:  # type: ignore[attr-defined]
        return [node.inputs[0]]
    return None


def _merge_lossless_casts(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # cast(cast(x, mid), out) == cast(x, out) when x -> mid loses nothing (the value is the same)
    sop = node.op.scalar_op  # type: ignore[attr-defined]
    inner = elemwise_node(node.inputs[0], ps.Cast)
    if not isinstance(sop, ps.Cast) or inner is None:
        return None
    source = inner.inputs[0]
    if not lossless_cast(source.type.dtype, inner.op.scalar_op.dtype):  # type: ignore[attr-defined]
        return None
    return [tm.cast(source, sop.dtype)]


#: bits of precision of each float type's mantissa
_MANTISSA = {"float16": 11, "float32": 24, "float64": 53, "complex64": 24, "complex128": 53}


def lossless_cast(source: str, target: str) -> bool:
    """True if every value of dtype ``source`` is exactly representable in ``target``.

    Stricter than NumPy's 'safe' casting, which calls int64 -> float64 safe although
    integers above 2**53 round.
    """
    if source == target or source == "bool":
        return True
    src, dst = np.dtype(source), np.dtype(target)
    if src.kind in "iu" and dst.kind in "iu":
        return bool(np.can_cast(src, dst, "safe"))
    if src.kind in "iu" and dst.kind in "fc":
        bits = src.itemsize * 8 - (1 if src.kind == "i" else 0)
        return bits <= _MANTISSA[target]
    if src.kind in "fc" and dst.kind in "fc":
        return bool(np.can_cast(src, dst, "safe"))
    return False


# -- switch ------------------------------------------------------------------------------------
def _switch_constant_condition(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # switch(True, a, b) == a, switch(False, a, b) == b
    if not isinstance(node.op.scalar_op, ps.Switch):  # type: ignore[attr-defined]
        return None
    cond = _single_element_constant(node.inputs[0])
    if cond is None:
        return None
    return [node.inputs[1] if cond else node.inputs[2]]


def _switch_equal_branches(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # switch(c, a, a) == a (broadcast to c's shape by the engine if need be)
    if not isinstance(node.op.scalar_op, ps.Switch):  # type: ignore[attr-defined]
        return None
    _, a, b = node.inputs
    if a is b or (
        isinstance(a, Constant) and isinstance(b, Constant) and a.signature() == b.signature()
    ):
        return [a]
    return None


def _ifelse_constant_condition(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # ifelse(True, a, b) == a, ifelse(False, a, b) == b: the taken branch's graph, over the
    # node's arguments, replaces the node (nonzero is true, as at run time)
    cond = _single_element_constant(node.inputs[0])
    if cond is None:
        return None
    return node.op.branch_outputs(node, bool(cond))  # type: ignore[attr-defined, no-any-return]


def _ifelse_unused_outputs(fgraph: FunctionGraph, node: Apply) -> Replacement:
    # outputs that nothing reads (often gradients of other inputs) are dropped, so that the
    # branch that runs does not compute them
    used = [k for k, out in enumerate(node.outputs) if fgraph.clients.get(out)]
    if not used or len(used) == len(node.outputs):
        return None
    kept = iter(node.op.keep_outputs(node, used))  # type: ignore[attr-defined]
    return [next(kept) if k in used else None for k in range(len(node.outputs))]


CANONICAL_ALGEBRA = RuleSet("algebra", [
    LocalRewrite("neg_of_neg", _neg_of_neg, (ps.Neg,), "-(-x) = x"),
    LocalRewrite("drop_neutral_element", _drop_neutral, (ps.Add, ps.Mul), "x + 0 = x, x * 1 = x"),
    LocalRewrite("drop_trivial_operand", _trivial_binary, (ps.Pow, ps.TrueDiv, ps.Sub),
                 "x ** 1 = x, x / 1 = x, x - 0 = x"),
    *INVERSES,
    LocalRewrite("add_canonical", _add_canonical, (ps.Add, ps.Sub, ps.Neg),
                 "flatten sums, combine constants, cancel x - x"),
    LocalRewrite("mul_canonical", _mul_canonical, (ps.Mul, ps.TrueDiv, ps.Reciprocal),
                 "flatten products, combine constants, cancel x / x"),
    LocalRewrite("useless_cast", _useless_cast, (ps.Cast,), "cast(x, x.dtype) = x"),
    LocalRewrite("merge_lossless_casts", _merge_lossless_casts, (ps.Cast,),
                 "cast(cast(x, exact wider type), d) = cast(x, d)"),
    LocalRewrite("switch_constant_condition", _switch_constant_condition, (ps.Switch,),
                 "switch(True, a, b) = a"),
    LocalRewrite("switch_equal_branches", _switch_equal_branches, (ps.Switch,),
                 "switch(c, a, a) = a"),
    LocalRewrite("ifelse_constant_condition", _ifelse_constant_condition, (IfElse,),
                 "ifelse(True, a, b) = a"),
    LocalRewrite("ifelse_unused_outputs", _ifelse_unused_outputs, (IfElse,),
                 "ifelse(c, [a, b], [d, e])[0] = ifelse(c, a, d)"),
])


def replaced_in_product(
    fgraph: FunctionGraph, node: Apply, pick: Any
) -> Replacement:
    """Helper for rules over the factors of a (canonical) product node.

    ``pick(num, den)`` inspects the numerator and denominator factor lists and returns
    ``(num, den)`` with some factors replaced, or None. The product is rebuilt with the
    same constants. The factors are collected through inner products even when those are
    used elsewhere: a stability rule may repeat a multiplication to avoid a NaN.
    """
    out = node.outputs[0]
    if not out.type.dtype.startswith("float"):  # type: ignore[attr-defined]
        return None
    factors = product_factors(fgraph, node, shared=True)
    changed = pick(list(factors.num), list(factors.den))
    if changed is None:
        return None
    factors.num, factors.den = changed
    return [build_product(factors, out.type.dtype)]  # type: ignore[attr-defined]


def sum_of(variables: Sequence[Variable]) -> Variable:
    return variables[0] if len(variables) == 1 else tm.add(*variables)
