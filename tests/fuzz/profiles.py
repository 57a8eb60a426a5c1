"""Hypothesis settings for the fuzz tests: a quick derandomized profile and a long random one.

No example database: the quick profile is deterministic anyway, and the long one prints its
seed (and hypothesis prints a ``@reproduce_failure`` blob and a runnable reproducer).
``conftest.py`` sends hypothesis' other files (failure patches, caches) to a temporary
directory, so nothing is written into the repository.
"""

from __future__ import annotations

import os
import secrets

from hypothesis import HealthCheck, settings

_SLOW_GENERATION = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.large_base_example,
]

settings.register_profile(
    "symgraph-fuzz-quick",
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=_SLOW_GENERATION,
    print_blob=False,
)
settings.register_profile(
    "symgraph-fuzz-long",
    derandomize=False,
    deadline=None,
    database=None,
    max_examples=int(os.environ.get("SYMGRAPH_FUZZ_EXAMPLES") or 20_000),
    suppress_health_check=_SLOW_GENERATION,
    print_blob=True,
)

QUICK = settings.get_profile("symgraph-fuzz-quick")
LONG = settings.get_profile("symgraph-fuzz-long")
LONG_SEED = int(os.environ.get("SYMGRAPH_FUZZ_SEED") or secrets.randbelow(2**32))
