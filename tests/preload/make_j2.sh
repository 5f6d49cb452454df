#!/bin/sh
# make_j2.sh - GNU make -j2 (preloaded, with its shells) runs a generated
# makefile that uses make's string functions and 60 targets built in
# parallel; the files it produces and its sorted output are identical to a
# glibc run; make's small requests are served by the pools.
. "$top_srcdir/tests/preload/common.sh"
need_tool make
# Run as a fresh top-level make, not as a sub-make of make check.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

mkdir "$tmp/src" || fail "mkdir failed"
{
    echo 'N := $(shell seq 1 60)'
    echo 'TARGETS := $(patsubst %,out/t%.txt,$(N))'
    echo 'WORDS := $(foreach n,$(N),w$(n)-$(subst 1,one,$(n)))'
    echo 'all: out/all.txt'
    echo 'out:'
    printf '\tmkdir -p out\n'
    echo 'out/t%.txt: | out'
    printf '\t@echo "target $* $(words $(WORDS)) $(word $*,$(WORDS)) $(sort $(wordlist 1,$*,$(WORDS)))" > $@\n'
    printf '\t@echo built $*\n'
    echo 'out/all.txt: $(TARGETS)'
    printf '\t@cat $(sort $^) > $@\n'
    printf '\t@echo total $(words $^)\n'
} >"$tmp/src/Makefile"
cp -r "$tmp/src" "$tmp/glibc" && cp -r "$tmp/src" "$tmp/poolgc" || fail "cp failed"

timeout 120 make -s -j2 --no-print-directory -C "$tmp/glibc" >"$tmp/make.glibc.out" 2>"$tmp/make.glibc.err" ||
    fail "make -j2 failed under glibc"
timeout 120 env LD_PRELOAD="$POOLGC_LIB" make -s -j2 --no-print-directory -C "$tmp/poolgc" \
    >"$tmp/make.poolgc.out" 2>"$tmp/make.poolgc.err" || {
    tail -n 20 "$tmp/make.poolgc.err" >&2
    fail "make -j2 failed under poolgc"
}
# -j2 interleaves the lines: compare them sorted; stderr must match exactly.
sort "$tmp/make.glibc.out" >"$tmp/a" && sort "$tmp/make.poolgc.out" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || { diff "$tmp/a" "$tmp/b" | head >&2; fail "make's output differs"; }
cmp -s "$tmp/make.glibc.err" "$tmp/make.poolgc.err" || {
    diff "$tmp/make.glibc.err" "$tmp/make.poolgc.err" | head >&2
    fail "make's stderr differs"
}
cmp -s "$tmp/glibc/out/all.txt" "$tmp/poolgc/out/all.txt" || fail "out/all.txt differs"
[ "$(wc -l <"$tmp/poolgc/out/all.txt")" -eq 60 ] || fail "out/all.txt does not have 60 lines"

rm -rf "$tmp/poolgc/out"
stats_run make make -s -j2 --no-print-directory -C "$tmp/poolgc" || fail "make -j2 failed with POOLGC_STATS=json (rc $rc)"
check_pools make
exit 0
