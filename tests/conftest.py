"""Shared test settings."""

import os
import warnings

import numpy as np
import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    # Two test processes when pytest-xdist is installed (the test extra has it) and the
    # command line does not choose (-n, --dist) or disable (-p no:xdist) it; without xdist
    # everything runs in one process. Never inside a worker: a worker that asked for
    # workers of its own would start processes without end.
    if os.environ.get("PYTEST_XDIST_WORKER") or hasattr(config, "workerinput"):
        return
    if not config.pluginmanager.hasplugin("xdist"):
        return
    if getattr(config.option, "numprocesses", None) is None and getattr(config.option, "dist", "no") == "no":
        config.option.numprocesses = 2
        config.option.dist = "load"


@pytest.fixture(autouse=True)
def _quiet_backend_fallback():
    # On a machine without gcc, mode='c' falls back to 'py' with a RuntimeWarning.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="mode 'c' is not available")
        yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
