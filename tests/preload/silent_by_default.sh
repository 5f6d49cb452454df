#!/bin/sh
# silent_by_default.sh - with no POOLGC_* option set, a preloaded program's
# stdout, stderr and exit status are byte-identical to a glibc run: the
# library prints nothing on its own. Also for a program that
# exits non-zero, one that writes to stderr, a command that fails with an
# error message, and a multi-threaded C program that forks.
. "$top_srcdir/tests/preload/common.sh"

compare_run echo sh -c 'echo out; echo err >&2'
expect_rc=3 compare_run exit3 sh -c 'echo before; exit 3'
expect_rc=2 compare_run ls-missing ls /nonexistent-poolgc-test-path
compare_run sort sh -c 'seq 1 20000 | sort -r | head -n 3'
compare_run strings sh -c 'x=; for i in $(seq 1 3000); do x="$x$i,"; done; echo ${#x}'
workload="$top_builddir/tests/stress/stats_workload"
[ -x "$workload" ] || fail "$workload not built"
compare_run workload "$workload" work
[ -s "$tmp/workload.poolgc.err" ] && fail "the workload program printed on stderr under poolgc"
exit 0
