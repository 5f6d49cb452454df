# poolgc-run (the installed wrapper, built here from poolgc-run.in) preloads
# the library: --stats prints one report, --stats=json one JSON object, the
# command's output and exit status pass through; --help prints the usage on
# stdout and exits 0 (--version: the version), bad usage exits 2;
# --stats-program=NAME reports only in the program named; --stats-tree sums
# the reports of every process of the command into one summary (=json: one
# JSON object).
. "$top_srcdir/tests/preload/common.sh"
run="$top_builddir/poolgc-run"
[ -x "$run" ] || fail "$run was not built"
workload="$top_builddir/tests/stress/stats_workload"
[ -x "$workload" ] || fail "$workload not built"
export POOLGC_LIB

out=$("$run" --stats sh -c 'echo hello; exit 3' 2>"$tmp/err")
rc=$?
[ "$out" = hello ] || fail "stdout changed: '$out'"
[ $rc -eq 3 ] || fail "exit status $rc, expected 3"

"$run" --stats=json "$STATS_PY" -c 'print("x" * 10)' >/dev/null 2>"$tmp/json" ||
    fail "python3 under poolgc-run --stats=json failed"
stats check "$tmp/json" "totals.pools_taken>0" || fail "no JSON report: $(head -c 300 "$tmp/json")"

# --help: the usage, on stdout, status 0; -h the same.
for opt in --help -h; do
    "$run" $opt >"$tmp/help" 2>"$tmp/help.err"
    rc=$?
    [ $rc -eq 0 ] || fail "poolgc-run $opt exited $rc"
    grep -q '^usage: poolgc-run ' "$tmp/help" || fail "poolgc-run $opt: no usage on stdout"
    [ ! -s "$tmp/help.err" ] || fail "poolgc-run $opt wrote on stderr: $(head -c 200 "$tmp/help.err")"
done
out=$("$run" --version) && expr "$out" : 'poolgc-run (poolgc [0-9][0-9.]*)$' >/dev/null ||
    fail "poolgc-run --version printed [$out]"
# Every option the usage lists is accepted.
for opt in $(grep -o -- '--[a-z-]*' "$tmp/help" | sort -u); do
    case $opt in --help) continue ;; --stats-program) opt=--stats-program=x ;; esac
    "$run" "$opt" true >/dev/null 2>&1 || fail "poolgc-run $opt true failed"
done

"$run" --no-such-option true 2>/dev/null
[ $? -eq 2 ] || fail "an unknown option should exit 2"
"$run" 2>/dev/null
[ $? -eq 2 ] || fail "no command should exit 2"
POOLGC_LIB=/nonexistent/libpoolgc.so "$run" true 2>/dev/null
[ $? -eq 127 ] || fail "a missing library should exit 127"

# A wrapper script that runs other programs, then execs the real one.
cat >"$tmp/stats_workload" <<EOF2
#!/bin/sh
cat /dev/null
exec "$workload" exit 5
EOF2
chmod +x "$tmp/stats_workload"

# --stats-program: the program's report alone (a path names it too).
for opt in --stats-program=stats_workload "--stats-program $workload"; do
    # shellcheck disable=SC2086 # opt is one or two words
    out=$("$run" --stats=json $opt "$tmp/stats_workload" 2>"$tmp/prog")
    rc=$?
    [ $rc -eq 5 ] && [ "$out" = hello ] || fail "$opt: exit status $rc, stdout [$out]"
    [ "$(stats count "$tmp/prog")" = 1 ] && grep -q '"comm": "stats_workload"' "$tmp/prog" ||
        fail "$opt: want one report, from stats_workload: $(head -c 300 "$tmp/prog")"
done

# --stats-tree: one summary on stderr, a line per process, the totals last.
out=$("$run" --stats-tree "$tmp/stats_workload" 2>"$tmp/tree")
rc=$?
[ $rc -eq 5 ] && [ "$out" = hello ] || fail "--stats-tree: exit status $rc, stdout [$out]"
grep -q '^poolgc statistics of 2 processes' "$tmp/tree" || fail "--stats-tree: $(cat "$tmp/tree")"
grep -q '^ *[0-9][0-9]*  cat  ' "$tmp/tree" && grep -q '^ *[0-9][0-9]*  stats_workload ' "$tmp/tree" &&
    grep -q '^ *total ' "$tmp/tree" || fail "--stats-tree: $(cat "$tmp/tree")"
[ "$(grep -c '^poolgc statistics' "$tmp/tree")" = 1 ] || fail "--stats-tree printed the reports too"

# --stats-tree=json: one object, whose totals are the sums of its processes.
"$run" --stats-tree=json "$tmp/stats_workload" >/dev/null 2>"$tmp/tree.json"
[ $? -eq 5 ] || fail "--stats-tree=json changed the exit status"
"$STATS_PY" - "$tmp/tree.json" <<'PY' || fail "--stats-tree=json: $(head -c 500 "$tmp/tree.json")"
import json, sys
tree = json.load(open(sys.argv[1]))
procs, totals = tree["processes"], tree["totals"]
assert sorted(p["program"]["comm"] for p in procs) == ["cat", "stats_workload"], procs
assert totals["processes"] == 2, totals
for key in ("pools_taken", "arenas_peak", "jemalloc_requests", "jemalloc_bytes"):
    assert totals[key] == sum(p["totals"][key] for p in procs), key
PY
exit 0
