/*
 * alloc.c - the allocation front end: pgc_malloc and friends, with glibc
 * 2.36's answers wherever a program can tell the difference (alignment 16 at
 * every size, malloc(0) unique, realloc(p, 0) frees, lenient memalign,
 * ENOMEM on every overflow, errno kept by free).
 *
 * Requests of at most PGC_SMALL_MAX bytes and alignment 16 go to the pools,
 * everything else to jemalloc (large.c); realloc moves a block between the
 * two when its size crosses the line.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "alloc_inline.h"

PGC_API void *pgc_malloc(size_t size) {
    return pgc__malloc_inline(size);
}

PGC_API void pgc_free(void *p) {
    pgc__free_inline(p);
}

PGC_API void *pgc_calloc(size_t nmemb, size_t size) {
    size_t bytes;
    if (pgc_unlikely(__builtin_mul_overflow(nmemb, size, &bytes))) {
        errno = ENOMEM;
        return NULL;
    }
    if (bytes <= PGC_SMALL_MAX) {
        void *p = pgc__malloc_inline(bytes);
        /* Zero the whole block: malloc_usable_size promises all of it. */
        if (pgc_likely(p != NULL)) {
            if (pgc__in_region(p))
                memset(p, 0, pgc__pool_of(p)->block_size);
            else
                memset(p, 0, pgc__large_usable_size(p));
        }
        return p;
    }
    return pgc__large_malloc(bytes, 0, 1);
}

PGC_API size_t pgc_usable_size(const void *p) {
    if (pgc__in_region(p))
        return pgc__pool_of(p)->block_size;
    return p ? pgc__large_usable_size(p) : 0;
}

/* Move a block to a new one of `size` bytes. */
static void *move_block(void *p, size_t old_usable, size_t size) {
    void *q = pgc__malloc_inline(size);
    if (q) {
        memcpy(q, p, old_usable < size ? old_usable : size);
        pgc__free_inline(p);
    }
    return q;
}

PGC_API void *pgc_realloc(void *p, size_t size) {
    if (!p)
        return pgc__malloc_inline(size);
    if (size == 0) { /* glibc: free and return NULL */
        pgc__free_inline(p);
        return NULL;
    }
    if (pgc__in_region(p)) {
        pgc_pool *pool = pgc__pool_of(p);
        size_t old = pool->block_size;
        /* Same class, or shrinking by less than a quarter (pymalloc's rule):
         * keep the block. */
        if (pgc__class_index(size) == pool->cls || (size <= old && 4 * size > 3 * old))
            return p;
        return move_block(p, old, size);
    }
    /* A large block shrinking to a pool size moves to the pools - when
     * there are pools (with no region, jemalloc keeps it, in place if it
     * fits, as glibc would). */
    if (size <= PGC_SMALL_MAX && pgc__region.base)
        return move_block(p, pgc__large_usable_size(p), size);
    return pgc__large_realloc(p, size);
}

/* glibc 2.36's _mid_memalign: alignments up to 16 are plain malloc, others
 * are rounded up to a power of two; aligned_alloc is the same function. */
void *pgc__memalign(size_t alignment, size_t size) {
    if (alignment <= PGC_ALIGNMENT)
        return pgc__malloc_inline(size);
    if (alignment > SIZE_MAX / 2 + 1) {
        errno = EINVAL;
        return NULL;
    }
    if (alignment & (alignment - 1))
        alignment = (size_t)1 << (64 - __builtin_clzl(alignment));
    return pgc__large_malloc(size, alignment, 0);
}

PGC_API void *pgc_aligned_alloc(size_t alignment, size_t size) {
    return pgc__memalign(alignment, size);
}

PGC_API int pgc_posix_memalign(void **memptr, size_t alignment, size_t size) {
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0 || alignment == 0)
        return EINVAL;
    void *p = pgc__memalign(alignment, size);
    if (!p)
        return ENOMEM;
    *memptr = p;
    return 0;
}

PGC_API int pgc_trim(size_t pad) {
    (void)pad;
    pgc__heap_collect_all(pgc__tls_heap);
    pgc__heaps_reclaim_abandoned();
    int released = pgc__region_trim();
    released |= pgc__large_trim();
    return released;
}

/* POOLGC_DEBUG: catch double frees and pointers into the middle of blocks. A
 * freed block carries a mark in its second word (the first is the free-list
 * link); the slow path, which every allocation takes in debug mode, clears it. */
#define DEBUG_FREED_MARK ((uintptr_t)0x5ca1ab1edeadbeefull)

static void debug_check_free(pgc_pool *pool, void *p) {
    uintptr_t offset = (uintptr_t)p - (uintptr_t)pgc__pool_data(pool);
    if (pool->owner == NULL || offset >= pool->next_offset || offset % pool->block_size != 0)
        pgc__fatal("poolgc: free(): invalid pointer %p (not a block poolgc handed out)", p);
    uintptr_t *words = p;
    uintptr_t mark = DEBUG_FREED_MARK ^ (uintptr_t)p;
    if (words[1] == mark)
        pgc__fatal("poolgc: free(): double free of %p (%u-byte block)", p, pool->block_size);
    words[1] = mark;
}

void pgc__free_pool_slow(void *p) {
    pgc_pool *pool = pgc__pool_of(p);
    pgc_heap *heap = pgc__tls_heap;
    pgc_block *block = p;
    if (pgc__options.debug)
        debug_check_free(pool, p);
    if (pool->owner != heap) {
        pgc__free_remote(pool, block);
        return;
    }
    block->next = pool->free;
    pool->free = block;
    if (--pool->used == 0 || pool->unlisted)
        pgc__free_local_slow(heap, pool);
}
