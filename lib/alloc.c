/*
 * alloc.c - the allocation front end: pgc_malloc and friends, with glibc
 * 2.36's answers wherever a program can tell the difference (alignment 16 at
 * every size, malloc(0) unique, realloc(p, 0) frees, lenient memalign,
 * ENOMEM on every overflow, errno kept by free).
 *
 * Requests of alignment 16 go to the pools up to PGC_SMALL_MAX bytes (small
 * tier) and on up to POOLGC_MEDIUM_MAX (medium tier, internal.h), everything
 * else to jemalloc (large.c); realloc moves a block between the two when its
 * size crosses the line.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "alloc_inline.h"
#include "debug.h"

PGC_API void *pgc_malloc(size_t size) {
    return pgc_malloc_fast(size);
}

PGC_API void pgc_free(void *p) {
    pgc_free_fast(p);
}

PGC_API void *pgc_calloc(size_t nmemb, size_t size) {
    if (pgc_debug_takes())
        return pgc__debug_calloc(nmemb, size); /* POOLGC_DEBUG (debug.h) */
    size_t bytes;
    if (pgc_unlikely(__builtin_mul_overflow(nmemb, size, &bytes))) {
        errno = ENOMEM;
        return NULL;
    }
    if (pgc_pooled_size(bytes)) {
        void *p = pgc_malloc_fast(bytes);
        /* Zero the whole block: malloc_usable_size promises all of it. */
        if (pgc_likely(p != NULL)) {
            if (pgc_in_region(p)) /* a block of bytes' class */
                memset(p, 0, pgc_class_size(pgc_size_class(bytes)));
            else
                memset(p, 0, pgc__large_usable_size(p));
        }
        return p;
    }
    return pgc__large_malloc(bytes, 0, 1);
}

PGC_API size_t pgc_usable_size(const void *p) {
    if (pgc_debug_takes())
        return pgc__debug_usable_size(p);
    if (pgc_in_region(p))
        return pgc_pool_of(p)->block_size;
    return p ? pgc__large_usable_size(p) : 0;
}

/* Move a block to a new one of `size` bytes. */
static void *move_block(void *p, size_t old_usable, size_t size) {
    void *q = pgc_malloc_fast(size);
    if (q) {
        memcpy(q, p, old_usable < size ? old_usable : size);
        pgc_free_fast(p);
    }
    return q;
}

PGC_API void *pgc_realloc(void *p, size_t size) {
    if (pgc_debug_takes())
        return pgc__debug_realloc(p, size);
    if (!p)
        return pgc_malloc_fast(size);
    if (size == 0) { /* glibc: free and return NULL */
        pgc_free_fast(p);
        return NULL;
    }
    if (pgc_in_region(p)) {
        pgc_pool *pool = pgc_pool_of(p);
        if (pgc_unlikely(!pgc_pool_block_start(pool, p)))
            pgc__alloc_invalid_pointer("realloc", p, pool);
        size_t old = pool->block_size;
        /* Within its class (above the class below), or shrinking by less
         * than a quarter (pymalloc's rule): keep the block. */
        if (size <= old && (size > pgc_class_size(pool->cls - 1) || 4 * size > 3 * old))
            return p;
        return move_block(p, old, size);
    }
    /* A large block shrinking to a pool size moves to the pools - when
     * there are pools (with no region, jemalloc keeps it, in place if it
     * fits, as glibc would). */
    if (pgc_pooled_size(size) && pgc__region.base)
        return move_block(p, pgc__large_usable_size(p), size);
    return pgc__large_realloc(p, size);
}

/* glibc 2.36's _mid_memalign: alignments up to 16 are plain malloc, others
 * are rounded up to a power of two; aligned_alloc is the same function. */
void *pgc__alloc_memalign(size_t alignment, size_t size) {
    if (pgc_debug_takes())
        return pgc__debug_memalign(alignment, size);
    if (alignment <= PGC_ALIGNMENT)
        return pgc_malloc_fast(size);
    if (alignment > SIZE_MAX / 2 + 1) {
        errno = EINVAL;
        return NULL;
    }
    if (alignment & (alignment - 1))
        alignment = (size_t)1 << (64 - __builtin_clzl(alignment));
    return pgc__large_malloc(size, alignment, 0);
}

PGC_API void *pgc_aligned_alloc(size_t alignment, size_t size) {
    return pgc__alloc_memalign(alignment, size);
}

PGC_API int pgc_posix_memalign(void **memptr, size_t alignment, size_t size) {
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0 || alignment == 0)
        return EINVAL;
    void *p = pgc__alloc_memalign(alignment, size);
    if (!p)
        return ENOMEM;
    *memptr = p;
    return 0;
}

PGC_API int pgc_trim(size_t pad) {
    (void)pad;
    pgc__heap_reclaim(pgc__heap_tls);
    pgc__heap_reclaim_abandoned();
    int released = pgc__region_trim();
    released |= pgc__large_trim();
    return released;
}

/* Frees the fast path does not finish: blocks of another thread's pool
 * (and, under POOLGC_DEBUG, every pool block). A remote freer cannot see
 * the owner's lists: a block that carries the freed mark is taken as the
 * double free it almost surely is (pushing it again would link it to
 * itself). Every call is in tail position, so that the remote free, the
 * common case, saves no register. */
void pgc__alloc_free_pool_slow(void *p, pgc_pool *pool) {
    if (pgc_debug_takes()) {
        pgc__debug_free(p); /* POOLGC_DEBUG: every pool free comes here (debug.h) */
        return;
    }
    pgc_block *block = p;
    if (pgc_unlikely(!pgc_pool_block_start(pool, p)))
        pgc__alloc_invalid_pointer("free", p, pool);
    if (pgc_unlikely(block->freed_mark == pgc_freed_mark(p)))
        pgc__message_fatal("poolgc: free(): double free of %p (%u-byte block)", p,
                           pool->block_size);
    pgc__heap_free_remote(pool, block);
}

void pgc__alloc_invalid_pointer(const char *call, const void *p, const pgc_pool *pool) {
    if (!pool->block_size) /* a pool that never held blocks */
        pgc__message_fatal("poolgc: %s(): invalid pointer %p (not a block poolgc handed out)", call,
                           p);
    size_t into = ((uintptr_t)p & pool->offset_mask) % pool->block_size;
    pgc__message_fatal("poolgc: %s(): invalid pointer %p (byte %zu of the %u-byte block %p)", call,
                       p, into, pool->block_size, (const void *)((uintptr_t)p - into));
}
