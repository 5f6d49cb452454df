#!/bin/sh
# Configure and build poolgc in the source tree (idempotent).
set -eu
cd "$(dirname "$0")/.."
[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure --quiet "$@"
make -j"$(nproc)" --no-print-directory
