#!/bin/sh
# limit_realloc_doubling.sh - under an address-space limit, a block doubled
# by realloc from 1 MiB reaches at least 95% of the size it reaches under
# glibc, and keeps its contents. glibc grows it with mremap, never holding
# the old and the new block at once; jemalloc grows it in place into the
# pages after it, which poolgc keeps free (lib/large.c, lib/os.c). At 400
# MiB both reach 256 MiB; at 300 MiB only a block that grows in place does
# (a copy from 128 to 256 MiB needs 384 at once).
. "$top_srcdir/tests/stress/limit_common.sh"
at_least_95 realloc "doubling realloc"
LIMIT_KIB=307200
at_least_95 realloc "doubling realloc"
exit 0
