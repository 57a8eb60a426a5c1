"""Function: the callable that compile_function returns."""

from __future__ import annotations

import time
import weakref
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from symgraph.compile.io import In
from symgraph.compile.maker import FunctionMaker, _input_label
from symgraph.compile.shared import IN_PLACE_LOCK

_FLOAT64 = np.dtype("float64")


class Function:
    """A compiled function. Call it positionally or by input name.

    Attributes
    ----------
    maker : FunctionMaker
        ``maker.fgraph`` is the optimized graph.
    rewrites_applied : collections.Counter
        How often each rewrite fired while compiling (or, for a function loaded from the
        function cache, in the compile that stored it: ``maker.rewrite_log.from_cache``).
    """

    def __init__(self, maker: FunctionMaker, build_args: dict[str, Any]) -> None:
        self.maker = maker
        self._build_args = build_args
        self.name = maker.name
        self.trust_input = False
        self._specs: list[In] = maker.input_specs
        self._names = {spec.name: i for i, spec in enumerate(self._specs) if spec.name}
        self._types = [spec.variable.type for spec in self._specs]
        self._labels = [
            f"{self._fname()}: input {_input_label(spec, i)}" for i, spec in enumerate(self._specs)
        ]
        self._runner = maker.runner
        self._shared = maker.shared_inputs
        n_out = len(maker.outputs)
        self._n_out = n_out
        self._updates = [(var, n_out + k) for k, (var, _) in enumerate(maker.update_pairs)]
        self._single = maker.single_output
        self._fast_checks = [
            (np.dtype(t.dtype), t.ndim, all(s is None for s in t.shape)) for t in self._types  # type: ignore[attr-defined]
        ]
        # the C runner copies any output that could share memory with an input itself
        self._never_alias = getattr(self._runner, "outputs_never_alias", False)
        self._c_call = self._direct_c_call()
        # shared variables whose update the runner computes over their own buffer
        self._destroyed = list(getattr(self._runner, "destroyed_inputs", ()))
        #: the shared values whose layout and mutual overlaps _protect_destroyed last checked
        self._checked_shared: tuple[weakref.ref[Any], ...] = ()
        for j in self._destroyed:
            self._shared[j - len(self._specs)].updated_in_place = True

    def _direct_c_call(self) -> Any:
        """The C extension's ``call_args`` when the whole function is one C segment taking the
        inputs in order (no shared variables, updates or NaN guard): a call then goes from
        the argument tuple to the generated code without a Python step; the extension
        declines (NotImplemented) whatever needs the checks and conversions below."""
        direct = getattr(self._runner, "_direct", None)
        caller = getattr(direct, "caller", None)
        if (caller is None or not hasattr(caller, "call_args") or self._shared or self._updates
                or getattr(self._runner, "nan_guard", False) or len(self._specs) != len(direct.inputs)):
            return None
        caller.set_args([t.shape for t in self._types], self._single)  # type: ignore[attr-defined]
        return caller.call_args

    def _fname(self) -> str:
        return f"{self.name}()" if self.name else "function"

    @property
    def rewrites_applied(self) -> Counter[str]:
        return Counter(self.maker.rewrite_log.counts)

    @property
    def input_names(self) -> list[str | None]:
        return [spec.name for spec in self._specs]

    # -- calling ----------------------------------------------------------------------------
    def _collect(self, args: Sequence[Any], kwargs: dict[str, Any]) -> list[Any]:
        n = len(self._specs)
        if len(args) > n:
            raise TypeError(f"{self._fname()} takes {n} input{'s' if n != 1 else ''} but {len(args)} were given")
        values: list[Any] = list(args) + [_MISSING] * (n - len(args))
        for key, value in kwargs.items():
            if key not in self._names:
                known = ", ".join(repr(k) for k in self._names) or "none (inputs have no names)"
                raise TypeError(f"{self._fname()} got an unexpected keyword argument {key!r}; input names: {known}")
            i = self._names[key]
            if values[i] is not _MISSING:
                raise TypeError(f"{self._fname()} got multiple values for input {key!r}")
            values[i] = value
        for i, value in enumerate(values):
            if value is _MISSING:
                spec = self._specs[i]
                if spec.has_default:
                    values[i] = spec.value
                else:
                    raise TypeError(f"{self._fname()} is missing input {_input_label(spec, i)} (position {i})")
        return values

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._c_call is not None and not kwargs:
            result = self._c_call(args)
            if result is not NotImplemented:
                return result
        if not kwargs and len(args) == len(self._specs):
            values = list(args)
            if not self.trust_input:
                # the common case (an ndarray of exactly the declared dtype and ndim, or a
                # Python float for a float64 scalar) is checked inline; anything else goes
                # through TensorType.filter, which converts or explains the mismatch
                for i, (dtype, ndim, free_shape) in enumerate(self._fast_checks):
                    v = values[i]
                    if type(v) is np.ndarray:
                        if v.dtype is dtype and v.ndim == ndim and free_shape:
                            continue
                    elif type(v) is float and ndim == 0 and dtype is _FLOAT64:
                        values[i] = np.array(v)
                        continue
                    values[i] = self._types[i].filter(v, name=self._labels[i],
                                                      allow_downcast=self.maker.allow_input_downcast)
        else:
            values = self._collect(args, kwargs)
            allow = self.maker.allow_input_downcast
            for i, (t, value) in enumerate(zip(self._types, values)):
                values[i] = t.filter(value, name=self._labels[i], allow_downcast=allow)
        if self._shared and any(var.updated_in_place for var in self._shared):
            with IN_PLACE_LOCK:
                return self._run(values)
        return self._run(values)

    def _protect_destroyed(self, values: list[Any]) -> None:
        """Give the runner a copy of each shared value it would overwrite where doing so
        is unsafe: a read-only, non-contiguous or misaligned array, or one sharing memory
        with another input (a ``borrow=True`` alias); the copy then becomes the new value.

        The shared values are usually the very arrays of the previous call (an update in
        place keeps them), so their layout and their overlaps with each other are checked
        only when one of them is a different array; the explicit inputs, new each call,
        are checked every time (a few microseconds for a training step)."""
        n_explicit = len(self._specs)
        shared = values[n_explicit:]
        checked = self._checked_shared
        if len(shared) != len(checked) or any(a is not ref() for a, ref in zip(shared, checked)):
            for j in self._destroyed:
                value = values[j]
                flags = value.flags
                if not (flags.c_contiguous and flags.aligned) or any(
                        k != j and isinstance(other, np.ndarray) and np.may_share_memory(value, other)
                        for k, other in enumerate(shared, n_explicit)):
                    values[j] = np.array(value, order="C")
            # weak references: a value replaced by set_value is not kept alive here
            self._checked_shared = tuple(weakref.ref(v) for v in values[n_explicit:])
        explicit = [v for v in values[:n_explicit] if isinstance(v, np.ndarray)]
        may_share = np.may_share_memory
        for j in self._destroyed:
            value = values[j]
            unsafe = not value.flags.writeable
            for other in explicit:
                if unsafe or may_share(value, other):
                    unsafe = True
                    break
            if unsafe:
                values[j] = np.array(value, order="C")

    def _run(self, values: list[Any]) -> Any:
        if self._shared:
            values.extend(var.container_value for var in self._shared)
            if self._destroyed:
                self._protect_destroyed(values)
        results = self._runner(values)
        if not self._never_alias:
            fresh = getattr(self._runner, "fresh_outputs", False)
            inputs_by_id = {id(v) for v in values}
            for k, value in enumerate(results):
                # never hand out an array the caller or a shared variable also holds; runners
                # that say their outputs are fresh buffers only need the identity check
                if id(value) in inputs_by_id or (not fresh and value.base is not None):
                    results[k] = np.array(value)
        if self._updates:
            outputs = results[: self._n_out]
            update_ids = {id(results[slot]) for _, slot in self._updates}
            outputs = [np.array(o) if id(o) in update_ids else o for o in outputs]
            for var, slot in self._updates:
                var._value = results[slot]
        elif len(results) != self._n_out:
            outputs = results[: self._n_out]
        else:
            outputs = results
        return outputs[0] if self._single else outputs

    # -- explaining -------------------------------------------------------------------------
    def explain(self) -> str:
        """A readable account of how the graph was rewritten: phases, rules, before/after, time."""
        log = self.maker.rewrite_log
        lines = [
            f"{self._fname()}: backend {self.maker.backend_name!r}, optimizer {self.maker.optimizer!r}",
            f"graph: {self.maker.user_fgraph_size} nodes as written, {len(self.maker.fgraph.apply_nodes)} after rewriting",
        ]
        from_cache = getattr(log, "from_cache", False)
        if from_cache:
            lines.append("loaded from the function cache: no phase ran in this compile; the times below are "
                         "those of the compile that stored it")
        for phase, seconds in log.phase_times.items():
            if from_cache:
                seconds = log.cached_phase_times.get(phase, seconds)  # type: ignore[attr-defined]
            reason = log.stop_reasons.get(phase, "")
            sizes = getattr(log, "phase_sizes", {}).get(phase)
            size_text = f", {sizes[0]} -> {sizes[1]} nodes" if sizes else ""
            lines.append(f"phase {phase}: {seconds * 1e3:.2f} ms{size_text}, stopped at {reason}")
            for event in (e for e in log.events if e.phase == phase):
                lines.append(f"  {event.name}:\n    before: {event.before}\n    after:  {event.after}")
        if log.counts:
            lines.append("rewrites applied: " + ", ".join(f"{k} x{v}" for k, v in log.counts.most_common()))
        else:
            lines.append("no rewrite fired")
        skipped = getattr(log, "skipped", None)
        if skipped:
            lines.append("matched but skipped (the result could not keep the old shape): "
                         + ", ".join(f"{k} x{v}" for k, v in skipped.most_common()))
        if len(log.events) >= log.keep_events:
            lines.append(f"(only the first {log.keep_events} rewrites are shown in detail)")
        sources = getattr(self._runner, "sources", None)
        if sources is not None:
            python_nodes = getattr(self._runner, "python_nodes", [])
            lines.append(f"C: {len(sources)} compiled segment(s) with {sum(len(s.nodes) for s in sources)} node(s)")
            if python_nodes:
                lines.append("nodes run in Python between C segments (no C emitter):")
                for node in python_nodes:
                    where = f" (created at {node.source.filename}:{node.source.lineno})" if node.source else ""
                    lines.append(f"  {node.op}{where}")
            else:
                lines.append("every node runs in C")
        return "\n".join(lines)

    def __repr__(self) -> str:
        ins = ", ".join(str(s.name or "?") for s in self._specs)
        return f"<symgraph Function {self.name or ''}({ins}) backend={self.maker.backend_name}>"

    # -- copying ----------------------------------------------------------------------------
    def copy(self, share_memory: bool = False, swap: Any = None, delete_updates: bool = False,
             name: str | None = None, profile: Any = None) -> Function:
        """A new function compiled from the same graph (Theano's ``Function.copy``).

        Parameters
        ----------
        share_memory, profile : accepted for Theano's signature; no effect (functions never
            share intermediate storage here).
        swap : dict mapping shared variables this function uses to other shared variables of
            the same type; the copy reads and updates those instead.
        delete_updates : the copy has no updates (default updates included).
        name : the copy's name (default: this function's name plus ``' copy'``).

        >>> acc2 = acc.copy(swap={state: new_state})   # acc2 updates new_state, not state
        """
        args = dict(self._build_args)
        swap_pairs = _swap_pairs(swap, self.maker.shared_inputs, self._fname())
        if delete_updates:
            args["updates"] = None
            args["no_default_updates"] = True
            args["on_unused_input"] = "ignore"  # an input read only by an update is still taken
        elif swap_pairs:
            # an update target is renamed too; its new value is rewritten by the givens below
            targets = dict(swap_pairs)
            updates = args.get("updates")
            from symgraph.compile.maker import _pairs

            args["updates"] = [(targets.get(var, var), new) for var, new in _pairs(updates, "updates")]
        if swap_pairs:
            from symgraph.compile.maker import _pairs

            args["givens"] = _pairs(args.get("givens"), "givens") + swap_pairs
        args["name"] = name if name is not None else (f"{self.name} copy" if self.name else None)
        return compile_function(**args)

    # -- pickling ---------------------------------------------------------------------------
    def __reduce__(self) -> Any:
        from symgraph.compile.pickling import function_state

        return (_rebuild_function, (function_state(self),))


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def _swap_pairs(swap: Any, used: list[Any], fname: str) -> list[tuple[Any, Any]]:
    """Check ``Function.copy``'s ``swap`` argument: shared variables the function uses, each
    mapped to a shared variable of the same type."""
    from symgraph.compile.shared import SharedVariable

    pairs = list(swap.items()) if swap else []
    for old, new in pairs:
        if not isinstance(old, SharedVariable) or not isinstance(new, SharedVariable):
            raise TypeError(f"{fname}.copy(swap=...): keys and values must be shared variables, "
                            f"got {type(old).__name__} -> {type(new).__name__}")
        if old not in used:
            raise ValueError(f"{fname}.copy(swap=...): {old!r} is not a shared variable this function uses")
        if old.type != new.type:
            raise TypeError(f"{fname}.copy(swap=...): {old!r} ({old.type}) cannot be swapped for "
                            f"{new!r} ({new.type}); the types must match")
    return pairs


def _rebuild_function(state: dict[str, Any]) -> Function:
    from symgraph.compile.pickling import restore_function

    return restore_function(state)


def compile_function(
    inputs: Sequence[Any],
    outputs: Any = None,
    mode: Any = None,
    updates: Any = None,
    givens: Any = None,
    no_default_updates: bool | Sequence[Any] = False,
    accept_inplace: bool = False,
    name: str | None = None,
    rebuild_strict: bool = True,
    allow_input_downcast: bool | None = None,
    profile: Any = None,
    on_unused_input: str | None = None,
    optimizer: str | None = None,
) -> Function:
    """Compile a graph into a callable.

    Parameters
    ----------
    inputs : list of variables (or ``sg.In``) the function takes, in order.
    outputs : a variable (the call returns one array) or a list (the call returns a list);
        None (Theano's default) means no outputs: the call returns ``[]`` (for updates only).
    updates : (shared_variable, new_value) pairs or a dict, applied after each call.
    givens : (variable, replacement) pairs or a dict substituted before compiling.
    mode : 'c' (default), 'py', 'cuda', 'FAST_RUN', 'FAST_COMPILE' or a ``Mode``.
    optimizer : 'fast_run' (default), 'stabilize' or 'none'.
    allow_input_downcast : True lets inputs be cast to a narrower dtype.
    on_unused_input : 'raise' (default), 'warn' or 'ignore'.

    >>> x = T.dscalar('x'); f = compile_function([x], x ** 2); f(3.0)
    array(9.)
    """
    start = time.perf_counter()
    if outputs is None:
        outputs = []
    build_args = dict(
        inputs=list(inputs) if isinstance(inputs, (list, tuple)) else inputs, outputs=outputs, updates=updates,
        givens=givens, mode=mode, optimizer=optimizer, name=name, allow_input_downcast=allow_input_downcast,
        on_unused_input=on_unused_input or "raise", no_default_updates=no_default_updates,
    )
    maker = FunctionMaker(**build_args)  # type: ignore[arg-type]
    fn = Function(maker, build_args)
    fn.compile_time = time.perf_counter() - start  # type: ignore[attr-defined]
    return fn


function = compile_function
