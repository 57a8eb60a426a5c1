#!/usr/bin/env bash
# Build every generated C segment with AddressSanitizer + UBSan and run the C backend tests
# and the differential table through it. Usage: bash bench/sanitize_c.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
ASAN_LIB=$(gcc -print-file-name=libasan.so)
UBSAN_LIB=$(gcc -print-file-name=libubsan.so)
CACHE=$(mktemp -d)
trap 'rm -rf "$CACHE"' EXIT
export SYMGRAPH_FLAGS="compiledir=$CACHE,cflags=-fsanitize=address -fsanitize=undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -O1"
# Python itself is not instrumented: preload the runtimes, and leave leak checking to the
# RSS tests (CPython's own allocations would be reported as leaks).
export LD_PRELOAD="$ASAN_LIB $UBSAN_LIB"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
python -m pytest tests/backends/c tests/differential tests/test_errors.py -q -p no:cacheprovider "$@"
