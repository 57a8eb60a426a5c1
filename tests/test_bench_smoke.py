"""The benchmark command keeps working (a smoke run, not a timing test)."""

import json
import shutil

import pytest

from bench.run import main, render_table
from bench.workloads.chain import loglog_slope
from bench.workloads.result import Row


@pytest.mark.needs_gcc
@pytest.mark.skipif(shutil.which("gcc") is None, reason="the C backend needs gcc")
def test_bench_w3_quick_run_prints_table_and_writes_results(tmp_path, capsys):
    out = tmp_path / "results.json"
    code = main(["--only", "W3", "--quick", "--repeat", "2", "--peers", "numpy",
                 "--json", str(out)])
    assert code == 0
    payload = json.loads(out.read_text())
    rows = {row["key"]: row for row in payload["rows"]}
    assert list(rows) == ["W3", "W3 trusted"]
    assert rows["W3"]["values"]["symgraph[c]"] > 0
    assert rows["W3"]["values"]["numpy"] > 0
    assert payload["errors"] == []
    assert out.with_suffix(".md").read_text().startswith("## symgraph benchmark")
    printed = capsys.readouterr().out
    assert "| W3 call of `x*2+1` on a scalar, default call |" in printed


def test_bench_table_shows_ratios_to_numpy_fastest_peer_and_limit():
    row = Row(key="W9", label="W9 example", values={"symgraph[c]": 0.002, "numpy": 0.010,
                                                    "jax": 0.004}, limit=0.001,
              target="<= 2x limit", met={"symgraph[c]": True})
    table = render_table([row], ["c"], ["numpy", "jax"])
    header, _, line = table.splitlines()
    assert "c / fastest peer" in header
    assert "| W9 example | 2 ms | 10 ms | 4 ms | 1 ms | 0.20x | 0.50x (JAX jit) | 2.00x | yes |" \
        in line


def test_bench_loglog_slope_is_one_for_linear_times():
    assert loglog_slope([(1000, 1.0), (2000, 2.0), (4000, 4.0)]) == pytest.approx(1.0)
    assert loglog_slope([(1000, 1.0), (2000, 4.0)]) == pytest.approx(2.0)
    assert loglog_slope([(1000, 1.0)]) is None
