"""The gradient of a Scan: backpropagation through time, as another Scan running backwards.

Forward, step ``t`` reads sequence rows ``x[t]``, state rows ``B_k[t + m_k + tap]`` and the
non-sequences ``W``, and writes ``B_k[t + m_k]`` and nit-sot rows ``Y_j[t]``. Backward,
for ``t = n-1 .. 0``, the adjoint of ``B_k[t + m_k]`` is complete (only later steps read it),
so the inner pullback at step ``t`` turns it and ``dY_j[t]`` into

- ``dx[t]`` (a per-step output of the backward scan),
- contributions to the adjoints of the rows step ``t`` read, ``B_k[t .. t + m_k - 1]``,
  kept in a window of ``m_k`` rows carried from step to step,
- a contribution to ``dW``, summed in a carried accumulator.

The backward step recomputes the forward step from the stored state rows (and stored
random states, so draws repeat exactly). ``truncate_gradient = k`` runs only the last
``k`` backward steps; earlier rows and the initial states then get no gradient.

The backward scan is itself differentiable (second derivatives, ``Rop``): its carries are
replayed as states (``_carries_pullback``).
"""

from __future__ import annotations

from typing import Any

from symgraph.control.scan_op import Scan, build_scan
from symgraph.graph.node import Apply
from symgraph.graph.traversal import clone_replace
from symgraph.scalar import dtypes as _dt
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import TensorVariable


def _placeholder(like: Any, name: str | None = None) -> TensorVariable:
    return TensorType(like.type.dtype, like.type.shape).make_variable(name)


def scan_pullback(op: Scan, node: Apply, output_grads: list[Any]) -> list[Any]:
    from symgraph import tensor as T
    from symgraph.gradient.reverse import grad

    if op.n_carries:
        return _carries_pullback(op, node, output_grads)
    _, seqs_out, inits_out, _, nonseqs_out = op.outer_input_groups(node)
    seqs_in, taps_in, _, nonseqs_in = op.inner_input_groups()
    n_run = node.outputs[-1]
    buffers = node.outputs[: op.n_states]
    nitsot_outs = node.outputs[op.n_states: op.n_states + op.n_nitsot]
    state_grads = output_grads[: op.n_states]
    nitsot_grads = output_grads[op.n_states: op.n_states + op.n_nitsot]
    if op.truncate_gradient >= 0:
        n_back = T.minimum(n_run, T.constant(op.truncate_gradient, dtype="int64"))
    else:
        n_back = n_run

    def backwards(x: Any, start: int = 0) -> Any:
        # rows start .. start + n_run - 1 of x, last first
        return x[start: start + n_run][::-1]

    sequences: list[tuple[Any, Any]] = []
    replace: dict[Any, Any] = {}
    for outer, inner in zip(seqs_out, seqs_in):
        ph = _placeholder(inner, inner.name)
        replace[inner] = ph
        sequences.append((backwards(outer), ph))
    for k, (buf, taps) in enumerate(zip(buffers, op.state_taps)):
        m = op.state_depth(k)
        for tap, inner in zip(taps, taps_in[k]):
            ph = _placeholder(inner, inner.name)
            replace[inner] = ph
            sequences.append((backwards(buf, m + tap), ph))
    nonseqs: list[tuple[Any, Any]] = []
    for outer, inner in zip(nonseqs_out, nonseqs_in):
        ph = _placeholder(inner, inner.name)
        replace[inner] = ph
        nonseqs.append((outer, ph))
    forward_outs, _ = clone_replace(op.inner.outputs, replace)

    # the adjoint each forward output gets at this step
    known: dict[Any, Any] = {}

    def seed(var: Any, g: Any) -> None:
        known[var] = known[var] + g if var in known else g

    carries: list[tuple[Any, Any, Any]] = []
    windows: list[tuple[int, Any, Any]] = []  # (state, window placeholder, forward output)
    for k, (buf, g_buf) in enumerate(zip(buffers, state_grads)):
        if not _dt.is_float(buf.dtype):
            continue
        m = op.state_depth(k)
        g_row = _placeholder(forward_outs[k], f"d{op.output_names[k] if k < len(op.output_names) else k}")
        sequences.append((backwards(g_buf, m), g_row))
        window = TensorType(buf.dtype, (m,) + tuple(buf.type.shape[1:])).make_variable("window")
        windows.append((k, window, forward_outs[k]))
        seed(forward_outs[k], g_row + window[m - 1])
    first = op.n_states + op.n_carries
    for j, (out, g_out) in enumerate(zip(nitsot_outs, nitsot_grads)):
        inner_out = forward_outs[first + j]
        if not _dt.is_float(out.dtype):
            continue
        g_row = _placeholder(inner_out, "dy")
        sequences.append((backwards(g_out), g_row))
        seed(inner_out, g_row)

    new_seqs = [ph for _, ph in sequences[: op.n_seqs]]
    new_taps = [ph for _, ph in sequences[op.n_seqs: op.n_seqs + op.n_tap_inputs]]
    new_nonseqs = [ph for _, ph in nonseqs]
    wrt = [v for v in new_seqs + new_taps + new_nonseqs if _dt.is_float(v.dtype)]
    if not known or not wrt:
        return [None] * len(node.inputs)
    grads = dict(zip(wrt, grad(None, wrt, known_grads=known, disconnected_inputs="ignore")))

    # windows: shift by one row (row 0 is a fresh row, the one step t writes is done) and
    # add what this step read
    tap_phs = iter(new_taps)
    tap_of: dict[int, list[tuple[int, Any]]] = {}
    for k, taps in enumerate(op.state_taps):
        tap_of[k] = [(tap, next(tap_phs)) for tap in taps]
    for k, window, _ in windows:
        m = op.state_depth(k)
        rows: list[Any] = [T.zeros_like(window[0])] + [window[i - 1] for i in range(1, m)]
        for tap, ph in tap_of[k]:
            rows[m + tap] = rows[m + tap] + grads[ph]
        new_window = T.stack(rows) if m > 1 else T.shape_padleft(rows[0])
        init = T.zeros_like(buffers[k][:m])
        carries.append((init, window, new_window))
    accumulators = []
    for outer, ph in nonseqs:
        if ph in grads:
            total = _placeholder(ph, f"d{ph.name or 'nonseq'}")
            carries.append((T.zeros_like(outer), total, total + grads[ph]))
            accumulators.append(ph)
    seq_grads = [grads[ph] for ph in new_seqs if ph in grads]

    outs = build_scan(f"grad_of_{op.label}", n_back, sequences, [], carries, seq_grads, nonseqs)
    window_finals = outs[: len(windows)]
    acc_finals = dict(zip(accumulators, outs[len(windows): len(windows) + len(accumulators)]))
    stacked = iter(outs[len(carries): len(carries) + len(seq_grads)])

    result: list[Any] = [None]
    for outer, ph in zip(seqs_out, new_seqs):
        if ph not in grads:
            result.append(None)
            continue
        rows = next(stacked)[::-1]  # rows for steps n_run - n_back .. n_run - 1
        result.append(T.set_subtensor(T.zeros_like(outer)[n_run - n_back: n_run], rows))
    finals = dict(zip([k for k, _, _ in windows], window_finals))
    for k, init in enumerate(inits_out):
        if k not in finals:
            result.append(None)
            continue
        m = op.state_depth(k)
        g_init = finals[k] + state_grads[k][:m]
        if op.truncate_gradient >= 0:
            # the backward loop reached the initial rows only if it ran every step
            g_init = T.switch(T.le(n_run, op.truncate_gradient), g_init, T.zeros_like(g_init))
        result.append(T.set_subtensor(T.zeros_like(init)[:m], g_init))
    for ph in new_nonseqs:
        result.append(acc_finals.get(ph))
    return result


def _carries_pullback(op: Scan, node: Apply, output_grads: list[Any]) -> list[Any]:
    """The pullback of a scan with carries (a gradient scan, when taking second derivatives).

    The values a carry takes at each step are not kept, so the loop is run again as a scan
    whose carries are states (a carry is a state with tap -1 whose history is kept: the inner
    graph is the same), and that scan is differentiated.
    """
    from symgraph import tensor as T

    n_steps, seqs, inits, carry_inits, nonseqs = op.outer_input_groups(node)
    replay = Scan(op.inner, op.n_seqs, op.state_taps + ((-1,),) * op.n_carries, 0, op.n_nitsot, op.n_nonseqs,
                  op.has_until, op.truncate_gradient, op.label, op.output_names)
    padded = [T.shape_padleft(c) for c in carry_inits]
    replayed = replay.make_node(n_steps, *seqs, *inits, *padded, *nonseqs)
    grads = list(output_grads[: op.n_states])
    for k in range(op.n_carries):
        history = replayed.outputs[op.n_states + k]
        # a carry's final value is the last row of its history
        grads.append(T.set_subtensor(T.zeros_like(history)[-1], output_grads[op.n_states + k]))
    grads.extend(output_grads[op.n_states + op.n_carries:])
    input_grads = scan_pullback(replay, replayed, grads)
    first = 1 + op.n_seqs + op.n_states
    for k in range(op.n_carries):
        g = input_grads[first + k]
        input_grads[first + k] = None if g is None else g[0]
    return input_grads
