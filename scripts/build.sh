#!/bin/sh
# Configure and build poolgc out of the source tree (idempotent):
#   sh scripts/build.sh [BUILDDIR [CONFIGURE-OPTION...]]
# BUILDDIR is build/ by default; the library is then build/lib/.libs/libpoolgc.so.
# run-tests.sh also builds build-debug/ with --enable-debug.
set -eu
cd "$(dirname "$0")/.."
top=$PWD
builddir=${1:-build}
[ $# -gt 0 ] && shift
# Quiet unless something fails: the tools' chatter (libtoolize, automake's
# "installing" lines) is shown only then.
if [ ! -x configure ]; then
    log=$(mktemp)
    autoreconf -fi >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
    rm -f "$log"
fi
# automake refuses to configure a build directory while the source tree is
# configured in place (./configure run here): clean that build away first.
if [ -f config.status ]; then
    echo "build.sh: the source tree is configured in place; make distclean there," \
        "so that $builddir/ can be configured" >&2
    make --no-print-directory distclean >/dev/null || {
        echo "build.sh: make distclean failed; clean the source tree by hand" >&2
        exit 1
    }
fi
mkdir -p "$builddir"
[ -f "$builddir/Makefile" ] || (cd "$builddir" && "$top/configure" --quiet "$@")
# -s: no "CC lib/alloc.lo" line per file (configure.ac's silent rules);
# warnings and errors still show. `make V=1` in $builddir shows everything.
make -C "$builddir" -s -j"$(nproc)" --no-print-directory
