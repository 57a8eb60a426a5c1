"""Graph IR: ops equal by parameters, FunctionGraph clients/replace/prune, source lines, networkx."""

import networkx as nx
import pytest

import symgraph.tensor as T
from symgraph import scalar as ps
from symgraph.graph import FunctionGraph, to_networkx, toposort
from symgraph.graph.traversal import clone_replace
from symgraph.tensor.elemwise import DimShuffle, Elemwise


def test_ops_are_equal_and_hashable_by_parameters():
    assert Elemwise(ps.add) == Elemwise(ps.Add())
    assert hash(Elemwise(ps.add)) == hash(Elemwise(ps.Add()))
    assert Elemwise(ps.add) != Elemwise(ps.mul)
    assert DimShuffle(2, (1, 0)) == DimShuffle(2, (1, 0))
    assert DimShuffle(2, (1, 0)) != DimShuffle(2, (0, "x", 1))
    assert ps.Cast("int32") == ps.Cast("int32") != ps.Cast("int64")


def test_every_apply_records_the_user_line():
    x = T.dvector("x")
    y = T.exp(x) + 1  # this line
    node = y.owner
    assert node.source is not None
    assert node.source.filename == __file__
    assert "this line" in node.source.line()


def test_fgraph_tracks_clients_and_replace_updates_them():
    x, y = T.dvectors("x", "y")
    a = x * y
    out = a + T.exp(a)
    fg = FunctionGraph([x, y], [out])
    (fa,) = [v for v in fg.variables if v.owner is not None and isinstance(v.owner.op.scalar_op, ps.Mul)]
    assert len(fg.clients[fa]) == 2
    z = fg.inputs[0] + fg.inputs[1]
    fg.replace(fa, z, reason="test")
    assert fa not in fg.variables  # the mul node was pruned
    assert len(fg.clients[z]) == 2
    ops = {type(n.op.scalar_op) for n in fg.apply_nodes if isinstance(n.op, Elemwise)}
    assert ps.Mul not in ops


def test_fgraph_replace_rejects_incompatible_types():
    x = T.dvector("x")
    out = T.exp(x)
    fg = FunctionGraph([x], [out])
    with pytest.raises(TypeError, match="cannot replace"):
        fg.replace(fg.outputs[0], T.fmatrix("m"))


def test_fgraph_clones_by_default_and_leaves_user_graph_alone():
    x = T.dvector("x")
    out = x * 2
    fg = FunctionGraph([x], [out])
    assert fg.outputs[0] is not out
    fg.replace(fg.outputs[0], fg.inputs[0])
    assert out.owner is not None


def test_fgraph_missing_input_is_reported():
    x, y = T.dvectors("x", "y")
    with pytest.raises(ValueError, match="not among the inputs"):
        FunctionGraph([x], [x + y])


def test_listeners_hear_imports_prunes_and_changes():
    events = []

    class Listener:
        def on_import(self, fg, node, reason):
            events.append(("import", str(node.op)))

        def on_prune(self, fg, node, reason):
            events.append(("prune", str(node.op)))

        def on_change_input(self, fg, client, i, old, new, reason):
            events.append(("change", reason))

    x = T.dvector("x")
    fg = FunctionGraph([x], [T.exp(x) * 2])
    fg.attach_listener(Listener())
    fg.replace(fg.outputs[0], T.log(fg.inputs[0]), reason="why")
    kinds = [e[0] for e in events]
    assert "import" in kinds and "prune" in kinds and ("change", "why") in events


def test_toposort_orders_dependencies_and_handles_deep_chains():
    x = T.dscalar("x")
    y = x
    for _ in range(5000):
        y = y + 1.0
    order = toposort([y])
    assert len(order) == 5000
    seen = set()
    for node in order:
        for inp in node.inputs:
            assert inp.owner is None or inp.owner in seen
        seen.add(node)


def test_clone_replace_substitutes():
    x, y = T.dscalars("x", "y")
    out = T.exp(x) + x
    (new,), _ = clone_replace([out], {x: y})
    assert x not in {v for n in toposort([new]) for v in n.inputs}


def test_to_networkx_gives_a_bipartite_digraph():
    x, w = T.dvector("x"), T.dvector("w")
    out = T.tanh(x * w).sum()
    g = to_networkx(out)
    assert isinstance(g, nx.DiGraph)
    kinds = nx.get_node_attributes(g, "kind")
    assert set(kinds.values()) == {"variable", "apply"}
    assert nx.is_directed_acyclic_graph(g)
    for a, b in g.edges():
        assert kinds[a] != kinds[b]
    names = {d["name"] for _, d in g.nodes(data=True) if d["kind"] == "variable"}
    assert {"x", "w"} <= names
