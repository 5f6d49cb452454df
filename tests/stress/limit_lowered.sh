#!/bin/sh
# limit_lowered.sh - a program that lowers its own RLIMIT_AS to 2 GiB at run
# time, after poolgc reserved its 64 GiB pool region, still gets a 10 MiB
# block: the mapping that fails first (jemalloc's) makes the region give its
# never-carved tail back, and is retried. Shown with the as_limit helper and,
# where there is one, with python3: resource.setrlimit, then
# bytearray(10 << 20), which raised MemoryError before.
. "$top_srcdir/tests/stress/limit_common.sh"

kib=2097152
g=$(timeout 60 "$helper" lowered $kib 2>&1) || skip "the helper fails under glibc here: $g"
[ "$g" = 10 ] || skip "glibc gives no 10 MiB block under a 2 GiB limit here ($g)"
p=$(timeout 60 env LD_PRELOAD="$POOLGC_LIB" "$helper" lowered $kib 2>&1)
[ "$p" = 10 ] || fail "RLIMIT_AS lowered to 2 GiB at run time: malloc(10 MiB) under poolgc: [$p]"

PY=
if [ -n "${PYTHON3:-}" ]; then
    PY=$("$PYTHON3" -c 'import sys; print(sys.executable)' 2>/dev/null) || PY=
fi
[ -n "$PY" ] || exit 0
script='import resource; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); b = bytearray(10 << 20); print(len(b))'
want=$(timeout 60 "$PY" -c "$script" 2>&1) || exit 0 # not even under glibc
got=$(timeout 60 env LD_PRELOAD="$POOLGC_LIB" "$PY" -c "$script" 2>&1)
[ "$got" = "$want" ] || fail "python3, RLIMIT_AS lowered to 2 GiB then bytearray(10 MiB): [$got] under poolgc, [$want] under glibc"
exit 0
