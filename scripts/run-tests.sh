#!/bin/sh
# Build poolgc and run the whole test suite, three ways:
#   build/        the normal build: make check
#   build-debug/  configured with --enable-debug (assertions and structure
#                 checkers) and --enable-fault-injection (the fault tests):
#                 make check
#   build/        make distcheck: the release tarball configures, builds,
#                 passes make check (out of a read-only tree), installs and
#                 cleans up
# Prints each test's result and the logs of those that failed, and ends with
# one line "N passed, N failed[, N skipped]" counting the tests of both make
# check runs and distcheck as one more; exits non-zero if anything failed.
set -u
cd "$(dirname "$0")/.." || exit 1
jobs=$(nproc)
passed=0 failed=0 skipped=0

# add_counts LINE: add test-summary.sh's "N passed, N failed[, N skipped]".
add_counts() {
    p=$(echo "$1" | sed -n 's/^\([0-9]*\) passed, .*/\1/p')
    f=$(echo "$1" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p')
    s=$(echo "$1" | sed -n 's/.* failed, \([0-9]*\) skipped$/\1/p')
    if [ -z "$p" ] || [ -z "$f" ]; then
        echo "no test summary" >&2
        failed=$((failed + 1))
        return
    fi
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${s:-0}))
}

# failed_logs DIR: the end of the log of each test under DIR that failed.
failed_logs() {
    find "$1" -name '*.trs' -exec grep -l '^:test-result: \(FAIL\|ERROR\|XPASS\)' {} + 2>/dev/null |
        while read -r trs; do
            echo "---- ${trs%.trs}.log"
            tail -n 40 "${trs%.trs}.log"
        done
}

# check DIR [CONFIGURE-OPTION...]: build in DIR, run make check there.
check() {
    dir=$1
    shift
    echo "== $dir/: build${1:+ (configure $*)}"
    if ! sh scripts/build.sh "$dir" "$@"; then
        echo "== $dir/: the build failed"
        failed=$((failed + 1))
        return
    fi
    echo "== $dir/: make check"
    make -C "$dir" -j"$jobs" --no-print-directory check >"$dir/make-check.out" 2>&1
    status=$?
    grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):' "$dir/make-check.out"
    if [ $status -ne 0 ]; then
        failed_logs "$dir/tests"
        grep -q '^# TOTAL' "$dir/make-check.out" || tail -n 40 "$dir/make-check.out"
    fi
    # test-summary.sh's line, on stdout; its "no result" lines, on stderr
    summary=$(make -C "$dir" -s --no-print-directory check-summary 2>&1)
    echo "$summary" | grep -Ev '^[0-9]+ passed, |^make.*Error' >&2
    add_counts "$(echo "$summary" | grep -E '^[0-9]+ passed, ' | tail -n 1)"
}

check build
check build-debug --enable-debug --enable-fault-injection

echo "== build/: make distcheck"
if [ ! -f build/Makefile ]; then
    echo "not configured"
    failed=$((failed + 1))
elif make -C build -j"$jobs" --no-print-directory distcheck >build/make-distcheck.out 2>&1; then
    echo "PASS: make distcheck"
    passed=$((passed + 1))
else
    echo "FAIL: make distcheck"
    failed=$((failed + 1))
    failed_logs build/poolgc-*/_build
    tail -n 40 build/make-distcheck.out
fi

line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
