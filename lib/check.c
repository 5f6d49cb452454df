/*
 * check.c - pgc_check(): run every structure checker at once.
 *
 * The checkers live with their structures (pgc__pool_check in pool.c,
 * pgc__heap_check in heap.c, pgc__region_check in region.c,
 * pgc__collect_check in gc/collect.c) and state the invariants that
 * internal.h and gc/internal.h write down. A --enable-debug build runs them
 * on its own wherever a slow path changes a structure; pgc_check() lets a
 * test, or a program hunting a corruption, run them at a quiet point.
 */
#include "gc/internal.h"
#include "internal.h"

PGC_API void pgc_check(void) {
    pgc__heap_check(pgc__heap_tls);
    if (pgc__region.base)
        pgc__region_check();
    pgc_lock();
    pgc__collect_check();
    pgc_unlock();
}
