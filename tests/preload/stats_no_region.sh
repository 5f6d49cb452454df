#!/bin/sh
# stats_no_region.sh - with the pools off (POOLGC_REGION=0) jemalloc serves
# every request, and jemalloc_requests counts them: requests of threads that
# have no heap are counted too (poolgc(3), STATISTICS), by every thread.
. "$top_srcdir/tests/preload/common.sh"

workload="$top_builddir/tests/stress/stats_workload"
[ -x "$workload" ] || fail "$workload not built"

# 20000 blocks of 48 bytes, all from jemalloc.
timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_REGION=0 POOLGC_STATS=json \
    "$workload" hold 20000 48 >/dev/null 2>"$tmp/hold" || fail "stats_workload hold failed"
stats check "$tmp/hold" 'totals.pools_taken==0' 'totals.jemalloc_requests>=20000' ||
    fail "POOLGC_REGION=0: $(tail -c 400 "$tmp/hold")"

# Threads, cross-thread frees and a fork: at least the main thread's 200000
# blocks, whichever thread asked.
timeout 120 env LD_PRELOAD="$POOLGC_LIB" POOLGC_REGION=0 POOLGC_STATS=json \
    "$workload" work >/dev/null 2>"$tmp/work" || fail "stats_workload work failed"
stats check "$tmp/work" 'totals.pools_taken==0' 'totals.jemalloc_requests>=200000' ||
    fail "POOLGC_REGION=0, threads: $(tail -c 400 "$tmp/work")"

# The text report says the same.
timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_REGION=0 POOLGC_STATS=1 \
    "$workload" hold 20000 48 >/dev/null 2>"$tmp/text" || fail "stats_workload hold failed"
n=$(sed -n 's/^jemalloc_bytes [0-9]*, jemalloc_requests \([0-9]*\)$/\1/p' "$tmp/text")
[ "${n:-0}" -ge 20000 ] || fail "POOLGC_REGION=0, text report: $(tail -n 3 "$tmp/text")"
exit 0
