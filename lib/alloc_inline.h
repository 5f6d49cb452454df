/*
 * alloc_inline.h - the allocation fast paths, inlined into every entry point
 * (pgc_malloc, malloc, operator new, ...) so none pays for an extra call.
 *
 * malloc: one TLS load, the class index (computed for the small tier, one
 * table load for the medium tier), the pool's free list, a prefetch of its
 * next block. No lock and no atomic: only the owning thread touches
 * pool->free.
 * free: a range compare decides pool or jemalloc; the block's pool is its
 * slot header's lead (a medium pool spans 4 or 16 slots, internal.h); a
 * block of this thread's pool goes back on its free list, with the freed
 * mark, without a read of the block; a block of another thread's pool is
 * pushed on that pool's remote list (heap.c). A double free is caught when
 * its block would be handed out again, or its pool empties (internal.h).
 */
#ifndef POOLGC_ALLOC_INLINE_H
#define POOLGC_ALLOC_INLINE_H

#include "internal.h"

/* A block from pool, the fast path's pool of size's class: its free list's
 * head, or the slow path when the list is empty. */
static inline __attribute__((always_inline)) void *pgc_pool_pop(pgc_heap *heap, pgc_pool *pool,
                                                                size_t size) {
    if (pgc_likely(pool->free != NULL))
        return pgc_pool_take(pool);
    return pgc__heap_malloc_slow(heap, size);
}

static inline __attribute__((always_inline)) void *pgc_malloc_fast(size_t size) {
    pgc_heap *heap = pgc__heap_tls;
    if (pgc_likely(size <= PGC_SMALL_MAX))
        return pgc_pool_pop(heap, heap->current[pgc_class_index(size)], size);
    /* The medium tier: the same, with the class from a table. Before
     * start-up medium_max is its default and the heap's pools are empty:
     * the slow path starts up, then sends the request where it belongs. */
    if (size <= pgc__options.medium_max)
        return pgc_pool_pop(heap, heap->current[pgc_medium_class(size)], size);
    if (heap != &pgc__heap_none && heap != &pgc__heap_exited)
        heap->jemalloc_requests++;
    else
        atomic_fetch_add_explicit(&pgc__heap_jemalloc_requests_no_heap, 1, memory_order_relaxed);
    return pgc__large_malloc_plain(size);
}

/* A free into another thread's pool (or any pool, under POOLGC_DEBUG). */
PGC_INTERNAL void pgc__alloc_free_pool_slow(void *p, pgc_pool *pool);
/* p is in pool but not where a block starts: one line naming it and the
 * block it lies in, then abort. `call`: "free" or "realloc". */
PGC_INTERNAL PGC_COLD __attribute__((noreturn)) void
pgc__alloc_invalid_pointer(const char *call, const void *p, const pgc_pool *pool);

static inline __attribute__((always_inline)) void pgc_free_fast(void *p) {
    if (pgc_likely(pgc_in_region(p))) {
        pgc_pool *pool = pgc_pool_of(p);
        pgc_heap *heap = pgc__heap_tls;
        pgc_block *block = (pgc_block *)p;
        if (pgc_likely(pool->owner == heap)) {
            if (pgc_unlikely(!pgc_pool_block_start(pool, p)))
                pgc__alloc_invalid_pointer("free", p, pool);
            block->next = pool->free;
            block->freed_mark = pgc_freed_mark(block);
            pool->free = block;
            if (pgc_unlikely(pgc_pool_used_drop(pool)))
                pgc__heap_free_local_slow(heap, pool);
            return;
        }
        pgc__alloc_free_pool_slow(p, pool);
        return;
    }
    if (p)
        pgc__large_free(p);
}

#endif /* POOLGC_ALLOC_INLINE_H */
