"""Every declarative rule of the pipeline, evaluated generically: it fires on its own left
side, the rewritten graph keeps the type, and both sides agree on random inputs inside
the rule's domain."""

from __future__ import annotations

import numpy as np
import pytest

import symgraph.tensor as T
from symgraph.rewrite.pattern import Rule
from symgraph.rewrite.pipeline import canonical_rules, specialize_rules, stability_rules
from symgraph.rewrite.rules.algebra import _nonnegative
from tests.rewrite.support import apply_rules, evaluate, run_graph

ALL_RULES = [r for rules in (canonical_rules(), stability_rules(),
                             specialize_rules()) for r in rules.rules()]


def _inputs_for(rule: Rule, rng: np.random.Generator):
    names = rule.lhs.variables()
    variables = [T.dvector(name) for name in names]
    values = []
    for name in names:
        low, high = rule.domain.get(name, (-3.0, 3.0))
        values.append(rng.uniform(low, high, size=5))
    return names, variables, values


def _needs_nonnegative_witness(rule: Rule) -> bool:
    return rule.guard is _nonnegative


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.name)
def test_declarative_rule_fires_and_keeps_values(rule, rng):
    names, variables, values = _inputs_for(rule, rng)
    # a guard that needs x >= 0 accepts abs(x); the domain already keeps values >= 0
    bound = [T.abs(v) if _needs_nonnegative_witness(rule) else v for v in variables]
    lhs = rule.lhs.build(dict(zip(names, bound)))
    fgraph, log = apply_rules(variables, [lhs], [rule])
    assert log.counts[rule.name] >= 1, f"{rule} did not fire on its own left side"
    assert fgraph.outputs[0].type == lhs.type
    (expected,) = evaluate(variables, [lhs], values)
    (got,) = run_graph(fgraph, values)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("rule", [r for r in ALL_RULES if _needs_nonnegative_witness(r)],
                         ids=lambda r: r.name)
def test_rule_guarded_by_sign_does_not_fire_on_an_input_of_unknown_sign(rule):
    names = rule.lhs.variables()
    variables = [T.dvector(name) for name in names]
    lhs = rule.lhs.build(dict(zip(names, variables)))
    _, log = apply_rules(variables, [lhs], [rule])
    assert log.counts[rule.name] == 0


def test_rule_names_are_unique_across_the_pipeline():
    from symgraph.rewrite.pipeline import phases_for

    for phase in phases_for("fast_run"):
        names = [r.name for r in phase.rules]
        assert len(names) == len(set(names)), phase.name
