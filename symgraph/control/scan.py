"""scan: loops in the graph, with Theano's interface (``sg.scan``, ``theano.scan``).

>>> k = T.iscalar('k'); A = T.vector('A')
>>> result, updates = sg.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A),
...                           non_sequences=A, n_steps=k)
>>> power = sg.function([A, k], result[-1], updates=updates)   # A ** k

``fn`` is called once, on placeholders, to build the graph of one step; the Scan op
(``scan_op.py``) runs that graph in a loop (``scan_loop.py``) and is differentiated by
backpropagation through time (``scan_grad.py``).

What ``fn`` receives, in order: each sequence's taps (in the order given), each fed-back
output's taps (entries of ``outputs_info`` that are not None), then the non-sequences.
Outer variables that ``fn`` uses without receiving them (shared variables, say) are
captured automatically. A shared variable that ``fn`` updates (its returned updates, or a
random draw's state) is read at its current value on every step; its value after the last
step is in the returned ``updates``.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from symgraph.control.scan_op import Scan, build_scan
from symgraph.graph.node import Constant, Variable
from symgraph.graph.traversal import ancestors, clone_replace, toposort
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import TensorVariable, as_tensor_variable

__all__ = ["OrderedUpdates", "Scan", "foldl", "foldr", "map", "reduce", "scan", "scan_map", "scan_reduce", "scan_until",
           "until"]


class until:  # Theano's name, lowercase: users write until(cond)
    """Stop a scan after the step where ``condition`` is true: ``return h, until(h > 10)``."""

    def __init__(self, condition: Any) -> None:
        cond = as_tensor_variable(condition)
        if cond.ndim != 0:
            raise TypeError(f"until: the condition must be a scalar, got {cond.type}")
        self.condition = cond


def scan_until(condition: Any) -> until:
    """The same as ``until(condition)``."""
    return until(condition)


class OrderedUpdates(OrderedDict):  # type: ignore[type-arg]
    """The updates a scan returns (shared variable -> value after the last step); pass them
    to ``compile_function(updates=...)``. ``+`` joins two sets of updates."""

    def __add__(self, other: Any) -> OrderedUpdates:
        joined = OrderedUpdates(self)
        pairs = other.items() if isinstance(other, Mapping) else other
        for var, value in pairs:
            if var in joined and joined[var] is not value:
                raise ValueError(f"updates: {var!r} is updated twice")
            joined[var] = value
        return joined

    def __radd__(self, other: Any) -> OrderedUpdates:
        return OrderedUpdates(other.items() if isinstance(other, Mapping) else other) + self


# -- normalising the arguments ------------------------------------------------------------------
def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _var_label(var: Any) -> str:
    return repr(var) if getattr(var, "name", None) else f"<{var.type}>"


class _Sequence:
    def __init__(self, position: int, entry: Any, go_backwards: bool) -> None:
        if isinstance(entry, Mapping):
            if "input" not in entry:
                raise TypeError(f"scan: sequence {position} is a dict without 'input': {dict(entry)!r}")
            value, taps = entry["input"], entry.get("taps", [0])
        else:
            value, taps = entry, [0]
        taps = [0] if taps is None else [int(t) for t in _as_list(taps)]
        if not taps:
            raise ValueError(f"scan: sequence {position} has an empty list of taps")
        self.input = as_tensor_variable(value)
        if self.input.ndim < 1:
            raise TypeError(f"scan: sequence {position} ({_var_label(self.input)}) is a scalar; a sequence "
                            "needs at least one axis to loop over")
        self.taps = taps
        self.label = f"sequence {_var_label(self.input)}" if self.input.name else f"sequence {position}"
        walked = self.input[::-1] if go_backwards else self.input
        # step t sits at row t + offset; it reads rows t + offset + tap for each tap
        offset = -min(min(taps), 0)
        ahead = max(max(taps), 0)
        self.slices = []
        self.placeholders = []
        row_type = TensorType(self.input.dtype, self.input.type.shape[1:])
        for tap in taps:
            start, stop = offset + tap, tap - ahead
            if start == 0 and stop == 0:
                self.slices.append(walked)
            else:
                self.slices.append(walked[start: stop if stop < 0 else None])
            name = f"{self.input.name}[t{tap:+d}]" if self.input.name and tap else \
                (f"{self.input.name}[t]" if self.input.name else None)
            self.placeholders.append(row_type.make_variable(name))


class _Output:
    """One entry of outputs_info: not fed back (None), or fed back with its taps."""

    def __init__(self, position: int, entry: Any) -> None:
        self.position = position
        self.python_number = False
        self.initial: TensorVariable | None = None
        self.taps: list[int] = []
        self.is_buffer = False  # the initial value holds max(-taps) rows
        if isinstance(entry, Mapping):
            init = entry.get("initial")
            taps = entry.get("taps", [-1])
            if init is None:
                return
            taps = [-1] if taps is None else [int(t) for t in _as_list(taps)]
            if not taps:
                raise ValueError(f"scan: outputs_info[{position}] has an empty list of taps")
            bad = [t for t in taps if t >= 0]
            if bad:
                raise ValueError(f"scan: outputs_info[{position}] has taps {taps}; an output can only read its "
                                 "past values (negative taps)")
            self.taps = taps
            self.is_buffer = taps != [-1]
        elif entry is None:
            return
        else:
            init, self.taps = entry, [-1]
        self.python_number = isinstance(init, (int, float)) and not isinstance(init, bool)
        self.initial = as_tensor_variable(init)
        if self.is_buffer and self.initial.ndim < 1:
            raise TypeError(f"scan: outputs_info[{position}] has taps {self.taps}, so its initial value must hold "
                            f"{self.depth} past values along its first axis; got a scalar")
        self.row_shape = tuple(self.initial.type.shape[1:] if self.is_buffer else self.initial.type.shape)
        self.dtype = self.initial.dtype

    @property
    def fed_back(self) -> bool:
        return self.initial is not None

    @property
    def depth(self) -> int:
        return -min(self.taps)

    @property
    def label(self) -> str:
        init = self.initial
        named = init is not None and init.name
        return f"output {self.position} (initial value {init!r})" if named else f"output {self.position}"

    def make_placeholders(self) -> list[TensorVariable]:
        # keep broadcastable axes (they decide broadcasting inside fn); other lengths may vary
        row = tuple(1 if s == 1 else None for s in self.row_shape)
        row_type = TensorType(self.dtype, row)
        base = self.initial.name if self.initial is not None and self.initial.name else f"out{self.position}"
        return [row_type.make_variable(f"{base}[t{tap:+d}]") for tap in self.taps]


def _parse_return(value: Any) -> tuple[list[Any], list[tuple[Any, Any]], Any]:
    """Split what fn returned into (outputs, update pairs, until condition or None)."""
    def is_updates(v: Any) -> bool:
        if isinstance(v, Mapping):
            return True
        from symgraph.compile.shared import SharedVariable

        return (isinstance(v, (list, tuple)) and len(v) > 0 and
                all(isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], SharedVariable) for p in v))

    if isinstance(value, until):
        return [], [], value.condition
    if is_updates(value):
        return [], _update_pairs(value), None
    if isinstance(value, tuple) and any(isinstance(v, (until, Mapping)) for v in value):
        outputs: list[Any] = []
        pairs: list[tuple[Any, Any]] = []
        cond = None
        for part in value:
            if isinstance(part, until):
                cond = part.condition
            elif is_updates(part):
                pairs.extend(_update_pairs(part))
            elif isinstance(part, (list, tuple)):
                outputs.extend(part)
            else:
                outputs.append(part)
        return outputs, pairs, cond
    if isinstance(value, (list, tuple)):
        # (outputs, updates) with updates as a list of pairs
        if len(value) == 2 and isinstance(value[1], (list, tuple)) and is_updates(value[1]):
            return _as_list(value[0]), _update_pairs(value[1]), None
        return list(value), [], None
    if value is None:
        return [], [], None
    return [value], [], None


def _update_pairs(value: Any) -> list[tuple[Any, Any]]:
    return list(value.items()) if isinstance(value, Mapping) else [tuple(p) for p in value]


def _describe_args(seqs: list[_Sequence], outs: list[_Output], nonseqs: list[Any]) -> list[str]:
    described = []
    for s in seqs:
        described.extend(f"{s.label} tap {tap}" for tap in s.taps)
    for o in outs:
        if o.fed_back:
            described.extend(f"{o.label} tap {tap}" for tap in o.taps)
    described.extend(f"non-sequence {_var_label(v)}" for v in nonseqs)
    return described


def _check_arity(fn: Callable[..., Any], n_args: int, described: list[str]) -> None:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*([None] * n_args))
    except TypeError:
        name = getattr(fn, "__name__", "fn")
        raise TypeError(
            f"scan: fn {name}{signature} cannot take the {n_args} arguments scan passes, which are, in "
            f"order: {', '.join(described) or 'none'} (sequences' taps, then the taps of outputs_info "
            "entries that are not None, then non_sequences)"
        ) from None


# -- scan ------------------------------------------------------------------------------------------
def scan(
    fn: Callable[..., Any],
    sequences: Any = None,
    outputs_info: Any = None,
    non_sequences: Any = None,
    n_steps: Any = None,
    go_backwards: bool = False,
    truncate_gradient: int = -1,
    mode: Any = None,
    name: str | None = None,
    profile: bool = False,
    allow_gc: Any = None,
    strict: bool = False,
    return_list: bool = False,
) -> tuple[Any, OrderedUpdates]:
    """Repeat ``fn`` over sequences and/or fed-back outputs, as Theano's scan.

    Parameters
    ----------
    fn : callable building one step; receives the sequences' taps, the fed-back outputs'
        taps and the non-sequences (in that order); returns outputs, an updates dict,
        ``until(cond)``, or a tuple of those.
    sequences : variable, dict(input=x, taps=[...]) or a list of them; step t reads
        ``x[t + tap]``. The shortest sequence (after its taps) sets the number of steps.
    outputs_info : per output of fn: None (not fed back), an initial value (tap -1), or
        dict(initial=x0, taps=[-2, -1]) where x0 holds max(-taps) past values.
    non_sequences : values passed unchanged to every step.
    n_steps : int or integer scalar; needed when there are no sequences.
    go_backwards : walk the sequences from the end.
    truncate_gradient : backpropagate through only the last this many steps (-1: all).
    mode, profile, allow_gc : accepted for Theano compatibility; the scan runs in the
        mode of the function that contains it.
    strict : require every outer variable fn uses to be passed in non_sequences.
    return_list : always return the outputs as a list.

    Returns
    -------
    (outputs, updates): outputs stacked over the steps (for fed-back outputs the new values,
    not the initial ones): one variable, or a list when fn has several outputs (None when
    it has none). updates: shared variable -> value after the last step, for
    ``compile_function(updates=...)``.

    >>> fib, _ = sg.scan(lambda a, b: a + b, outputs_info=dict(initial=x0, taps=[-2, -1]),
    ...                  n_steps=10)
    """
    from symgraph.compile.shared import SharedVariable
    from symgraph.tensor import math as tm

    label = name or getattr(fn, "__name__", "scan")
    if label == "<lambda>":
        label = "scan"
    seqs = [_Sequence(i, s, go_backwards) for i, s in enumerate(_as_list(sequences))]
    info_given = outputs_info is not None
    outs = [_Output(i, e) for i, e in enumerate(_as_list(outputs_info))]
    nonseqs = [v if isinstance(v, Variable) else as_tensor_variable(v) for v in _as_list(non_sequences)]
    truncate_gradient = int(truncate_gradient)
    if truncate_gradient < -1 or truncate_gradient == 0:
        raise ValueError(f"scan: truncate_gradient must be -1 (no truncation) or a positive number of steps, "
                         f"got {truncate_gradient}")

    if n_steps is None:
        if not seqs:
            raise ValueError("scan: without sequences the number of steps is unknown; give n_steps")
        steps = as_tensor_variable(-1, dtype="int64")
    else:
        steps = as_tensor_variable(n_steps)
        if steps.ndim != 0 or not steps.dtype.startswith(("int", "uint")):
            raise TypeError(f"scan: n_steps must be an integer scalar, got {steps.type}")
        if isinstance(steps, Constant) and int(steps.data) < 0:
            raise ValueError(f"scan: n_steps must be >= 0, got {int(steps.data)} (use go_backwards to walk "
                             "sequences from the end)")
        if steps.dtype != "int64":
            steps = tm.cast(steps, "int64")
        if not isinstance(steps, Constant):
            # -1 tells the loop "as many steps as the sequences"; a negative n_steps given
            # at run time is moved below it (n -> n - 1), so the loop can report it
            steps = tm.switch(tm.lt(steps, 0), steps - 1, steps)

    # build one step; retried when a Python-number initial value guessed the wrong dtype or a
    # broadcastable initial value meets an output that is not
    for _attempt in range(2 * len(outs) + 2):  # each retry settles at least one output
        seq_args = [p for s in seqs for p in s.placeholders]
        tap_args = [o.make_placeholders() for o in outs if o.fed_back]
        args = seq_args + [p for group in tap_args for p in group] + list(nonseqs)
        _check_arity(fn, len(args), _describe_args(seqs, outs, nonseqs))
        returned = fn(*args)
        out_values, update_pairs, cond = _parse_return(returned)
        out_values = [as_tensor_variable(v) for v in out_values]
        if not info_given:
            outs = [_Output(i, None) for i in range(len(out_values))]
        if len(out_values) != len(outs):
            raise ValueError(f"scan: fn returned {len(out_values)} outputs, but outputs_info has {len(outs)} "
                             "entries (give one entry per output, None for outputs that are not fed back)")
        retry = False
        for o, v in zip(outs, out_values):
            if not o.fed_back:
                continue
            if v.ndim != len(o.row_shape):
                raise TypeError(f"scan: {o.label} has {len(o.row_shape)} axes in its initial value "
                                f"({o.initial.type}), but fn returns a value with {v.ndim} axes ({v.type}); "
                                "a fed-back output must keep its shape")
            if v.dtype != o.dtype:
                if o.python_number:
                    o.dtype, o.python_number = v.dtype, False
                    retry = True
                    continue
                raise TypeError(
                    f"scan: {o.label} has dtype {o.dtype} in its initial value, but fn returns "
                    f"{_var_label(v)} of dtype {v.dtype}; cast one of them (T.cast(..., '{v.dtype}') on the "
                    "initial value, or on fn's result)"
                )
            clash = [(s, r) for s, r in zip(o.row_shape, v.type.shape) if s not in (None, 1) and r is not None
                     and r != s]
            if clash:
                raise ValueError(f"scan: {o.label} has shape {o.row_shape} in its initial value, but fn returns "
                                 f"a value of shape {tuple(v.type.shape)}; a fed-back output must keep its shape")
            relaxed = tuple(None if (s == 1 and r != 1) else s for s, r in zip(o.row_shape, v.type.shape))
            if relaxed != o.row_shape:
                o.row_shape = relaxed
                retry = True
        if not retry:
            break
    else:
        raise AssertionError("scan: the types of fn's outputs did not settle; please report this")
    for o in outs:
        if o.fed_back and o.initial is not None and o.initial.dtype != o.dtype:
            o.initial = tm.cast(o.initial, o.dtype)
    if cond is not None and n_steps is None and not seqs:
        raise ValueError("scan: until needs n_steps or sequences as an upper bound on the number of steps")

    # shared variables updated inside the loop: fn's updates, and random draws' states
    updates: OrderedDict[Any, Any] = OrderedDict()
    for var, value in update_pairs:
        if not isinstance(var, SharedVariable):
            raise TypeError(f"scan: fn returned an update for {var!r}, which is not a shared variable")
        if var in updates:
            raise ValueError(f"scan: fn updates {var!r} twice")
        value = as_tensor_variable(value)
        if value.dtype != var.dtype or value.ndim != var.ndim:
            raise TypeError(f"scan: fn's update for {var!r} ({var.type}) has type {value.type}; the dtype "
                            f"and ndim must match (T.cast(..., '{var.dtype}'))")
        updates[var] = value
    cond_list = [cond] if cond is not None else []
    nonseq_set = set(nonseqs) - set(updates)
    from_default: set[Any] = set()
    pending = True
    while pending:
        pending = False
        for var in ancestors(out_values + list(updates.values()) + cond_list, stop_at=nonseq_set):
            if isinstance(var, SharedVariable) and var.default_update is not None and var not in updates:
                updates[var] = var.default_update
                from_default.add(var)
                pending = True
    shared_states = list(updates)
    state_phs = {var: TensorType(var.dtype, var.type.shape).make_variable(var.name) for var in shared_states}

    # outer variables fn uses: the largest parts of the graph that do not change from step to
    # step are computed once, outside the loop, and passed in as non-sequences
    step_values = out_values + list(updates.values()) + cond_list
    varying: set[Any] = set(seq_args) | {p for group in tap_args for p in group} | set(shared_states)
    stops = varying | set(nonseqs)
    captured: list[Any] = list(dict.fromkeys(v for v in nonseqs if v not in state_phs))
    seen = set(captured)

    def capture(var: Any) -> None:
        if var in varying or var in seen or isinstance(var, Constant):
            return
        seen.add(var)
        captured.append(var)

    for node in toposort(step_values, stop_at=stops):
        if any(inp in varying for inp in node.inputs):
            varying.update(node.outputs)
            for inp in node.inputs:
                capture(inp)
    for v in step_values:
        capture(v)
    if strict:
        implicit = [v for v in captured if v not in nonseqs and v.owner is None and not isinstance(v, Constant)]
        if implicit:
            raise ValueError(f"scan(strict=True): fn uses {implicit}, which are not in non_sequences")
    captured_phs = {v: TensorType(v.dtype, v.type.shape).make_variable(v.name) for v in captured}
    inner_values, _ = clone_replace(step_values, {**state_phs, **captured_phs})

    n_out = len(out_values)
    inner_outs, inner_updates = inner_values[:n_out], inner_values[n_out: n_out + len(updates)]
    inner_cond = inner_values[-1] if cond is not None else None
    if inner_cond is not None and inner_cond.dtype != "bool":
        inner_cond = tm.neq(inner_cond, 0)

    # states: fed-back outputs, then updated shared variables (their whole history is kept,
    # for the gradient to replay random draws)
    states = []
    names = []
    taps_iter = iter(tap_args)
    for o, inner in zip(outs, inner_outs):
        if not o.fed_back:
            continue
        assert o.initial is not None
        init = o.initial[: o.depth] if o.is_buffer else o.initial.dimshuffle("x", *range(o.initial.ndim))
        states.append((init, tuple(o.taps), next(taps_iter), inner))
        names.append(o.label)
    for var, inner in zip(shared_states, inner_updates):
        states.append((var.dimshuffle("x", *range(var.ndim)), (-1,), [state_phs[var]], inner))
        names.append(f"the update of {_var_label(var)}")
    nitsots = [inner for o, inner in zip(outs, inner_outs) if not o.fed_back]
    names.extend(f"output {o.position}" for o in outs if not o.fed_back)
    sequences = [(sl, ph) for s in seqs for sl, ph in zip(s.slices, s.placeholders)]
    nonseq_pairs = [(v, captured_phs[v]) for v in captured]
    results = build_scan(label, steps, sequences, states, [], nitsots, nonseq_pairs, inner_cond,
                         truncate_gradient, names)

    n_fed = sum(o.fed_back for o in outs)
    fed_buffers = iter(results[:n_fed])
    stacked = iter(results[len(states): len(states) + len(nitsots)])
    user_outputs = []
    for o in outs:
        # a fed-back output's buffer starts with its initial rows; users see the new ones
        user_outputs.append(next(fed_buffers)[o.depth:] if o.fed_back else next(stacked))
    scan_updates = OrderedUpdates()
    for var, buf in zip(shared_states, results[n_fed: len(states)]):
        final = buf[-1]
        scan_updates[var] = final
        if var in from_default:
            # the state's default update was the draw inside fn; it is now the scan's result
            var.default_update = final
    if return_list:
        return user_outputs, scan_updates
    if not user_outputs:
        return None, scan_updates
    return (user_outputs[0] if len(user_outputs) == 1 else user_outputs), scan_updates


# -- Theano's views of scan (theano.map, theano.reduce, theano.foldl, theano.foldr) ------------------
def scan_map(fn: Callable[..., Any], sequences: Any, non_sequences: Any = None, truncate_gradient: int = -1,
             go_backwards: bool = False, mode: Any = None, name: str | None = None) -> tuple[Any, OrderedUpdates]:
    """``fn`` applied to each step of the sequences, stacked: scan without fed-back outputs.

    >>> squares, _ = sg.control.scan.map(lambda v: v ** 2, x)
    """
    return scan(fn, sequences=sequences, outputs_info=None, non_sequences=non_sequences,
                truncate_gradient=truncate_gradient, go_backwards=go_backwards, name=name)


def scan_reduce(fn: Callable[..., Any], sequences: Any, outputs_info: Any, non_sequences: Any = None,
                go_backwards: bool = False, mode: Any = None, name: str | None = None) -> tuple[Any, OrderedUpdates]:
    """The last step of a scan: ``fn`` folded over the sequences (Theano's ``reduce``).

    >>> total, _ = sg.control.scan.reduce(lambda v, acc: acc + v, x, T.constant(0.0))
    """
    outputs, updates = scan(fn, sequences=sequences, outputs_info=outputs_info, non_sequences=non_sequences,
                            go_backwards=go_backwards, name=name)
    if isinstance(outputs, list):
        return [o[-1] for o in outputs], updates
    return (None if outputs is None else outputs[-1]), updates


def foldl(fn: Callable[..., Any], sequences: Any, outputs_info: Any, non_sequences: Any = None,
          mode: Any = None, name: str | None = None) -> tuple[Any, OrderedUpdates]:
    """``reduce`` from the first step to the last."""
    return scan_reduce(fn, sequences, outputs_info, non_sequences, go_backwards=False, name=name)


def foldr(fn: Callable[..., Any], sequences: Any, outputs_info: Any, non_sequences: Any = None,
          mode: Any = None, name: str | None = None) -> tuple[Any, OrderedUpdates]:
    """``reduce`` from the last step to the first."""
    return scan_reduce(fn, sequences, outputs_info, non_sequences, go_backwards=True, name=name)


# Theano's names (theano.scan_module.map, .reduce); they shadow builtins only in this module's
# namespace, where nothing below uses them
map = scan_map
reduce = scan_reduce
