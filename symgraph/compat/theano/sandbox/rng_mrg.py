"""theano.sandbox.rng_mrg: ``MRG_RandomStreams`` onto ``sg.RandomStream``.

The numbers come from NumPy's PCG64, not from Theano's MRG31k3p generator: the same
distributions, other values. ``nstreams`` is accepted and unused.
"""

from __future__ import annotations

from typing import Any

from symgraph.tensor.random import RandomStream


class MRG_RandomStreams(RandomStream):  # Theano's name
    """Theano's MRG_RandomStreams(seed=12345): ``uniform``, ``normal``, ``binomial``, ``multinomial``."""

    def __init__(self, seed: int | None = 12345) -> None:
        super().__init__(seed)

    def uniform(self, size: Any, low: Any = 0.0, high: Any = 1.0, ndim: int | None = None,  # type: ignore[override]
                dtype: str | None = None, nstreams: Any = None) -> Any:
        return RandomStream.uniform(self, low, high, size, dtype)

    def normal(self, size: Any, avg: Any = 0.0, std: Any = 1.0, ndim: int | None = None,  # type: ignore[override]
               dtype: str | None = None, nstreams: Any = None, truncate: bool = False) -> Any:
        if truncate:
            raise ValueError("MRG_RandomStreams.normal(truncate=True) is not supported by symgraph; "
                             "clip the draw yourself, or redraw out-of-range values")
        return RandomStream.normal(self, avg, std, size, dtype)

    def binomial(self, size: Any = None, n: Any = 1, p: Any = None, ndim: int | None = None,  # type: ignore[override]
                 dtype: str = "int64", nstreams: Any = None) -> Any:
        if p is None:
            raise TypeError("MRG_RandomStreams.binomial needs p")
        return RandomStream.binomial(self, n, p, size, dtype)

    def multinomial(self, size: Any = None, n: Any = 1, pvals: Any = None, ndim: int | None = None,  # type: ignore[override]
                    dtype: str = "int64", nstreams: Any = None) -> Any:
        if pvals is None:
            raise TypeError("MRG_RandomStreams.multinomial needs pvals")
        return RandomStream.multinomial(self, n, pvals, size, dtype)
