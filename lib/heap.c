/*
 * heap.c - thread heaps: the pools a thread allocates from.
 *
 * Per size class a heap keeps a circular list of its pools that have free
 * blocks (`partial`); the head is also cached in `current`, where the
 * malloc fast path looks. When the head runs dry the slow path here, in
 * order: carves fresh blocks from it, takes back its remote frees, takes
 * back full pools that other threads freed into (`returned`), moves to the
 * next pool on the list, and finally takes a new pool from the region.
 *
 * A pool that runs dry leaves the list ("unlisted") and its remote word gets
 * the FULL bit, with one compare-and-swap. The first thread that frees into
 * it clears the bit in the same CAS that pushes its block, and therefore
 * alone pushes the pool on its owner's `returned` stack: full pools come back
 * without a scan, and the pool cannot be recycled meanwhile because that
 * block is still counted in pool->used.
 *
 * Threads that exit leave their heap on the abandoned list, whole; the next
 * new thread adopts it. Heaps are never freed, so a pool's owner pointer
 * always points at a heap.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "debug.h"
#include "internal.h"
#include "prof.h"

/* The pool of the sentinel heaps: never has a free block. */
static pgc_pool sentinel_pool;

#define EMPTY_CURRENT                                                                              \
    { [0 ... PGC_NUM_CLASSES] = &sentinel_pool }
pgc_heap pgc__heap_none = {.current = EMPTY_CURRENT};
pgc_heap pgc__heap_exited = {.current = EMPTY_CURRENT};
pgc_heap pgc__heap_debug = {.current = EMPTY_CURRENT}; /* POOLGC_DEBUG (debug.h) */
__thread pgc_heap *pgc__heap_tls = &pgc__heap_none;

static void check_class(const pgc_heap *heap, unsigned cls);

static pthread_mutex_t heaps_lock = PTHREAD_MUTEX_INITIALIZER;
static pgc_heap *all_heaps;       /* every heap ever made */
static pgc_heap *abandoned_heaps; /* heaps of exited threads */
static pgc_heap *fresh_heaps;     /* carved from a mapping, not handed out yet */
static size_t fresh_heap_count;

void pgc__heap_list_lock(void) {
    pthread_mutex_lock(&heaps_lock);
}
void pgc__heap_list_unlock(void) {
    pthread_mutex_unlock(&heaps_lock);
}

/* ---- the class lists ------------------------------------------------------ */

/* Make `pool` (or nothing) the head of class cls, and the fast path's pool. */
static void set_head(pgc_heap *heap, unsigned cls, pgc_pool *pool) {
    heap->partial[cls] = pool;
    pgc_pool *fast = pgc_prof_head(heap, cls, pool ? pool : &sentinel_pool);
    heap->current[cls] = fast;
    if (cls == 1)
        heap->current[0] = fast;
}

/* Insert a pool before the head: at the tail of the circular list, or as
 * the new head when `as_head`. */
static void list_insert(pgc_heap *heap, pgc_pool *pool, int as_head) {
    unsigned cls = pool->cls;
    pgc_pool *head = heap->partial[cls];
    if (head) {
        pool->next = head;
        pool->prev = head->prev;
        head->prev->next = pool;
        head->prev = pool;
        if (as_head)
            set_head(heap, cls, pool);
    } else {
        pool->next = pool->prev = pool;
        set_head(heap, cls, pool);
    }
}

/* A full pool that got blocks back goes to the tail (unlike pymalloc, which
 * puts it first): by the time allocation reaches it, it has gathered more
 * free blocks, so a pool does not flip between full and listed on every
 * malloc/free pair of a steady working set. */
static void list_relist(pgc_heap *heap, pgc_pool *pool) {
    list_insert(heap, pool, 0);
}

static void list_unlink(pgc_heap *heap, pgc_pool *pool) {
    unsigned cls = pool->cls;
    if (pool->next == pool) {
        set_head(heap, cls, NULL);
    } else {
        pool->prev->next = pool->next;
        pool->next->prev = pool->prev;
        if (heap->partial[cls] == pool)
            set_head(heap, cls, pool->next);
    }
    pool->next = pool->prev = NULL;
}

/* A dry pool leaves the list, unless a remote free arrived meanwhile: then
 * its blocks are taken back and it stays. Returns 1 if it left. */
static int unlist_if_full(pgc_heap *heap, pgc_pool *pool) {
    uintptr_t expected = 0;
    if (atomic_compare_exchange_strong_explicit(&pool->remote, &expected, PGC_REMOTE_FULL,
                                                memory_order_acq_rel, memory_order_acquire)) {
        list_unlink(heap, pool);
        pgc_pool_slow_set(pool, PGC_SLOW_FREE_UNLISTED);
        return 1;
    }
    pgc__pool_reclaim_remote(pool);
    return 0;
}

/* An empty pool goes to the heap's spares, or back to the region when the
 * heap has enough (or is being given up: keep_spare 0). It is checked
 * first: a double free that no malloc caught yet made it look empty while a
 * block is still in use, and that block must not be handed out again as a
 * block of another class. */
static void pool_retire(pgc_heap *heap, pgc_pool *pool, int keep_spare) {
    pgc__pool_check_empty(pool);
    unsigned w = pgc_width_index(pool->slots);
    size_t bytes = pgc_pool_bytes(pool);
    if (keep_spare && heap->spare_bytes + bytes <= PGC_HEAP_SPARE_BYTES) {
        pool->cls = 0;
        pool->next = heap->spare_pools[w];
        heap->spare_pools[w] = pool;
        heap->spare_bytes += bytes;
    } else {
        pgc__region_give_pool(pool);
    }
}

static void retire_empty_pool(pgc_heap *heap, pgc_pool *pool, int keep) {
    if (keep && pool->next == pool)
        return; /* the class's only pool: keep it for the next malloc */
    list_unlink(heap, pool);
    pool_retire(heap, pool, keep);
}

static void give_back_spares(pgc_heap *heap) {
    for (unsigned w = 0; w < PGC_POOL_WIDTHS; w++) {
        while (heap->spare_pools[w]) {
            pgc_pool *pool = heap->spare_pools[w];
            heap->spare_pools[w] = pool->next;
            pgc__region_give_pool(pool);
        }
    }
    heap->spare_bytes = 0;
}

/* Relist the full pools other threads freed into. */
static void take_returned(pgc_heap *heap) {
    if (!atomic_load_explicit(&heap->returned, memory_order_relaxed))
        return;
    pgc_pool *pool = atomic_exchange_explicit(&heap->returned, NULL, memory_order_acquire);
    while (pool) {
        pgc_pool *next = pool->returned_next;
        pgc_assert((pool->slow_free & PGC_SLOW_FREE_UNLISTED) && pool->owner == heap);
        pgc_pool_slow_clear(pool, PGC_SLOW_FREE_UNLISTED);
        pgc__pool_reclaim_remote(pool);
        if (pool->used == 0) {
            pool_retire(heap, pool, 1);
        } else {
            list_relist(heap, pool);
        }
        pool = next;
    }
}

/* A pool of class cls with a free block, or NULL when the region is
 * exhausted: the listed pools first (the head takes back what other
 * threads freed into it, else gives way to the next pool if that has free
 * blocks, else carves; a dry head leaves the list), then the full pools
 * other threads freed into, then a spare or a new pool. Free blocks before
 * new ones: they are more likely in the cache (callgrind: bench/medium
 * 478.1M -> 453.6M instructions, bench/churn 838.9M -> 824.2M; CPU time
 * -8% on both), and the pool's tail stays untouched. */
static pgc_pool *refill(pgc_heap *heap, unsigned cls) {
    pgc_pool *pool;
    for (int pass = 0; pass < 2; pass++) {
        while ((pool = heap->partial[cls]) != NULL) {
            /* Blocks other threads freed first, then new ones: a pool whose
             * blocks cross threads stays as compact as their traffic
             * (bench/prodcons: 2.3 MiB peak when carving came first, 2.1). */
            if (!pool->free)
                pgc__pool_reclaim_remote(pool); /* returns at once when there are none */
            if (pool->free)
                return pool;
            if (pool->next->free) { /* free blocks elsewhere: carve later */
                set_head(heap, cls, pool->next);
                continue;
            }
            if (pgc__pool_extend(pool))
                return pool;
            if (!unlist_if_full(heap, pool) && pool->free)
                return pool;
        }
        if (pass == 0)
            take_returned(heap);
    }
    unsigned slots = pgc_class_slots(cls), w = pgc_width_index(slots);
    pool = heap->spare_pools[w];
    if (pool) {
        heap->spare_pools[w] = pool->next;
        heap->spare_bytes -= pgc_pool_bytes(pool);
    } else if (!(pool = pgc__region_take_pool(slots, slots == 1 ? &heap->arena_home : NULL))) {
        return NULL;
    }
    pgc__pool_init(pool, heap, cls);
    heap->pools_taken[cls]++;
    pgc__pool_extend(pool);
    list_insert(heap, pool, 1);
    return pool;
}

/* Set while this thread is in a slow path that changes its heap's lists or
 * holds a lock. A signal handler that allocates meanwhile (not allowed, but
 * crash handlers do it) must not re-enter: its requests go to jemalloc and
 * its frees leave list repairs for later, instead of deadlocking on the
 * region lock or corrupting a list half-updated. Best effort: a handler that
 * interrupts the fast path itself can still race with it. */
static __thread int in_slow_path;

static PGC_NOINLINE void *malloc_from_pools(pgc_heap *heap, size_t size) {
    unsigned cls = pgc_size_class(size);
    pgc__large_tick(); /* a program that stopped freeing large blocks still purges */
    void *owed = pgc_prof_owed(heap, cls); /* POOLGC_PROF: a sample due (prof.h) */
    if (owed)
        return owed;
    pgc_pool *pool = refill(heap, cls);
    pgc_debug_check(check_class(heap, cls));
    if (pgc_unlikely(!pool)) {
        heap->jemalloc_requests++;
        return NULL;
    }
    if (pgc_prof_active())
        return pgc__prof_malloc(heap, pool); /* counts, may sample (prof.h) */
    pgc_assert(pool->free != NULL && pool->owner == heap);
    return pgc_pool_take(pool);
}

_Atomic uint64_t pgc__heap_jemalloc_requests_no_heap;

/* A pool request that no heap can serve goes to jemalloc, counted. */
static void *malloc_without_heap(size_t size) {
    atomic_fetch_add_explicit(&pgc__heap_jemalloc_requests_no_heap, 1, memory_order_relaxed);
    return pgc__large_malloc(size, 0, 0);
}

void *pgc__heap_malloc_slow(pgc_heap *heap, size_t size) {
    if (pgc_debug_takes())
        return pgc__debug_malloc(size); /* POOLGC_DEBUG (debug.h) */
    if (pgc_unlikely(in_slow_path))
        return malloc_without_heap(size);
    if (heap == &pgc__heap_none) {
        heap = pgc__heap_for_thread();
        if (!heap)
            return malloc_without_heap(size);
    } else if (heap == &pgc__heap_exited) {
        return malloc_without_heap(size);
    }
    if (pgc_unlikely(!pgc_pooled_size(size))) {
        /* A medium request made before start-up read POOLGC_MEDIUM_MAX. */
        heap->jemalloc_requests++;
        return pgc__large_malloc(size, 0, 0);
    }
    in_slow_path = 1;
    void *block = malloc_from_pools(heap, size);
    in_slow_path = 0;
    /* NULL: the region is exhausted */
    return pgc_likely(block != NULL) ? block : pgc__large_malloc(size, 0, 0);
}

/* The owner freed a block into a pool that became empty, or whose slow_free
 * is set: unlisted (relists the pool), or counted by the profiler. */
static PGC_NOINLINE void free_local_slow(pgc_heap *heap, pgc_pool *pool) {
    if (pgc_unlikely(in_slow_path))
        return; /* a signal handler's free: the next free of the pool repairs */
    in_slow_path = 1;
    pgc_assert(pool->owner == heap);
    if (pool->slow_free & PGC_SLOW_FREE_UNLISTED) {
        uintptr_t expected = PGC_REMOTE_FULL;
        if (!atomic_compare_exchange_strong_explicit(&pool->remote, &expected, 0,
                                                     memory_order_acq_rel, memory_order_acquire)) {
            in_slow_path = 0;
            return; /* a remote free took it: it is on heap->returned */
        }
        pgc_pool_slow_clear(pool, PGC_SLOW_FREE_UNLISTED);
        list_relist(heap, pool);
    }
    if (pool->used == 0) {
        int saved = errno;
        retire_empty_pool(heap, pool, 1);
        errno = saved;
    }
    in_slow_path = 0;
}

/* The owner freed a block (the head of the free list, just pushed) into a
 * pool that had none in use: the fast path's decrement took `used` below 0
 * (and borrowed from slow_free, so nothing else may read the pool). */
static PGC_COLD __attribute__((noreturn)) void free_into_empty_pool(const pgc_pool *pool) {
    pgc__message_fatal("poolgc: free(): double free of %p (%u-byte block): its pool had no "
                       "block in use",
                       (const void *)pool->free, pool->block_size);
}

/* (A block freed into the pool the profiler counts takes this path, and only
 * this test, on every free: kept apart so that it saves no register.) */
void pgc__heap_free_local_slow(pgc_heap *heap, pgc_pool *pool) {
    if (pgc_unlikely(pool->used == UINT32_MAX))
        free_into_empty_pool(pool);
    if (pgc_prof_free_counted(heap, pool))
        return; /* POOLGC_PROF counted it, and nothing else is to do (prof.h) */
    free_local_slow(heap, pool);
}

void pgc__heap_free_remote(pgc_pool *pool, pgc_block *block) {
    block->freed_mark = pgc_freed_mark(block);
    uintptr_t old = atomic_load_explicit(&pool->remote, memory_order_relaxed), word;
    do {
        block->next = PGC_REMOTE_BLOCKS(old);
        word = (uintptr_t)block | (uintptr_t)(PGC_REMOTE_COUNT(old) + 1) << PGC_REMOTE_COUNT_SHIFT;
    } while (!atomic_compare_exchange_weak_explicit(&pool->remote, &old, word, memory_order_release,
                                                    memory_order_relaxed));
    if (old & PGC_REMOTE_FULL) {
        /* We cleared FULL: hand the pool back to its owner. */
        pgc_heap *owner = pool->owner;
        pgc_pool *head = atomic_load_explicit(&owner->returned, memory_order_relaxed);
        do {
            pool->returned_next = head;
        } while (!atomic_compare_exchange_weak_explicit(
            &owner->returned, &head, pool, memory_order_release, memory_order_relaxed));
    }
}

/* Take back everything other threads freed, and return empty pools and the
 * spares to the region (keeping each class's last pool when the heap stays
 * in use). */
static void reclaim_all(pgc_heap *heap, int keep_last) {
    pgc__prof_heap_flush(heap);
    take_returned(heap);
    for (unsigned cls = 1; cls <= PGC_NUM_CLASSES; cls++) {
        pgc_pool *head = heap->partial[cls];
        if (!head)
            continue;
        /* Walk a snapshot: pool_empty unlinks. */
        pgc_pool *pool = head, *stop = head->prev;
        for (;;) {
            pgc_pool *next = pool->next;
            int last = pool == stop;
            pgc__pool_reclaim_remote(pool);
            if (pool->used == 0)
                retire_empty_pool(heap, pool, keep_last);
            if (last)
                break;
            pool = next;
        }
    }
    give_back_spares(heap);
}

void pgc__heap_reclaim(pgc_heap *heap) {
    if (heap != &pgc__heap_none && heap != &pgc__heap_exited)
        reclaim_all(heap, 1);
}

/* ---- invariants -------------------------------------------------------------- */

/* Each class list is circular and doubly linked, holds listed pools of its
 * class owned by this heap, and its head is what the fast path sees; the
 * spares are empty pools of no class; every pool keeps its own invariants. */
static void check_class(const pgc_heap *heap, unsigned cls) {
    const pgc_pool *head = heap->partial[cls];
    pgc_verify(heap->current[cls] ==
               pgc_prof_fast_pool(heap, cls, head ? (pgc_pool *)head : &sentinel_pool));
    if (!head)
        return;
    const pgc_pool *pool = head;
    size_t n = 0;
    do {
        pgc_verify(pool->owner == heap && pool->cls == cls);
        pgc_verify(!(pool->slow_free & PGC_SLOW_FREE_UNLISTED));
        pgc_verify(pool->next->prev == pool && pool->prev->next == pool);
        pgc__pool_check(pool);
        pgc_verify(++n <= pgc__region.size / PGC_POOL_SIZE); /* a stray loop */
        pool = pool->next;
    } while (pool != head);
}

void pgc__heap_check(const pgc_heap *heap) {
    if (heap == &pgc__heap_none || heap == &pgc__heap_exited)
        return;
    for (unsigned cls = 1; cls <= PGC_NUM_CLASSES; cls++)
        check_class(heap, cls);
    pgc_verify(heap->current[0] == heap->current[1]);
    size_t spare_bytes = 0;
    for (unsigned w = 0; w < PGC_POOL_WIDTHS; w++) {
        for (const pgc_pool *pool = heap->spare_pools[w]; pool; pool = pool->next) {
            pgc_verify(pool->cls == 0 && pool->used == 0 && pool->owner == heap);
            pgc_verify(pgc_width_index(pool->slots) == w && pool->lead == pool);
            spare_bytes += pgc_pool_bytes(pool);
            pgc_verify(spare_bytes <= PGC_HEAP_SPARE_BYTES);
        }
    }
    pgc_verify(spare_bytes == heap->spare_bytes);
}

/* ---- heaps and threads ---------------------------------------------------- */

static void heap_init(pgc_heap *heap) {
    memset(heap, 0, sizeof *heap);
    for (unsigned i = 0; i <= PGC_NUM_CLASSES; i++)
        heap->current[i] = &sentinel_pool;
}

/* Heaps live in memory we map ourselves, a batch at a time. heaps_lock held. */
static pgc_heap *heap_new(void) {
    if (!fresh_heap_count) {
        size_t bytes = 64 * 1024;
        int saved = errno; /* a failure here is not the program's: jemalloc serves it */
        void *m = pgc__os_map(NULL, bytes, PROT_READ | PROT_WRITE, 0);
        if (m == MAP_FAILED) {
            errno = saved;
            return NULL;
        }
        fresh_heaps = m;
        fresh_heap_count = bytes / sizeof(pgc_heap);
    }
    pgc_heap *heap = fresh_heaps++;
    fresh_heap_count--;
    heap_init(heap);
    heap->next_heap = all_heaps;
    all_heaps = heap;
    return heap;
}

static pthread_key_t heap_key;
static int heap_key_ok;

void pgc__heap_setup(void) {
    heap_key_ok = pthread_key_create(&heap_key, pgc__heap_thread_exit) == 0;
}

/* The calling thread's first allocation: adopt an abandoned heap or make one.
 * NULL when pools cannot be used (the region could not be reserved). */
pgc_heap *pgc__heap_for_thread(void) {
    pgc__init_ensure();
    if (!pgc__region.base) {
        pgc__heap_tls = &pgc__heap_exited;
        return NULL;
    }
    pthread_mutex_lock(&heaps_lock);
    pgc_heap *heap = abandoned_heaps;
    if (heap)
        abandoned_heaps = heap->next_abandoned;
    else
        heap = heap_new();
    if (heap)
        heap->state = PGC_HEAP_OWNED;
    pthread_mutex_unlock(&heaps_lock);
    if (!heap) {
        pgc__heap_tls = &pgc__heap_exited;
        return NULL;
    }
    /* Set the TLS slot first: pthread_setspecific may itself call calloc. */
    pgc__heap_tls = heap;
    if (heap_key_ok)
        pthread_setspecific(heap_key, heap);
    return heap;
}

/* pthread key destructor: the thread is exiting. Later allocations in this
 * thread (other key destructors, glibc's own clean-up) go to jemalloc; its
 * frees are remote frees. */
void pgc__heap_thread_exit(void *arg) {
    pgc_heap *heap = arg;
    int saved = errno;
    pgc__heap_tls = &pgc__heap_exited;
    reclaim_all(heap, 0);
    pgc__region_leave_home(&heap->arena_home);
    pthread_mutex_lock(&heaps_lock);
    heap->state = PGC_HEAP_ABANDONED;
    heap->next_abandoned = abandoned_heaps;
    abandoned_heaps = heap;
    pthread_mutex_unlock(&heaps_lock);
    errno = saved;
}

/* Take back what other threads freed into abandoned heaps, so that their
 * empty pools go back to the region (for statistics and trim). */
void pgc__heap_reclaim_abandoned(void) {
    pthread_mutex_lock(&heaps_lock);
    for (pgc_heap *heap = abandoned_heaps; heap; heap = heap->next_abandoned)
        reclaim_all(heap, 0);
    pthread_mutex_unlock(&heaps_lock);
}

/* In a forked child only the forking thread lives on. The other threads'
 * heaps are orphaned, not adopted: fork may have stopped their thread in the
 * middle of a fast or slow path, leaving a count or a list half updated, as
 * glibc leaves other threads' tcaches to the child unused. Their blocks stay
 * valid and any thread may free them; their free blocks are not reused in
 * the child, which usually execs soon. Their home arenas are free to
 * become the child's threads' homes. */
void pgc__heap_after_fork_child(void) {
    pthread_mutex_init(&heaps_lock, NULL);
    abandoned_heaps = NULL;
    for (pgc_heap *heap = all_heaps; heap; heap = heap->next_heap) {
        if (heap == pgc__heap_tls || heap == pgc_debug_thread_heap())
            continue;
        heap->state = PGC_HEAP_ORPHANED;
        heap->next_abandoned = NULL;
        pgc__region_leave_home(&heap->arena_home); /* (its lock is new: init.c) */
    }
}

uint64_t pgc__heap_pools_taken(unsigned cls) {
    uint64_t n = 0;
    for (pgc_heap *heap = all_heaps; heap; heap = heap->next_heap)
        n += heap->pools_taken[cls];
    return n;
}

uint64_t pgc__heap_jemalloc_requests(void) {
    uint64_t n = atomic_load_explicit(&pgc__heap_jemalloc_requests_no_heap, memory_order_relaxed);
    for (pgc_heap *heap = all_heaps; heap; heap = heap->next_heap)
        n += heap->jemalloc_requests;
    return n;
}
