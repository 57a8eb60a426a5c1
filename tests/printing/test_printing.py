"""pp, debugprint (variables and compiled functions), pydotprint's missing-dependency message."""

import io

import pytest

import symgraph as sg
import symgraph.tensor as T


def test_pp_one_line_math():
    x = T.dscalar("x")
    assert sg.pp(x ** 2 + 3) == "((x ** 2.0) + 3.0)"
    w, b = T.dvector("w"), T.dscalar("b")
    text = sg.pp(T.sigmoid(T.exp(w) * b))
    assert text == "sigmoid((exp(w) * b))"


def test_pp_of_a_compiled_function_shows_the_optimized_graph():
    x = T.dvector("x")
    f = sg.function([x], 1 / (1 + T.exp(-x)), mode="py")
    assert sg.pp(f) == "sigmoid(x)"


def test_debugprint_returns_a_string_with_ids_and_types():
    x, y = T.dscalars("x", "y")
    z = x * y + x
    z.name = "z"
    text = sg.debugprint(z, file="str")
    lines = text.splitlines()
    assert lines[0].startswith("Elemwise{add} [id A] 'z'")
    assert any(line.startswith(" |Elemwise{mul}") for line in lines)
    assert any(line.startswith(" | |x [id") for line in lines)
    assert "<float64 scalar>" in lines[0]


def test_debugprint_marks_shared_subgraphs_once():
    x = T.dscalar("x")
    e = T.exp(x)
    out = e * e + e
    text = sg.debugprint(out, file="str")
    ids = [line.split("[id ")[1].split("]")[0] for line in text.splitlines() if "Elemwise{exp}" in line]
    assert len(set(ids)) == 1 and len(ids) == 3


def test_debugprint_of_function_lists_updates():
    w = sg.shared(1.0, name="w")
    x = T.dscalar("x")
    f = sg.function([x], x * w, updates=[(w, w + x)], mode="py")
    text = sg.debugprint(f, file="str")
    assert "Updates:" in text and "w <-" in text


def test_debugprint_to_a_file_object():
    x = T.dscalar("x")
    buf = io.StringIO()
    assert sg.debugprint(T.exp(x), file=buf) is None
    assert "Elemwise{exp}" in buf.getvalue()


def test_debugprint_of_a_deep_graph_does_not_recurse():
    x = T.dscalar("x")
    y = x
    for _ in range(3000):
        y = T.tanh(y)
    assert len(sg.debugprint(y, file="str").splitlines()) == 3001


def test_pydotprint_without_pydot_says_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "pydot":
            raise ImportError("no pydot")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    x = T.dscalar("x")
    with pytest.raises(ImportError, match=r"pip install 'symgraph\[graphviz\]'"):
        sg.printing.pydotprint(x * 2, outfile="g.png")


def test_debugprint_shows_a_scans_step_graph_under_inner_graphs():

    k = T.iscalar("k")
    A = T.dvector("A")
    powers, _ = sg.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    text = sg.printing.debugprint(powers[-1], file="str")
    head, inner = text.split("\nInner graphs:\n")
    scan_id = head.split("Scan{scan}.0 [id ")[1].split("]")[0]
    # the step (prior * A) is printed once, under the loop's own line and id, marked with >
    lines = inner.strip().splitlines()
    assert lines[0] == f"Scan{{scan}} [id {scan_id}]"
    assert lines[1].startswith(" >Elemwise{mul}") and all(line.startswith(" >") for line in lines[1:])
    assert "Elemwise{mul}" not in head
    # a graph without loops has no such section
    assert "Inner graphs" not in sg.printing.debugprint(A * 2, file="str")
