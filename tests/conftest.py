"""Shared test settings."""

import warnings

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _quiet_backend_fallback():
    # On a machine without gcc, mode='c' falls back to 'py' with a RuntimeWarning.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="mode 'c' is not available")
        yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
