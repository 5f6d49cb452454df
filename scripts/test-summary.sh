#!/bin/sh
# Print "N passed, N failed[, N skipped]" from the automake harness's .trs
# files given as arguments; exit 1 when any test failed (FAIL, XPASS, ERROR).
passed=0 failed=0 skipped=0
for test in "$@"; do
    trs="${test%.sh}.trs"
    [ -f "$trs" ] || { failed=$((failed + 1)); echo "no result: $trs" >&2; continue; }
    result=$(sed -n 's/^:test-result: *//p' "$trs" | head -n 1)
    case $result in
        PASS|XFAIL) passed=$((passed + 1)) ;;
        SKIP) skipped=$((skipped + 1)) ;;
        *) failed=$((failed + 1)) ;;
    esac
done
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
