# limit_common.sh - sourced by the limit_*.sh tests. Each runs
# tests/stress/as_limit (one measure of what a program gets under an
# address-space limit) under glibc and with poolgc preloaded, in the same
# test run, two ways:
#   ulimit     started under ulimit -v $LIMIT_KIB (poolgc sees the limit at
#              start-up and reserves its pool region on demand);
#   setrlimit  the program lowers its own RLIMIT_AS to $LIMIT_KIB KiB after
#              start-up (poolgc has reserved its whole region by then);
# and requires poolgc's figure to be at least 95% of glibc's.
. "$top_srcdir/tests/preload/common.sh"

helper="$top_builddir/tests/stress/as_limit"
[ -x "$helper" ] || fail "$helper not built"
LIMIT_KIB=409600

# measure PRELOAD HOW MODE: the helper's figure in MiB (empty PRELOAD: glibc).
measure() {
    if [ "$2" = ulimit ]; then
        (ulimit -v $LIMIT_KIB && exec timeout 120 env LD_PRELOAD="$1" "$helper" "$3")
    else
        timeout 120 env LD_PRELOAD="$1" "$helper" "$3" $LIMIT_KIB
    fi
}

# at_least_95 MODE WHAT: compare poolgc with glibc both ways.
at_least_95() {
    mode=$1 what=$2
    for how in ulimit setrlimit; do
        g=$(measure "" $how "$mode" 2>"$tmp/glibc.err") ||
            skip "$mode ($how): the glibc run failed here: $(cat "$tmp/glibc.err")"
        p=$(measure "$POOLGC_LIB" $how "$mode" 2>"$tmp/poolgc.err") ||
            fail "$mode ($how $LIMIT_KIB KiB): the run under poolgc failed: $(cat "$tmp/poolgc.err")"
        [ "${g:-0}" -gt 0 ] || fail "$mode ($how): glibc's figure is [$g]"
        echo "$what, $how $LIMIT_KIB KiB: glibc $g MiB, poolgc $p MiB"
        [ $((p * 100)) -ge $((g * 95)) ] ||
            fail "$what, $how $LIMIT_KIB KiB: poolgc $p MiB, under 95% of glibc's $g MiB"
    done
}
