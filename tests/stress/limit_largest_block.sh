#!/bin/sh
# limit_largest_block.sh - under an address-space limit of 400 MiB, the
# largest single malloc poolgc gives is at least 95% of glibc's: the pool
# region reserves no address space it does not use (or gives it back), and
# jemalloc's 384 MiB size class fits, everything else taking less than 16 MiB
# (its pages kept in one gigabyte: one leaf of its radix tree, lib/large.c).
. "$top_srcdir/tests/stress/limit_common.sh"
at_least_95 largest "largest single block"
exit 0
