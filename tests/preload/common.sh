# common.sh - shared helpers for the preload and stress shell tests (sourced).
#
# The harness (AM_TESTS_ENVIRONMENT) sets POOLGC_LIB, top_srcdir, top_builddir,
# PYTHON3, SQLITE3 and PERL, and unsets every POOLGC_* option. Exit 77 skips.

set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
me=${0##*/}

fail() { echo "FAIL: $me: $*" >&2; exit 1; }
skip() { echo "SKIP: $me: $*" >&2; exit 77; }

# The library must exist: make check builds it before running tests.
[ -n "${POOLGC_LIB:-}" ] && [ -f "$POOLGC_LIB" ] || fail "POOLGC_LIB='${POOLGC_LIB:-}' is not a file"

need_tool() { command -v "$1" >/dev/null 2>&1 || skip "$1 not found"; }
need_tool timeout

# An un-preloaded python3 for reading statistics (the tests need one).
STATS_PY=${PYTHON3:-}
[ -n "$STATS_PY" ] || STATS_PY=$(command -v python3 || true)
[ -n "$STATS_PY" ] || skip "python3 not found (needed to read the statistics)"
stats() { "$STATS_PY" "$top_srcdir/tests/preload/stats.py" "$@"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/poolgc-$me.XXXXXX") || fail "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

# compare_run NAME CMD...: run CMD under glibc, then with poolgc preloaded
# (no POOLGC_* option); stdout, stderr and the exit status must be identical,
# and the glibc run must exit with $expect_rc (default 0).
compare_run() {
    name=$1
    shift
    timeout 120 "$@" >"$tmp/$name.glibc.out" 2>"$tmp/$name.glibc.err"
    rc_glibc=$?
    timeout 120 env LD_PRELOAD="$POOLGC_LIB" "$@" >"$tmp/$name.poolgc.out" 2>"$tmp/$name.poolgc.err"
    rc_poolgc=$?
    [ $rc_glibc -ne 124 ] || fail "$name: the glibc run timed out: $*"
    if [ $rc_glibc -ne "${expect_rc:-0}" ]; then
        tail -n 20 "$tmp/$name.glibc.err" >&2
        fail "$name: exit status $rc_glibc under glibc (without poolgc), want ${expect_rc:-0}: $*"
    fi
    [ $rc_poolgc -ne 124 ] || fail "$name: timed out under poolgc (glibc run took under 120 s): $*"
    if [ $rc_glibc -ne $rc_poolgc ]; then
        echo "--- stderr under poolgc:" >&2
        tail -n 20 "$tmp/$name.poolgc.err" >&2
        fail "$name: exit status $rc_poolgc under poolgc, $rc_glibc under glibc: $*"
    fi
    if ! cmp -s "$tmp/$name.glibc.out" "$tmp/$name.poolgc.out"; then
        diff "$tmp/$name.glibc.out" "$tmp/$name.poolgc.out" | head -n 20 >&2
        fail "$name: stdout differs between glibc and poolgc: $*"
    fi
    if ! cmp -s "$tmp/$name.glibc.err" "$tmp/$name.poolgc.err"; then
        diff "$tmp/$name.glibc.err" "$tmp/$name.poolgc.err" | head -n 20 >&2
        fail "$name: stderr differs between glibc and poolgc: $*"
    fi
}

# stats_run NAME CMD...: run CMD preloaded with POOLGC_STATS=json; stdout goes
# to $tmp/NAME.stats.out, stderr (with the statistics) to $tmp/NAME.stats.err.
stats_run() {
    name=$1
    shift
    : >"$tmp/$name.stats.err"
    timeout 120 env LD_PRELOAD="$POOLGC_LIB" POOLGC_STATS=json "$@" \
        >"$tmp/$name.stats.out" 2>>"$tmp/$name.stats.err"
    rc=$?
    [ $rc -ne 124 ] || fail "$name: timed out under poolgc with POOLGC_STATS=json: $*"
    return $rc
}

# check_pools NAME: the statistics of the last stats_run NAME show that small
# requests were served by the pools.
check_pools() {
    n=$(stats count "$tmp/$1.stats.err")
    [ "${n:-0}" -gt 0 ] || { tail -c 2000 "$tmp/$1.stats.err" >&2;
        fail "$1: POOLGC_STATS=json printed no statistics object on stderr"; }
    stats schema "$tmp/$1.stats.err" ||
        { tail -c 2000 "$tmp/$1.stats.err" >&2; fail "$1: malformed POOLGC_STATS=json output"; }
    stats check "$tmp/$1.stats.err" 'totals.pools_taken>0' 'totals.arenas_peak>0' \
        'classes.blocks_in_use>=0' ||
        fail "$1: the statistics show no pool use: small requests did not reach the pools"
}
