"""Exception types and helpers that make error messages point at the user's code."""

from __future__ import annotations

import os
import sys
import sysconfig
from dataclasses import dataclass

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# standard-library frames (functools' singledispatch, contextlib, ...) are never the user's line
_STDLIB_DIRS = tuple(
    {os.path.abspath(sysconfig.get_paths()[k]) + os.sep for k in ("stdlib", "platstdlib")}
)


@dataclass(frozen=True)
class SourceInfo:
    """Where in the user's code a node was built."""

    filename: str
    lineno: int
    function: str

    def line(self) -> str:
        import linecache

        return linecache.getline(self.filename, self.lineno).strip()

    def __str__(self) -> str:
        text = self.line()
        where = f'File "{self.filename}", line {self.lineno}, in {self.function}'
        return f"{where}\n    {text}" if text else where


def _is_internal(filename: str) -> bool:
    if filename.startswith(_PACKAGE_DIR) or filename.startswith("<frozen"):
        return True
    return filename.startswith(_STDLIB_DIRS) and "site-packages" not in filename


def user_frame() -> SourceInfo | None:
    """The innermost stack frame outside the symgraph package (the user's line)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not _is_internal(filename):
            return SourceInfo(filename, frame.f_lineno, frame.f_code.co_name)
        frame = frame.f_back  # type: ignore[assignment]
    return None


def built_at(source: SourceInfo | None) -> str:
    """A suffix for messages: where the failing node was created."""
    if source is None:
        return ""
    return f"\nThe node was created at:\n  {source}"


class SymgraphError(Exception):
    """Base class of symgraph's own exceptions."""


class ShapeMismatchError(SymgraphError, ValueError):
    """Runtime shapes do not fit an operation."""


class UnusedInputError(SymgraphError, ValueError):
    """An input given to compile_function is not used by any output."""


class DisconnectedInputError(SymgraphError, ValueError):
    """A ``wrt`` variable of ``grad`` is not connected to the cost."""


class GradientError(SymgraphError, AssertionError):
    """``verify_grad`` found the analytic gradient and finite differences disagree."""


class MissingInputError(SymgraphError, ValueError):
    """An output depends on a variable that is neither an input nor shared nor constant."""


class NaNGuardError(SymgraphError, FloatingPointError):
    """``config.nan_guard`` found a NaN or inf in an intermediate result."""


class CompileError(SymgraphError, RuntimeError):
    """A backend compiler failed."""
