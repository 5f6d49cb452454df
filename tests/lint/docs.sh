#!/bin/sh
# docs.sh - the man pages name everything a user can set, read or call:
#   - every option: each "POOLGC_*" string in lib/options.c, in poolgc(3);
#   - every statistic: each JSON key the library prints (\"key\": in lib/),
#     in poolgc(3);
#   - every public function: each pgc_* name declared in include/poolgc.h,
#     and each name lib/poolgc.sym exports by name (not by a pattern), in
#     poolgc(3) or pgc_gc(3).
# A name counts when it appears there as a whole word. Prints each one missing.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$top_srcdir" || exit 1

main=man/poolgc.3
gc=man/pgc_gc.3
for f in lib/options.c lib/poolgc.sym include/poolgc.h "$main" "$gc"; do
    [ -f "$f" ] || { echo "FAIL: $f not found"; exit 1; }
done

missing=0
# check WHAT NAMES PAGE...: each of NAMES (one a line) must be a word of a PAGE.
check() {
    what=$1 names=$2
    # DOCS_VERBOSE=1: show each list, on one line
    # shellcheck disable=SC2086
    [ -n "${DOCS_VERBOSE:-}" ] && echo "$what:" $names
    shift 2
    [ -n "$names" ] || { echo "FAIL: found no $what (has the code moved?)"; missing=$((missing + 1)); }
    for name in $names; do
        found=no
        for page in "$@"; do
            grep -qwF -- "$name" "$page" && { found=yes; break; }
        done
        if [ $found = no ]; then
            echo "missing from $*: $what $name"
            missing=$((missing + 1))
        fi
    done
}

# Options: the quoted names in options.c's table.
options=$(grep -o '"POOLGC_[A-Z0-9][A-Z0-9_]*"' lib/options.c | tr -d '"' | sort -u)
check option "$options" "$main"

# Statistics: the keys of the JSON report, \"key\": inside C strings.
sources=$(find lib -name '*.c' -not -path 'lib/jemalloc-embedded/*' | sort)
# shellcheck disable=SC2086
keys=$(grep -oh '\\"[A-Za-z0-9_]*\\":' $sources | sed 's/^\\"\(.*\)\\":$/\1/' | sort -u)
check "JSON key" "$keys" "$main"

# Functions: the header's declarations (comments and #define lines dropped),
# and the names the version script lists one by one.
header_functions=$(sed -e 's#/\*[^*]*\*\**\([^/*][^*]*\*\**\)*/##g' -e '/\/\*/,/\*\//d' -e '/^[[:space:]]*#/d' include/poolgc.h |
    grep -o '[^A-Za-z0-9_]pgc_[a-z][a-z0-9_]*[[:space:]]*(' |
    sed 's/^.\(pgc_[a-z0-9_]*\).*/\1/' | sort -u)
check function "$header_functions" "$main" "$gc"
symbols=$(sed -e 's#/\*[^*]*\*\**\([^/*][^*]*\*\**\)*/##g' -e '/local:/,$d' lib/poolgc.sym | tr ';' '\n' |
    sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' | grep -x '[A-Za-z][A-Za-z0-9_]*' |
    grep -vx 'global' | sort -u)
check "exported name" "$symbols" "$main" "$gc"

if [ "$missing" -gt 0 ]; then
    echo "FAIL: $missing names are missing from the man pages"
    exit 1
fi
exit 0
