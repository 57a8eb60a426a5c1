"""theano.tensor.shared_randomstreams: ``RandomStreams`` with Theano's argument order
(``size`` first, ``avg``/``std`` for the normal), onto ``sg.RandomStream``."""

from __future__ import annotations

from typing import Any

from symgraph.tensor.random import RandomStream


def _size(size: Any) -> Any:
    # Theano's default size=() meant "the parameters' shape"
    return None if size is None or (isinstance(size, tuple) and size == ()) else size


class RandomStreams(RandomStream):
    """Theano's RandomStreams: ``uniform(size, low, high)``, ``normal(size, avg, std)``,
    ``binomial(size, n, p)``, ``random_integers(size, low, high)`` (``high`` included).
    ``ndim`` is accepted and unused: the size gives the number of axes."""

    def uniform(self, size: Any = (), low: Any = 0.0, high: Any = 1.0, ndim: int | None = None,  # type: ignore[override]
                dtype: str | None = None) -> Any:
        return RandomStream.uniform(self, low, high, _size(size), dtype)

    def normal(self, size: Any = (), avg: Any = 0.0, std: Any = 1.0, ndim: int | None = None,  # type: ignore[override]
               dtype: str | None = None) -> Any:
        return RandomStream.normal(self, avg, std, _size(size), dtype)

    def binomial(self, size: Any = (), n: Any = 1, p: Any = 0.5, ndim: int | None = None,  # type: ignore[override]
                 dtype: str = "int64", prob: Any = None) -> Any:
        return RandomStream.binomial(self, n, p if prob is None else prob, _size(size), dtype)

    def random_integers(self, size: Any = (), low: Any = 0, high: Any = 1, ndim: int | None = None,
                        dtype: str = "int64") -> Any:
        return RandomStream.integers(self, low, high + 1, _size(size), dtype)

    def choice(self, size: Any = (), a: Any = 2, replace: bool = True, p: Any = None,  # type: ignore[override]
               ndim: int | None = None, dtype: str = "int64") -> Any:
        from symgraph.tensor.math import cast

        sample = RandomStream.choice(self, a, _size(size), replace, p)
        return sample if sample.dtype == dtype else cast(sample, dtype)

    def permutation(self, size: Any = (), n: Any = 1, ndim: int | None = None,  # type: ignore[override]
                    dtype: str = "int64") -> Any:
        if _size(size) is not None:
            raise ValueError("RandomStreams.permutation: only size=() (one permutation of range(n)) is "
                             "supported; stack several draws for more")
        return RandomStream.permutation(self, n)

    def multinomial(self, size: Any = (), n: Any = 1, pvals: Any = (0.5, 0.5),  # type: ignore[override]
                    ndim: int | None = None, dtype: str = "int64") -> Any:
        return RandomStream.multinomial(self, n, list(pvals) if isinstance(pvals, tuple) else pvals, _size(size), dtype)
