"""Helpers for rewrite tests: run chosen rules on a graph, evaluate graphs with NumPy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from symgraph.backends.py.runner import PyRunner
from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Variable
from symgraph.rewrite.engine import LocalRewrite, RewriteLog, run_phase
from symgraph.rewrite.pattern import Rule, RuleSet


def as_rewrites(rules: Sequence[Rule | LocalRewrite] | RuleSet) -> list[LocalRewrite]:
    return [r.rewrite() if isinstance(r, Rule) else r for r in rules]


def apply_rules(
    inputs: Sequence[Variable], outputs: Sequence[Variable], rules: Sequence[Any] | RuleSet,
    fold: bool = False,
) -> tuple[FunctionGraph, RewriteLog]:
    """A FunctionGraph of ``outputs`` rewritten with only ``rules`` (and merging)."""
    fgraph = FunctionGraph(list(inputs), list(outputs))
    log = RewriteLog()
    reason = run_phase(fgraph, "test", as_rewrites(rules), log, fold=fold)
    assert reason == "fixpoint", reason
    return fgraph, log


def run_graph(fgraph: FunctionGraph, values: Sequence[Any]) -> list[np.ndarray]:
    with np.errstate(all="ignore"):
        return PyRunner(fgraph)([np.asarray(v) for v in values])


def evaluate(inputs: Sequence[Variable], outputs: Sequence[Variable],
             values: Sequence[Any]) -> list[np.ndarray]:
    """The outputs as written (no rewriting) at ``values``."""
    return run_graph(FunctionGraph(list(inputs), list(outputs)), values)


def op_names(fgraph: FunctionGraph) -> list[str]:
    """The names of the ops (scalar op names for Elemwise) in the graph."""
    from symgraph.tensor.elemwise import Elemwise

    names = []
    for node in fgraph.toposort():
        names.append(node.op.scalar_op.name if isinstance(node.op,
                                                          Elemwise) else type(node.op).__name__)
    return names


def assert_rewrite_keeps_values(
    inputs: Sequence[Variable], output: Variable, rules: Any, values: Sequence[Any],
    name: str, rtol: float = 1e-12, atol: float = 0.0, fold: bool = False,
) -> FunctionGraph:
    """``name`` fires on ``output`` and the rewritten graph gives the same values and type."""
    fgraph, log = apply_rules(inputs, [output], rules, fold=fold)
    assert log.counts[name] >= 1, f"{name} did not fire; fired: {dict(log.counts)}"
    (expected,) = evaluate(inputs, [output], values)
    (got,) = run_graph(fgraph, values)
    assert fgraph.outputs[0].type == output.type
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    return fgraph


def assert_not_fired(inputs: Sequence[Variable], output: Variable, rules: Any, name: str) -> None:
    _, log = apply_rules(inputs, [output], rules)
    assert log.counts[name] == 0, f"{name} fired but should not have"
