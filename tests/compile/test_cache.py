"""The on-disk compile cache: shared by processes, self-repairing, with a CLI."""

import os
import subprocess
import sys
import textwrap
import uuid

import pytest

from symgraph.compile.cache import ArtifactCache
from symgraph.backends.c.build import compiler

pytestmark = pytest.mark.skipif(compiler() is None, reason="needs gcc to build cache entries")

_PROGRAM = textwrap.dedent("""
    import numpy as np, symgraph as sg, symgraph.tensor as T
    x = T.dvector('x')
    f = sg.function([x], T.exp(x) * {constant} + 1, mode='c')
    assert not f.maker.runner.python_nodes
    out = f(np.arange(3.0))
    assert np.allclose(out, np.exp(np.arange(3.0)) * {constant} + 1), out
    print('ok')
""")


def _run(code: str, compiledir: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "SYMGRAPH_FLAGS": f"compiledir={compiledir}"}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout)


def test_many_processes_compiling_the_same_graph_share_one_entry(tmp_path):
    constant = 1.0 + uuid.uuid4().int % 1000 / 1e6  # a graph no earlier run has built
    code = _PROGRAM.format(constant=repr(constant))
    env = {**os.environ, "SYMGRAPH_FLAGS": f"compiledir={tmp_path}"}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(8)]
    results = [p.communicate(timeout=180) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err
        assert out.strip() == "ok"
    assert len(ArtifactCache(tmp_path).entries()) == 1


def test_a_truncated_entry_is_detected_and_rebuilt(tmp_path):
    code = _PROGRAM.format(constant="2.5")
    assert _run(code, str(tmp_path)).returncode == 0
    (entry,) = ArtifactCache(tmp_path).entries()
    artifact = entry / "artifact"
    size = artifact.stat().st_size
    with open(artifact, "r+b") as fh:
        fh.truncate(size // 3)
    second = _run(code, str(tmp_path))
    assert second.returncode == 0, second.stderr
    assert artifact.stat().st_size == size


def test_a_corrupted_entry_is_rebuilt(tmp_path):
    code = _PROGRAM.format(constant="3.5")
    assert _run(code, str(tmp_path)).returncode == 0
    (entry,) = ArtifactCache(tmp_path).entries()
    with open(entry / "artifact", "r+b") as fh:
        fh.seek(100)
        fh.write(b"garbage!" * 8)
    second = _run(code, str(tmp_path))
    assert second.returncode == 0, second.stderr


def test_a_read_only_cache_falls_back_to_a_temporary_one(tmp_path):
    if os.geteuid() == 0:
        # root ignores directory permissions; use a path under a regular file instead
        blocker = tmp_path / "file"
        blocker.write_text("not a directory")
        target = blocker / "cache"
    else:
        target = tmp_path / "ro"
        target.mkdir()
        target.chmod(0o500)
    with pytest.warns(RuntimeWarning, match="not writable"):
        cache = ArtifactCache(target)
    assert cache.root != target and cache.root.is_dir()


def test_cache_cli_info_and_clear(tmp_path):
    assert _run(_PROGRAM.format(constant="4.5"), str(tmp_path)).returncode == 0
    env = {**os.environ, "SYMGRAPH_FLAGS": f"compiledir={tmp_path}"}
    info = subprocess.run([sys.executable, "-m", "symgraph.cache", "info"], env=env, capture_output=True, text=True)
    assert info.returncode == 0 and "entries: 1" in info.stdout
    assert "function records: 1," in info.stdout
    clear = subprocess.run([sys.executable, "-m", "symgraph.cache", "clear"], env=env, capture_output=True, text=True)
    assert "removed 1" in clear.stdout
    assert ArtifactCache(tmp_path).entries() == []


def test_compile_error_shows_command_stderr_and_source(tmp_path):
    from symgraph.backends.c.build import build_library
    from symgraph.errors import CompileError

    with pytest.raises(CompileError, match=r"(?s)gcc failed.*command: .*source: .*source\.c.*stderr"):
        build_library("this is not C;", tmp_path / "lib.so", tmp_path, use_blas=False)
