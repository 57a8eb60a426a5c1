"""theano.sandbox: the parts classic code still imports (``rng_mrg``)."""

from symgraph.compat.theano.sandbox import rng_mrg  # noqa: F401
