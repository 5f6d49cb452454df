#!/bin/sh
# stats_after_close.sh - POOLGC_STATS=1 prints a report even for programs
# that close stderr before they exit: coreutils (and xz) end with gnulib's
# close_stdout, which closes fd 2, and the report is written after that, from
# poolgc's destructor. message.c then writes to the copy of stderr it took at
# start-up. Each program's report must reach the stderr file, naming it, and
# its output and exit status must be those of a run without the report.
. "$top_srcdir/tests/preload/common.sh"

mkdir "$tmp/dir" && printf 'banana\napple\ncherry\n' >"$tmp/dir/in" || fail "cannot write to $tmp"
xz_cmd=
command -v xz >/dev/null 2>&1 && xz_cmd="xz -c $tmp/dir/in"
checked=0
for cmd in "ls $tmp/dir" "cat $tmp/dir/in" "sort $tmp/dir/in" "head -n 1 $tmp/dir/in" \
    "echo hello" "$xz_cmd"; do
    [ -n "$cmd" ] || continue
    # shellcheck disable=SC2086 # the words of cmd are the command line
    set -- $cmd
    prog=$(command -v "$1") || continue
    case $prog in /*) ;; *) continue ;; esac # a shell builtin (echo): use the program
    shift
    timeout 60 "$prog" "$@" >"$tmp/want" 2>/dev/null
    want_rc=$?
    timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_STATS=1 "$prog" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq $want_rc ] || fail "$prog: exit status $rc under POOLGC_STATS=1, $want_rc without"
    cmp -s "$tmp/want" "$tmp/out" || fail "$prog: stdout differs under POOLGC_STATS=1"
    name=${prog##*/}
    grep -q "^poolgc statistics (pid [0-9]*, comm $name, argv0 $prog)\$" "$tmp/err" || {
        head -c 1000 "$tmp/err" >&2
        fail "$prog: no statistics report naming it on stderr"
    }
    grep -q '^jemalloc_bytes [0-9]*, jemalloc_requests [0-9]*$' "$tmp/err" ||
        fail "$prog: the report on stderr is cut short"
    checked=$((checked + 1))
done
[ $checked -ge 5 ] || skip "found only $checked of ls, cat, sort, head, echo"
exit 0
