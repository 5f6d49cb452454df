/*
 * region.c - the pool region and its arenas.
 *
 * At start-up one range of address space is reserved (PROT_NONE,
 * MAP_NORESERVE: no memory, no commit charge). Arenas (PGC_ARENA_SIZE) are carved
 * from it in address order and made accessible when first used; each arena
 * hands out PGC_POOLS_PER_ARENA pools (its first slot holds their headers), carving
 * never-used pools lazily so their pages are not touched before they are
 * needed. What this file hands out and takes back is a pool's header.
 *
 * The choice of arena follows pymalloc: `usable` lists the arenas that have
 * free pools, sorted by their number of free pools, fewest first, and a new
 * pool always comes from the head. Busy arenas get busier, lightly used ones
 * drain, and an arena whose pools are all free goes back to the OS
 * (MADV_DONTNEED) - except the last one on the list, kept to avoid thrashing
 * at a boundary, until pgc_trim(). nfp2last[n] points at the last arena
 * with n free pools, so keeping the order is O(1) per pool.
 *
 * Returned arenas keep their address range and are reused first.
 * Everything here runs under region_lock, off the allocation fast path.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "internal.h"

enum arena_state { ARENA_UNUSED, ARENA_ACTIVE };

typedef struct arena {
    uint32_t nfree;      /* free pools: returned ones plus never-carved ones */
    uint32_t next_carve; /* index of the first never-carved pool */
    uint32_t state;      /* enum arena_state */
    uint32_t committed;  /* pages are accessible (mprotect done) */
    pgc_pool *freepools; /* pools given back, reused before carving */
    struct arena *next;  /* usable list, or the unused list */
    struct arena *prev;
} arena;

pgc_region pgc__region;
static arena *arenas;        /* one per PGC_ARENA_SIZE of the region */
static size_t arena_count;   /* arenas the region holds */
static size_t arenas_carved; /* arenas [0, carved) have been used at least once */
static arena *usable;        /* active arenas with free pools, fewest first */
static arena *unused;        /* returned arenas, reused first */
static arena *nfp2last[PGC_POOLS_PER_ARENA + 1];
static pgc_region_stats stats;
static pthread_mutex_t region_lock = PTHREAD_MUTEX_INITIALIZER;

void pgc__region_lock(void) {
    pthread_mutex_lock(&region_lock);
}
void pgc__region_unlock(void) {
    pthread_mutex_unlock(&region_lock);
}
void pgc__region_after_fork_child(void) {
    pthread_mutex_init(&region_lock, NULL);
}

static void check_locked(void);

static uintptr_t arena_base(const arena *a) {
    return pgc__region.base + (uintptr_t)(a - arenas) * PGC_ARENA_SIZE;
}
static arena *arena_of(const void *p) {
    return &arenas[((uintptr_t)p - pgc__region.base) >> PGC_ARENA_SHIFT];
}

/* Reserve `size` bytes of address space for pools, aligned to an arena. Under
 * a virtual memory limit (ulimit -v) take at most a quarter of it, and retry
 * smaller when the kernel says no. Returns 0 when nothing could be reserved:
 * every request then goes to jemalloc. */
int pgc__region_init(size_t size) {
    struct rlimit lim;
    if (getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY && size > lim.rlim_cur / 4)
        size = lim.rlim_cur / 4;
    size &= ~(PGC_ARENA_SIZE - 1);
    for (; size >= 4 * PGC_ARENA_SIZE; size /= 2) {
        size_t table = (size / PGC_ARENA_SIZE) * sizeof(arena);
        void *t = mmap(NULL, table, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (t == MAP_FAILED)
            continue;
        void *r = mmap(NULL, size + PGC_ARENA_SIZE, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (r == MAP_FAILED) {
            munmap(t, table);
            continue;
        }
        arenas = t;
        arena_count = size / PGC_ARENA_SIZE;
        stats.arenas_reserved = arena_count;
        pgc__region.base = ((uintptr_t)r + PGC_ARENA_SIZE - 1) & ~(uintptr_t)(PGC_ARENA_SIZE - 1);
        pgc__region.size = size;
        return 1;
    }
    return 0;
}

/* ---- the usable list, kept sorted by nfree ------------------------------- */

static void usable_unlink(arena *a) {
    if (a->prev)
        a->prev->next = a->next;
    else
        usable = a->next;
    if (a->next)
        a->next->prev = a->prev;
    a->next = a->prev = NULL;
}

static void usable_insert_after(arena *a, arena *after) {
    a->prev = after;
    a->next = after ? after->next : usable;
    if (a->next)
        a->next->prev = a;
    if (after)
        after->next = a;
    else
        usable = a;
}

/* A new or reused arena, all pools free, accessible. NULL: region exhausted. */
static arena *arena_new(void) {
    arena *a = unused;
    if (a) {
        unused = a->next;
    } else {
        if (arenas_carved == arena_count)
            return NULL;
        a = &arenas[arenas_carved++];
    }
    if (!a->committed) {
        if (mprotect((void *)arena_base(a), PGC_ARENA_SIZE, PROT_READ | PROT_WRITE) != 0) {
            a->next = unused;
            unused = a;
            return NULL;
        }
        a->committed = 1;
    }
    a->nfree = PGC_POOLS_PER_ARENA;
    a->next_carve = 1;
    a->freepools = NULL;
    a->state = ARENA_ACTIVE;
    if (++stats.arenas_mapped > stats.arenas_peak)
        stats.arenas_peak = stats.arenas_mapped;
    return a;
}

/* An arena whose pools are all free goes back to the OS; its range is kept. */
static void arena_release(arena *a) {
    int saved = errno;
    madvise((void *)arena_base(a), PGC_ARENA_SIZE, MADV_DONTNEED);
    errno = saved;
    a->state = ARENA_UNUSED;
    a->next = unused;
    a->prev = NULL;
    unused = a;
    stats.arenas_mapped--;
    stats.arenas_released++;
}

pgc_pool *pgc__region_take_pool(void) {
    pthread_mutex_lock(&region_lock);
    arena *a = usable;
    if (!a) {
        a = arena_new();
        if (!a) {
            pthread_mutex_unlock(&region_lock);
            return NULL;
        }
        usable_insert_after(a, NULL); /* the list was empty */
        nfp2last[a->nfree] = a;
    }
    pgc_pool *pool = a->freepools;
    if (pool)
        a->freepools = pool->next;
    else
        pool = (pgc_pool *)(arena_base(a) + (uintptr_t)a->next_carve++ * PGC_POOL_HEADER_SIZE);
    /* a is the head: the only arena with its count, and still the smallest. */
    if (nfp2last[a->nfree] == a)
        nfp2last[a->nfree] = NULL;
    if (--a->nfree == 0)
        usable_unlink(a);
    else
        nfp2last[a->nfree] = a;
    pgc_debug_check(check_locked());
    pthread_mutex_unlock(&region_lock);
    return pool;
}

void pgc__region_give_pool(pgc_pool *pool) {
    pool->owner = NULL;
    pthread_mutex_lock(&region_lock);
    arena *a = arena_of(pool);
    pool->next = a->freepools;
    a->freepools = pool;
    uint32_t nf = a->nfree;
    arena *lastnf = nfp2last[nf];
    if (lastnf == a) {
        arena *p = a->prev;
        nfp2last[nf] = (p && p->nfree == nf) ? p : NULL;
    }
    a->nfree = ++nf;
    if (nf == PGC_POOLS_PER_ARENA && a->next) {
        /* Empty, and not the last usable arena: back to the OS. */
        usable_unlink(a);
        arena_release(a);
    } else if (nf == 1) {
        usable_insert_after(a, NULL);
        if (!nfp2last[1])
            nfp2last[1] = a;
    } else {
        if (!nfp2last[nf])
            nfp2last[nf] = a;
        if (a != lastnf) {
            /* Move a to just after the last arena with nf - 1 free pools. */
            usable_unlink(a);
            usable_insert_after(a, lastnf);
        }
    }
    pgc_debug_check(check_locked());
    pthread_mutex_unlock(&region_lock);
}

int pgc__region_trim(void) {
    int released = 0;
    pthread_mutex_lock(&region_lock);
    arena *a = usable;
    while (a) {
        arena *next = a->next;
        if (a->nfree == PGC_POOLS_PER_ARENA) {
            if (nfp2last[a->nfree] == a)
                nfp2last[a->nfree] = (a->prev && a->prev->nfree == a->nfree) ? a->prev : NULL;
            usable_unlink(a);
            arena_release(a);
            released = 1;
        }
        a = next;
    }
    pthread_mutex_unlock(&region_lock);
    return released;
}

void pgc__region_stats(pgc_region_stats *out) {
    pthread_mutex_lock(&region_lock);
    *out = stats;
    pthread_mutex_unlock(&region_lock);
}

/* ---- invariants ------------------------------------------------------------ */

/* The usable list is doubly linked and sorted by nfree (fewest first);
 * nfp2last[n] is its last arena with n free pools; each arena's nfree counts
 * its free list and its never-carved pools; the mapped count matches. */
static void check_locked(void) {
    const arena *prev = NULL;
    for (const arena *a = usable; a; prev = a, a = a->next) {
        pgc_verify(a->prev == prev);
        pgc_verify(a->state == ARENA_ACTIVE && a->nfree > 0);
        pgc_verify(!prev || prev->nfree <= a->nfree);
        if (!a->next || a->next->nfree != a->nfree)
            pgc_verify(nfp2last[a->nfree] == a);
    }
    size_t active = 0;
    for (size_t i = 0; i < arenas_carved; i++) {
        const arena *a = &arenas[i];
        if (a->state != ARENA_ACTIVE)
            continue;
        active++;
        uint32_t listed = 0;
        for (const pgc_pool *p = a->freepools; p; p = p->next)
            pgc_verify(++listed <= PGC_POOLS_PER_ARENA);
        pgc_verify(a->next_carve >= 1 && a->next_carve <= PGC_SLOTS_PER_ARENA);
        pgc_verify(a->nfree == listed + (PGC_SLOTS_PER_ARENA - a->next_carve));
    }
    pgc_verify(active == stats.arenas_mapped);
}

void pgc__region_check(void) {
    pthread_mutex_lock(&region_lock);
    check_locked();
    pthread_mutex_unlock(&region_lock);
}

void pgc__region_each_pool(void (*fn)(pgc_pool *, void *), void *arg) {
    pthread_mutex_lock(&region_lock);
    for (size_t i = 0; i < arenas_carved; i++) {
        arena *a = &arenas[i];
        if (a->state != ARENA_ACTIVE)
            continue;
        for (uint32_t k = 1; k < a->next_carve; k++) {
            pgc_pool *pool = (pgc_pool *)(arena_base(a) + (uintptr_t)k * PGC_POOL_HEADER_SIZE);
            if (pool->owner)
                fn(pool, arg);
        }
    }
    pthread_mutex_unlock(&region_lock);
}
