"""``python -m symgraph.cache info|clear``: inspect or empty the compile cache."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from symgraph.compile.cache import FUNCTIONS_DIR, ArtifactCache, default_cache

    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "info"
    cache = default_cache()
    if command == "info":
        entries = cache.entries()
        size = sum(f.stat().st_size for e in entries for f in e.iterdir() if f.is_file())
        print(f"compile cache: {cache.root}")
        print(f"entries: {len(entries)}, {size / 1e6:.1f} MB")
        for entry in entries[:20]:
            source = entry / "source.c"
            first = source.read_text().splitlines()[0] if source.is_file() else ""
            print(f"  {entry.name[:16]}  {first[:70]}")
        if len(entries) > 20:
            print(f"  ... and {len(entries) - 20} more")
        # the function cache: one record per compiled function (its rewritten graph and
        # the entries above that its segments use)
        records = ArtifactCache(cache.root / FUNCTIONS_DIR, probe=False).entries()
        record_size = sum(f.stat().st_size for e in records for f in e.iterdir() if f.is_file())
        print(f"function records: {len(records)}, {record_size / 1e6:.1f} MB")
        return 0
    if command == "clear":
        print(f"removed {cache.clear()} entries from {cache.root}")
        return 0
    print("usage: python -m symgraph.cache info|clear", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
