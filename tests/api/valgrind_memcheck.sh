#!/bin/sh
# valgrind_memcheck - under valgrind's memcheck, blocks of pgc_malloc and GC
# objects are visible: a read after pgc_free and a read of a freed GC object
# are reported as invalid reads of a freed block, and a correct program gets
# no error. (poolgc steps aside under a tool that replaces malloc: lib/valgrind.c.)
# Skips (77) when valgrind is not installed.
command -v valgrind >/dev/null 2>&1 || { echo "valgrind not installed"; exit 77; }
target="$top_builddir/tests/api/valgrind_target"
run() { # MODE: memcheck's output in $out, its status in $status
    out=$("$top_builddir/libtool" --mode=execute valgrind -q --error-exitcode=99 \
        "$target" "$1" 2>&1)
    status=$?
}
fail=0
for mode in malloc gc; do
    run $mode
    if [ $status -ne 99 ]; then
        echo "FAIL: $mode: memcheck exited $status, not 99 (an error found)"; fail=1
    fi
    if ! echo "$out" | grep -q "Invalid read"; then
        echo "FAIL: $mode: no 'Invalid read' reported"; fail=1
    fi
    if ! echo "$out" | grep -q "free'd"; then
        echo "FAIL: $mode: the read is not tied to a freed block"; fail=1
    fi
    [ $fail -eq 0 ] || echo "$out"
done
run clean
if [ $status -ne 0 ]; then
    echo "FAIL: clean: memcheck exited $status"; echo "$out"; fail=1
fi
exit $fail
