#!/bin/sh
# cppcheck.sh - cppcheck finds nothing in lib/ (every subdirectory, every
# preprocessor configuration: --force) at the warning, performance and
# portability levels. Runs without config.h: the macros it would define only
# select code, and --force checks both sides of each #ifdef. PGC_DEBUG_LEVEL
# is --enable-debug's highest level, so that the structure checkers are
# checked too and every pgc_assert is a real assertion (the failure function
# does not return): cppcheck then takes what it asserts as known, as it does
# for assert(), instead of reading `pgc_assert(p != NULL); p->next` as "either
# the check is redundant or p may be NULL". A finding that is not a bug is
# suppressed where it is, with a comment saying why:
#   // cppcheck-suppress <id>
# For now, one finding is suppressed here instead, until lib/ says it in place:
#   uninitvar:lib/gc/control.c  pgc__control_snapshot reads all[k] only for
#                               k < n, all set (cppcheck loses k < n)
# Exit 77 (skip) without cppcheck.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
command -v cppcheck >/dev/null 2>&1 || { echo "SKIP: cppcheck not found"; exit 77; }
cd "$top_srcdir" || exit 1

cppcheck --quiet --force --error-exitcode=1 --inline-suppr \
    --enable=warning,performance,portability \
    -D_GNU_SOURCE -DPGC_DEBUG_LEVEL=2 -I include -I lib \
    --suppress=missingIncludeSystem \
    --suppress=uninitvar:lib/gc/control.c \
    -i lib/jemalloc-embedded \
    lib 2>&1 || { echo "FAIL: cppcheck found the problems above in lib/"; exit 1; }
