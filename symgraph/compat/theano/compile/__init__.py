"""theano.compile: ``function``, ``Mode`` and the ``mode`` / ``nanguardmode`` submodules."""

from symgraph.compat.theano.compile import mode, nanguardmode  # noqa: F401
from symgraph.compile import In, Mode, SharedVariable, shared  # noqa: F401
from symgraph.compile import compile_function as function  # noqa: F401
