#!/bin/sh
# gcc.sh - gcc (driver, cc1, as, collect2, ld, all preloaded) compiles a
# generated C file to assembly and to a program; the assembly is identical to
# the glibc run's, the program prints the same; cc1's small requests are
# served by the pools.
. "$top_srcdir/tests/preload/common.sh"
need_tool gcc

# 150 functions with switches, string tables and structs: enough for cc1 to
# allocate a few hundred thousand small objects.
i=0
{
    echo '#include <stdio.h>'
    echo '#include <string.h>'
    echo 'struct pair { int a; const char *s; };'
    while [ $i -lt 150 ]; do
        cat <<CEOF
static const struct pair table$i[] = { {$i, "alpha$i"}, {$((i * 3)), "beta$i"}, {$((i * 7)), "gamma$i"} };
static int f$i(int x)
{
    int acc = $i;
    for (int k = 0; k < 3; k++)
        acc += table$i[k].a * (int)strlen(table$i[k].s);
    switch (x % 5) {
    case 0: return acc + x * $i;
    case 1: return acc - x;
    case 2: return acc ^ (x << 2);
    case 3: return (acc * 31 + x) % 1009;
    default: return acc + $((i % 17));
    }
}
CEOF
        i=$((i + 1))
    done
    echo 'int main(void)'
    echo '{'
    echo '    long sum = 0;'
    i=0
    while [ $i -lt 150 ]; do
        echo "    sum += f$i($i);"
        i=$((i + 1))
    done
    echo '    printf("sum %ld%c", sum, 10);'
    echo '    return 0;'
    echo '}'
} >"$tmp/gen.c"

compare_run gcc-S gcc -O2 -S -o - "$tmp/gen.c"
[ -s "$tmp/gcc-S.poolgc.out" ] || fail "gcc -S produced no assembly under poolgc"

timeout 120 gcc -O2 -o "$tmp/gen.glibc" "$tmp/gen.c" || fail "gcc failed under glibc"
timeout 120 env LD_PRELOAD="$POOLGC_LIB" gcc -O2 -o "$tmp/gen.poolgc" "$tmp/gen.c" ||
    fail "gcc failed to build the program under poolgc"
"$tmp/gen.glibc" >"$tmp/run.glibc" || fail "the program built under glibc failed"
"$tmp/gen.poolgc" >"$tmp/run.poolgc" || fail "the program built under poolgc failed"
cmp -s "$tmp/run.glibc" "$tmp/run.poolgc" || fail "the programs print different results"

stats_run gcc gcc -O2 -c -o "$tmp/gen.o" "$tmp/gen.c" || fail "gcc -c failed with POOLGC_STATS=json"
check_pools gcc
exit 0
