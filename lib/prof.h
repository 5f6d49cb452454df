/*
 * prof.h - the heap profiler's hooks (prof.c): every place where the
 * allocator calls the profiler, so that one header says what profiling
 * changes. With POOLGC_PROF unset none of these does anything, and the
 * malloc and free fast paths (alloc_inline.h) have no hook at all:
 *
 *   set_head, check_class (heap.c)   pgc_prof_head, pgc_prof_fast_pool: the
 *                                    fast path's pool of each class
 *   malloc_from_pools (heap.c)       pgc_prof_owed, pgc__prof_malloc: the
 *                                    pools' slow path, counts and samples,
 *                                    hands a pool over
 *   pgc__heap_free_local_slow        pgc_prof_free_counted: counts a block
 *                                    freed into a handed pool (inline)
 *   reclaim_all (heap.c)             pgc__prof_heap_flush: counting stops
 *   large.c                          pgc_prof_on_large_*: the jemalloc path
 *   options.c                        POOLGC_PROF, POOLGC_PROF_SAMPLE
 *   init.c                           start (constructor), dump at exit, fork
 */
#ifndef POOLGC_PROF_H
#define POOLGC_PROF_H

#include "internal.h"

/* Nonzero once POOLGC_PROF is set and the profiler has started (the
 * constructor): only then is anything counted or sampled. */
PGC_INTERNAL extern _Atomic int pgc__prof_on;

static inline int pgc_prof_active(void) {
    return pgc_unlikely(atomic_load_explicit(&pgc__prof_on, memory_order_acquire));
}

/* What the profiler knows of one heap's size classes (prof.c explains it).
 * The fast path's pool of class cls (heap->current[cls]) is handed[cls]
 * while that pool is "handed over": every block on its free list is counted,
 * and it has PGC_SLOW_FREE_PROF, so that every block freed into it is
 * counted too. Otherwise it is pgc__prof_uncounted, an empty pool, and the
 * class's next allocation takes the slow path, which hands a pool over.
 *
 * Below the handed pool's free list, last in first out, wait the segments
 * cut off it, each headed by a block whose allocation is a sample: the
 * allocation that finds the list above it empty. seg[cls][0 .. nseg - 1],
 * the last one on top. */
typedef struct pgc_prof_segment {
    pgc_block *list;  /* the sample's block first */
    uint32_t count;   /* blocks in list, counted in their pool's used */
    uint32_t counted; /* 1: the blocks after the first are counted */
} pgc_prof_segment;

typedef struct pgc_prof_heap {
    pgc_pool *handed[PGC_NUM_CLASSES + 1];
    pgc_prof_segment *seg[PGC_NUM_CLASSES + 1];
    uint32_t nseg[PGC_NUM_CLASSES + 1], seg_cap[PGC_NUM_CLASSES + 1];
} pgc_prof_heap;

/* An empty pool (never a free block): the fast path's when the class needs
 * the slow path. */
PGC_INTERNAL extern pgc_pool pgc__prof_uncounted;

/* The pool the malloc fast path of heap must take class cls from, when
 * `pool` is the head of the class list (or heap.c's empty sentinel): pool
 * itself unless the heap profiles. */
static inline pgc_pool *pgc_prof_fast_pool(const pgc_heap *heap, unsigned cls, pgc_pool *pool) {
    const pgc_prof_heap *ph = heap->prof;
    if (pgc_likely(ph == NULL))
        return pool;
    return ph->handed[cls] == pool ? pool : &pgc__prof_uncounted;
}

/* set_head (heap.c): the head of class cls becomes pool; returns the fast
 * path's pool. A pool that stops being the head stops being counted. */
PGC_INTERNAL pgc_pool *pgc__prof_head(pgc_heap *heap, unsigned cls, pgc_pool *pool);
static inline pgc_pool *pgc_prof_head(pgc_heap *heap, unsigned cls, pgc_pool *pool) {
    return pgc_likely(heap->prof == NULL) ? pool : pgc__prof_head(heap, cls, pool);
}

/* The pools' slow path while profiling, before refill: when the handed
 * pool's free list is empty above a segment, this allocation is the sample
 * (taken, returned); NULL otherwise. */
PGC_INTERNAL void *pgc__prof_malloc_owed(pgc_heap *heap, unsigned cls);
static inline void *pgc_prof_owed(pgc_heap *heap, unsigned cls) {
    return pgc_likely(heap->prof == NULL) ? NULL : pgc__prof_malloc_owed(heap, cls);
}
/* After refill: the block for this request, taken from pool (the head of
 * its class list, which has a free block) or, when the request is a sample,
 * from the profiler's own pools; then hands pool over to the fast path. */
PGC_INTERNAL void *pgc__prof_malloc(pgc_heap *heap, pgc_pool *pool);

/* A thread's countdown (prof.c): bytes until its next sample. */
typedef struct pgc_prof_thread {
    int64_t left; /* bytes until the next sample */
    uint64_t rng; /* xorshift64* state; 0: not seeded (left not drawn yet) */
    int busy;     /* inside the profiler: requests are not counted */
} pgc_prof_thread;
PGC_INTERNAL extern __thread pgc_prof_thread pgc__prof_thread;

/* The owner freed a block into a pool with PGC_SLOW_FREE_PROF (the free slow
 * path): the block, pushed on the free list the fast path takes from, is
 * counted - inline while the countdown does not expire, by
 * pgc__prof_free_due when it does (or is not drawn yet). Returns 1 when
 * nothing else is to be done for this free. */
PGC_INTERNAL int pgc__prof_free_due(pgc_heap *heap, pgc_pool *pool);
static inline int pgc_prof_free_counted(pgc_heap *heap, pgc_pool *pool) {
    if (pgc_likely(!(pool->slow_free & PGC_SLOW_FREE_PROF)))
        return 0;
    if (pgc_unlikely((pgc__prof_thread.left -= pool->block_size) <= 0))
        return pgc__prof_free_due(heap, pool);
    return pool->slow_free == (PGC_SLOW_FREE_PROF | PGC_SLOW_FREE_ANY) && pool->used != 0;
}
/* reclaim_all (heap.c): stop counting heap's pools (segments go back to
 * their pool; owner, or heaps lock held for an abandoned heap). */
PGC_INTERNAL void pgc__prof_heap_flush(pgc_heap *heap);

/* The jemalloc path: a new block p of `size` bytes, and a block about to be
 * freed (before jemalloc may hand its address out again). realloc that
 * moves or resizes a block is a free, then a malloc. */
PGC_INTERNAL void pgc__prof_large_malloc(void *p, size_t size);
PGC_INTERNAL void pgc__prof_large_free(void *p);

static inline void pgc_prof_on_large_malloc(void *p, size_t size) {
    if (pgc_prof_active() && p)
        pgc__prof_large_malloc(p, size);
}
static inline void pgc_prof_on_large_free(void *p) {
    if (pgc_prof_active())
        pgc__prof_large_free(p);
}

/* Start-up (from the constructor, outside any allocation), the dump at exit
 * (destructor), and the fork handlers (the profiler lock, init.c's order). */
PGC_INTERNAL void pgc__prof_start(void);
PGC_INTERNAL void pgc__prof_at_exit(void);
PGC_INTERNAL void pgc__prof_fork_prepare(void);
PGC_INTERNAL void pgc__prof_fork_parent(void);
PGC_INTERNAL void pgc__prof_fork_child(void);

/* The rows of options.c's table: parse a value (NULL, or why it is refused)
 * and show the value in force. */
PGC_INTERNAL const char *pgc__prof_parse_prefix(const char *value);
PGC_INTERNAL void pgc__prof_show_prefix(char *buf, size_t size);
PGC_INTERNAL const char *pgc__prof_parse_sample(const char *value);
PGC_INTERNAL void pgc__prof_show_sample(char *buf, size_t size);

#endif /* POOLGC_PROF_H */
