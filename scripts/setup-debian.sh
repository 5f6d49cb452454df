#!/bin/sh
# Install everything poolgc's build, tests and benchmarks use (Debian 12, root).
# The lint tests (tests/lint/) need clang-format, groff-base and cppcheck;
# valgrind, clang, google-perftools (pprof) and libunwind-dev are for
# checking and profiling the allocator; xz-utils is one of the programs
# tests/preload/stats_after_close.sh runs.
set -eu
export DEBIAN_FRONTEND=noninteractive
packages="build-essential autoconf automake libtool pkg-config binutils
libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev libgc-dev
python3 sqlite3 perl make git groff-base time gnuplot-nox xz-utils
clang-format cppcheck valgrind clang google-perftools libunwind-dev"
missing=
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
fi
