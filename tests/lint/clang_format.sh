#!/bin/sh
# clang_format.sh - every C and C++ source under lib/, include/, tests/ and
# bench/ is formatted as .clang-format says: clang-format --dry-run --Werror
# prints each difference. Build outputs (lib/jemalloc-embedded/, .deps/,
# .libs/) are not sources. Exit 77 (skip) without clang-format.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
command -v clang-format >/dev/null 2>&1 || { echo "SKIP: clang-format not found"; exit 77; }
cd "$top_srcdir" || exit 1
[ -f .clang-format ] || { echo "FAIL: no .clang-format in $top_srcdir"; exit 1; }

# -exec ... {} +: file names stay whole; find's status is non-zero when any
# clang-format run was.
if find lib include tests bench \
    \( -path lib/jemalloc-embedded -o -name .deps -o -name .libs \) -prune -o \
    -type f \( -name '*.c' -o -name '*.h' -o -name '*.cc' \) \
    -exec clang-format --dry-run --Werror {} + 2>&1; then
    exit 0
fi
echo "FAIL: the sources above differ from .clang-format's style;" \
    "clang-format -i FILE fixes them"
exit 1
