#!/bin/sh
# symbols.sh - libpoolgc.so's dynamic symbols are those of a well-behaved
# malloc replacement:
#  - every standard allocation name, the 20 C++ operators and the pgc_* names
#    are exported and defined;
#  - no internal name (pgc__*, _pgc_*, jemalloc's je_*) is exported;
#  - no __tls_get_addr import and no DTPMOD relocation (initial-exec TLS only:
#    dynamic TLS may call malloc);
#  - no JUMP_SLOT relocation for malloc/free/calloc/realloc (internal calls
#    must not go through the PLT, where another interposer could catch them);
#  - with the embedded jemalloc (the default), no libjemalloc/libstdc++ NEEDED.
. "$top_srcdir/tests/preload/common.sh"
need_tool nm
need_tool objdump
need_tool readelf

lib=$POOLGC_LIB
nm -D --defined-only "$lib" >"$tmp/defined" || fail "nm -D failed on $lib"
awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }' "$tmp/defined" | sort -u >"$tmp/exported"

missing=
for name in malloc free calloc realloc reallocarray posix_memalign aligned_alloc memalign \
    valloc pvalloc malloc_usable_size free_sized free_aligned_sized malloc_trim malloc_stats \
    mallinfo mallinfo2 mallopt \
    _Znwm _Znam _ZnwmRKSt9nothrow_t _ZnamRKSt9nothrow_t _ZnwmSt11align_val_t \
    _ZnamSt11align_val_t _ZnwmSt11align_val_tRKSt9nothrow_t _ZnamSt11align_val_tRKSt9nothrow_t \
    _ZdlPv _ZdaPv _ZdlPvm _ZdaPvm _ZdlPvSt11align_val_t _ZdaPvSt11align_val_t \
    _ZdlPvmSt11align_val_t _ZdaPvmSt11align_val_t _ZdlPvRKSt9nothrow_t _ZdaPvRKSt9nothrow_t \
    _ZdlPvSt11align_val_tRKSt9nothrow_t _ZdaPvSt11align_val_tRKSt9nothrow_t \
    pgc_malloc pgc_calloc pgc_realloc pgc_free pgc_usable_size pgc_posix_memalign \
    pgc_aligned_alloc pgc_trim pgc_stats_print; do
    grep -qx "$name" "$tmp/exported" || missing="$missing $name"
done
errors=0
problem() { echo "FAIL: $me: $*" >&2; errors=$((errors + 1)); }
[ -z "$missing" ] || problem "not exported by $lib:$missing"

grep -E '^(pgc__|_pgc_|je_|_rjem_)' "$tmp/exported" >"$tmp/internal"
[ ! -s "$tmp/internal" ] ||
    problem "$(wc -l <"$tmp/internal") internal names are exported, e.g. $(head -n 8 "$tmp/internal" | tr '\n' ' ')"

! nm -D "$lib" | grep -q '__tls_get_addr' || problem "$lib imports __tls_get_addr (dynamic TLS may call malloc)"
! readelf -rW "$lib" | grep -q 'DTPMOD' || problem "$lib has DTPMOD relocations (global/local-dynamic TLS)"
slots=$(objdump -R "$lib" | grep -E 'JUMP_SLOT +(malloc|free|calloc|realloc)$' | tr -s ' ' | tr '\n' ';')
[ -z "$slots" ] || problem "$lib calls malloc/free/calloc/realloc through the PLT: $slots"

config_h="$top_builddir/config.h"
if [ -f "$config_h" ] && grep -q '^#define POOLGC_JEMALLOC_EMBEDDED 1' "$config_h"; then
    needed=$(readelf -dW "$lib" | grep NEEDED | grep -E 'libjemalloc|libstdc\+\+' | tr -s ' ')
    [ -z "$needed" ] || problem "embedded jemalloc build, but $lib still needs: $needed"
fi
[ $errors -eq 0 ] || exit 1
exit 0
