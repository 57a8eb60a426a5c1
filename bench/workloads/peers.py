"""The peer frameworks: which are installed, and how each is set up for a fair comparison.

NumPy is always there. PyTensor, JAX and PyTorch are optional (``pip install -e .[bench]``);
a missing one is reported as "not installed" and its column is left out. Each peer runs with
its own default thread settings on the same cores.
"""

from __future__ import annotations

import importlib.util
import shutil
from typing import Any

from bench.workloads.result import PEERS


def installed_peers() -> list[str]:
    """The peers that can be imported here, in table order."""
    found = ["numpy"]
    if importlib.util.find_spec("pytensor") is not None:
        found.append("pytensor")
    if importlib.util.find_spec("jax") is not None and importlib.util.find_spec("jaxlib"):
        found.append("jax")
    if importlib.util.find_spec("torch") is not None:
        found.append("torch")
        # inductor, torch.compile's CPU backend, generates C++ and needs a compiler
        if shutil.which("g++") or shutil.which("c++"):
            found.append("torch.compile")
    return [p for p in PEERS if p in found]


def load_jax() -> Any:
    """Import JAX with float64 enabled (the float64 workloads would silently run in float32)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


def pytensor_mode() -> Any:
    """PyTensor's C backend (the classic FAST_RUN: C thunks driven by the C VM).

    PyTensor 3 made Numba its default linker; the issue compares against its C backend, the
    one symgraph's design descends from.
    """
    from pytensor.compile.mode import Mode

    return Mode(linker="cvm", optimizer="fast_run")


def versions(peers: list[str]) -> dict[str, str]:
    """Version strings of numpy, scipy and the peers that are installed."""
    import numpy
    import scipy

    out = {"numpy": numpy.__version__, "scipy": scipy.__version__}
    for name in peers:
        module = {"pytensor": "pytensor", "jax": "jax", "torch": "torch"}.get(name)
        if module and module not in out:
            try:
                out[module] = __import__(module).__version__
            except Exception as exc:  # noqa: BLE001 (a broken install is reported, not fatal)
                out[module] = f"import failed: {exc}"
    return out
