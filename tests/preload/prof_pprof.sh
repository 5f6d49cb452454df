#!/bin/sh
# prof_pprof.sh - POOLGC_PROF writes a heap profile that google-pprof reads,
# and its estimates are right (poolgc(3), HEAP PROFILING):
#   - prof_sites sites: google-pprof --alloc_space names every site, and the
#     sites that allocate three times the bytes of their pair (in mixed sizes
#     of every tier, in pool blocks freed at once, and in pool blocks freed
#     at once taking turns with blocks kept) come out 3 : 1 within 10%, each
#     within 10% of the bytes the program says it allocated; in
#     --inuse_space only the block left allocated at exit shows (the rest
#     was freed, and frees of sampled blocks were seen), within 10%;
#   - prof_sites threads: while four threads allocate and free each other's
#     blocks, pgc_prof_dump writes profiles (no deadlock, within the
#     timeout); the last one gives 3 : 1 again and no block in use;
#   - the header is heap_v2 with POOLGC_PROF_SAMPLE as the sample period, and
#     jeprof, when installed, reads the same numbers.
# POOLGC_PROF_SAMPLE=2048 gives thousands of samples per site, so 10% is
# many standard deviations. Skips (77) without google-pprof (Debian
# google-perftools, which scripts/setup-debian.sh installs).
. "${top_srcdir:-.}/tests/preload/common.sh"
need_tool google-pprof

prog="$top_builddir/tests/preload/prof_sites"
[ -x "$prog" ] || fail "$prog not built"
period=2048

# pprof_text VIEW PROFILE: site name and bytes, one per line, for each site.
pprof_text() {
    google-pprof --text --show_bytes "--$1" "$prog" "$2" 2>"$tmp/pprof.err" |
        awk '$6 ~ /^site_/ { print $6, $1 }' || true
}
# value NAME FILE: the bytes of NAME in FILE (0 when absent).
value() { awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }' "$2"; }
# near ESTIMATE TRUE: ESTIMATE within 10% of TRUE.
near() { awk -v e="$1" -v t="$2" 'BEGIN { exit !(t > 0 && e >= 0.9 * t && e <= 1.1 * t) }'; }

# ---- the sites ----------------------------------------------------------------
timeout 120 env LD_PRELOAD="$POOLGC_LIB" POOLGC_PROF="$tmp/sites" POOLGC_PROF_SAMPLE=$period \
    "$prog" sites >"$tmp/truth" 2>"$tmp/sites.err" || fail "prof_sites sites failed: $(cat "$tmp/sites.err")"
set -- "$tmp"/sites.*.heap
[ $# -eq 1 ] && [ -f "$1" ] || fail "expected one $tmp/sites.<pid>.heap, found: $*"
profile=$1
head -n 1 "$profile" | grep -Eq "^heap profile: +[0-9]+: +[0-9]+ \[ *[0-9]+: +[0-9]+\] @ heap_v2/$period\$" ||
    fail "unexpected header: $(head -n 1 "$profile")"
grep -q '^MAPPED_LIBRARIES:$' "$profile" || fail "no MAPPED_LIBRARIES section"

pprof_text alloc_space "$profile" >"$tmp/alloc"
[ -s "$tmp/alloc" ] || fail "google-pprof named no site: $(cat "$tmp/pprof.err")"
for site in site_mixed_big site_mixed_small site_temp_big site_temp_small site_churn site_kept \
    site_leak; do
    est=$(value $site "$tmp/alloc") true_bytes=$(value $site "$tmp/truth")
    echo "$site: allocated $true_bytes bytes, estimated $est"
    near "$est" "$true_bytes" || fail "$site: estimate $est is not within 10% of $true_bytes"
done
for pair in mixed_big:mixed_small temp_big:temp_small churn:kept; do
    big=$(value "site_${pair%:*}" "$tmp/alloc") small=$(value "site_${pair#*:}" "$tmp/alloc")
    near "$big" "$((3 * small))" || fail "site_${pair%:*} / site_${pair#*:} = $big / $small, want 3"
done

pprof_text inuse_space "$profile" >"$tmp/inuse"
cat "$tmp/inuse"
leak=$(value site_leak "$tmp/inuse")
near "$leak" "$(value site_leak "$tmp/truth")" || fail "site_leak in use: $leak, want about $(value site_leak "$tmp/truth")"
if grep -v '^site_leak ' "$tmp/inuse" | grep -q .; then
    fail "freed sites still in use: $(grep -v '^site_leak ' "$tmp/inuse" | tr '\n' ' ')"
fi

# jeprof (jemalloc's pprof) reads the same file, when it is installed.
if command -v jeprof >/dev/null 2>&1; then
    jeprof --text --show_bytes --alloc_space "$prog" "$profile" 2>/dev/null |
        awk '$6 ~ /^site_/ { print $6, $1 }' >"$tmp/jeprof"
    cmp -s "$tmp/alloc" "$tmp/jeprof" || fail "jeprof reads another profile: $(tr '\n' ' ' <"$tmp/jeprof")"
fi

# ---- threads, dumps while they allocate ------------------------------------------------
timeout 120 env LD_PRELOAD="$POOLGC_LIB" POOLGC_PROF="$tmp/threads" POOLGC_PROF_SAMPLE=$period \
    "$prog" threads "$tmp/dumped.heap" 2>"$tmp/threads.err"
rc=$?
[ $rc -ne 124 ] || fail "prof_sites threads timed out (a deadlock?)"
[ $rc -eq 0 ] || fail "prof_sites threads exited $rc: $(cat "$tmp/threads.err")"
set -- "$tmp"/threads.*.heap
[ -f "$1" ] || fail "no profile written at exit by prof_sites threads"
pprof_text alloc_space "$tmp/dumped.heap" >"$tmp/talloc"
big=$(value site_thread_big "$tmp/talloc") small=$(value site_thread_small "$tmp/talloc")
echo "site_thread_big $big, site_thread_small $small"
near "$big" "$((3 * small))" || fail "site_thread_big / site_thread_small = $big / $small, want 3"
pprof_text inuse_space "$tmp/dumped.heap" >"$tmp/tinuse"
[ ! -s "$tmp/tinuse" ] || fail "blocks freed by other threads still in use: $(tr '\n' ' ' <"$tmp/tinuse")"
exit 0
