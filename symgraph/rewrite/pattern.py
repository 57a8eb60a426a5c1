"""Rewrite rules as data: ``Rule(name, lhs, rhs, guard)`` over elementwise patterns.

A pattern is built like the math it matches::

    x = PatternVar("x")
    Rule("log_one_plus_to_log1p", log(1 + x), log1p(x))   # 1 + x rounds x away below 1e-16

- ``PatternVar("x")`` matches any variable; a name used twice must match the same one.
- A number matches a single-element constant of that value (seen through the
  DimShuffles that broadcast it), whatever its dtype.
- ``exp(x)``, ``1 + x``, ``-x`` ... match an Elemwise node of that scalar op. For
  commutative ops the operands match in either order; for ``+`` and ``*`` (associative
  and commutative) a pattern with fewer operands than the node also matches, the last
  pattern variable standing for the sum (product) of the operands left over, so
  ``log(1 + x)`` matches ``log(1 + a + b)`` with ``x = a + b``.

The right side is a pattern (built with the bound variables; numbers take the dtype of
what they meet) or a function of the ``Match``. A guard is a function of the ``Match``
that must return True. ``RuleSet``s are values: add them to combine, list them in a
pipeline phase. Nothing is registered by importing a module.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from symgraph import scalar as ps
from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply, Constant, Variable
from symgraph.rewrite.engine import LocalRewrite, Replacement
from symgraph.rewrite.match import scalar_constant
from symgraph.scalar.op import ScalarOp

Bindings = dict[str, Variable]


class Pattern:
    """Base of patterns; arithmetic operators build bigger patterns."""

    def matches(self, var: Variable, bindings: Bindings) -> Iterator[Bindings]:
        raise NotImplementedError(f"{type(self).__name__}.matches is abstract")

    def build(self, bindings: Bindings) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.build is abstract")

    def variables(self) -> list[str]:
        """Names of the pattern variables, in order of first appearance."""
        return []

    # arithmetic builds patterns, so rule tables read like the identities they state
    def __add__(self, other: Any) -> Pattern:
        return OpPattern(ps.add, (self, as_pattern(other)))

    def __radd__(self, other: Any) -> Pattern:
        return OpPattern(ps.add, (as_pattern(other), self))

    def __sub__(self, other: Any) -> Pattern:
        return OpPattern(ps.sub, (self, as_pattern(other)))

    def __rsub__(self, other: Any) -> Pattern:
        return OpPattern(ps.sub, (as_pattern(other), self))

    def __mul__(self, other: Any) -> Pattern:
        return OpPattern(ps.mul, (self, as_pattern(other)))

    def __rmul__(self, other: Any) -> Pattern:
        return OpPattern(ps.mul, (as_pattern(other), self))

    def __truediv__(self, other: Any) -> Pattern:
        return OpPattern(ps.true_div, (self, as_pattern(other)))

    def __rtruediv__(self, other: Any) -> Pattern:
        return OpPattern(ps.true_div, (as_pattern(other), self))

    def __pow__(self, other: Any) -> Pattern:
        return OpPattern(ps.pow, (self, as_pattern(other)))

    def __neg__(self) -> Pattern:
        return OpPattern(ps.neg, (self,))


@dataclass(frozen=True, eq=False)
class PatternVar(Pattern):
    """Matches any variable and binds it to ``name``."""

    name: str

    def matches(self, var: Variable, bindings: Bindings) -> Iterator[Bindings]:
        bound = bindings.get(self.name)
        if bound is None:
            yield {**bindings, self.name: var}
        elif bound is var or _same_constant(bound, var):
            yield bindings

    def build(self, bindings: Bindings) -> Any:
        return bindings[self.name]

    def variables(self) -> list[str]:
        return [self.name]

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, eq=False)
class Const(Pattern):
    """Matches a single-element constant equal to ``value``; builds a weakly typed number."""

    value: float

    def matches(self, var: Variable, bindings: Bindings) -> Iterator[Bindings]:
        found = scalar_constant(var)
        if found is not None and found == self.value:
            yield bindings

    def build(self, bindings: Bindings) -> Any:
        return self.value

    def __str__(self) -> str:
        return repr(self.value)


@dataclass(frozen=True, eq=False)
class OpPattern(Pattern):
    """Matches ``Elemwise(scalar_op)`` applied to operands matching ``args``."""

    scalar_op: ScalarOp
    args: tuple[Pattern, ...]

    def matches(self, var: Variable, bindings: Bindings) -> Iterator[Bindings]:
        from symgraph.tensor.elemwise import Elemwise

        node = var.owner
        if node is None or not isinstance(node.op, Elemwise) or node.op.scalar_op != self.scalar_op:
            return
        inputs = node.inputs
        k, n = len(self.args), len(inputs)
        sop = self.scalar_op
        if n == k:
            orders: Any = itertools.permutations(range(n)) if sop.commutative else [tuple(range(n))]
            for order in orders:
                yield from _match_all(self.args, [inputs[i] for i in order], bindings)
            return
        rest_at = self._rest_position()
        if not (sop.commutative and sop.associative) or n < k or rest_at is None:
            return
        fixed = [a for i, a in enumerate(self.args) if i != rest_at]
        for chosen in itertools.permutations(range(n), k - 1):
            operands = [inputs[i] for i in chosen]
            for found in _match_all(fixed, operands, bindings):
                leftover = [v for i, v in enumerate(inputs) if i not in chosen]
                rest = leftover[0] if len(leftover) == 1 else Elemwise(sop)(*leftover)
                yield from self.args[rest_at].matches(rest, found)

    def _rest_position(self) -> int | None:
        for i in range(len(self.args) - 1, -1, -1):
            if isinstance(self.args[i], PatternVar):
                return i
        return None

    def build(self, bindings: Bindings) -> Any:
        from symgraph.tensor.math import apply_elemwise

        return apply_elemwise(self.scalar_op, *[a.build(bindings) for a in self.args])

    def variables(self) -> list[str]:
        names: list[str] = []
        for a in self.args:
            for v in a.variables():
                if v not in names:
                    names.append(v)
        return names

    def __str__(self) -> str:
        args = [str(a) for a in self.args]
        symbol = self.scalar_op.symbol
        if symbol is not None and len(args) >= 2:
            return "(" + f" {symbol} ".join(args) + ")"
        if symbol is not None:
            return f"{symbol}{args[0]}"
        return f"{self.scalar_op.name}({', '.join(args)})"


def _match_all(
    patterns: Sequence[Pattern], variables: Sequence[Variable], bindings: Bindings
) -> Iterator[Bindings]:
    if not patterns:
        yield bindings
        return
    for found in patterns[0].matches(variables[0], bindings):
        yield from _match_all(patterns[1:], variables[1:], found)


def _same_constant(a: Variable, b: Variable) -> bool:
    return isinstance(a, Constant) and isinstance(b, Constant) and a.signature() == b.signature()


def as_pattern(value: Any) -> Pattern:
    """A pattern from a pattern or a number."""
    if isinstance(value, Pattern):
        return value
    if isinstance(value, (int, float)):
        return Const(value)
    raise TypeError(f"cannot use {value!r} in a rewrite pattern; use a PatternVar or a number")


def elemwise(scalar_op: ScalarOp) -> Callable[..., Pattern]:
    """A pattern constructor for an Elemwise of ``scalar_op``: ``elemwise(ps.exp)(x)``."""

    def make(*args: Any) -> Pattern:
        return OpPattern(scalar_op, tuple(as_pattern(a) for a in args))

    make.__name__ = scalar_op.name
    return make


# pattern constructors, named as the tensor functions they match
add = elemwise(ps.add)
sub = elemwise(ps.sub)
mul = elemwise(ps.mul)
true_div = elemwise(ps.true_div)
pow = elemwise(ps.pow)  # noqa: A001 - the op's name
neg = elemwise(ps.neg)
reciprocal = elemwise(ps.reciprocal)
abs_ = elemwise(ps.abs_)
sqr = elemwise(ps.sqr)
sqrt = elemwise(ps.sqrt)
exp = elemwise(ps.exp)
expm1 = elemwise(ps.expm1)
log = elemwise(ps.log)
log1p = elemwise(ps.log1p)
sinh = elemwise(ps.sinh)
arcsinh = elemwise(ps.arcsinh)
tanh = elemwise(ps.tanh)
arctanh = elemwise(ps.arctanh)
sigmoid = elemwise(ps.sigmoid)
softplus = elemwise(ps.softplus)
erf = elemwise(ps.erf)
erfc = elemwise(ps.erfc)
switch = elemwise(ps.switch)


# -- rules -----------------------------------------------------------------------------------
@dataclass
class Match:
    """A successful match: the graph, the node matched, and the bound variables."""

    fgraph: FunctionGraph
    node: Apply
    bindings: Bindings

    def __getitem__(self, name: str) -> Variable:
        return self.bindings[name]

    @property
    def out(self) -> Variable:
        """The output of the matched node (what the rule replaces)."""
        return self.node.outputs[0]


Guard = Callable[[Match], bool]
RightSide = Union[Pattern, Callable[[Match], Any]]


@dataclass(frozen=True, eq=False)
class Rule:
    """A named rewrite ``lhs -> rhs``, applied where ``guard`` (if any) returns True.

    ``doc`` states the identity's domain and why the rewrite helps; ``domain`` gives,
    per pattern variable, an interval of values where both sides agree (used by the
    tests that evaluate both sides).
    """

    name: str
    lhs: OpPattern
    rhs: RightSide
    guard: Guard | None = None
    doc: str = ""
    domain: dict[str, tuple[float, float]] = field(default_factory=dict)

    def tracks(self) -> tuple[type, ...]:
        return (type(self.lhs.scalar_op),)

    def apply(self, fgraph: FunctionGraph, node: Apply) -> Replacement:
        """The replacement of ``node``'s output, or None when the rule does not apply."""
        out = node.outputs[0]
        for bindings in self.lhs.matches(out, {}):
            match = Match(fgraph, node, bindings)
            if self.guard is not None and not self.guard(match):
                continue
            new = self.rhs.build(bindings) if isinstance(self.rhs, Pattern) else self.rhs(match)
            if new is not None:
                return [new]
        return None

    def rewrite(self) -> LocalRewrite:
        """This rule as a LocalRewrite for the engine."""
        return LocalRewrite(self.name, self.apply, self.tracks(), self.doc)

    def __str__(self) -> str:
        if isinstance(self.rhs, Pattern):
            rhs = str(self.rhs)
        else:
            rhs = getattr(self.rhs, "__doc__", None) or "..."
        return f"{self.name}: {self.lhs} -> {rhs.strip()}"


@dataclass(frozen=True)
class RuleSet:
    """An ordered, named collection of rules and local rewrites; ``a + b`` joins two."""

    name: str
    entries: tuple[Rule | LocalRewrite, ...]

    def __init__(self, name: str, entries: Sequence[Rule | LocalRewrite]) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "entries", tuple(entries))
        names = [e.name for e in self.entries]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(
                f"rule set {name!r}: rule names must be unique, repeated: {sorted(dupes)}"
            )

    def __add__(self, other: RuleSet) -> RuleSet:
        return RuleSet(f"{self.name}+{other.name}", self.entries + other.entries)

    def rewrites(self) -> list[LocalRewrite]:
        """The entries as LocalRewrites, in order."""
        return [e.rewrite() if isinstance(e, Rule) else e for e in self.entries]

    def rules(self) -> list[Rule]:
        """The declarative entries only."""
        return [e for e in self.entries if isinstance(e, Rule)]

    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def __iter__(self) -> Iterator[Rule | LocalRewrite]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)
