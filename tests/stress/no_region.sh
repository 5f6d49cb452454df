# With no pool region (POOLGC_REGION=0, as when ulimit -v leaves no room),
# every request goes to jemalloc: the glibc-compatibility tests that do not
# depend on pool size classes must still pass, and threads and fork too.
. "$top_srcdir/tests/preload/common.sh"
for t in tests/api/edge_malloc0 tests/api/edge_realloc tests/api/edge_alignment \
    tests/api/edge_aligned_alloc tests/api/edge_posix_memalign tests/api/edge_overflow \
    tests/api/edge_free_errno tests/api/usable_size tests/api/entry_points \
    tests/api/foreign_pointers tests/api/cxx_new_delete tests/stress/cross_thread_free \
    tests/stress/thread_churn tests/stress/fork_threaded; do
    POOLGC_REGION=0 timeout 120 "$top_builddir/$t" >"$tmp/out" 2>&1 ||
        fail "$t failed with POOLGC_REGION=0: $(tail -n 5 "$tmp/out")"
done
exit 0
