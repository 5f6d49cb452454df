#!/bin/sh
# region_exhaustion.sh - with the pool region shrunk to 4 MiB
# (POOLGC_REGION=4M), ~40 MiB of small blocks from 3 threads are still
# granted (past the region, by jemalloc) and keep their contents; the pools
# were used up to the region's size and not beyond (arenas_peak <= 4, 1 MiB
# arenas), and the program's output is the same as without the option.
. "$top_srcdir/tests/preload/common.sh"

fill="$top_builddir/tests/stress/region_fill"
[ -x "$fill" ] || fail "$fill not built"

: >"$tmp/err"
timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_REGION=4M POOLGC_STATS=json "$fill" \
    >"$tmp/out" 2>>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || { head -c 3000 "$tmp/err" >&2; fail "region_fill failed (rc $rc) with POOLGC_REGION=4M"; }
[ ! -s "$tmp/out" ] || fail "region_fill printed on stdout"
stats schema "$tmp/err" || fail "malformed statistics"
stats check "$tmp/err" 'totals.arenas_peak<=4' 'totals.arenas_peak>=1' 'totals.pools_taken>0' ||
    fail "the pools did not stay within (or did not use) the 4 MiB region"

# The same with a region too small for even one arena: everything by jemalloc.
timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_REGION=64K "$fill" >"$tmp/out2" 2>"$tmp/err2" ||
    { head -c 3000 "$tmp/err2" >&2; fail "region_fill failed with POOLGC_REGION=64K"; }
exit 0
