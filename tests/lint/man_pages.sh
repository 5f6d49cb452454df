#!/bin/sh
# man_pages.sh - every page in man/ formats without a warning: groff -man -ww
# -z prints nothing and exits 0. Link pages (first line ".so man3/...") have
# nothing to format and are skipped. Exit 77 (skip) without groff.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
command -v groff >/dev/null 2>&1 || { echo "SKIP: groff not found"; exit 77; }
cd "$top_srcdir/man" || exit 1

status=0 checked=0
for page in *.3; do
    [ -f "$page" ] || continue
    case $(head -n 1 "$page") in .so*) continue ;; esac
    checked=$((checked + 1))
    out=$(LC_ALL=C groff -man -ww -z "$page" 2>&1)
    rc=$?
    if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
        echo "FAIL: man/$page: groff -man -ww -z exited $rc and printed:"
        printf '%s\n' "$out"
        status=1
    fi
done
[ "$checked" -gt 0 ] || { echo "FAIL: no man page in $top_srcdir/man"; exit 1; }
exit $status
