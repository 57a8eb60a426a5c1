"""Differential fuzzing: random graphs, C (full rewrite pipeline) against the NumPy reference.

``strategies.programs()`` draws random well-typed graphs (see ``strategies.py`` for what they
cover); ``checks.check_program`` compiles each with ``optimizer='none'`` in mode 'py' (the
reference) and with the full pipeline in mode 'c', and compares them as ``compare.py``
explains. ``checks.check_gradient`` runs ``verify_grad(..., mode='c')`` on random smooth
float64 graphs. Every bug found gets a regression test in ``test_regressions.py``.

The default run (``python -m pytest tests/fuzz``) uses the quick, derandomized profile:
a fixed set of small graphs, well under a minute. The long profile is marked slow:

    SYMGRAPH_FUZZ_EXAMPLES=20000 python -m pytest tests/fuzz -m slow -n 0 -s

``SYMGRAPH_FUZZ_EXAMPLES`` is the number of graphs per long test (default 20000); the run
is random and prints its seed, and ``SYMGRAPH_FUZZ_SEED=<seed>`` replays it. Use a private
compile cache for long runs (``SYMGRAPH_FLAGS=compiledir=/tmp/sgcache_fuzz``): most graphs
are cache misses, and gcc is where the time goes.
"""
