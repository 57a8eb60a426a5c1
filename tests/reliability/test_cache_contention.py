"""The compile cache under contention and damage, seen from real processes.

tests/compile/test_cache.py covers one graph built by many processes, a truncated or
overwritten artifact and the cache API's read-only fallback. These tests add: several
processes building several graphs at once (exactly one gcc run per graph), a process
SIGKILLed in the middle of gcc, damage that a size check cannot see (swapped artifacts, a
missing or wrong checksum), and an unwritable cache seen through ``compile_function``.

Every process gets a private cache directory through ``SYMGRAPH_FLAGS=compiledir=...``.
gcc is replaced by a small shell script (the ``CC`` variable, honoured by
symgraph/backends/c/build.py) that logs or delays each compile and passes ``--version``
through, so the cache key (which includes the compiler's version line) is the same as
with plain gcc.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symgraph.backends.c.build import compiler
from symgraph.compile.cache import ArtifactCache
from tests.reliability.processes import child_env, describe, run_python, start_python

pytestmark = [
    pytest.mark.needs_gcc,
    pytest.mark.skipif(compiler() is None, reason="needs gcc to build entries"),
]

GRAPHS = 3
PROCESSES = 4

# Builds graph k for each k in $GRAPHS ("0,2,1") and checks its result. The graphs differ
# in structure, not only in constants (constants are inputs of the generated C, so graphs
# differing only in constants share one entry). With $READY_DIR set, children import symgraph,
# say they are ready and wait for $START_FILE, so that their compiles really overlap.
_BUILD_PROGRAM = """
    import hashlib, os, time
    import numpy as np, symgraph as sg, symgraph.tensor as T
    if os.environ.get("READY_DIR"):
        open(os.path.join(os.environ["READY_DIR"], str(os.getpid())), "w").close()
        while not os.path.exists(os.environ["START_FILE"]):
            time.sleep(0.005)
    graphs = [
        (lambda x: T.exp(x) * 2.5 + 1, lambda v: np.exp(v) * 2.5 + 1),
        (lambda x: T.tanh(x) - x * x, lambda v: np.tanh(v) - v * v),
        (lambda x: T.sin(x) * x.max(), lambda v: np.sin(v) * v.max()),
    ]
    x = T.dvector("x")
    v = np.linspace(-1.0, 1.0, 7)
    for k in map(int, os.environ["GRAPHS"].split(",")):
        build, reference = graphs[k]
        f = sg.function([x], build(x), mode="c")
        assert not f.maker.runner.python_nodes and len(f.maker.runner.sources) == 1
        np.testing.assert_allclose(f(v), reference(v), rtol=1e-14)
        source = f.maker.runner.sources[0].source
        print("graph", k, "ok", hashlib.sha256(source.encode()).hexdigest(), flush=True)
"""


def _graphs(*graphs: int) -> str:
    return ",".join(map(str, graphs))


def _cc_wrapper(folder: Path, before_compile: str) -> Path:
    """A CC script that runs ``before_compile`` (shell) before each real gcc compile."""
    gcc = shutil.which("gcc") or compiler()
    script = folder / "slow-cc"
    script.write_text(
        "#!/bin/sh\n"
        f'case "$1" in --version|-dumpversion|-print-*) exec {gcc} "$@";; esac\n'
        f"{before_compile}\n"
        f'exec {gcc} "$@"\n'
    )
    script.chmod(0o755)
    return script


def _valid_entries(root: Path) -> list[Path]:
    """Entries whose artifact matches its checksum (the cache's own validity rule)."""
    good = []
    for entry in ArtifactCache(root).entries():
        artifact, checksum = entry / "artifact", entry / "artifact.sha256"
        digest = hashlib.sha256(artifact.read_bytes()).hexdigest().encode() if artifact.is_file() else None
        if checksum.is_file() and checksum.read_bytes().strip() == digest:
            good.append(entry)
    return good


def _graph_entries(root: Path) -> list[Path]:
    """Entries of generated segments (they keep their ``source.c``), leaving out other
    artifacts the cache may hold, such as the fast-call extension."""
    return [e for e in ArtifactCache(root).entries() if (e / "source.c").is_file()]


def _leftover_temporaries(root: Path) -> list[Path]:
    return [p for p in root.glob("??/*/.*") if p.name.startswith((".tmp-", ".sum-"))]


def test_processes_building_several_graphs_at_once_share_one_entry_per_graph(tmp_path):
    cache = tmp_path / "cache"
    log = tmp_path / "compiles.log"
    start = tmp_path / "go"
    ready = tmp_path / "ready"
    ready.mkdir()
    # log each compile of a generated segment (other artifacts, such as the fast-call
    # extension, are built by the same compiler)
    cc = str(_cc_wrapper(tmp_path, f'case "$*" in *source.c*) echo $$ >> {log};; esac'))
    # each process builds all graphs, starting from a different one, so that every entry
    # is wanted by several processes at the same moment
    orders = [_graphs(*((p + k) % GRAPHS for k in range(GRAPHS))) for p in range(PROCESSES)]
    procs = [start_python(_BUILD_PROGRAM, child_env(cache, CC=cc, READY_DIR=str(ready), START_FILE=str(start),
                                                    GRAPHS=order))
             for order in orders]
    try:
        deadline = time.monotonic() + 120
        while len(list(ready.iterdir())) < PROCESSES:
            for proc in procs:
                assert proc.poll() is None, describe(proc, *proc.communicate())
            assert time.monotonic() < deadline, "the children did not get ready"
            time.sleep(0.02)
        start.write_text("go")
        for proc in procs:
            out, err = proc.communicate(timeout=240)
            assert proc.returncode == 0, describe(proc, out, err)
            assert out.count(" ok") == GRAPHS, out
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()

    entries = ArtifactCache(cache).entries()
    assert len(_graph_entries(cache)) == GRAPHS
    assert _valid_entries(cache) == entries
    assert _leftover_temporaries(cache) == []
    # the lock makes waiting processes reuse the first build instead of compiling again
    assert len(log.read_text().split()) == GRAPHS, log.read_text()
    info = subprocess.run([sys.executable, "-m", "symgraph.cache", "info"], env=child_env(cache),
                          capture_output=True, text=True, timeout=60, check=False)
    assert info.returncode == 0, info.stderr
    assert f"entries: {len(entries)}," in info.stdout, info.stdout


def test_a_process_killed_during_gcc_leaves_no_lock_or_entry_that_blocks_the_next(tmp_path):
    cache = tmp_path / "cache"
    started = tmp_path / "gcc-started"
    slow = tmp_path / "gcc-is-slow"
    slow.touch()
    # the doomed compiler, when it compiles a generated segment (source.c), announces
    # itself and then takes far longer than the test waits. The later build uses the same
    # CC (cache keys identify the compiler by its file), made fast by removing `slow`, so
    # it looks up the very entry the killed build left half-built.
    slow_cc = _cc_wrapper(
        tmp_path, f'case "$*" in *source.c*) [ -e {slow} ] && touch {started} && sleep 300;; esac'
    )
    doomed = start_python(_BUILD_PROGRAM, child_env(cache, CC=str(slow_cc), GRAPHS=_graphs(0)),
                          start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not started.exists():
            assert doomed.poll() is None, describe(doomed, *doomed.communicate())
            assert time.monotonic() < deadline, "the slow compiler never started"
            time.sleep(0.05)
        os.kill(doomed.pid, signal.SIGKILL)  # the Python process only: its gcc lives on
        doomed.communicate(timeout=30)
        (half_built,) = _graph_entries(cache)
        assert half_built not in _valid_entries(cache)

        slow.unlink()
        env = child_env(cache, CC=str(slow_cc), GRAPHS=_graphs(0))
        # a lock left held (or a half-built entry taken as valid) shows up here as a
        # timeout or a wrong result
        later = run_python(_BUILD_PROGRAM, env, timeout=120)
        assert later.returncode == 0, describe(later, later.stdout, later.stderr)
        assert "graph 0 ok" in later.stdout
        assert _graph_entries(cache) == [half_built]
        assert _valid_entries(cache) == ArtifactCache(cache).entries()
    finally:
        try:
            os.killpg(doomed.pid, signal.SIGKILL)  # the orphaned slow compiler
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def built_cache(tmp_path_factory) -> tuple[Path, dict[int, str]]:
    """A cache holding graphs 0 and 1, built once for the damage tests to copy, and the
    sha256 of each graph's generated source (which tells the entries apart)."""
    root = tmp_path_factory.mktemp("pristine") / "cache"
    result = run_python(_BUILD_PROGRAM, child_env(root, GRAPHS=_graphs(0, 1)))
    assert result.returncode == 0, describe(result, result.stdout, result.stderr)
    assert len(_graph_entries(root)) == 2 and _valid_entries(root) == ArtifactCache(root).entries()
    digests = {int(words[1]): words[3] for words in map(str.split, result.stdout.splitlines())}
    return root, digests


def _entry_of(root: Path, digest: str) -> Path:
    (entry,) = [e for e in _graph_entries(root)
                if hashlib.sha256((e / "source.c").read_bytes()).hexdigest() == digest]
    return entry


def _swap_artifacts(root: Path, digests: dict[int, str]) -> None:
    # both are valid shared libraries with the right entry point: only the checksum
    # tells that each computes the other graph
    first, second = (_entry_of(root, digests[k]) / "artifact" for k in (0, 1))
    data = first.read_bytes()
    first.write_bytes(second.read_bytes())
    second.write_bytes(data)


def _half_written(root: Path, digests: dict[int, str]) -> None:
    # a process died after renaming a partial artifact into place, before the checksum
    entry = _entry_of(root, digests[0])
    (entry / "artifact.sha256").unlink()
    artifact = entry / "artifact"
    artifact.write_bytes(artifact.read_bytes()[:4096])


def _checksum_garbage(root: Path, digests: dict[int, str]) -> None:
    (_entry_of(root, digests[0]) / "artifact.sha256").write_bytes(os.urandom(64))


def _empty_artifact(root: Path, digests: dict[int, str]) -> None:
    (_entry_of(root, digests[1]) / "artifact").write_bytes(b"")


@pytest.mark.parametrize("damage", [_swap_artifacts, _half_written, _checksum_garbage, _empty_artifact],
                         ids=lambda d: d.__name__.strip("_"))
def test_a_damaged_entry_is_rebuilt_and_gives_correct_results(built_cache, tmp_path, damage):
    pristine, digests = built_cache
    root = tmp_path / "cache"
    shutil.copytree(pristine, root)
    damage(root, digests)
    result = run_python(_BUILD_PROGRAM, child_env(root, GRAPHS=_graphs(0, 1)))
    assert result.returncode == 0, describe(result, result.stdout, result.stderr)
    assert "graph 0 ok" in result.stdout and "graph 1 ok" in result.stdout
    assert len(_graph_entries(root)) == 2
    assert _valid_entries(root) == ArtifactCache(root).entries()


_READ_ONLY_PROGRAM = """
    import warnings
    import numpy as np, symgraph as sg, symgraph.tensor as T
    x = T.dvector("x")
    v = np.linspace(-1.0, 1.0, 5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = sg.function([x], T.exp(x) * 2.25, mode="c")
        g = sg.function([x], T.log1p(x * x) + 0.75, mode="c")
        assert not f.maker.runner.python_nodes and not g.maker.runner.python_nodes
        np.testing.assert_allclose(f(v), np.exp(v) * 2.25, rtol=1e-15)
        np.testing.assert_allclose(g(v), np.log1p(v * v) + 0.75, rtol=1e-15)
    cache_warnings = [str(w.message) for w in caught if "not writable" in str(w.message)]
    others = [f"{w.category.__name__}: {w.message}" for w in caught if "not writable" not in str(w.message)]
    print("cache warnings:", len(cache_warnings))
    print("other warnings:", others)
    print(cache_warnings[0] if cache_warnings else "")
"""


def _check_read_only_fallback(compiledir: Path) -> None:
    result = run_python(_READ_ONLY_PROGRAM, child_env(compiledir))
    assert result.returncode == 0, describe(result, result.stdout, result.stderr)
    assert "cache warnings: 1\n" in result.stdout, result.stdout
    assert "other warnings: []" in result.stdout, result.stdout
    assert str(compiledir) in result.stdout and "temporary directory" in result.stdout


def test_a_cache_directory_without_write_permission_falls_back_with_one_warning(tmp_path):
    read_only = tmp_path / "ro-cache"
    read_only.mkdir()
    read_only.chmod(0o555)
    try:
        try:
            (read_only / "probe").write_text("x")
        except PermissionError:
            pass
        else:
            pytest.skip("this user writes through permission bits (root or CAP_DAC_OVERRIDE); "
                        "test_a_cache_directory_on_a_read_only_filesystem_falls_back covers it")
        _check_read_only_fallback(read_only)
    finally:
        read_only.chmod(0o755)


def test_a_cache_directory_on_a_read_only_filesystem_falls_back(tmp_path):
    # /proc exists and refuses new files for every user, root included: an existing cache
    # directory that cannot be written, whatever the permissions say
    if not os.path.isdir("/proc") or os.access("/proc", os.W_OK) and _can_create_in("/proc"):
        pytest.skip("needs a directory that refuses new files (/proc on Linux)")
    _check_read_only_fallback(Path("/proc"))


def _can_create_in(folder: str) -> bool:
    try:
        path = Path(folder) / f".symgraph-probe-{os.getpid()}"
        path.write_text("x")
        path.unlink()
        return True
    except OSError:
        return False
