"""Sphinx configuration for the symgraph documentation.

Build with ``python -m sphinx -b html docs docs/_build``. Only Sphinx itself is needed
(``pip install 'symgraph[docs]'``): no extensions, and every page is reStructuredText.
"""

from __future__ import annotations

import os
import re

_HERE = os.path.dirname(os.path.abspath(__file__))


def _read_version() -> str:
    # Read the version from the source rather than importing symgraph, so the docs build
    # even where symgraph's dependencies are not installed.
    init = os.path.join(_HERE, "..", "symgraph", "__init__.py")
    with open(init, encoding="utf-8") as handle:
        match = re.search(r'^__version__ = "([^"]+)"', handle.read(), re.MULTILINE)
    return match.group(1) if match else "unknown"


project = "symgraph"
author = "the symgraph developers"
copyright = "the symgraph developers"  # noqa: A001 - Sphinx's setting name
release = _read_version()
version = ".".join(release.split(".")[:2])

extensions: list[str] = []
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

highlight_language = "default"  # Python where it parses, plain text otherwise
pygments_style = "sphinx"

html_theme = "alabaster"
html_title = f"symgraph {release}"
