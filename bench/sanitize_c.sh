#!/usr/bin/env bash
# Build every generated C segment with AddressSanitizer + UBSan and run through it:
#   1. the C backend tests, the differential table, the error tests, the quick fuzz profile
#      (tests/fuzz, when present) and the reliability tests (tests/reliability: threads, the
#      cache under contention, 1e5-call loops; their RSS assertions skip themselves under ASan);
#   2. the slow pass of tests/reliability/test_bad_shapes.py: every case of
#      tests/differential/op_cases.py called with one axis of one input too long or too short,
#      which must raise a Python exception (or agree with py), never touch memory out of bounds.
# Usage: bash bench/sanitize_c.sh [pytest args]    (the args go to both pytest runs)
# SANITIZE_CACHE=/some/dir keeps the instrumented compile cache (default: a temporary one).
# It takes a while (one instrumented gcc run per distinct graph): run it in the background.
set -uo pipefail
cd "$(dirname "$0")/.."
ASAN_LIB=$(gcc -print-file-name=libasan.so)
UBSAN_LIB=$(gcc -print-file-name=libubsan.so)
if [ -n "${SANITIZE_CACHE:-}" ]; then
    CACHE=$SANITIZE_CACHE
else
    CACHE=$(mktemp -d)
    trap 'rm -rf "$CACHE"' EXIT
fi
export SYMGRAPH_FLAGS="compiledir=$CACHE,cflags=-fsanitize=address -fsanitize=undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -O1"
# Python itself is not instrumented: preload the runtimes, and leave leak checking to the
# RSS tests (CPython's own allocations would be reported as leaks). UBSan aborts too, so a
# report always ends the run visibly (pytest's faulthandler adds the Python stack).
export LD_PRELOAD="$ASAN_LIB $UBSAN_LIB"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1"

TARGETS=(tests/backends/c tests/differential tests/test_errors.py tests/reliability)
if [ -d tests/fuzz ]; then
    TARGETS+=(tests/fuzz)
fi
# -vv (pyproject's addopts has -q) names each test before it runs, so an abort is attributed
# to its test; --capture=sys leaves fd 2 alone, so sanitizer reports (written by C to fd 2)
# reach the terminal instead of a capture file that dies with the process; -rfE lists
# failures and errors at the end.
PYTEST=(python -m pytest -n 0 -vv -rfE --capture=sys -p no:cacheprovider)
"${PYTEST[@]}" "${TARGETS[@]}" -m "not slow" "$@"
first=$?
"${PYTEST[@]}" tests/reliability/test_bad_shapes.py -m slow "$@"
second=$?
echo "sanitize_c: default tests exit status $first, op-table wrong-shape pass exit status $second"
[ "$first" -eq 0 ] && [ "$second" -eq 0 ]
