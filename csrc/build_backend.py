"""symgraph's PEP 517 build backend: setuptools, with NumPy's C headers on gcc's path.

pyproject.toml names this module (``backend-path = ["csrc"]``). Installing builds two C
extensions (``[[tool.setuptools.ext-modules]]``): the runtime library that generated code
links (symgraph_rt.c) and the fast call path (symgraph_call.c), which includes NumPy's
headers. Their folder depends on where the build's NumPy is, which pyproject.toml cannot
say, so this wrapper adds it to CFLAGS (which setuptools passes to gcc), with a hash of
the C sources that both modules report as ``SOURCES_HASH`` (symgraph/backends/c/runtime.py
compares it with the checkout's), and hands every hook to setuptools unchanged.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *


def _sources_hash() -> str:
    """symgraph.backends.c.runtime.sources_hash of csrc/, from that file loaded on its own
    (importing the symgraph package would need its dependencies in the build)."""
    here = Path(__file__).resolve().parent
    spec = importlib.util.spec_from_file_location(
        "_symgraph_runtime_for_build", here.parent / "symgraph" / "backends" / "c" / "runtime.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.sources_hash(here)


def _with_c_flags() -> None:
    """NumPy's headers on gcc's path, and the sources' hash compiled into the extensions."""
    import numpy

    cflags = os.environ.get("CFLAGS", "").split()
    cflags = [f for f in cflags if not f.startswith("-DSG_SOURCES_HASH=")]
    cflags += [f"-I{numpy.get_include()}", f"-DSG_SOURCES_HASH={_sources_hash()}"]
    os.environ["CFLAGS"] = " ".join(dict.fromkeys(cflags))


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _with_c_flags()
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    _with_c_flags()
    return _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
