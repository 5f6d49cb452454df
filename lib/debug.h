/*
 * debug.h - POOLGC_DEBUG, the run-time debug mode: every hook it adds to the
 * allocator, so that one file says everything debug mode changes.
 *
 * Every mode catches a double free of a pool block (the freed mark,
 * internal.h). Debug mode adds:
 * - every pool's slow_free has PGC_SLOW_FREE_DEBUG (pool.c), so the owner's
 *   frees continue on the slow path, which calls pgc_debug_on_free; remote
 *   frees take the slow path anyway and call it too;
 * - pgc_debug_on_free aborts on a pointer that is not the start of a block
 *   poolgc handed out (a pointer into the middle of a block, or into a pool
 *   that no heap holds).
 *
 * This is not the debug *build* (./configure --enable-debug), which turns on
 * assertions and structure checkers: see pgc_assert in internal.h.
 */
#ifndef POOLGC_DEBUG_H
#define POOLGC_DEBUG_H

#include "internal.h"

static inline int pgc_debug_mode(void) {
    return pgc_unlikely(pgc__options.debug);
}

/* A pool block is freed: abort unless p is the start of a carved block of a
 * pool that a heap holds. */
static inline void pgc_debug_on_free(const pgc_pool *pool, const void *p) {
    uintptr_t offset = (uintptr_t)p - (uintptr_t)pgc_pool_data(pool);
    if (pool->owner == NULL || offset >= pool->next_offset || offset % pool->block_size != 0)
        pgc__message_fatal("poolgc: free(): invalid pointer %p (not a block poolgc handed out)", p);
}

#endif /* POOLGC_DEBUG_H */
