#!/bin/sh
# stats_gc.sh - a process that made GC objects adds the collector's section
# to its report (poolgc(3), STATISTICS): live objects and bytes, per type
# name; collections, collected and uncollectable per generation; pause times.
# A process that made none has no such section.
. "$top_srcdir/tests/preload/common.sh"

workload="$top_builddir/tests/stress/stats_workload"
[ -x "$workload" ] || fail "$workload not built"

# 100 nodes in cycles, collected by one full collection; 3 nodes and 7
# labels alive at exit.
timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_STATS=json "$workload" gc >/dev/null 2>"$tmp/json" ||
    fail "stats_workload gc failed: $(tail -c 300 "$tmp/json")"
"$STATS_PY" - "$tmp/json" <<'PY' || fail "the GC section: $(tail -c 1500 "$tmp/json")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, "want one JSON line, got %d" % len(lines)
gc = json.loads(lines[0])["gc"]
types = {t["name"]: t for t in gc["types"]}
assert set(types) == {"node", "label"}, types
assert types["node"]["objects"] == 3 and types["label"]["objects"] == 7, types
assert gc["objects"] == 10, gc["objects"]
assert gc["bytes"] == sum(t["bytes"] for t in gc["types"]) >= 10 * 24, gc
gens = gc["generations"]
assert [g["generation"] for g in gens] == [0, 1, 2], gens
assert gens[2]["collections"] >= 1 and gens[2]["collected"] >= 100, gens
assert all(g["uncollectable"] == 0 for g in gens), gens
assert gc["total_ns"] == sum(g["total_ns"] for g in gens) > 0, gc
assert gc["max_pause_ns"] == max(g["max_pause_ns"] for g in gens) <= gc["total_ns"], gc
PY

# The text report: the same section, named as in the JSON.
timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_STATS=1 "$workload" gc >/dev/null 2>"$tmp/text" ||
    fail "stats_workload gc failed"
grep -q '^gc objects 10, bytes [0-9]*$' "$tmp/text" &&
    grep -q '^label  *7  *[0-9]*$' "$tmp/text" && grep -q '^node  *3  *[0-9]*$' "$tmp/text" &&
    grep -q '^ *2  *[1-9][0-9]*  *[0-9]*  *0  *[0-9]*  *[0-9]*$' "$tmp/text" &&
    grep -q '^gc total_ns [1-9][0-9]*, max_pause_ns [1-9][0-9]*$' "$tmp/text" ||
    fail "the text report's GC section: $(sed -n '/^gc objects/,$p' "$tmp/text")"

# No GC objects, no GC section.
timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_STATS=json "$workload" baseline 2>"$tmp/none" ||
    fail "stats_workload baseline failed"
! grep -q '"gc":' "$tmp/none" || fail "a process without GC objects printed a GC section"
timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_STATS=1 "$workload" baseline 2>"$tmp/none.txt"
! grep -q '^gc ' "$tmp/none.txt" || fail "a process without GC objects printed a GC section"
exit 0
