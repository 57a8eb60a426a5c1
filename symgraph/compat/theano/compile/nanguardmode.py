"""theano.compile.nanguardmode: ``NanGuardMode``."""

from symgraph.compile.modes import NanGuardMode  # noqa: F401
