#!/bin/sh
# limit_fill_after_failure.sh - under an address-space limit of 400 MiB,
# after one request too large for the limit failed, malloc still gives at
# least 95% as many 1 MiB blocks as glibc does, each keeping its contents:
# the failure leaves no address space behind: jemalloc unmaps what it frees
# under a limit and maps each extent at its size (retain:false when it starts
# under the limit; arena 0's extent hooks when it started before, as here in
# the setrlimit runs: lib/large.c).
. "$top_srcdir/tests/stress/limit_common.sh"
at_least_95 fill "1 MiB blocks after a failed request"
exit 0
