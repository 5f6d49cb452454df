#!/bin/sh
# stats_baseline.sh - memory returns to baseline after threads, cross-thread
# frees, short-lived threads and a fork: a workload
# that peaks at ~30 MiB of small blocks and frees everything ends with the
# same blocks in use (within 64) and pool bytes in use (within 4 MiB) as a
# run that does nothing, its peak really went through the pools (at least 8
# arenas), and empty arenas were given back.
. "$top_srcdir/tests/preload/common.sh"

workload="$top_builddir/tests/stress/stats_workload"
[ -x "$workload" ] || fail "$workload not built"

stats_run base "$workload" baseline || fail "stats_workload baseline failed (rc $rc)"
stats_run work "$workload" work || { cat "$tmp/work.stats.err" | head -c 2000 >&2; fail "stats_workload work failed (rc $rc)"; }
for run in base work; do
    n=$(stats count "$tmp/$run.stats.err")
    [ "$n" = 1 ] || { head -c 2000 "$tmp/$run.stats.err" >&2; fail "$run: want one statistics object, got ${n:-none}"; }
    stats schema "$tmp/$run.stats.err" || fail "$run: malformed statistics"
done

get() { stats get "$tmp/$1.stats.err" "$2" || fail "$1: no $2 in the statistics"; }
base_blocks=$(get base classes.blocks_in_use)
work_blocks=$(get work classes.blocks_in_use)
base_bytes=$(get base totals.pool_bytes_in_use)
work_bytes=$(get work totals.pool_bytes_in_use)
work_peak=$(get work totals.arenas_peak)
work_returned=$(get work totals.arenas_released)
echo "blocks_in_use: baseline $base_blocks, after the workload $work_blocks"
echo "pool_bytes_in_use: baseline $base_bytes, after the workload $work_bytes"
echo "workload: arenas_peak $work_peak, arenas_released $work_returned"

[ "$work_peak" -ge 8 ] ||
    fail "arenas_peak is $work_peak for a workload with ~30 MiB of live small blocks (want >= 8)"
[ "$work_blocks" -le $((base_blocks + 64)) ] ||
    fail "blocks_in_use is $work_blocks after everything was freed, $base_blocks at baseline"
[ "$work_bytes" -le $((base_bytes + 4194304)) ] ||
    fail "pool_bytes_in_use is $work_bytes after everything was freed, $base_bytes at baseline"
[ "$work_returned" -ge 1 ] ||
    fail "no arena was returned although $work_peak arenas were used and all blocks freed"
exit 0
