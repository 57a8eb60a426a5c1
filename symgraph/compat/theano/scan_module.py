"""theano.scan_module: ``scan``, ``until`` and Theano's loop helpers (``map``, ``reduce``,
``foldl``, ``foldr``), from symgraph.control.scan."""

from symgraph.control.scan import foldl, foldr, map, reduce, scan, scan_until, until  # noqa: F401
