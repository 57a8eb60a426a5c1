"""Modes: which backend runs a function and which rewrite pipeline prepares it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_ALIASES = {
    "c": "c", "FAST_RUN": "c", "fast_run": "c",
    "py": "py", "FAST_COMPILE": "py", "fast_compile": "py", "DebugMode": "py", "DEBUG_MODE": "py",
    "NanGuardMode": "py",
    "cuda": "cuda", "gpu": "cuda",
}


@dataclass(frozen=True)
class Mode:
    """A backend and an optimizer: ``Mode(linker='py', optimizer='none')``.

    ``linker`` accepts Theano's names too ('cvm', 'c|py' mean 'c'; 'py' means 'py').
    """

    linker: str | None = None
    optimizer: str | None = None

    @property
    def backend(self) -> str | None:
        if self.linker is None:
            return None
        if self.linker in ("cvm", "c|py", "vm", "cvm_nogc", "c|py_nogc", "c"):
            return "c"
        return resolve_backend(self.linker)

    def including(self, *tags: str) -> Mode:
        """Theano's optimizer tags have no counterpart here: the mode is returned unchanged,
        with a warning naming the tags so that nothing is ignored silently."""
        _warn_tags("including", tags)
        return self

    def excluding(self, *tags: str) -> Mode:
        """See ``including``; use ``optimizer='stabilize'`` or ``'none'`` to run fewer rewrites."""
        _warn_tags("excluding", tags)
        return self


def _warn_tags(method: str, tags: tuple[str, ...]) -> None:
    import warnings

    warnings.warn(
        f"Mode.{method}({', '.join(map(repr, tags))}): symgraph has no optimizer tags; the mode is "
        "unchanged (choose optimizer='fast_run', 'stabilize' or 'none' instead)",
        UserWarning, stacklevel=3,
    )


@dataclass(frozen=True)
class GuardedMode(Mode):
    """A mode whose functions check every intermediate value (``nan_guard``); see NanGuardMode."""

    nan_guard: bool = True


def NanGuardMode(nan_is_error: bool | None = True, inf_is_error: bool | None = True,
                 big_is_error: bool | None = True, optimizer: str | None = None,
                 linker: str | None = None) -> GuardedMode:
    """Theano's ``NanGuardMode``: the function runs on the NumPy reference backend and
    raises ``NaNGuardError``, naming the node and where it was built, as soon as a node
    makes NaN or inf out of finite inputs. The three flags are accepted for Theano's
    signature; NaN and inf are always errors, and large values are not checked."""
    return GuardedMode(linker="py" if linker in (None, "cvm", "c|py", "vm", "c") else linker,
                       optimizer=None if optimizer in (None, "default") else optimizer)


FAST_RUN = Mode("c", "fast_run")
FAST_COMPILE = Mode("py", "stabilize")


def resolve_backend(mode: Any) -> str:
    """The backend name ('c', 'py', 'cuda') for a mode string or Mode."""
    if isinstance(mode, Mode):
        return mode.backend or "c"
    if mode not in _ALIASES:
        raise ValueError(
            f"unknown mode {mode!r}; use 'c' (generated C), 'py' (NumPy reference), 'cuda', "
            "'FAST_RUN' or 'FAST_COMPILE'"
        )
    return _ALIASES[mode]


def resolve_optimizer(mode: Any, optimizer: str | None, default: str) -> str:
    if optimizer is not None:
        chosen = optimizer
    elif isinstance(mode, Mode) and mode.optimizer is not None:
        chosen = mode.optimizer
    else:
        chosen = default
    chosen = {"None": "none", "fast_compile": "stabilize", "o1": "stabilize", "merge": "none"}.get(chosen, chosen)
    if chosen not in ("fast_run", "stabilize", "none"):
        raise ValueError(f"optimizer must be 'fast_run', 'stabilize' or 'none', got {optimizer!r}")
    return chosen
