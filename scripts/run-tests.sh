#!/bin/sh
# Build poolgc and run the whole test suite (make check); ends with one line
# "N passed, N failed[, N skipped]" and exits non-zero if any test failed.
set -u
cd "$(dirname "$0")/.."
sh scripts/build.sh || { echo "0 passed, 1 failed"; exit 1; }
make -j"$(nproc)" --no-print-directory check >make-check.out 2>&1
status=$?
grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):' make-check.out
if [ $status -ne 0 ]; then
    # show the logs of the tests that failed
    for log in $(grep -l '^:test-result: \(FAIL\|ERROR\|XPASS\)' $(find tests -name '*.trs') 2>/dev/null); do
        echo "---- ${log%.trs}.log"; tail -n 40 "${log%.trs}.log"
    done
    grep -q '^# TOTAL' make-check.out || tail -n 40 make-check.out
fi
make --no-print-directory check-summary
