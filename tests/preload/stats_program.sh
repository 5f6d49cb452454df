#!/bin/sh
# stats_program.sh - reports say which program they come from, and a process
# tree's reports can be told apart and filtered (poolgc(3), STATISTICS):
#  - POOLGC_STATS=json is JSON Lines: each report is one line, one object,
#    with "pid" and "program": {"comm", "argv0"}, argv[0] JSON-escaped
#    (quotes, control characters, bytes that are not UTF-8);
#  - the text report's first line names comm and argv0;
#  - POOLGC_STATS_PROGRAM=NAME keeps only the reports of processes whose comm
#    or argv[0]'s last part is NAME: a program started through a wrapper
#    script (as pyenv's shims start python3) reports alone;
#  - POOLGC_STATS_FILE and POOLGC_STATS_PROGRAM ask for the text report
#    when POOLGC_STATS is not set, and POOLGC_STATS=0 still turns it off.
. "$top_srcdir/tests/preload/common.sh"

workload="$top_builddir/tests/stress/stats_workload"
[ -x "$workload" ] || fail "$workload not built"
need_tool cat

# jsonl FILE: every line of FILE is a statistics object; prints
# "comm argv0-basename" per line.
jsonl() {
    "$STATS_PY" - "$1" <<'PY' || fail "$1 is not JSON Lines of statistics: $(head -c 500 "$1")"
import json, os, sys
for n, line in enumerate(open(sys.argv[1], "rb").read().decode("utf-8").splitlines(), 1):
    obj = json.loads(line)
    prog = obj["program"]
    assert isinstance(obj["pid"], int) and "totals" in obj, "line %d" % n
    print(prog["comm"] or "-", os.path.basename(prog["argv0"]) or "-")
PY
}

# A wrapper script named after the program, as pyenv's shims are: it runs
# other programs first (each exits and reports), then execs the real one.
mkdir "$tmp/shim" || fail "mkdir"
cat >"$tmp/shim/stats_workload" <<EOF2
#!/bin/sh
cat /dev/null
ls / >/dev/null
exec "$workload" exit 0
EOF2
chmod +x "$tmp/shim/stats_workload"

# JSON Lines, every process named.
out=$(timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_STATS=json "$tmp/shim/stats_workload" 2>"$tmp/all")
[ "$out" = hello ] || fail "the wrapped program printed [$out]"
names=$(jsonl "$tmp/all") || exit 1
for want in "cat cat" "ls ls" "stats_workload stats_workload"; do
    printf '%s\n' "$names" | grep -qx "$want" || fail "no report from [$want]; got: $names"
done

# Only the program named.
timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_STATS=json POOLGC_STATS_PROGRAM=stats_workload \
    "$tmp/shim/stats_workload" >/dev/null 2>"$tmp/one"
names=$(jsonl "$tmp/one") || exit 1
[ "$names" = "stats_workload stats_workload" ] ||
    fail "POOLGC_STATS_PROGRAM=stats_workload: want its report alone, got: $names"
timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_STATS=json POOLGC_STATS_PROGRAM=no-such-program \
    "$tmp/shim/stats_workload" >/dev/null 2>"$tmp/none"
[ ! -s "$tmp/none" ] || fail "POOLGC_STATS_PROGRAM=no-such-program printed: $(head -c 300 "$tmp/none")"
# exec_as ARGV0 [VAR=VALUE]... -- PROGRAM [ARG]...: run PROGRAM preloaded,
# with the variables set and argv[0] set to ARGV0 (the python3 that execs it
# is not preloaded).
exec_as() {
    timeout 60 "$STATS_PY" -c '
import os, sys
args = sys.argv[1:]
argv0, env = os.fsencode(args.pop(0)), dict(os.environ, LD_PRELOAD=os.environ["POOLGC_LIB"])
while args[0] != "--":
    name, _, value = args.pop(0).partition("=")
    env[name] = value
os.execve(args[1], [argv0] + args[2:], env)' "$@"
}

# comm alone matches too (argv[0] set to something else by the caller).
exec_as renamed POOLGC_STATS=json POOLGC_STATS_PROGRAM=stats_workload -- "$workload" exit 0 \
    >/dev/null 2>"$tmp/comm"
names=$(jsonl "$tmp/comm") || exit 1
[ "$names" = "stats_workload renamed" ] || fail "matching by comm: got [$names]"

# argv[0] with a quote, a backslash, a newline, a tab, a byte that is not
# UTF-8 and one that is (e-acute): the JSON line still parses and says so;
# the text header stays one line.
odd=$(printf 'we"ird\\\nna\tme\377\303\251')
exec_as "$odd" POOLGC_STATS=json -- "$workload" exit 0 >/dev/null 2>"$tmp/odd"
"$STATS_PY" - "$tmp/odd" <<'PY' || fail "argv[0] badly escaped: $(head -c 300 "$tmp/odd")"
import json, sys
lines = open(sys.argv[1], "rb").read().decode("utf-8").splitlines()
assert len(lines) == 1, lines
got = json.loads(lines[0])["program"]["argv0"]
assert got == 'we"ird\\\nna\tme\ufffd\u00e9', repr(got)
PY
exec_as "$(printf 'two\nlines')" POOLGC_STATS=1 -- "$workload" exit 0 >/dev/null 2>"$tmp/odd.txt"
grep -q '^poolgc statistics (pid [0-9]*, comm stats_workload, argv0 two?lines)$' "$tmp/odd.txt" ||
    fail "text header: $(head -n 2 "$tmp/odd.txt")"

# POOLGC_STATS_FILE alone: the text report, in the file.
timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_STATS_FILE="$tmp/file.%p" "$workload" exit 0 \
    >/dev/null 2>"$tmp/stderr.file"
[ ! -s "$tmp/stderr.file" ] || fail "POOLGC_STATS_FILE: stderr got $(head -c 300 "$tmp/stderr.file")"
set -- "$tmp"/file.*
[ $# -eq 1 ] && [ -f "$1" ] || fail "POOLGC_STATS_FILE alone wrote no file (or several: $*)"
grep -q '^poolgc statistics (pid' "$1" || fail "POOLGC_STATS_FILE alone: $(head -c 300 "$1")"
rm -f "$1"
# ... in JSON with POOLGC_STATS=json; nothing with POOLGC_STATS=0.
timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_STATS=json POOLGC_STATS_FILE="$tmp/json" \
    "$workload" exit 0 >/dev/null
[ "$(jsonl "$tmp/json")" = "stats_workload stats_workload" ] || fail "POOLGC_STATS=json with a file"
timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_STATS=0 POOLGC_STATS_FILE="$tmp/off" \
    "$workload" exit 0 >/dev/null
[ ! -e "$tmp/off" ] || fail "POOLGC_STATS=0 with POOLGC_STATS_FILE wrote a report"
# POOLGC_STATS_PROGRAM alone: the text report of that program.
timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_STATS_PROGRAM=stats_workload \
    "$tmp/shim/stats_workload" >/dev/null 2>"$tmp/prog.txt"
[ "$(grep -c '^poolgc statistics' "$tmp/prog.txt")" = 1 ] &&
    grep -q '^poolgc statistics (pid [0-9]*, comm stats_workload, ' "$tmp/prog.txt" ||
    fail "POOLGC_STATS_PROGRAM alone: $(head -c 500 "$tmp/prog.txt")"
# A path is refused, with one line, and the filter stays off.
timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_STATS_PROGRAM=/bin/ls "$workload" exit 0 \
    >/dev/null 2>"$tmp/path.err"
grep -q '^poolgc: POOLGC_STATS_PROGRAM=/bin/ls: ' "$tmp/path.err" ||
    fail "POOLGC_STATS_PROGRAM=/bin/ls: $(head -c 300 "$tmp/path.err")"
exit 0
