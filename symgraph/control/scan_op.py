"""The Scan op: a loop over an inner FunctionGraph, carrying state from step to step.

``symgraph.control.scan.scan`` (the user function, Theano's interface) and the gradient
(``scan_grad.py``) both build Scans through ``build_scan``. The op knows four kinds of
inner inputs and outputs, in this order:

- **sequences**: outer arrays of shape ``(L, ...)``; step ``t`` reads row ``t`` (taps on a
  user's sequence are separate outer slices of it, made by ``scan``).
- **states** (Theano's sit-sot and mit-sot): an outer initial buffer of shape ``(m, ...)``
  with ``m = -min(taps)``; step ``t`` reads ``buffer[t + m + tap]`` for each tap and writes
  ``buffer[t + m]``. The op's output is the whole buffer, ``(m + n, ...)``: the initial rows
  then one row per step, which the gradient reads back (users see ``buffer[m:]``).
- **carries**: a value fed from one step to the next of which only the last is kept (the
  gradient's accumulators).
- **nit-sots**: per-step results that are not fed back, stacked to ``(n, ...)``.

Non-sequences are passed unchanged to every step. With ``has_until`` the inner graph has
one more output, a condition: the loop stops after the first step where it is true.
The last output is the number of steps run (an int64 scalar).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Apply
from symgraph.graph.op import Op, ShapeInferenceError
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import TensorVariable, as_tensor_variable


def _join_shapes(a: Sequence[int | None], b: Sequence[int | None]) -> tuple[int | None, ...]:
    """The static shape that both ``a`` and ``b`` satisfy (None where they differ)."""
    return tuple(x if x == y else None for x, y in zip(a, b))


@dataclass(frozen=True, eq=False)
class Scan(Op):
    """A loop; see the module docstring for the layout of inputs and outputs.

    Inputs: ``n_steps`` (int64 scalar; -1: as many steps as the shortest sequence),
    sequences, state initial buffers, carry initial values, non-sequences.
    Outputs: state buffers, carry final values, stacked nit-sots, steps run.
    Scans compare by identity (as Maps do).
    """

    inner: FunctionGraph
    n_seqs: int
    state_taps: tuple[tuple[int, ...], ...]
    n_carries: int
    n_nitsot: int
    n_nonseqs: int
    has_until: bool = False
    truncate_gradient: int = -1
    label: str = field(default="scan")
    #: the names users gave each output, for error messages (inner output order)
    output_names: tuple[str, ...] = ()

    # -- layout helpers -------------------------------------------------------------------
    @property
    def n_states(self) -> int:
        return len(self.state_taps)

    @property
    def n_tap_inputs(self) -> int:
        return sum(len(t) for t in self.state_taps)

    def state_depth(self, k: int) -> int:
        return -min(self.state_taps[k])

    def inner_input_groups(self) -> tuple[list[Any], list[list[Any]], list[Any], list[Any]]:
        """The inner inputs as (sequences, taps per state, carries, non-sequences)."""
        ins = list(self.inner.inputs)
        seqs, pos = ins[: self.n_seqs], self.n_seqs
        taps = []
        for t in self.state_taps:
            taps.append(ins[pos: pos + len(t)])
            pos += len(t)
        carries = ins[pos: pos + self.n_carries]
        return seqs, taps, carries, ins[pos + self.n_carries:]

    def outer_input_groups(self, node: Apply) -> tuple[Any, list[Any], list[Any], list[Any], list[Any]]:
        """The node's inputs as (n_steps, sequences, state buffers, carries, non-sequences)."""
        ins = list(node.inputs)
        a = 1 + self.n_seqs
        b = a + self.n_states
        c = b + self.n_carries
        return ins[0], ins[1:a], ins[a:b], ins[b:c], ins[c:]

    # -- Op ---------------------------------------------------------------------------------
    def make_node(self, n_steps: Any, *args: Any) -> Apply:
        n_steps = as_tensor_variable(n_steps)
        if n_steps.ndim != 0 or n_steps.dtype != "int64":
            raise TypeError(f"{self}: n_steps must be an int64 scalar, got {n_steps.type}")
        args_t = [as_tensor_variable(a) for a in args]
        expected = self.n_seqs + self.n_states + self.n_carries + self.n_nonseqs
        if len(args_t) != expected:
            raise TypeError(f"{self}: expected {expected} inputs after n_steps, got {len(args_t)}")
        seqs_in, taps_in, carries_in, nonseqs_in = self.inner_input_groups()
        pos = 0
        for inner in seqs_in:
            outer = args_t[pos]
            pos += 1
            if outer.ndim != inner.ndim + 1 or outer.dtype != inner.dtype:
                raise TypeError(f"{self}: sequence {outer!r} ({outer.type}) does not fit steps of type {inner.type}")
        state_outer = args_t[pos: pos + self.n_states]
        pos += self.n_states
        for k, (outer, taps) in enumerate(zip(state_outer, taps_in)):
            inner = taps[0]
            if outer.ndim != inner.ndim + 1 or outer.dtype != inner.dtype:
                raise TypeError(f"{self}: initial buffer {outer!r} ({outer.type}) of state {k} does not fit "
                                f"values of type {inner.type}")
        carry_outer = args_t[pos: pos + self.n_carries]
        pos += self.n_carries
        for outer, inner in zip(carry_outer, carries_in):
            if outer.ndim != inner.ndim or outer.dtype != inner.dtype:
                raise TypeError(f"{self}: carry {outer!r} ({outer.type}) does not fit {inner.type}")
        for outer, inner in zip(args_t[pos:], nonseqs_in):
            if not inner.type.is_compatible(outer.type):
                raise TypeError(f"{self}: non-sequence {outer!r} ({outer.type}) does not fit {inner.type}")

        inner_outs = self.inner.outputs
        outputs: list[TensorVariable] = []
        for k, outer in enumerate(state_outer):
            row = _join_shapes(outer.type.shape[1:], inner_outs[k].type.shape)
            outputs.append(TensorType(outer.dtype, (None,) + row).make_variable())
        for k, outer in enumerate(carry_outer):
            out = inner_outs[self.n_states + k]
            outputs.append(TensorType(outer.dtype, _join_shapes(outer.type.shape, out.type.shape)).make_variable())
        first = self.n_states + self.n_carries
        for out in inner_outs[first: first + self.n_nitsot]:
            outputs.append(TensorType(out.type.dtype, (None,) + tuple(out.type.shape)).make_variable())
        outputs.append(TensorType("int64", ()).make_variable())
        return Apply(self, [n_steps, *args_t], outputs)

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        raise ShapeInferenceError("Scan output shapes are known only once the loop has run")

    def __str__(self) -> str:
        return f"Scan{{{self.label}}}"


def build_scan(
    label: str,
    n_steps: TensorVariable,
    sequences: Sequence[tuple[TensorVariable, TensorVariable]],
    states: Sequence[tuple[TensorVariable, tuple[int, ...], Sequence[TensorVariable], TensorVariable]],
    carries: Sequence[tuple[TensorVariable, TensorVariable, TensorVariable]],
    nitsots: Sequence[TensorVariable],
    nonseqs: Sequence[tuple[TensorVariable, TensorVariable]],
    until: TensorVariable | None = None,
    truncate_gradient: int = -1,
    output_names: Sequence[str] = (),
) -> list[TensorVariable]:
    """Make a Scan node from an inner graph given as placeholders and outputs.

    Parameters
    ----------
    sequences : (outer array, inner placeholder for one row) pairs
    states : (outer initial buffer, taps, inner placeholder per tap, inner new value)
    carries : (outer initial value, inner placeholder, inner next value)
    nitsots : inner per-step outputs
    nonseqs : (outer value, inner placeholder) pairs; every other leaf of the inner
        outputs must be a constant
    until : an inner boolean scalar, or None

    Returns the node's outputs (see ``Scan``).
    """
    inner_inputs = [p for _, p in sequences]
    inner_outputs = []
    for _, _, phs, new in states:
        inner_inputs.extend(phs)
        inner_outputs.append(new)
    for _, ph, new in carries:
        inner_inputs.append(ph)
        inner_outputs.append(new)
    inner_outputs.extend(nitsots)
    inner_inputs.extend(p for _, p in nonseqs)
    if until is not None:
        inner_outputs.append(until)
    inner = FunctionGraph(inner_inputs, inner_outputs, clone=True)
    op = Scan(inner, len(sequences), tuple(tuple(t) for _, t, _, _ in states), len(carries), len(nitsots),
              len(nonseqs), until is not None, truncate_gradient, label, tuple(output_names))
    outer = [s for s, _ in sequences] + [b for b, _, _, _ in states] + [c for c, _, _ in carries] + \
        [v for v, _ in nonseqs]
    node = op.make_node(n_steps, *outer)
    return list(node.outputs)
