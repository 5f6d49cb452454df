#!/bin/sh
# stats_json.sh - the statistics options (man/poolgc.3, ENVIRONMENT, STATISTICS):
#  - POOLGC_STATS=json prints exactly one JSON object per process, on stderr,
#    with the documented keys, and leaves stdout and the exit status alone;
#  - its numbers add up: blocks_in_use counts a program's live small blocks;
#  - POOLGC_STATS=1 prints a report (the table, not JSON) on stderr, stdout
#    and the exit status unchanged;
#  - POOLGC_VERBOSE=1 says something on stderr, nothing on stdout;
#  - an unknown POOLGC_* variable is not fatal and prints nothing.
. "$top_srcdir/tests/preload/common.sh"

workload="$top_builddir/tests/stress/stats_workload"
[ -x "$workload" ] || fail "$workload not built"

# One object per process, schema, untouched stdout and status.
stats_run base "$workload" baseline || fail "stats_workload baseline failed (rc $rc)"
[ ! -s "$tmp/base.stats.out" ] || fail "POOLGC_STATS=json wrote to stdout: $(head -c 200 "$tmp/base.stats.out")"
n=$(stats count "$tmp/base.stats.err")
[ "$n" = 1 ] || { head -c 2000 "$tmp/base.stats.err" >&2; fail "want one statistics object, got ${n:-none}"; }
stats schema "$tmp/base.stats.err" || fail "malformed statistics object"

# 20000 live 48-byte blocks at exit: blocks_in_use grows by at least that.
stats_run hold "$workload" hold 20000 48 || fail "stats_workload hold failed (rc $rc)"
base_blocks=$(stats get "$tmp/base.stats.err" classes.blocks_in_use) || fail "no classes.blocks_in_use"
hold_blocks=$(stats get "$tmp/hold.stats.err" classes.blocks_in_use) || fail "no classes.blocks_in_use"
[ $((hold_blocks - base_blocks)) -ge 20000 ] ||
    fail "blocks_in_use is $hold_blocks with 20000 live 48-byte blocks, $base_blocks without"
pools=$(stats get "$tmp/hold.stats.err" totals.pools_taken)
[ "$pools" -ge $((20000 * 48 / 16384)) ] || fail "pools_taken is $pools for 20000 live 48-byte blocks"
bytes=$(stats get "$tmp/hold.stats.err" totals.pool_bytes_in_use)
[ "$bytes" -ge $((20000 * 48)) ] || fail "pool_bytes_in_use is $bytes for 20000 live 48-byte blocks"

# Exit status and stdout survive both report forms. (The report comes at
# exit(); a program that leaves with _exit(), as dash does, prints none.)
for mode in json 1; do
    out=$(timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_STATS=$mode "$workload" exit 7 2>"$tmp/err.$mode")
    rc=$?
    [ $rc -eq 7 ] || fail "POOLGC_STATS=$mode changed the exit status 7 to $rc"
    [ "$out" = hello ] || fail "POOLGC_STATS=$mode changed stdout to [$out]"
    [ -s "$tmp/err.$mode" ] || fail "POOLGC_STATS=$mode printed no report on stderr"
done
n=$(stats count "$tmp/err.1")
[ "$n" = 0 ] || fail "POOLGC_STATS=1 printed JSON; it should print the table"

# POOLGC_VERBOSE=1 reports start-up decisions on stderr, stdout untouched.
out=$(timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_VERBOSE=1 "$workload" exit 0 2>"$tmp/err.verbose")
[ "$out" = hello ] || fail "POOLGC_VERBOSE=1 changed stdout to [$out]"
[ -s "$tmp/err.verbose" ] || fail "POOLGC_VERBOSE=1 printed nothing on stderr"

# Unknown options: not fatal, silent.
out=$(timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_NO_SUCH_OPTION=1 "$workload" exit 0 2>"$tmp/err.unknown")
[ "$out" = hello ] || fail "an unknown POOLGC_ variable broke the program: [$out]"
[ ! -s "$tmp/err.unknown" ] || fail "an unknown POOLGC_ variable printed: $(head -c 300 "$tmp/err.unknown")"
exit 0
