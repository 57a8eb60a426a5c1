"""theano.tensor.signal: pooling (``pool``, and the older ``downsample``)."""

from symgraph.compat.theano.tensor.signal import downsample, pool  # noqa: F401
