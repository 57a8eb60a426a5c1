"""theano.compile.mode: ``Mode``, ``FAST_RUN`` and ``FAST_COMPILE``."""

from symgraph.compile.modes import FAST_COMPILE, FAST_RUN, Mode  # noqa: F401
