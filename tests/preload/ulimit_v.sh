#!/bin/sh
# ulimit_v.sh - under an address-space limit too small for the normal pool
# region (ulimit -v 300000 and 100000 KiB), and under a data limit
# (prlimit --data), preloaded programs still start and run:
# bash prints "ok", python3 computes, and the output matches a glibc run.
. "$top_srcdir/tests/preload/common.sh"
need_tool bash

PY=
if [ -n "${PYTHON3:-}" ]; then
    PY=$("$PYTHON3" -c 'import sys; print(sys.executable)' 2>/dev/null) || PY=
fi
pyscript='d = {str(i): [i] * (i % 7) for i in range(200000)}; print(len(d), sum(map(len, d.values())))'

ran=0
for limit in 300000 100000; do
    # Only limits under which the programs run without poolgc are meaningful.
    (ulimit -v $limit && bash -c 'echo ok') >/dev/null 2>&1 || continue
    out=$( (ulimit -v $limit && timeout 60 env LD_PRELOAD="$POOLGC_LIB" bash -c 'echo ok') 2>&1)
    [ "$out" = ok ] || fail "ulimit -v $limit: LD_PRELOAD=poolgc bash -c 'echo ok' printed [$out]"
    ran=1
    if [ -n "$PY" ] && want=$( (ulimit -v $limit && PYTHONMALLOC=malloc "$PY" -c "$pyscript") 2>&1); then
        got=$( (ulimit -v $limit && PYTHONMALLOC=malloc timeout 60 env LD_PRELOAD="$POOLGC_LIB" "$PY" -c "$pyscript") 2>&1)
        [ "$got" = "$want" ] || fail "ulimit -v $limit: python3 printed [$got] under poolgc, [$want] under glibc"
    fi
    # Also with POOLGC_STATS: the statistics must still come out.
    (ulimit -v $limit && timeout 60 env LD_PRELOAD="$POOLGC_LIB" POOLGC_STATS=json bash -c 'echo ok') \
        >"$tmp/v.out" 2>"$tmp/v.err"
    [ "$(cat "$tmp/v.out")" = ok ] || fail "ulimit -v $limit: bash with POOLGC_STATS=json printed [$(cat "$tmp/v.out")]"
    stats schema "$tmp/v.err" || fail "ulimit -v $limit: malformed or missing statistics"
done
[ $ran -eq 1 ] || skip "bash does not even run under ulimit -v 300000 here"

if command -v prlimit >/dev/null 2>&1; then
    for data in 200000000 50000000; do
        prlimit --data=$data bash -c 'echo ok' >/dev/null 2>&1 || continue
        out=$(timeout 60 prlimit --data=$data env LD_PRELOAD="$POOLGC_LIB" bash -c 'echo ok' 2>&1)
        [ "$out" = ok ] || fail "prlimit --data=$data: preloaded bash printed [$out]"
    done
fi
exit 0
