"""theano.config: symgraph's settings, plus Theano-only flags accepted and remembered."""

from __future__ import annotations

from typing import Any

from symgraph.config import config as _config

# Theano settings that change nothing here; code that sets or reads them still runs.
_THEANO_ONLY: dict[str, Any] = {
    "device": "cpu", "compute_test_value": "off", "exception_verbosity": "low",
    "warn_float64": "ignore", "cxx": "g++", "allow_gc": True, "print_active_device": False,
    "profile": False, "on_unused_input": "raise", "traceback__limit": 8, "cast_policy": "custom",
    "int_division": "int", "deterministic": "default", "blas__ldflags": "",
}


class _TheanoConfig:
    def __getattr__(self, name: str) -> Any:
        if name in _config._fields:
            return getattr(_config, name)
        if name in _THEANO_ONLY:
            return _THEANO_ONLY[name]
        raise AttributeError(f"theano.config has no setting {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _config._fields:
            setattr(_config, name, value)
        else:
            _THEANO_ONLY[name] = value

    def change_flags(self, **settings: Any) -> Any:
        ours = {k: v for k, v in settings.items() if k in _config._fields}
        return _config.change_flags(**ours)


config = _TheanoConfig()
