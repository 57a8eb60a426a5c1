"""symgraph's PEP 517 build backend: setuptools, with NumPy's C headers on gcc's path.

pyproject.toml names this module (``backend-path = ["csrc"]``). Installing builds two C
extensions (``[[tool.setuptools.ext-modules]]``): the runtime library that generated code
links (symgraph_rt.c) and the fast call path (symgraph_call.c), which includes NumPy's
headers. Their folder depends on where the build's NumPy is, which pyproject.toml cannot
say, so this wrapper adds it to CFLAGS (which setuptools passes to gcc) and hands every
hook to setuptools unchanged.
"""

from __future__ import annotations

import os

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *


def _with_numpy_headers() -> None:
    import numpy

    flag = f"-I{numpy.get_include()}"
    cflags = os.environ.get("CFLAGS", "")
    if flag not in cflags.split():
        os.environ["CFLAGS"] = f"{cflags} {flag}".strip()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _with_numpy_headers()
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    _with_numpy_headers()
    return _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
