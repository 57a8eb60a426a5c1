"""NumPy implementations: random draws (RandomDraw), from NumPy's PCG64 Generator."""

from __future__ import annotations

import numpy as np

from symgraph.backends.py.dispatch import perform
from symgraph.graph.node import Apply
from symgraph.tensor.random import _DISTRIBUTIONS, RandomDraw, decode_state, encode_state


@perform.register(RandomDraw)
def py_random_draw(op: RandomDraw, node: Apply, inputs: list[np.ndarray]) -> list[np.ndarray]:
    # the input state is left as it is: the node returns the advanced state as a new array
    generator = decode_state(inputs[0])
    method = _DISTRIBUTIONS[op.distribution][1]
    params = inputs[1:1 + op.n_params]
    size = tuple(int(v) for v in inputs[1 + op.n_params:]) if op.size_given else None
    if op.distribution == "permutation":
        (x,) = params
        sample = generator.permutation(int(x) if x.ndim == 0 else x)
    elif op.distribution == "choice":
        a = int(params[0]) if params[0].ndim == 0 else params[0]
        p = params[1] if op.with_p else None
        sample = generator.choice(a, size=size, replace=op.replace, p=p)
    else:
        sample = getattr(generator, method)(*params, size=size)
    return [encode_state(generator.bit_generator), np.asarray(sample, dtype=op.dtype)]
