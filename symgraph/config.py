"""Typed settings for symgraph.

Settings are read once from the ``SYMGRAPH_FLAGS`` environment variable
(``SYMGRAPH_FLAGS='floatX=float32,mode=py'``) and can be changed in code
(``sg.config.floatX = 'float32'``). Code that depends on a setting reads it where
the user calls in (variable constructors, ``compile_function``) and passes it down.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_FLOAT_DTYPES = ("float16", "float32", "float64")
_MODES = ("c", "py", "cuda", "FAST_RUN", "FAST_COMPILE")
_OPTIMIZERS = ("fast_run", "stabilize", "none")


def _default_compiledir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return os.path.join(base, "symgraph")


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected a boolean (true/false), got {text!r}")


class Config:
    """The settings object, available as ``symgraph.config``.

    Attributes
    ----------
    floatX : str
        dtype of Python floats and of variables built without a dtype ('float64').
    mode : str
        default backend for ``compile_function`` ('c').
    optimizer : str
        default rewrite pipeline ('fast_run', 'stabilize' or 'none').
    compiledir : str
        where compiled artifacts are cached.
    nan_guard : bool
        check every intermediate result for NaN/inf and raise naming the op.
    openmp_threshold, openmp_threads : int
        elementwise loops longer than the threshold run on several threads (0: all cores).
    cflags : str
        extra gcc flags for generated C, space separated (e.g. '-fsanitize=address').
    vecmath : bool
        let generated loops call glibc's SIMD math (libmvec: exp, log, sin, tanh, ... on 4
        doubles at once, at most 4 ulp from correctly rounded) instead of scalar libm (True).
    """

    _fields: dict[str, type] = {
        "floatX": str,
        "mode": str,
        "optimizer": str,
        "compiledir": str,
        "nan_guard": bool,
        "openmp_threshold": int,
        "openmp_threads": int,
        "cflags": str,
        "vecmath": bool,
    }

    def __init__(self) -> None:
        self.floatX = "float64"
        self.mode = "c"
        self.optimizer = "fast_run"
        self.compiledir = _default_compiledir()
        self.nan_guard = False
        self.openmp_threshold = 200_000
        self.openmp_threads = 0
        self.cflags = ""
        self.vecmath = True

    def __setattr__(self, key: str, value: Any) -> None:
        if key not in self._fields:
            known = ", ".join(sorted(self._fields))
            raise AttributeError(f"symgraph.config has no setting {key!r}; known settings: {known}")
        kind = self._fields[key]
        if isinstance(value, str) and kind is not str:
            try:
                value = _parse_bool(value) if kind is bool else kind(value)
            except ValueError:
                raise ValueError(
                    f"symgraph.config.{key} expects {'a boolean' if kind is bool else 'an integer'}, got {value!r}"
                ) from None
        if key == "floatX" and value not in _FLOAT_DTYPES:
            raise ValueError(f"config.floatX must be one of {_FLOAT_DTYPES}, got {value!r}")
        if key == "mode" and value not in _MODES:
            raise ValueError(f"config.mode must be one of {_MODES}, got {value!r}")
        if key == "optimizer" and value not in _OPTIMIZERS:
            raise ValueError(f"config.optimizer must be one of {_OPTIMIZERS}, got {value!r}")
        object.__setattr__(self, key, value)

    def update_from_flags(self, flags: str, source: str = "SYMGRAPH_FLAGS") -> None:
        """Apply ``'name=value,name=value'`` settings."""
        for item in flags.split(","):
            item = item.strip()
            if not item:
                continue
            if "=" not in item:
                raise ValueError(f"{source}: expected name=value, got {item!r}")
            name, value = (part.strip() for part in item.split("=", 1))
            if name == "device" or name.startswith(("gcc", "blas", "lib")):
                continue  # Theano-era flags that have no meaning here
            setattr(self, name, value)

    @contextlib.contextmanager
    def change_flags(self, **settings: Any) -> Iterator[None]:
        """Temporarily change settings: ``with config.change_flags(floatX='float32'):``."""
        old = {name: getattr(self, name) for name in settings}
        try:
            for name, value in settings.items():
                setattr(self, name, value)
            yield
        finally:
            for name, value in old.items():
                setattr(self, name, value)

    def __repr__(self) -> str:
        items = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"Config({items})"


config = Config()
config.update_from_flags(os.environ.get("SYMGRAPH_FLAGS", ""))
