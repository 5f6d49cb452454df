/*
 * debug.h - POOLGC_DEBUG, the run-time debug mode: every hook it adds to the
 * allocator, so that one file says everything debug mode changes.
 *
 * In debug mode:
 * - no pool is ever a heap's fast-path pool (pgc_debug_fast_pool), so every
 *   malloc takes the slow path, which clears the block's freed mark
 *   (pgc_debug_on_malloc);
 * - every free of a pool block takes the slow path (pgc_free_fast tests
 *   pgc_debug_mode), which checks that the pointer is a block's start and
 *   that the block is not already free (pgc_debug_on_free), then marks it.
 *
 * The freed mark sits in the block's second word (the first is the free-list
 * link), so blocks of every class (16 bytes and up) can carry it.
 *
 * This is not the debug *build* (./configure --enable-debug), which turns on
 * assertions and structure checkers: see pgc_assert in internal.h.
 */
#ifndef POOLGC_DEBUG_H
#define POOLGC_DEBUG_H

#include "internal.h"

#define PGC_DEBUG_FREED_MARK ((uintptr_t)0x5ca1ab1edeadbeefull)

static inline int pgc_debug_mode(void) {
    return pgc_unlikely(pgc__options.debug);
}

/* The pool the malloc fast path may use for a class whose head is pool. */
static inline pgc_pool *pgc_debug_fast_pool(pgc_pool *pool, pgc_pool *sentinel) {
    return pgc_debug_mode() ? sentinel : pool;
}

/* A block leaves its pool (slow path). */
static inline void pgc_debug_on_malloc(void *block) {
    if (pgc_debug_mode())
        ((uintptr_t *)block)[1] = 0;
}

/* A pool block is freed: abort on a pointer that is not a block's start or
 * on a block that is already free; mark it freed. */
static inline void pgc_debug_on_free(const pgc_pool *pool, void *p) {
    uintptr_t offset = (uintptr_t)p - (uintptr_t)pgc_pool_data(pool);
    if (pool->owner == NULL || offset >= pool->next_offset || offset % pool->block_size != 0)
        pgc__message_fatal("poolgc: free(): invalid pointer %p (not a block poolgc handed out)", p);
    uintptr_t *words = p;
    uintptr_t mark = PGC_DEBUG_FREED_MARK ^ (uintptr_t)p;
    if (words[1] == mark)
        pgc__message_fatal("poolgc: free(): double free of %p (%u-byte block)", p,
                           pool->block_size);
    words[1] = mark;
}

#endif /* POOLGC_DEBUG_H */
