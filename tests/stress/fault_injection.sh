#!/bin/sh
# fault_injection.sh - every mmap, mprotect and madvise of the
# library can fail without harm (a build with --enable-fault-injection;
# skipped otherwise). fault_workload is run once without faults, to count
# its system calls, then once for each call N with POOLGC_FAULT_MMAP=N:K
# (that call and the K - 1 after it fail): each run must end well - every
# failure the API's (NULL and ENOMEM, posix_memalign's ENOMEM, bad_alloc),
# every block intact, pgc_check() content, every entry point working again
# once the faults stop. Three walks:
#   - single faults (K=1), no limit, the default configuration;
#   - bursts (K=8) under ulimit -v: the pool region reserved on demand,
#     jemalloc unmapping freed extents (retain:false), its mappings placed
#     in the far zone (lib/os.c);
#   - bursts (K=8) with RLIMIT_AS lowered at run time: the region shrinks
#     (MALLOC_CONF=retain:false here, as if jemalloc had started under the
#     limit: every large block is then a mapping of its own);
#   - bursts (K=8) with RLIMIT_AS lowered at run time, jemalloc retaining
#     (it started before the limit): big blocks go to jemalloc's arena 0
#     under poolgc's extent hooks (lib/large.c).
# In the first two burst walks every entry point that takes memory from the
# system must have failed at least once: the walk did reach it. In the last,
# blocks can come from address space jemalloc retained before the limit,
# without a system call: the big ones, which reach the hooks, must have.
. "$top_srcdir/tests/preload/common.sh"

w="$top_builddir/tests/stress/fault_workload"
[ -x "$w" ] || fail "$w not built"
limit_kib=134217728 # 128 GiB: room for the 64 GiB pool region, a limit all the same

# run ULIMIT_KIB CMD...: CMD under ulimit -v ULIMIT_KIB (- for none).
run() {
    if [ "$1" = - ]; then
        shift
        timeout 120 "$@"
    else
        (ulimit -v "$1" && shift && exec timeout 120 "$@")
    fi
}

# walk K ULIMIT_KIB MALLOC_CONF [KIB]: the workload's calls counted without
# faults, then a run with POOLGC_FAULT_MMAP=N:K for N = 1 .. calls; prints
# the entry points that failed in some run.
walk() {
    k=$1 ulimit_kib=$2 conf=$3
    shift 3
    out=$(run "$ulimit_kib" env MALLOC_CONF="$conf" "$w" "$@" 2>"$tmp/err")
    rc=$?
    [ $rc -eq 77 ] && exit 77
    [ $rc -eq 0 ] || fail "fault_workload $* fails without faults (rc $rc): $(tail -n 5 "$tmp/err")"
    total=$(echo "$out" | sed -n 's/^calls \([0-9]*\) faults 0 failed.*/\1/p')
    [ -n "$total" ] && [ "$total" -gt 0 ] || fail "fault_workload $*: no count of calls in [$out]"
    n=1 missed=0 seen=
    while [ "$n" -le "$total" ]; do
        out=$(run "$ulimit_kib" env MALLOC_CONF="$conf" POOLGC_FAULT_MMAP=$n:$k "$w" "$@" 2>"$tmp/err")
        rc=$?
        [ $rc -eq 0 ] || fail "ulimit -v $ulimit_kib, MALLOC_CONF=$conf," \
            "POOLGC_FAULT_MMAP=$n:$k fault_workload $*: rc $rc: $(tail -n 8 "$tmp/err")"
        case $out in
        "calls "*" faults 0 failed"*) missed=$((missed + 1)) ;; # the run took another path
        esac
        seen="$seen ${out#*failed}"
        n=$((n + 1))
    done
    # Runs vary a little (jemalloc's purge runs by the clock): most must hit.
    [ $((missed * 10)) -le "$total" ] ||
        fail "K=$k $*: $missed of $total runs made fewer calls than the run without faults"
    echo "$seen" | tr ' ' '\n' | sort -u | tr '\n' ' '
}

# must_include WHAT SEEN NAME...
must_include() {
    what=$1 seen=" $2 "
    shift 2
    for name in "$@"; do
        case $seen in
        *" $name "*) ;;
        *) fail "$what: $name never failed: the walk did not reach it (failed: $seen)" ;;
        esac
    done
}

takers="malloc calloc realloc reallocarray aligned_alloc posix_memalign memalign valloc pvalloc
new new_array new_nothrow new_aligned malloc_big realloc_big"
limit_kib=134217728 # 128 GiB: room for the 64 GiB pool region, a limit all the same

# (a failure inside walk exits its subshell; 77 from the first one skips)
walk 1 - "" >/dev/null || exit $?
seen=$(walk 8 $limit_kib "") || exit $?
# shellcheck disable=SC2086
must_include "bursts of 8 under ulimit -v" "$seen" $takers
seen=$(walk 8 - retain:false $limit_kib) || exit $?
# shellcheck disable=SC2086
must_include "bursts of 8, RLIMIT_AS lowered at run time" "$seen" $takers
seen=$(walk 8 - "" $limit_kib) || exit $?
must_include "bursts of 8, RLIMIT_AS lowered at run time, jemalloc retaining" "$seen" \
    malloc_big realloc_big
exit 0
