#!/bin/sh
# limit_realloc_doubling.sh - under an address-space limit of 400 MiB, a
# block doubled by realloc from 1 MiB reaches at least 95% of the size it
# reaches under glibc (256 MiB: glibc grows it with mremap, and so does
# poolgc once it is huge, lib/huge.c, instead of holding the old and the new
# block at once), and keeps its contents.
. "$top_srcdir/tests/stress/limit_common.sh"
at_least_95 realloc "doubling realloc"
exit 0
