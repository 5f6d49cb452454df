/*
 * alloc_inline.h - the allocation fast paths, inlined into every entry point
 * (pgc_malloc, malloc, operator new, ...) so none pays for an extra call.
 *
 * malloc: one TLS load, the class index, the pool's free list. No lock and
 * no atomic: only the owning thread touches pool->free.
 * free: a range compare decides pool or jemalloc; a block of this thread's
 * pool goes back on its free list, a block of another thread's pool is
 * pushed on that pool's remote list (heap.c).
 */
#ifndef POOLGC_ALLOC_INLINE_H
#define POOLGC_ALLOC_INLINE_H

#include "internal.h"

static inline __attribute__((always_inline)) void *pgc__malloc_inline(size_t size) {
    pgc_heap *heap = pgc__tls_heap;
    if (pgc_likely(size <= PGC_SMALL_MAX)) {
        pgc_pool *pool = heap->current[pgc__class_index(size)];
        pgc_block *block = pool->free;
        if (pgc_likely(block != NULL)) {
            pool->free = block->next;
            pool->used++;
            return block;
        }
        return pgc__malloc_slow(heap, size);
    }
    if (heap != &pgc__heap_empty && heap != &pgc__heap_dead)
        heap->large_allocs++;
    return pgc__large_malloc_plain(size);
}

/* Frees of pool blocks that are not the owner's plain local free: remote
 * frees, and every free in debug mode (alloc.c). */
PGC_INTERNAL void pgc__free_pool_slow(void *p);

static inline __attribute__((always_inline)) void pgc__free_inline(void *p) {
    if (pgc_likely(pgc__in_region(p))) {
        pgc_pool *pool = pgc__pool_of(p);
        pgc_heap *heap = pgc__tls_heap;
        if (pgc_likely(pool->owner == heap && !pgc__options.debug)) {
            pgc_block *block = (pgc_block *)p;
            block->next = pool->free;
            pool->free = block;
            if (pgc_unlikely(--pool->used == 0 || pool->unlisted))
                pgc__free_local_slow(heap, pool);
            return;
        }
        pgc__free_pool_slow(p);
        return;
    }
    if (p)
        pgc__large_free(p);
}

#endif /* POOLGC_ALLOC_INLINE_H */
