"""compile_function: turn a graph into a callable Function."""

from symgraph.compile.function import Function, compile_function, function
from symgraph.compile.io import In
from symgraph.compile.modes import Mode
from symgraph.compile.shared import SharedVariable, shared
from symgraph.errors import UnusedInputError

__all__ = ["Function", "In", "Mode", "SharedVariable", "UnusedInputError", "compile_function", "function", "shared"]
