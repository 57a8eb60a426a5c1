"""The fuzz properties: what one random program must satisfy.

``check_program`` compiles the program three ways:

- the **reference**: the graph as written (``optimizer='none'``) run by the NumPy backend;
- the **candidate**: the full pipeline (``optimizer='fast_run'``) compiled to C;
- the full pipeline run by the NumPy backend (the same rewritten graph as the candidate).

and checks, for two calls with different values:

A. the candidate agrees with the rewritten graph in Python, strictly (``compare.py``, no
   stability allowance): this isolates C backend bugs;
B. the candidate agrees with the reference, with the stability allowance (a rewritten
   result may be finite where the naive formula overflowed or hit NaN): this catches
   rewrite bugs.

   The allowance is elementwise, so B is only meaningful where a non-finite value of the
   naive formula can only show up in the same element of the output. When a value the
   program computes on the way (a line other than the output's own) is inf or NaN in the
   reference, a rewrite may legitimately have avoided it, and the effect can pass through a
   reduction, a comparison, an argmax, a cast or an index, where no elementwise rule can
   follow it (``argmin(sigmoid(x) * exp(-x))`` picks the NaN of the naive form, the
   rewritten ``sigmoid(-x)`` has no NaN). For such an output there is no trustworthy
   naive reference, so B is skipped for it and A alone applies (recorded as a hypothesis
   event, so ``--hypothesis-show-statistics`` shows how often).

Also: every rewrite phase reaches its fixpoint (a rule that keeps re-firing until the
budget stops it is a bug even when the numbers stay right), dtypes and shapes equal the
outputs' static types (and the shapes the generator
tracked), inputs are never written, the arrays a call returned are not changed by the next
call. When the rewritten graph raises (a runtime error), the candidate raises too, and so
does the reference; the reference alone may raise in a value the rewrites removed.

``check_gradient`` runs ``verify_grad`` in mode 'c' on a smooth float64 program.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import currently_in_test_context, event, note

import symgraph as sg
from symgraph.gradient import verify_grad
from tests.fuzz.compare import SAMPLES, assert_agree, roll
from tests.fuzz.programs import Program
from tests.fuzz.rounding import perturbed_run

Outcome = list[np.ndarray] | BaseException

# Counts of what the checks did, over the whole session (for the long-run report).
STATS: Counter[str] = Counter()
# The graphs checked, without their values: (input dtypes and static shapes, source lines).
# Hypothesis draws the same graph with other values (and replays examples while shrinking).
GRAPHS: set[tuple[Any, ...]] = set()


def _record(what: str, counted: str | None = None) -> None:
    """A hypothesis note (shown with a failure), or an event (``--hypothesis-show-statistics``)
    that is also counted in STATS; nothing outside a hypothesis test."""
    if counted is not None:
        STATS[counted] += 1
    if currently_in_test_context():
        if counted is not None:
            event(counted)
        else:
            note(what)


def _call(fn: Any, args: Sequence[np.ndarray]) -> Outcome:
    with np.errstate(all="ignore"):
        try:
            result = fn(*args)
        except (ValueError, IndexError, ZeroDivisionError, FloatingPointError) as exc:
            return exc
    return [np.asarray(r) for r in result]


def _runs(fn: Any, program: Program, transform: Any, seed: int) -> tuple[Outcome, list[Any]]:
    """``fn`` on the arguments made with ``transform`` (None: the drawn values), and
    ``SAMPLES`` Monte Carlo runs of its graph on them, in antithetic pairs (``rounding.py``)."""
    args = program.arguments(transform)
    exact = _call(fn, args)
    samples = [
        perturbed_run(fn.maker.fgraph, args, seed + pair, sign)
        for pair in range(SAMPLES // 2)
        for sign in (1.0, -1.0)
    ]
    return exact, samples


def _sample(samples: list[Any], k: int) -> list[Any]:
    return [s[k] if s is not None else None for s in samples]


def _ancestors(var: Any) -> set[Any]:
    seen: set[Any] = set()
    stack = [var]
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        if v.owner is not None:
            stack.extend(v.owner.inputs)
    return seen


def _tainted(
    outputs: list[Any], defined: dict[str, Any], values: dict[str, np.ndarray]
) -> list[str | None]:
    """For each output, the name of a value computed on the way to it (not the output itself,
    not an input) that is inf or NaN in the reference, or None."""
    found: list[str | None] = []
    for out in outputs:
        upstream = _ancestors(out) - {out}
        found.append(
            next(
                (
                    name
                    for name, var in defined.items()
                    if var in upstream
                    and values[name].dtype.kind == "f"
                    and not np.isfinite(values[name]).all()
                ),
                None,
            )
        )
    return found


def check_program(program: Program) -> None:
    _record(f"reproducer:\n{program.source()}")
    inputs, outputs, defined = program.build_all()
    # values the outputs do not use are left out: they may legitimately fail (max of empty)
    used = set().union(*(_ancestors(out) for out in outputs))
    defined = {name: var for name, var in defined.items() if var in used}
    options: dict[str, Any] = {"on_unused_input": "ignore"}
    # the reference also returns every value the program defines (to see where it hits inf/NaN)
    reference = sg.compile_function(
        inputs, outputs + list(defined.values()), mode="py", optimizer="none", **options
    )
    rewritten = sg.compile_function(inputs, outputs, mode="py", optimizer="fast_run", **options)
    compiled = sg.compile_function(inputs, outputs, mode="c", optimizer="fast_run", **options)
    _record(f"rewrites applied: {dict(compiled.rewrites_applied)}")
    stopped = {
        phase: why
        for phase, why in compiled.maker.rewrite_log.stop_reasons.items()
        if why != "fixpoint"
    }
    assert not stopped, (
        f"the rewrite pipeline did not reach a fixpoint (a rewrite loop?): {stopped}"
    )
    fallen = sorted(
        {type(n.op).__name__ for n in getattr(compiled.maker.runner, "python_nodes", [])}
    )
    _record(f"nodes run in Python by mode 'c': {fallen}")
    for name in fallen:
        _record(name, counted=f"python fallback: {name}")
    STATS["programs"] += 1
    GRAPHS.add(_graph_key(program))

    n_out = len(outputs)
    for call, values in (("first", None), ("second", roll)):
        ref, ref_samples = _runs(reference, program, values, seed=1)
        fast, fast_samples = _runs(rewritten, program, values, seed=1)
        args = program.arguments(values)
        got = _call(compiled, args)
        if call == "first":
            first_args = args
        if isinstance(fast, BaseException):
            # the rewritten graph fails: C must fail too (not return garbage)
            assert isinstance(got, BaseException), (
                f"{call} call: mode 'py' on the rewritten graph raised "
                f"{type(fast).__name__}: {fast}, but mode 'c' returned {got!r}"
            )
            assert isinstance(ref, BaseException), (
                f"{call} call: the rewritten graph raised {type(fast).__name__}: {fast}, "
                f"but the graph as written returned {ref[:n_out]!r}"
            )
            _record("reference raised", counted="reference raised")
            return
        assert not isinstance(got, BaseException), (
            f"{call} call: mode 'c' raised {type(got).__name__}: {got}; mode 'py' returned {fast!r}"
        )
        if call == "first":
            kept = [np.array(g, copy=True) for g in got]
            first_got = got
        if isinstance(ref, BaseException):
            # the graph as written fails (max of an empty axis, an integer to a negative
            # power) in a value the rewritten graph no longer computes: compare C with the
            # rewritten graph only
            _record(
                "reference raised, rewritten graph did not",
                counted="reference raised, rewritten graph did not",
            )
            ref = None
        if call == "first":
            _check_shapes(program, outputs, fast if ref is None else ref[:n_out])
        tainted = (
            [None] * n_out
            if ref is None
            else _tainted(outputs, defined, dict(zip(defined, ref[n_out:])))
        )
        for k, var in enumerate(outputs):
            what = f"{call} call, output {k} ({program.outputs[k]})"
            assert got[k].dtype == np.dtype(var.dtype), (
                f"{what}: dtype {got[k].dtype}, type says {var.dtype}"
            )
            assert_agree(
                got[k],
                fast[k],
                _sample(fast_samples, k),
                allow_stabilized=False,
                what=f"{what}: mode 'c' vs mode 'py' on the same rewritten graph",
            )
            if ref is None:
                continue
            if tainted[k] is not None:
                _record(
                    f"{what}: {tainted[k]} is inf/NaN in the reference; compared with the "
                    "rewritten graph only"
                )
                _record("skip", counted="reference check skipped (non-finite upstream)")
                continue
            STATS["reference check"] += 1
            assert_agree(
                got[k],
                ref[k],
                _sample(ref_samples, k),
                allow_stabilized=True,
                what=f"{what}: mode 'c' (fast_run) vs the reference (py, no rewrites)",
            )
    for k, (before, after) in enumerate(zip(kept, first_got)):
        assert np.array_equal(before, after, equal_nan=True), (
            f"output {k} of the first call changed during the second call (buffer reuse?)"
        )
    for spec, arg in zip(program.inputs, first_args):
        assert np.array_equal(arg, spec.argument(), equal_nan=True), (
            f"mode 'c' wrote into its input {spec.name}"
        )


def _graph_key(program: Program) -> tuple[Any, ...]:
    types = tuple((spec.dtype, spec.static_shape) for spec in program.inputs)
    return types, tuple(program.lines), tuple(program.outputs)


def _check_shapes(program: Program, outputs: list[Any], ref: list[np.ndarray]) -> None:
    for k, (var, value) in enumerate(zip(outputs, ref)):
        expected = program.shapes[program.outputs[k]]
        assert value.dtype == np.dtype(var.dtype), (
            f"output {k}: the result is {value.dtype}, the type says {var.dtype}"
        )
        assert value.ndim == var.ndim and all(
            s is None or s == n for s, n in zip(var.type.shape, value.shape)
        ), f"output {k}: the result has shape {value.shape}, the static type says {var.type.shape}"
        assert value.shape == expected, (
            f"output {k}: the generator expected shape {expected}, the result has {value.shape}"
        )


def check_gradient(program: Program) -> None:
    """The program's gradient, compiled in C, matches finite differences."""
    points = [spec.values().astype(np.float64) for spec in program.inputs]

    def fun(*variables: Any) -> Any:
        return program.build(variables)[1][0]

    verify_grad(fun, points, rng=np.random.default_rng(0), mode="c", n_tests=1)
    STATS["gradients"] += 1
    GRAPHS.add(("gradient",) + _graph_key(program))
