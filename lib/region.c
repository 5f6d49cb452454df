/*
 * region.c - the pool region and its arenas.
 *
 * The region is one range of address space, [base, base + size), reserved
 * PROT_NONE and MAP_NORESERVE (no memory, no commit charge). Arenas
 * (PGC_ARENA_SIZE) are carved from it in address order and made accessible
 * when first used; each arena hands out PGC_POOLS_PER_ARENA pools (its first
 * slot holds their headers), carving never-used pools lazily so their pages
 * are not touched before they are needed. What this file hands out and
 * takes back is a pool's header.
 *
 *   base                  carved end                         base + size
 *   | arena | arena | ... |   reserved, never carved (PROT_NONE)    |
 *   <-- arenas_carved ---->
 *
 * An arena holds pools of one width (internal.h): small pools of one slot,
 * or wide pools of PGC_WIDE_SLOTS or PGC_WIDER_SLOTS, for the medium tier.
 * It gets its width when it is made active, and keeps it until it goes back
 * to the OS.
 *
 * The choice of arena follows pymalloc: for each width, `usable` lists the
 * arenas that have free pools, sorted by their number of free pools, fewest
 * first, and a new pool always comes from the head. Busy arenas get busier,
 * lightly used ones drain, and an arena whose pools are all free goes back
 * to the OS (MADV_DONTNEED) - except the last one on its list, kept to
 * avoid thrashing at a boundary, until pgc_trim(). nfp2last[n] points at
 * the last arena with n free pools, so keeping the order is O(1) per pool.
 * Returned arenas keep their address range and are reused first, for any
 * width; before them, up to KEPT_MAX empty arenas whose pages were kept
 * (arena_retire).
 *
 * Address space. A reservation counts toward RLIMIT_AS (ulimit -v,
 * setrlimit, prlimit) even when nothing is mapped in it, and DESIGN.md asks
 * that the region cost a program no usable memory under such a limit. The
 * region stays one range that grows and shrinks only at its end, so that
 * "is p ours?" stays one subtraction and one compare (pgc_in_region):
 *
 * - No limit at start-up: the whole region (POOLGC_REGION, 64 GiB) is
 *   reserved at once (halving while the kernel refuses, as valgrind does);
 *   it costs nothing while there is no limit.
 * - A limit at start-up: the region is reserved on demand. It starts as one
 *   arena, placed (by an address hint) the limit plus the region's largest
 *   size plus 1 TiB below where the kernel puts new mappings, which it
 *   hands out top-down, so the program's own mappings never come near its
 *   end; it grows by one arena, mapped in place (MAP_FIXED_NOREPLACE), when
 *   an arena is carved. Address space reserved and not carved: none.
 * - A limit lowered later (a program calling setrlimit, as python's
 *   resource module does, or prlimit from outside): the reservation already
 *   exceeds it, and the next mapping fails with ENOMEM. os.c, through which
 *   every mapping of poolgc's and jemalloc's goes, then calls
 *   pgc__region_shrink, which unmaps the never-carved tail and any released
 *   (empty) arenas at the end of the carved part, and the arena table's
 *   entries past the limit (2.5 MiB for 64 GiB), and retries once (large.c
 *   also has jemalloc purge its freed pages and retries a refused request).
 *   The region then grows in place again, an arena at a time, while the
 *   range after its end is free.
 * When the region cannot grow (the limit, or another mapping right after
 * its end), new pools fail and small requests go to jemalloc, as when the
 * region is exhausted. Arenas carved and in use stay, with their pages: a
 * hole in the range would let another mapping in, and its pointers would
 * pass for pool blocks.
 *
 * Why not reserve on demand in aligned chunks with an ownership map: the
 * free fast path would then load a map entry (a byte per 1 MiB arena over
 * 47 bits is itself 128 MiB of address space; a two-level map is two
 * dependent loads) instead of comparing against two words it already has.
 * Measured: callgrind counts the same instructions per malloc/free pair on
 * bench/churn.c before and after this design (126.9, the benchmark's own
 * work included). Under ulimit -v 409600, against glibc in the same run
 * (tests/stress/limit_*.sh), with large.c placing jemalloc's mappings:
 * largest single block 383 MiB (glibc 397; jemalloc's 384 MiB class), 1 MiB
 * blocks after a failed request 384 (396), doubling realloc 256 MiB (256);
 * the same with the limit set by the program after start-up; and python's
 * bytearray(10 MiB) after resource.setrlimit(RLIMIT_AS, 2 GiB) succeeds
 * (its largest: 1791 MiB, jemalloc's 1792 MiB class; glibc 2031).
 *
 * Locks. Everything here runs under region_lock, off the allocation fast
 * path, except the end of the region: pgc__region.size, arenas_carved, and
 * the mappings that move the end change under tail_lock too (taken inside
 * region_lock; nothing but os.c is called while holding it).
 * pgc__region_shrink only tries the two locks, never waits for them, so it
 * can run from any mapping anywhere: inside jemalloc's mmap with jemalloc's
 * locks held, or inside this file's own growth, which it then leaves alone.
 * Without region_lock it still gives back the never-carved tail. fork does
 * not take tail_lock: the child makes it anew, and a fork in the middle of
 * a growth or a shrink leaves the child at most some reserved address
 * space past the region's end.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "internal.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000 /* Linux 4.17; older kernels take it as a hint */
#endif

/* UNUSED: given back to the OS (or never used); KEPT: empty, pages kept. */
enum arena_state { ARENA_UNUSED, ARENA_ACTIVE, ARENA_KEPT };

typedef struct arena {
    uint32_t nfree;      /* free pools: returned ones plus never-carved ones */
    uint32_t next_carve; /* slot of the first never-carved pool */
    uint32_t state;      /* enum arena_state */
    uint32_t committed;  /* pages are accessible (mprotect done) */
    uint32_t width;      /* slots per pool: 1, 4 or 16 (while active) */
    void *home;          /* the taker whose home this arena is (take_pool), or NULL */
    pgc_pool *freepools; /* pools given back, reused before carving */
    struct arena *next;  /* usable list, or the unused list */
    struct arena *prev;
} arena;

/* The smallest region worth having, in arenas. */
#define MIN_ARENAS 4
/* Distance kept between an on-demand region's largest end and the mappings
 * the kernel hands out top-down, besides the limit itself. */
#define ON_DEMAND_GAP ((uintptr_t)1 << 40)

pgc_region pgc__region;
static arena *arenas;        /* one per PGC_ARENA_SIZE the region can grow to */
static size_t max_arenas;    /* entries in `arenas` */
static size_t arenas_carved; /* arenas [0, carved) have been used at least once */
static arena *unused;        /* returned arenas, reused first (doubly linked) */
static arena *kept;          /* empty arenas with their pages, reused before those */
static size_t kept_count;    /* arenas on `kept` (linked by next) */

/* The active arenas of one width that have free pools, fewest first, and
 * nfp2last[n], the last of them with n free pools. */
typedef struct arena_list {
    arena *usable;
    arena *nfp2last[PGC_POOLS_PER_ARENA + 1];
} arena_list;
static arena_list lists[PGC_POOL_WIDTHS]; /* by width index (pgc_width_index) */
static pgc_region_stats stats;
static int huge_pages; /* region_lock: the region asks for transparent huge pages */
static pthread_mutex_t region_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t tail_lock = PTHREAD_MUTEX_INITIALIZER;

void pgc__region_lock(void) {
    pthread_mutex_lock(&region_lock);
}
void pgc__region_unlock(void) {
    pthread_mutex_unlock(&region_lock);
}
void pgc__region_after_fork_child(void) {
    pthread_mutex_init(&region_lock, NULL);
    pthread_mutex_init(&tail_lock, NULL);
}

static void check_locked(void);

static uintptr_t arena_base(const arena *a) {
    return pgc__region.base + (uintptr_t)(a - arenas) * PGC_ARENA_SIZE;
}
static arena *arena_of(const void *p) {
    return &arenas[((uintptr_t)p - pgc__region.base) >> PGC_ARENA_SHIFT];
}
static arena_list *list_of(unsigned width) {
    return &lists[pgc_width_index(width)];
}
/* Pools an arena of pools `width` slots wide holds: all its slots but the
 * first pool's worth (slot 0 holds the headers). */
static uint32_t pools_per_arena(unsigned width) {
    return PGC_SLOTS_PER_ARENA / width - 1;
}

/* The region's size changes while other threads test pointers against it:
 * a growth stores it after mapping, a shrink before unmapping. */
static void set_size(size_t size) {
    __atomic_store_n(&pgc__region.size, size, __ATOMIC_RELEASE);
}

/* ---- reserving --------------------------------------------------------------- */

/* Map len bytes PROT_NONE at an arena-aligned address (hint, if free and
 * honoured; 0: anywhere), trimming the slack of an unaligned answer. */
static uintptr_t reserve_aligned(uintptr_t hint, size_t len) {
    const int flags = MAP_NORESERVE;
    if (hint) {
        void *r = pgc__os_map((void *)hint, len, PROT_NONE, flags);
        if (r == (void *)hint)
            return hint;
        if (r != MAP_FAILED)
            pgc__os_unmap(r, len);
    }
    void *r = pgc__os_map(NULL, len + PGC_ARENA_SIZE, PROT_NONE, flags);
    if (r == MAP_FAILED)
        return 0;
    uintptr_t start = (uintptr_t)r;
    uintptr_t base = (start + PGC_ARENA_SIZE - 1) & ~(uintptr_t)(PGC_ARENA_SIZE - 1);
    if (base > start)
        pgc__os_unmap(r, base - start);
    if (start + PGC_ARENA_SIZE > base)
        pgc__os_unmap((void *)(base + len), start + PGC_ARENA_SIZE - base);
    return base;
}

/* Where an on-demand region goes: `gap` below the address the kernel gives
 * a new mapping now (0, anywhere, if that is too low). */
static uintptr_t on_demand_hint(size_t gap) {
    void *probe = pgc__os_map(NULL, PGC_PAGE_SIZE, PROT_NONE, MAP_NORESERVE);
    if (probe == MAP_FAILED)
        return 0;
    pgc__os_unmap(probe, PGC_PAGE_SIZE);
    uintptr_t top = (uintptr_t)probe;
    if (top < gap || top - gap < ((uintptr_t)1 << 32))
        return 0;
    return (top - gap) & ~(uintptr_t)(PGC_ARENA_SIZE - 1);
}

/* Set up the region: `size` bytes at most (POOLGC_REGION), never more than a
 * virtual memory limit. Without a limit it is reserved at once, under one on
 * demand (see the top of this file). Returns 0 when there is no region:
 * every request then goes to jemalloc. */
int pgc__region_init(size_t size) {
    struct rlimit lim;
    size_t limit = SIZE_MAX;
    if (getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
        limit = lim.rlim_cur;
    if (size > limit)
        size = limit;
    size &= ~(PGC_ARENA_SIZE - 1);
    if (size < MIN_ARENAS * PGC_ARENA_SIZE)
        return 0;
    size_t table = (size / PGC_ARENA_SIZE) * sizeof(arena);
    void *t = pgc__os_map(NULL, table, PROT_READ | PROT_WRITE, MAP_NORESERVE);
    if (t == MAP_FAILED)
        return 0;
    uintptr_t base = 0;
    size_t reserved = size;
    /* No limit: all of it, or as much as the kernel gives, halving (valgrind
     * refuses 64 GiB); on demand if not even MIN_ARENAS. */
    for (; limit == SIZE_MAX && reserved >= MIN_ARENAS * PGC_ARENA_SIZE;
         reserved = (reserved / 2) & ~(PGC_ARENA_SIZE - 1))
        if ((base = reserve_aligned(0, reserved)) != 0)
            break;
    if (!base) {
        size_t gap;
        if (__builtin_add_overflow(ON_DEMAND_GAP, size, &gap) ||
            (limit != SIZE_MAX && __builtin_add_overflow(gap, limit, &gap)))
            gap = SIZE_MAX; /* no room: anywhere */
        reserved = PGC_ARENA_SIZE;
        base = reserve_aligned(on_demand_hint(gap), reserved);
    }
    /* Pool addresses leave the bits above PGC_REMOTE_COUNT_SHIFT to the
     * remote word's count (internal.h); the kernel maps below 2^47 unless
     * asked. Past it: no pools, as without a region. */
    if (base && base + size > ((uintptr_t)1 << PGC_REMOTE_COUNT_SHIFT)) {
        pgc__os_unmap((void *)base, reserved);
        base = 0;
    }
    if (!base) {
        pgc__os_unmap(t, table);
        return 0;
    }
    arenas = t;
    max_arenas = size / PGC_ARENA_SIZE;
    pgc__region.base = base;
    set_size(reserved);
    if (pgc__options.verbose && reserved < size)
        pgc__message("poolgc: the pool region grows on demand, up to %zu MiB", size >> 20);
    return 1;
}

/* After a growth failed, the next GROW_BACKOFF attempts are skipped: a
 * region that cannot grow (another mapping after its end) then costs a
 * system call per GROW_BACKOFF new pools, not per pool. */
#define GROW_BACKOFF 64
static unsigned grow_skip; /* region_lock */

/* The next never-carved arena, accessible, with the region grown by that
 * arena if all of it is carved. NULL: the region can grow no further (its
 * largest size, the limit, or another mapping after its end). region_lock
 * held. */
static arena *carve_arena(void) {
    arena *a = NULL;
    pthread_mutex_lock(&tail_lock);
    uintptr_t end = pgc__region.base + arenas_carved * PGC_ARENA_SIZE;
    if (arenas_carved * PGC_ARENA_SIZE < pgc__region.size) {
        a = &arenas[arenas_carved++];
    } else if (arenas_carved < max_arenas && (grow_skip == 0 || --grow_skip == 0)) {
        void *r = pgc__os_map((void *)end, PGC_ARENA_SIZE, PROT_READ | PROT_WRITE,
                              MAP_NORESERVE | MAP_FIXED_NOREPLACE);
        if (r == (void *)end) {
            set_size(pgc__region.size + PGC_ARENA_SIZE);
            a = &arenas[arenas_carved++];
            a->committed = 1;
            if (huge_pages)
                pgc__os_advise(r, PGC_ARENA_SIZE, MADV_HUGEPAGE);
        } else {
            if (r != MAP_FAILED)
                pgc__os_unmap(r, PGC_ARENA_SIZE); /* a kernel without MAP_FIXED_NOREPLACE */
            grow_skip = GROW_BACKOFF;
        }
    }
    pthread_mutex_unlock(&tail_lock);
    return a;
}

/* ---- the unused list: released arenas, doubly linked ----------------------- */

static void unused_push(arena *a) {
    a->prev = NULL;
    a->next = unused;
    if (unused)
        unused->prev = a;
    unused = a;
}

static void unused_unlink(arena *a) {
    if (a->prev)
        a->prev->next = a->next;
    else
        unused = a->next;
    if (a->next)
        a->next->prev = a->prev;
    a->next = a->prev = NULL;
}

/* ---- retiring an arena: kept, or back to the OS --------------------------- */

/* An arena that holds no pool goes back to the OS; its range is kept.
 * (If madvise fails, its pages just keep their contents.) */
static void arena_release(arena *a) {
    int saved = errno;
    pgc__os_advise((void *)arena_base(a), PGC_ARENA_SIZE, MADV_DONTNEED);
    errno = saved;
    a->state = ARENA_UNUSED;
    unused_push(a);
    stats.arenas_released++;
}

/* Empty arenas kept with their pages for the next new arena, of any width:
 * threads that come and go empty an arena as they exit and need one as
 * they start. bench/spawn (2 threads a round, 200 rounds) released and
 * faulted in 240 arenas again: 52 thousand page faults, 13 thousand with 2
 * kept, 7.5 thousand with 4; 17% less time, 1 MiB more peak RSS (3.5%).
 * Two: bench/mixed's and bench/realloc's peaks grew by 1.1 and 0.5 MiB with
 * the first kept arena, not more with more. */
#define KEPT_MAX 2

/* Arena a, whose pools are all free, leaves the active ones: kept, while
 * fewer than KEPT_MAX are and may_keep, or given back to the OS. Not with
 * huge pages, whose arenas go back in pairs (may_release). */
static void arena_retire(arena *a, int may_keep) {
    stats.arenas_mapped--;
    if (!may_keep || huge_pages || kept_count == KEPT_MAX) {
        arena_release(a);
        return;
    }
    a->state = ARENA_KEPT;
    a->prev = NULL;
    a->next = kept;
    kept = a;
    kept_count++;
}

/* Give every kept arena back to the OS. 1: there was one. */
static int release_kept(void) {
    int released = kept != NULL;
    while (kept) {
        arena *a = kept;
        kept = a->next;
        kept_count--;
        arena_release(a);
    }
    return released;
}

/* Under a limit the region can never grow past it: the arena table's entries
 * beyond (address space too, though never touched: 2.5 MiB for 64 GiB) go
 * back. region_lock and tail_lock held. Returns 1 if some did. */
static int trim_table(size_t limit) {
    size_t want = limit / PGC_ARENA_SIZE;
    if (want < arenas_carved)
        want = arenas_carved;
    size_t keep = (want * sizeof(arena) + PGC_PAGE_SIZE - 1) & ~(PGC_PAGE_SIZE - 1);
    size_t mapped = (max_arenas * sizeof(arena) + PGC_PAGE_SIZE - 1) & ~(PGC_PAGE_SIZE - 1);
    if (keep >= mapped)
        return 0;
    pgc__os_unmap((char *)arenas + keep, mapped - keep);
    max_arenas = keep / sizeof(arena);
    return 1;
}

/* Give back the end of the region that holds no pool: released arenas at the
 * end of the carved part (only with region_lock, which a shrink from inside
 * jemalloc cannot wait for), then the never-carved tail and the arena table
 * past the limit. */
int pgc__region_shrink(void) {
    /* Without a limit, address space is not what ran out (the map count,
     * overcommit mode 2, an injected fault): the reservation stays. */
    struct rlimit lim;
    if (!pgc__region.base || getrlimit(RLIMIT_AS, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY)
        return 0;
    int locked = pthread_mutex_trylock(&region_lock) == 0;
    if (pthread_mutex_trylock(&tail_lock) != 0) {
        /* This thread's own growth (os.c retrying it), or another thread
         * moving the end right now: nothing to take from here. */
        if (locked)
            pthread_mutex_unlock(&region_lock);
        return 0;
    }
    size_t early = arenas_carved; /* may have been made accessible with its pair (commit) */
    if (locked) {
        release_kept(); /* their address space too */
        while (arenas_carved > 0 && arenas[arenas_carved - 1].state == ARENA_UNUSED) {
            arena *a = &arenas[--arenas_carved];
            unused_unlink(a);
            a->committed = 0;
        }
    }
    size_t keep = arenas_carved * PGC_ARENA_SIZE, size = pgc__region.size;
    if (size > keep) {
        set_size(keep);
        pgc__os_unmap((void *)(pgc__region.base + keep), size - keep);
        if (early * PGC_ARENA_SIZE < size)
            arenas[early].committed = 0;
    }
    int trimmed = locked && trim_table((size_t)lim.rlim_cur);
    pthread_mutex_unlock(&tail_lock);
    if (locked) {
        pgc_debug_check(check_locked());
        pthread_mutex_unlock(&region_lock);
    }
    return size > keep || trimmed;
}

/* ---- the usable list, kept sorted by nfree ------------------------------- */

static void usable_unlink(arena_list *list, arena *a) {
    if (a->prev)
        a->prev->next = a->next;
    else
        list->usable = a->next;
    if (a->next)
        a->next->prev = a->prev;
    a->next = a->prev = NULL;
}

/* Unlink a, keeping nfp2last right (usable_unlink leaves that to its
 * callers). */
static void usable_remove(arena_list *list, arena *a) {
    arena **last = &list->nfp2last[a->nfree];
    if (*last == a)
        *last = (a->prev && a->prev->nfree == a->nfree) ? a->prev : NULL;
    usable_unlink(list, a);
}

static void usable_insert_after(arena_list *list, arena *a, arena *after) {
    a->prev = after;
    a->next = after ? after->next : list->usable;
    if (a->next)
        a->next->prev = a;
    if (after)
        after->next = a;
    else
        list->usable = a;
}

/* ---- transparent huge pages ------------------------------------------------ */

/* Once the arenas in use reach POOLGC_THP bytes (0, the default: never),
 * the region asks the kernel for transparent huge pages (MADV_HUGEPAGE, one
 * call over all of it; an arena mapped later on demand gets it too): a pool
 * heap that large is spread over more 4 KiB pages than the TLB holds, and
 * each miss walks the page tables (twice over in a virtual machine). The
 * threshold spares a small heap a 2 MiB page it barely uses. Off by
 * default because a huge page's fault costs what the machine makes it
 * cost: on this project's 2-core VM, bench/frag took 0.76 of the time with
 * POOLGC_THP=32M (median of 7), but runs whose faults were slow took up to
 * twice as long (system time 0.03 to 0.28 s). From then on arenas are made
 * accessible (commit) and given back (may_release, pair_in_use) in aligned
 * pairs, a huge page's worth. */
static void huge_pages_start(size_t arenas_in_use) {
    size_t from = pgc__options.thp;
    if (huge_pages || !from || arenas_in_use * PGC_ARENA_SIZE < from)
        return;
    huge_pages = 1;
    release_kept(); /* arenas go back in pairs from now on (may_release) */
    int saved = errno;
    pthread_mutex_lock(&tail_lock); /* the size, against a shrink */
    int refused = pgc__os_advise((void *)pgc__region.base, pgc__region.size, MADV_HUGEPAGE);
    pthread_mutex_unlock(&tail_lock);
    if (pgc__options.verbose)
        pgc__message(refused ? "poolgc: pools at %zu MiB: no transparent huge pages here"
                             : "poolgc: pools at %zu MiB: transparent huge pages from now on",
                     arenas_in_use * PGC_ARENA_SIZE >> 20);
    errno = saved;
}

/* The arena that shares a's aligned 2 MiB, or NULL when that half is not a
 * carved arena of the region (no page of the region's there to join a's). */
static arena *partner_of(arena *a) {
    uintptr_t other = arena_base(a) ^ PGC_ARENA_SIZE;
    if (other < pgc__region.base)
        return NULL;
    size_t k = (other - pgc__region.base) >> PGC_ARENA_SHIFT;
    return k < arenas_carved ? &arenas[k] : NULL;
}

/* 1 when the other half of empty arena a's 2 MiB has pools in use and huge
 * pages are on: then a stays. Released alone, khugepaged could collapse the
 * pair into a huge page again and fill a's half back in, memory the program
 * would hold without knowing it. */
static int pair_in_use(arena *a) {
    arena *b = huge_pages ? partner_of(a) : NULL;
    return b && b->state == ARENA_ACTIVE && b->nfree < pools_per_arena(b->width);
}

/* Whether empty arena a (not the last usable one of its list) goes back to
 * the OS when its last pool comes back: yes, unless huge pages are on and
 * the other half of its 2 MiB is active. If that half is empty too and not
 * the last usable one of its list either, both go (*with: it). */
static int may_release(arena *a, arena **with) {
    arena *b = huge_pages ? partner_of(a) : NULL;
    *with = NULL;
    if (!b || b->state == ARENA_UNUSED)
        return 1;
    if (b->nfree == pools_per_arena(b->width) && b->next) {
        *with = b;
        return 1;
    }
    return 0;
}

/* Make arena a accessible. With huge pages, the other half of its 2 MiB
 * too, if that is reserved and not accessible yet: a huge page backs a
 * range from its first fault only if all of it is accessible then (the
 * kernel does not make one from a half that already has pages, short of
 * khugepaged's slow rounds). -1: mprotect failed (errno set). */
static int commit(arena *a) {
    uintptr_t start = arena_base(a), other = start ^ PGC_ARENA_SIZE;
    size_t len = PGC_ARENA_SIZE;
    arena *b = NULL;
    pthread_mutex_lock(&tail_lock); /* the reserved size, against a shrink */
    if (huge_pages && other >= pgc__region.base &&
        other + PGC_ARENA_SIZE <= pgc__region.base + pgc__region.size) {
        b = &arenas[(other - pgc__region.base) >> PGC_ARENA_SHIFT];
        if (b->committed)
            b = NULL;
        else
            start &= ~(uintptr_t)PGC_ARENA_SIZE, len *= 2;
    }
    int failed = pgc__os_protect((void *)start, len, PROT_READ | PROT_WRITE);
    if (!failed) {
        a->committed = 1;
        if (b)
            b->committed = 1;
    }
    pthread_mutex_unlock(&tail_lock);
    return failed;
}

/* A new or reused arena for pools `width` slots wide, all pools free,
 * accessible. NULL: region exhausted (errno may be changed). */
static arena *arena_new(unsigned width) {
    arena *a = kept;
    if (a) {
        kept = a->next;
        kept_count--;
    } else if ((a = unused)) {
        unused_unlink(a);
    } else if (!(a = carve_arena())) {
        return NULL;
    }
    huge_pages_start(stats.arenas_mapped + 1); /* before commit: a's pair comes with it */
    if (!a->committed && commit(a) != 0) {
        unused_push(a);
        return NULL;
    }
    a->width = width;
    a->home = NULL;
    a->nfree = pools_per_arena(width);
    a->next_carve = width; /* slot 0 holds the headers; a wide pool starts at slot `width` */
    a->freepools = NULL;
    a->state = ARENA_ACTIVE;
    if (++stats.arenas_mapped > stats.arenas_peak)
        stats.arenas_peak = stats.arenas_mapped;
    return a;
}

/* The header of the never-carved pool at slot k of arena a, made a pool of
 * a->width slots: itself its lead, and the lead of its followers (headers
 * with no owner and no slots, whatever they held in an earlier life of the
 * arena). */
static pgc_pool *carve_pool(arena *a, uint32_t k) {
    pgc_pool *pool = (pgc_pool *)(arena_base(a) + (uintptr_t)k * PGC_POOL_HEADER_SIZE);
    for (uint32_t f = 1; f < a->width; f++) {
        pgc_pool *follower = pool + f;
        follower->owner = NULL;
        follower->lead = pool;
        follower->slots = 0;
    }
    pool->lead = pool;
    pool->slots = a->width;
    return pool;
}

/* Arenas a taker with a home looks at, from the head of the usable list,
 * for one that is no other taker's home. */
#define HOME_SEARCH 8

/* The arena a taker (home: its slot for this width, NULL: none) takes its
 * next pool from: its home if that still has free pools; else the fullest
 * usable arena that is no other taker's home (among the first HOME_SEARCH),
 * which becomes its home. NULL: none of those (the caller makes a new
 * arena, and shares the fullest only if it cannot). A stale home
 * (released, or its table entry gone after a shrink) is checked before it
 * is read. */
static arena *pick_arena(arena_list *list, unsigned width, void **home) {
    if (!home)
        return list->usable;
    arena *a = *home;
    if (a >= arenas && a < arenas + arenas_carved && a->state == ARENA_ACTIVE &&
        a->width == width && a->nfree > 0 && a->home == home)
        return a;
    a = list->usable;
    for (int k = 0; a && k < HOME_SEARCH; a = a->next, k++)
        if (!a->home || a->home == home) {
            a->home = home;
            *home = a;
            return a;
        }
    return NULL;
}

void pgc__region_leave_home(void **home) {
    pthread_mutex_lock(&region_lock);
    arena *a = *home;
    if (a >= arenas && a < arenas + arenas_carved && a->home == home)
        a->home = NULL;
    *home = NULL;
    pthread_mutex_unlock(&region_lock);
}

/* One pool fewer in usable arena a: it moves up the list, behind the arenas
 * with fewer free pools, or off it when it has none left. */
static void arena_took(arena_list *list, arena *a) {
    arena **nfp2last = list->nfp2last;
    uint32_t n = a->nfree;
    if (a == list->usable) { /* the head: still the smallest, it stays */
        if (nfp2last[n] == a)
            nfp2last[n] = NULL;
        if (--a->nfree == 0)
            usable_unlink(list, a);
        else
            nfp2last[a->nfree] = a;
        return;
    }
    if (nfp2last[n] == a)
        nfp2last[n] = a->prev->nfree == n ? a->prev : NULL;
    usable_unlink(list, a);
    if (--a->nfree == 0)
        return;
    uint32_t m = a->nfree;
    while (m > 0 && !nfp2last[m])
        m--;
    usable_insert_after(list, a, m ? nfp2last[m] : NULL);
    nfp2last[a->nfree] = a;
}

pgc_pool *pgc__region_take_pool(unsigned slots, void **home) {
    arena_list *list = list_of(slots);
    pthread_mutex_lock(&region_lock);
    arena *a = pick_arena(list, slots, home);
    size_t peak_before = stats.arenas_peak;
    if (!a) {
        int saved = errno; /* a failure here is not the program's */
        a = arena_new(slots);
        errno = saved;
        if (a) {
            /* All its pools are free: it goes last. */
            uint32_t m = a->nfree;
            while (m > 0 && !list->nfp2last[m])
                m--;
            usable_insert_after(list, a, m ? list->nfp2last[m] : NULL);
            list->nfp2last[a->nfree] = a;
            if (home) {
                a->home = home;
                *home = a;
            }
        } else if (!(a = list->usable)) { /* share the fullest, if there is one */
            pthread_mutex_unlock(&region_lock);
            return NULL;
        }
    }
    pgc_pool *pool = a->freepools;
    if (pool) {
        a->freepools = pool->next;
    } else {
        pool = carve_pool(a, a->next_carve);
        a->next_carve += a->width;
    }
    arena_took(list, a);
    pgc_debug_check(check_locked());
    size_t new_peak = stats.arenas_peak > peak_before ? stats.arenas_peak : 0;
    pthread_mutex_unlock(&region_lock);
    if (new_peak) /* jemalloc may give back freed pages the pools cannot reuse */
        pgc__large_pools_grew(new_peak * PGC_ARENA_SIZE);
    return pool;
}

void pgc__region_give_pool(pgc_pool *pool) {
    pool->owner = NULL;
    pthread_mutex_lock(&region_lock);
    arena *a = arena_of(pool);
    arena_list *list = list_of(a->width);
    arena **nfp2last = list->nfp2last;
    pool->next = a->freepools;
    a->freepools = pool;
    uint32_t nf = a->nfree;
    arena *lastnf = nfp2last[nf];
    if (lastnf == a) {
        arena *p = a->prev;
        nfp2last[nf] = (p && p->nfree == nf) ? p : NULL;
    }
    a->nfree = ++nf;
    arena *with;
    if (nf == pools_per_arena(a->width) && a->next && may_release(a, &with)) {
        /* Empty, and not the last usable arena: kept, or back to the OS. */
        usable_unlink(list, a);
        arena_retire(a, 1);
        if (with) {
            usable_remove(list_of(with->width), with);
            arena_retire(with, 1);
        }
    } else if (nf == 1) {
        usable_insert_after(list, a, NULL);
        if (!nfp2last[1])
            nfp2last[1] = a;
    } else {
        if (!nfp2last[nf])
            nfp2last[nf] = a;
        if (a != lastnf) {
            /* Move a to just after the last arena with nf - 1 free pools. */
            usable_unlink(list, a);
            usable_insert_after(list, a, lastnf);
        }
    }
    pgc_debug_check(check_locked());
    pthread_mutex_unlock(&region_lock);
}

int pgc__region_trim(void) {
    pthread_mutex_lock(&region_lock);
    int released = release_kept();
    for (arena_list *list = lists; list < lists + PGC_POOL_WIDTHS; list++) {
        arena *a = list->usable;
        while (a) {
            arena *next = a->next;
            if (a->nfree == pools_per_arena(a->width) && !pair_in_use(a)) {
                usable_remove(list, a);
                arena_retire(a, 0);
                released = 1;
            }
            a = next;
        }
    }
    pthread_mutex_unlock(&region_lock);
    pgc__region_shrink(); /* under a limit, their address space too */
    return released;
}

void pgc__region_stats(pgc_region_stats *out) {
    pthread_mutex_lock(&region_lock);
    *out = stats;
    out->arenas_kept = kept_count;
    out->arenas_reserved = __atomic_load_n(&pgc__region.size, __ATOMIC_RELAXED) / PGC_ARENA_SIZE;
    pthread_mutex_unlock(&region_lock);
}

/* ---- invariants ------------------------------------------------------------ */

/* Each usable list is doubly linked, holds arenas of its width, and is
 * sorted by nfree (fewest first); nfp2last[n] is its last arena with n free
 * pools; each arena's nfree counts its free list and its never-carved pools;
 * the mapped count matches. Every carved arena is active, kept (at most
 * KEPT_MAX, none with huge pages) or on the (doubly linked) unused list,
 * and the carved arenas lie inside the region:
 *
 *   arenas_carved  ==  arenas_mapped + |kept| + |unused|
 *   arenas_carved * PGC_ARENA_SIZE  <=  size  <=  max_arenas * PGC_ARENA_SIZE
 */
static void check_list(const arena_list *list, unsigned width) {
    const arena *prev = NULL;
    for (const arena *a = list->usable; a; prev = a, a = a->next) {
        pgc_verify(a->prev == prev && a->width == width);
        pgc_verify(a->state == ARENA_ACTIVE && a->nfree > 0);
        pgc_verify(!prev || prev->nfree <= a->nfree);
        if (!a->next || a->next->nfree != a->nfree)
            pgc_verify(list->nfp2last[a->nfree] == a);
    }
}

static void check_locked(void) {
    for (unsigned w = 0; w < PGC_POOL_WIDTHS; w++)
        check_list(&lists[w], 1u << (2 * w));
    size_t active = 0;
    for (size_t i = 0; i < arenas_carved; i++) {
        const arena *a = &arenas[i];
        if (a->state != ARENA_ACTIVE)
            continue;
        active++;
        uint32_t listed = 0, width = a->width;
        pgc_verify(width == 1 || width == PGC_WIDE_SLOTS || width == PGC_WIDER_SLOTS);
        for (const pgc_pool *p = a->freepools; p; p = p->next)
            pgc_verify(++listed <= pools_per_arena(width) && p->slots == width);
        pgc_verify(a->next_carve >= width && a->next_carve <= PGC_SLOTS_PER_ARENA);
        pgc_verify(a->next_carve % width == 0);
        pgc_verify(a->nfree == listed + (PGC_SLOTS_PER_ARENA - a->next_carve) / width);
    }
    pgc_verify(active == stats.arenas_mapped);
    size_t released = 0;
    const arena *prev = NULL;
    for (const arena *a = unused; a; prev = a, a = a->next) {
        pgc_verify(a->prev == prev && a->state == ARENA_UNUSED);
        pgc_verify(a >= arenas && a < arenas + arenas_carved);
        pgc_verify(++released <= arenas_carved);
    }
    size_t kept_found = 0;
    for (const arena *a = kept; a; a = a->next) {
        pgc_verify(a->state == ARENA_KEPT && a->committed);
        pgc_verify(a >= arenas && a < arenas + arenas_carved);
        pgc_verify(++kept_found <= KEPT_MAX);
    }
    pgc_verify(kept_found == kept_count && (!huge_pages || !kept_count));
    pgc_verify(active + kept_found + released == arenas_carved);
    size_t size = __atomic_load_n(&pgc__region.size, __ATOMIC_ACQUIRE); /* a shrink may run */
    pgc_verify(size % PGC_ARENA_SIZE == 0);
    pgc_verify(arenas_carved * PGC_ARENA_SIZE <= size && size <= max_arenas * PGC_ARENA_SIZE);
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
        for (uint32_t k = a->width; k < a->next_carve; k += a->width) {
            pgc_pool *pool = (pgc_pool *)(arena_base(a) + (uintptr_t)k * PGC_POOL_HEADER_SIZE);
            if (pool->owner)
                fn(pool, arg);
        }
    }
    pthread_mutex_unlock(&region_lock);
}
