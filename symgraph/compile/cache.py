"""The on-disk compile cache: content-addressed, safe for many processes at once.

An entry is a folder named by the hash of everything that determines the artifact
(generated source, compiler and flags, BLAS, symgraph version). Building happens under
a file lock into a temporary file that is renamed into place, and a checksum written
next to it lets a truncated or corrupted artifact be detected and rebuilt.

Records are small files (a digest of their content, then the content), written whole by
an atomic rename; the function cache keeps its entries as records in the ``functions``
folder of the cache (see function_cache.py).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

_ARTIFACT = "artifact"
_CHECKSUM = "artifact.sha256"
_RECORD = "record"
#: the folder of the cache that holds the function cache's records
FUNCTIONS_DIR = "functions"


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ArtifactCache:
    """Compiled artifacts under ``root`` (``config.compiledir`` by default)."""

    def __init__(self, root: str | os.PathLike[str], probe: bool = True) -> None:
        self.root = Path(root)
        if not probe:  # a folder inside a cache that was probed already
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".write-test-{os.getpid()}"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            fallback = Path(tempfile.mkdtemp(prefix="symgraph-cache-"))
            atexit.register(shutil.rmtree, fallback, ignore_errors=True)
            warnings.warn(
                f"symgraph compile cache {self.root} is not writable ({exc}); using the temporary "
                f"directory {fallback} for this process (set SYMGRAPH_FLAGS=compiledir=... to choose one)",
                RuntimeWarning, stacklevel=3,
            )
            self.root = fallback

    @staticmethod
    def key(*parts: str | bytes) -> str:
        digest = hashlib.sha256()
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
        return digest.hexdigest()

    def entry_dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    def _valid(self, entry: Path) -> bool:
        artifact, checksum = entry / _ARTIFACT, entry / _CHECKSUM
        try:
            return artifact.is_file() and checksum.read_bytes().decode(errors="replace").strip() == _sha256_file(artifact)
        except OSError:
            return False

    def get_or_build(self, key: str, build: Callable[[Path, Path], None]) -> tuple[Path, bool]:
        """The artifact for ``key``, building it with ``build(entry_dir, out_path)`` if needed.

        Returns the artifact's path and whether this call built it.
        """
        entry = self.entry_dir(key)
        if self._valid(entry):
            return entry / _ARTIFACT, False
        entry.mkdir(parents=True, exist_ok=True)
        with FileLock(str(entry) + ".lock"):
            if self._valid(entry):  # another process built it while we waited
                return entry / _ARTIFACT, False
            tmp = entry / f".tmp-{os.getpid()}-{os.urandom(4).hex()}"
            try:
                build(entry, tmp)
                checksum = _sha256_file(tmp)
                os.replace(tmp, entry / _ARTIFACT)
                tmp_sum = entry / f".sum-{os.getpid()}"
                tmp_sum.write_text(checksum)
                os.replace(tmp_sum, entry / _CHECKSUM)
            finally:
                if tmp.exists():
                    tmp.unlink()
        return entry / _ARTIFACT, True

    def read_record(self, key: str) -> bytes | None:
        """The record stored under ``key``, or None if there is none or it is damaged."""
        try:
            data = (self.entry_dir(key) / _RECORD).read_bytes()
        except OSError:
            return None
        digest, payload = data[:32], data[32:]
        if len(digest) != 32 or hashlib.sha256(payload).digest() != digest:
            return None
        return payload

    def write_record(self, key: str, payload: bytes) -> None:
        """Store ``payload`` under ``key``, replacing what was there, in one atomic rename
        (readers see the old record or the new one, never a mix)."""
        entry = self.entry_dir(key)
        entry.mkdir(parents=True, exist_ok=True)
        tmp = entry / f".tmp-{os.getpid()}-{os.urandom(4).hex()}"
        try:
            tmp.write_bytes(hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, entry / _RECORD)
        finally:
            if tmp.exists():
                tmp.unlink()

    def entries(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.glob("??/*") if p.is_dir())

    def clear(self) -> int:
        """Remove every entry (and the function cache's records); returns how many entries."""
        count = len(self.entries())
        for sub in self.root.glob("??"):
            shutil.rmtree(sub, ignore_errors=True)
        # function records name entries that are gone now
        shutil.rmtree(self.root / FUNCTIONS_DIR, ignore_errors=True)
        return count


_CACHES: dict[str, ArtifactCache] = {}


def default_cache() -> ArtifactCache:
    """The cache for ``config.compiledir``, made once per directory and process (so an
    unwritable directory warns once and falls back to one temporary directory)."""
    from symgraph.config import config

    root = str(config.compiledir)
    cache = _CACHES.get(root)
    if cache is None:
        cache = _CACHES[root] = ArtifactCache(root)
    return cache
