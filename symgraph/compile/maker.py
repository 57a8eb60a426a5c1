"""FunctionMaker: from the user's graph to a rewritten FunctionGraph and a backend runner.

Steps: normalise inputs/outputs/updates, substitute ``givens``, find the shared
variables used, check for missing and unused inputs, build a FunctionGraph (outputs
followed by update values), run the rewrite phases, and hand it to the backend.

The last three steps are skipped when the function cache (function_cache.py) holds the
same graph: the rewritten graph and the backend's compiled code are loaded instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from symgraph.backends.registry import get_backend
from symgraph.compile import function_cache
from symgraph.compile.io import In
from symgraph.compile.modes import resolve_backend, resolve_optimizer
from symgraph.compile.shared import SharedVariable
from symgraph.errors import MissingInputError, UnusedInputError, user_frame
from symgraph.graph.fgraph import FunctionGraph
from symgraph.graph.node import Constant, Variable
from symgraph.graph.traversal import ancestors, clone_replace, graph_inputs
from symgraph.rewrite.engine import RewriteLog
from symgraph.rewrite.pipeline import rewrite_graph
from symgraph.tensor.variable import TensorVariable, as_tensor_variable

_WARNED_FALLBACK: set[str] = set()


def _pairs(mapping: Any, what: str) -> list[tuple[Any, Any]]:
    if mapping is None:
        return []
    if isinstance(mapping, Mapping):
        return list(mapping.items())
    try:
        pairs = [tuple(p) for p in mapping]
    except TypeError:
        raise TypeError(f"{what} must be a dict or a list of (variable, value) pairs") from None
    for p in pairs:
        if len(p) != 2:
            raise TypeError(f"{what} must be a list of (variable, value) pairs, got an entry of length {len(p)}")
    return pairs  # type: ignore[return-value]


def _input_label(spec: In, position: int) -> str:
    return f"'{spec.name}'" if spec.name else f"#{position}"


class FunctionMaker:
    """Prepares a compiled function; kept on the Function as ``f.maker``."""

    def __init__(
        self,
        inputs: Sequence[Any],
        outputs: Any,
        updates: Any = None,
        givens: Any = None,
        mode: Any = None,
        optimizer: str | None = None,
        name: str | None = None,
        allow_input_downcast: bool | None = None,
        on_unused_input: str = "raise",
        no_default_updates: bool | Sequence[Variable] = False,
    ) -> None:
        from symgraph.config import config

        if on_unused_input not in ("raise", "warn", "ignore"):
            raise ValueError(f"on_unused_input must be 'raise', 'warn' or 'ignore', got {on_unused_input!r}")
        if isinstance(inputs, (Variable, In)):
            raise TypeError("compile_function: inputs must be a list of variables, e.g. [x] rather than x")
        self.name = name
        self.allow_input_downcast = allow_input_downcast
        self.requested_mode = mode if mode is not None else config.mode
        self.backend_name = resolve_backend(self.requested_mode)
        self.optimizer = resolve_optimizer(mode, optimizer, config.optimizer)
        self.nan_guard = bool(config.nan_guard) or mode == "NanGuardMode" or getattr(mode, "nan_guard", False)
        self.input_specs = [self._as_in(v, i) for i, v in enumerate(inputs)]
        self._check_inputs()

        self.single_output = not isinstance(outputs, (list, tuple))
        raw_outputs = [outputs] if self.single_output else list(outputs)
        self.outputs = [self._as_output(o, i) for i, o in enumerate(raw_outputs)]
        self.update_pairs = self._normalise_updates(updates)
        self._add_default_updates(no_default_updates)

        # givens: substitute before anything else looks at the graph
        given_pairs = []
        for var, rep in _pairs(givens, "givens"):
            if not isinstance(var, Variable):
                raise TypeError(f"givens keys must be symbolic variables, got {type(var).__name__}")
            rep = as_tensor_variable(rep) if not isinstance(rep, Variable) else rep
            if getattr(var.type, "dtype", None) != getattr(rep.type, "dtype", None) or var.type.ndim != rep.type.ndim:
                raise TypeError(f"givens: {var!r} ({var.type}) cannot be replaced by {rep!r} ({rep.type}); "
                                "the dtype and ndim must match (use T.cast)")
            given_pairs.append((var, rep))
        targets = self.outputs + [u for _, u in self.update_pairs]
        if given_pairs:
            targets, _ = clone_replace(targets, dict(given_pairs))
        out_vars = targets[: len(self.outputs)]
        update_vars = targets[len(self.outputs):]

        explicit = [spec.variable for spec in self.input_specs]
        needed = graph_inputs(targets, stop_at=explicit)
        used = ancestors(targets, stop_at=explicit)
        self.shared_inputs: list[SharedVariable] = []
        for var in needed:
            if var in explicit or isinstance(var, Constant):
                continue
            if isinstance(var, SharedVariable):
                self.shared_inputs.append(var)
                continue
            raise MissingInputError(
                f"{self._fname()}: an output needs the input {var!r} ({var.type.describe() if hasattr(var.type, 'describe') else var.type}), "
                "which is not in the inputs list; add it to the inputs or use sg.shared for values "
                "that persist between calls" + self._source_hint(var, targets)
            )
        for shared_var, _ in self.update_pairs:
            if shared_var not in self.shared_inputs:
                self.shared_inputs.append(shared_var)
        for i, spec in enumerate(self.input_specs):
            if spec.variable not in used:
                msg = f"{self._fname()}: input {_input_label(spec, i)} is not used to compute any output"
                if on_unused_input == "raise":
                    raise UnusedInputError(msg + "; remove it, or pass on_unused_input='warn' or 'ignore'")
                if on_unused_input == "warn":
                    warnings.warn(msg, stacklevel=3)

        fgraph_inputs = explicit + list(self.shared_inputs)
        fgraph_outputs = out_vars + update_vars
        #: (graph input position, graph output position) of each updated shared variable and
        #: its new value: a backend may compute the value over the variable's own buffer
        #: (see Function._protect_destroyed and backends/c/runner.py, in-place updates)
        self.destroyable = [(fgraph_inputs.index(var), len(out_vars) + k)
                            for k, (var, _) in enumerate(self.update_pairs)]
        backend = self._choose_backend()
        #: 'hit', 'stored' or why the function cache was not used (see function_cache.py)
        self.function_cache_status = "off"
        key = None
        try:
            key = function_cache.function_key(fgraph_inputs, fgraph_outputs, self.backend_name, self.optimizer,
                                              self.nan_guard, user_frame(), self.destroyable)
        except function_cache.Uncacheable as exc:
            self.function_cache_status = f"not cached: {exc}"
        restored = function_cache.load(key, fgraph_inputs, self.nan_guard) if key is not None else None
        if restored is not None:
            self.fgraph = restored.fgraph
            self.user_fgraph_size = restored.user_fgraph_size
            self.rewrite_log: RewriteLog = restored.rewrite_log
            self.runner = restored.runner
            self.function_cache_status = "hit"
        else:
            if self.backend_name == "c" and backend is not None:
                from symgraph.backends.c.fastcall import start_build
                from symgraph.compile.cache import default_cache

                # the C call extension, if the cache lacks it, builds while the graph is
                # rewritten (a cold process's first compile: issue 6, W4)
                start_build(str(default_cache().root))
            self.fgraph = FunctionGraph(fgraph_inputs, fgraph_outputs, clone=True)
            self.user_fgraph_size = len(self.fgraph.apply_nodes)
            self.rewrite_log = rewrite_graph(self.fgraph, self.optimizer)
            recorder = None
            if backend is not None:
                from symgraph.compile.cache import default_cache

                # notes which compiled artifact each segment uses, for the function cache
                recorder = function_cache.RecordingCache(default_cache())
            self.runner = self._build_backend(backend, recorder)
            if key is not None:
                self.function_cache_status = function_cache.store(key, self, recorder.keys if recorder else [])

    # -- pieces ------------------------------------------------------------------------------
    def _fname(self) -> str:
        return f"function {self.name!r}" if self.name else "compile_function"

    @staticmethod
    def _source_hint(var: Variable, targets: list[Variable]) -> str:
        from symgraph.graph.traversal import toposort

        for node in toposort(targets):
            if var in node.inputs and node.source is not None:
                return f"\nIt is used by {node.op} created at:\n  {node.source}"
        return ""

    def _as_in(self, value: Any, position: int) -> In:
        spec = value if isinstance(value, In) else In(value) if isinstance(value, Variable) else None
        if spec is None:
            raise TypeError(
                f"compile_function: input {position} must be a symbolic variable, got {type(value).__name__} {value!r:.60}"
            )
        var = spec.variable
        if isinstance(var, SharedVariable):
            raise TypeError(
                f"compile_function: input {position} ({var!r}) is a shared variable; shared variables are "
                "implicit inputs: leave it out of the inputs list"
            )
        if isinstance(var, Constant):
            raise TypeError(f"compile_function: input {position} is a constant ({var!r}); inputs must be variables")
        if var.owner is not None:
            raise TypeError(
                f"compile_function: input {position} ({var!r}) is computed by {var.owner.op}; inputs must be "
                "free variables such as T.dmatrix('x') (use givens to replace an intermediate)"
            )
        return spec

    def _check_inputs(self) -> None:
        seen: dict[Variable, int] = {}
        for i, spec in enumerate(self.input_specs):
            if spec.variable in seen:
                raise ValueError(f"compile_function: input {i} ({spec.variable!r}) is listed twice "
                                 f"(also at position {seen[spec.variable]})")
            seen[spec.variable] = i

    def _as_output(self, value: Any, position: int) -> TensorVariable:
        if isinstance(value, Variable):
            return value  # type: ignore[return-value]
        try:
            return as_tensor_variable(value)
        except TypeError as exc:
            raise TypeError(f"compile_function: output {position} is not a variable or value: {exc}") from None

    def _normalise_updates(self, updates: Any) -> list[tuple[SharedVariable, TensorVariable]]:
        pairs = []
        seen = set()
        for var, new in _pairs(updates, "updates"):
            if not isinstance(var, SharedVariable):
                raise TypeError(
                    f"updates: {var!r} is not a shared variable; only sg.shared variables can be updated"
                )
            if var in seen:
                raise ValueError(f"updates: {var!r} is updated twice")
            seen.add(var)
            new = as_tensor_variable(new) if not isinstance(new, Variable) else new
            if new.type.dtype != var.type.dtype:
                raise TypeError(
                    f"updates: the new value for {var!r} has dtype {new.type.dtype}, but the shared variable "
                    f"holds {var.type.dtype}. Cast it: T.cast(expr, '{var.type.dtype}') "
                    "(a common cause is a float64 constant or learning rate mixed into float32 parameters)"
                )
            if new.type.ndim != var.type.ndim:
                raise TypeError(
                    f"updates: the new value for {var!r} has ndim {new.type.ndim}, the shared variable "
                    f"has ndim {var.type.ndim} ({var.type.describe()})"
                )
            if not var.type.is_compatible(new.type):
                raise TypeError(
                    f"updates: the new value for {var!r} has static shape {new.type.shape}, incompatible with "
                    f"{var.type.shape}"
                )
            pairs.append((var, new))
        return pairs

    def _add_default_updates(self, no_default_updates: bool | Sequence[Variable]) -> None:
        if no_default_updates is True:
            return
        skip = set(no_default_updates) if no_default_updates else set()
        updated = {v for v, _ in self.update_pairs}
        targets = self.outputs + [u for _, u in self.update_pairs]
        pending = True
        while pending:
            pending = False
            for var in ancestors(targets):
                upd = getattr(var, "default_update", None)
                if isinstance(var, SharedVariable) and upd is not None and var not in updated and var not in skip:
                    self.update_pairs.append((var, upd))
                    updated.add(var)
                    targets.append(upd)
                    pending = True

    def _choose_backend(self) -> Any:
        """Settle ``backend_name`` before anything is compiled, and return the backend that
        needs the compile cache (None for 'py').

        nan_guard checks every intermediate value, which the reference backend exposes; a
        backend that cannot run here falls back to 'py' with one warning.
        """
        name = self.backend_name
        if self.nan_guard and name != "py":
            self.backend_name = name = "py"
        if name == "py":
            return None
        try:
            backend = get_backend(name)
            ok, why = backend.available()
        except ValueError:
            ok, why = False, f"the {name!r} backend is not part of this version of symgraph yet"
        if ok:
            return backend
        if name not in _WARNED_FALLBACK:
            _WARNED_FALLBACK.add(name)
            warnings.warn(
                f"mode {name!r} is not available ({why}); running with the NumPy reference backend "
                "'py' instead (results are the same, only slower)",
                RuntimeWarning, stacklevel=4,
            )
        self.backend_name = "py"
        return None

    def _build_backend(self, backend: Any, cache: Any) -> Any:
        from symgraph.config import config

        if backend is None:
            return get_backend("py").build(self.fgraph, nan_guard=self.nan_guard)
        options = {"openmp_threshold": config.openmp_threshold, "openmp_threads": config.openmp_threads,
                   "cflags": config.cflags.split() + ([] if config.vecmath else ["-DSG_SCALAR_MATH"]),
                   "destroyable": list(self.destroyable)}
        return backend.build(self.fgraph, nan_guard=self.nan_guard, cache=cache, options=options)
