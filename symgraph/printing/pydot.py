"""pydotprint: draw a graph as an image with Graphviz (the optional ``graphviz`` extra)."""

from __future__ import annotations

from typing import Any

#: Theano's pydotprint options about its own drawing style: accepted (so Theano code such as
#: ``pydotprint(f, outfile=..., var_with_name_simple=True)`` runs) and without effect here
_THEANO_STYLE_OPTIONS = frozenset({
    "compact", "with_ids", "high_contrast", "cond_highlight", "colorCodes", "max_label_size",
    "scan_graphs", "var_with_name_simple", "print_output_file", "assert_nb_all_strings",
})


def pydotprint(obj: Any, outfile: str = "graph.png", format: str | None = None,
               return_image: bool = False, **theano_options: Any) -> str | bytes:
    """Write a picture of the graph of a variable or compiled function to ``outfile``.

    Needs the ``pydot`` package and Graphviz's ``dot`` program:
    ``pip install 'symgraph[graphviz]'`` and ``apt-get install graphviz``.
    Returns the path written (or the image bytes with ``return_image=True``).
    Theano's style options (``compact``, ``with_ids``, ``var_with_name_simple``, ...) are
    accepted and have no effect.
    """
    unknown = sorted(set(theano_options) - _THEANO_STYLE_OPTIONS)
    if unknown:
        raise TypeError(f"pydotprint() got unexpected keyword arguments {unknown}; it takes outfile, format, "
                        f"return_image and Theano's {sorted(_THEANO_STYLE_OPTIONS)}")
    try:
        import pydot
    except ImportError:
        raise ImportError(
            "pydotprint needs pydot and Graphviz: pip install 'symgraph[graphviz]' "
            "(and install the Graphviz 'dot' program, e.g. apt-get install graphviz)"
        ) from None
    from symgraph.graph.export import to_networkx

    nxg = to_networkx(obj)
    dot = pydot.Dot(graph_type="digraph", rankdir="TB")
    for key, data in nxg.nodes(data=True):
        label = str(data["label"]).replace('"', "'")
        if data["kind"] == "apply":
            dot.add_node(pydot.Node(key, label=f'"{label}"', shape="box", style="filled", fillcolor="lightyellow"))
        else:
            color = "lightgreen" if data["is_input"] else "grey90" if data["is_constant"] else "white"
            if data["is_output"]:
                color = "lightblue"
            dot.add_node(pydot.Node(key, label=f'"{label}"', shape="ellipse", style="filled", fillcolor=color))
    for a, b in nxg.edges():
        dot.add_edge(pydot.Edge(a, b))
    fmt = format or (outfile.rsplit(".", 1)[-1] if "." in outfile else "png")
    try:
        image = dot.create(format=fmt)
    except (FileNotFoundError, OSError) as exc:
        raise RuntimeError(
            f"pydotprint: Graphviz's 'dot' program is needed to render ({exc}); install Graphviz "
            "(e.g. apt-get install graphviz)"
        ) from None
    if return_image:
        return image  # type: ignore[no-any-return]
    with open(outfile, "wb") as fh:
        fh.write(image)
    return outfile
