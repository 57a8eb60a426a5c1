"""The ordered pipeline of rewrite phases.

canonicalize -> stabilize -> specialize (the C backend adds fuse and memory phases).
Each phase is a named list of rule sets; there is no global registry: this file says
what runs, in what order. Merging and constant folding run in every phase (the engine
does them), and later phases keep the canonical rules on to tidy what their own rules
produce; specialize also keeps the stability rules, so that running the pipeline a
second time finds nothing left to do.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from symgraph.graph.fgraph import FunctionGraph
from symgraph.rewrite.engine import Budget, LocalRewrite, RewriteLog, run_phase
from symgraph.rewrite.pattern import RuleSet

OPTIMIZERS = ("fast_run", "stabilize", "none")


@dataclass(frozen=True)
class Phase:
    """A named step of the pipeline: its rules, tried in order on each node."""

    name: str
    rules: tuple[LocalRewrite, ...]


def canonical_rules() -> RuleSet:
    """Every canonicalization rule set, in the order they are tried."""
    from symgraph.rewrite.rules import algebra, reduce, shape, subtensor

    return (algebra.CANONICAL_ALGEBRA + shape.SHAPE_CANONICALIZE + reduce.REDUCE_CANONICALIZE
            + subtensor.SUBTENSOR_CANONICALIZE)


def stability_rules() -> RuleSet:
    from symgraph.rewrite.rules import stability

    return stability.STABILIZE


def specialize_rules() -> RuleSet:
    from symgraph.rewrite.rules import blas, specialize

    return specialize.SPECIALIZE + blas.BLAS_SPECIALIZE


def phases_for(optimizer: str) -> list[Phase]:
    return list(_phases(optimizer))


@functools.lru_cache(maxsize=None)
def _phases(optimizer: str) -> tuple[Phase, ...]:
    """The phases run for ``optimizer`` ('fast_run', 'stabilize' or 'none').

    >>> [p.name for p in phases_for('fast_run')]
    ['canonicalize', 'stabilize', 'specialize']
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be 'fast_run', 'stabilize' or 'none', got {optimizer!r}")
    if optimizer == "none":
        return ()
    canonical = canonical_rules()
    stable = stability_rules()
    phases = [
        Phase("canonicalize", tuple(canonical.rewrites())),
        Phase("stabilize", tuple((stable + canonical).rewrites())),
    ]
    if optimizer == "fast_run":
        from symgraph.rewrite.rules import fusion

        specialize = specialize_rules() + stable + canonical
        phases.append(Phase("specialize", tuple(specialize.rewrites())))
        # last: elementwise trees become single loops (Composite), for every backend
        phases.append(Phase("fuse", tuple(fusion.FUSE)))
        phases.append(Phase("fuse_reduce", tuple(fusion.FUSE_REDUCE)))
    return tuple(phases)


def rewrite_graph(
    fgraph: FunctionGraph, optimizer: str = "fast_run", log: RewriteLog | None = None,
    budget: Budget | None = None,
) -> RewriteLog:
    """Run the pipeline for ``optimizer`` over ``fgraph`` in place and return the log.

    Parameters
    ----------
    fgraph : the graph to rewrite (in place)
    optimizer : 'fast_run' (all phases), 'stabilize' (canonicalize, stabilize) or 'none'
    log : a RewriteLog to add to (a new one by default)
    budget : per-phase limits (``Budget()`` by default)

    >>> log = rewrite_graph(FunctionGraph([x], [T.log(1 + x)]))
    >>> log.counts['log_one_plus_to_log1p']
    1
    """
    log = log if log is not None else RewriteLog()
    for phase in phases_for(optimizer):
        run_phase(fgraph, phase.name, phase.rules, log, budget)
    return log


def describe(optimizer: str = "fast_run") -> str:
    """The pipeline as text: each phase and, in order, its rules with what they state.

    >>> print(describe('stabilize'))   # doctest: +ELLIPSIS
    phase canonicalize (... rules)
      neg_of_neg: -(-x) = x
    ...
    """
    lines = []
    for phase in phases_for(optimizer):
        lines.append(f"phase {phase.name} ({len(phase.rules)} rules)")
        lines.extend(f"  {rule.name}: {rule.doc}" for rule in phase.rules)
    return "\n".join(lines)
