#!/bin/sh
# man_links.sh - `man NAME` finds a page for every public function, as with
# jemalloc and bdwgc: installing the manual (make install-man
# install-man-links, into a DESTDIR) puts NAME.3 next to poolgc.3 and
# pgc_gc.3 for each pgc_* function include/poolgc.h declares, a one-line
# ".so man3/PAGE.3" link to an installed page that documents NAME; and no
# link for a name the header does not declare. Exit 77 without make.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
me=${0##*/}
fail() { echo "FAIL: $me: $*" >&2; exit 1; }
command -v make >/dev/null 2>&1 || { echo "SKIP: $me: make not found" >&2; exit 77; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# The header's functions, as tests/lint/docs.sh reads them (comments and
# #define lines dropped).
functions=$(sed -e 's#/\*[^*]*\*\**\([^/*][^*]*\*\**\)*/##g' -e '/\/\*/,/\*\//d' \
    -e '/^[[:space:]]*#/d' "$top_srcdir/include/poolgc.h" |
    grep -o '[^A-Za-z0-9_]pgc_[a-z][a-z0-9_]*[[:space:]]*(' |
    sed 's/^.\(pgc_[a-z0-9_]*\).*/\1/' | sort -u)
[ -n "$functions" ] || fail "found no function in include/poolgc.h"

# A make of our own: not the jobs of the make running the tests.
unset MAKEFLAGS MFLAGS MAKELEVEL
make -C "$top_builddir" install-man install-man-links DESTDIR="$tmp/root" \
    >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; fail "make install-man install-man-links failed"; }
man3=$(dirname "$(find "$tmp/root" -name poolgc.3 | head -n 1)")
[ -f "$man3/pgc_gc.3" ] || fail "poolgc.3 and pgc_gc.3 not installed together ($man3)"

missing=0
for name in $functions; do
    page="$man3/$name.3"
    if [ ! -f "$page" ]; then
        echo "no page for $name" >&2
        missing=$((missing + 1))
        continue
    fi
    target=$(sed -n '1s#^\.so man3/\([a-z_]*\.3\)$#\1#p' "$page")
    [ "$(wc -l <"$page")" -eq 1 ] && [ -n "$target" ] ||
        fail "$name.3 is not one .so line: $(head -c 200 "$page")"
    [ -f "$man3/$target" ] || fail "$name.3 links to $target, which is not installed"
    grep -qw -- "$name" "$man3/$target" || fail "$name.3 links to $target, which does not name $name"
done
[ $missing -eq 0 ] || fail "$missing public functions have no page (Makefile.am: MAN_LINKS_*)"

# Every link is for a function of the header.
for page in "$man3"/*.3; do
    name=$(basename "$page" .3)
    case $name in poolgc | pgc_gc) continue ;; esac
    printf '%s\n' "$functions" | grep -qx "$name" ||
        fail "$name.3 is installed, but include/poolgc.h declares no $name"
done

# The links format as their page does (groff resolves .so from the man root).
if command -v groff >/dev/null 2>&1; then
    out=$(cd "$man3/.." && LC_ALL=C groff -man -ww -z man3/pgc_new.3 2>&1) && [ -z "$out" ] ||
        fail "groff on man3/pgc_new.3: $out"
fi
exit 0
