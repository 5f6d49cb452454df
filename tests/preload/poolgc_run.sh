# poolgc-run (the installed wrapper, built here from poolgc-run.in) preloads
# the library: --stats prints one report, --stats=json one JSON object, the
# command's output and exit status pass through, bad usage exits 2.
. "$top_srcdir/tests/preload/common.sh"
run="$top_builddir/poolgc-run"
[ -x "$run" ] || fail "$run was not built"

out=$(POOLGC_LIB="$POOLGC_LIB" "$run" --stats sh -c 'echo hello; exit 3' 2>"$tmp/err")
rc=$?
[ "$out" = hello ] || fail "stdout changed: '$out'"
[ $rc -eq 3 ] || fail "exit status $rc, expected 3"

POOLGC_LIB="$POOLGC_LIB" "$run" --stats=json "$STATS_PY" -c 'print("x" * 10)' >/dev/null 2>"$tmp/json" ||
    fail "python3 under poolgc-run --stats=json failed"
stats check "$tmp/json" "totals.pools_taken>0" || fail "no JSON report: $(head -c 300 "$tmp/json")"

POOLGC_LIB="$POOLGC_LIB" "$run" --no-such-option true 2>/dev/null
[ $? -eq 2 ] || fail "an unknown option should exit 2"
POOLGC_LIB=/nonexistent/libpoolgc.so "$run" true 2>/dev/null
[ $? -eq 127 ] || fail "a missing library should exit 127"
exit 0
