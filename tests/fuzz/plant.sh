# The fuzzers' checks can fail: each model, given a planted bug (plant=N:
# alloc_model flips a bit of a live block, gc_model takes a reference it does
# not record), must report it with the seed and the operation, and exit 1.
set -u
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
status=0
for run in "alloc_model seed=1 ops=4000 threads=1 plant=1000" "gc_model seed=1 ops=4000 plant=1000"; do
    # shellcheck disable=SC2086 # the arguments split on purpose
    "$top_builddir/tests/fuzz/"$run >"$tmp/out" 2>&1
    rc=$?
    if [ $rc -ne 1 ] || ! grep -q ': planted: ' "$tmp/out" ||
        ! grep -q ': FAILED at thread 0 op [0-9]' "$tmp/out" || ! grep -q 'rerun: .*seed=1 ' "$tmp/out"; then
        echo "FAIL: $run exited $rc without reporting the planted bug:"
        cat "$tmp/out"
        status=1
    fi
done
exit $status
