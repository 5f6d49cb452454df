/*
 * os.c - every system call of poolgc that maps, protects, advises or unmaps
 * memory: the pool region and its arenas (region.c), the thread heaps
 * (heap.c), jemalloc's own mmap and munmap with poolgc's page map of them,
 * and the extent hooks poolgc gives jemalloc's arena 0 (large.c). Nothing
 * else in lib/ calls mmap, mprotect, madvise or munmap.
 *
 * Each function is the system call with its answer: MAP_FAILED or -1 with
 * errno set on failure; a map that succeeds leaves errno as it was. Memory
 * is always anonymous and private. A map that fails with ENOMEM under an
 * address-space limit is retried once if pgc__region_shrink gave address
 * space back (region.c), whoever asked: jemalloc, the heaps, the page map.
 *
 * The address-space limit (RLIMIT_AS: ulimit -v, setrlimit, prlimit) is
 * read once and again after each mapping refused with ENOMEM
 * (pgc__os_as_limit): a program that lowers it at run time is seen at its
 * first refused mapping, with no system call per request.
 *
 * The far zone: 16 TiB of address space the kernel's own placements do not
 * reach, FAR_GAP plus twice the limit below where the kernel maps when it
 * is placed (the pool region, which region.c places the limit and its
 * largest size below that same point, stays between), aligned to 1 GiB,
 * where large.c puts jemalloc's mappings (see large.c's top comment for why
 * there):
 *
 *   far base (1 GiB aligned)                    + 1 GiB
 *   | slot 0 ... | slot 1 ...  or  ranges ... |  ...  jemalloc's home |
 *   ^ slots from the base up, the limit apart      (large.c, top down)
 *
 * - pgc__os_map_far maps a mapping of an eighth of the limit or more at the
 *   first slot from the base where it fits (MAP_FIXED_NOREPLACE: a slot in
 *   use is refused; a kernel older than 4.17 takes the flag for a hint and
 *   maps elsewhere, which is kept). Slots are the limit apart, so a block
 *   there can grow in place up to the whole limit (jemalloc maps the pages
 *   after it). At most 8 such mappings fit under the limit: FAR_SLOTS (16)
 *   are tried, then the caller maps where it would have.
 * - pgc__os_far_range hands out ranges from the base up, in order, never
 *   twice, and maps nothing: the hooks of arena 0 keep address space
 *   jemalloc retains unmapped there, and map its pages only when jemalloc
 *   commits them (MAP_FIXED_NOREPLACE: a range something else took
 *   meanwhile is refused, never replaced). Slots and ranges are not used in
 *   one process: slots when jemalloc started under a limit, ranges when it
 *   started before.
 * Without room for the zone (a small address space, a limit of tens of
 * TiB) there is no base, and the kernel places everything.
 *
 * Fault injection (./configure --enable-fault-injection, which defines
 * PGC_FAULT_INJECTION; without it none of this is compiled in):
 * POOLGC_FAULT_MMAP=N makes the Nth call of pgc__os_map, pgc__os_protect
 * or pgc__os_advise fail with ENOMEM (N:K: that call and the K - 1 after
 * it). Unmapping never fails on purpose, nor does a call made between
 * pgc__os_fault_hold(1) and (-1) on the same thread (code that cannot take
 * a failure: jemalloc starting). Calls are counted from the process's first
 * one, which may come before poolgc's own start-up (jemalloc starting on a
 * large request made before our constructor). pgc__os_calls and
 * pgc__os_faults say how many calls were made and how many failed on
 * purpose, for the tests that walk N over every call of a workload
 * (tests/stress/fault_injection.sh).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "internal.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000 /* Linux 4.17; older kernels take it as a hint */
#endif

#ifdef PGC_FAULT_INJECTION
static _Atomic unsigned long calls, faults;
static unsigned long fault_at, fault_count; /* POOLGC_FAULT_MMAP=N:K */
static _Atomic int fault_read;
static __thread int hold; /* > 0: this thread's calls do not fail */

void pgc__os_fault_hold(int delta) {
    hold += delta;
}

int pgc__os_fault_parse(const char *v) {
    unsigned long n, k = 1;
    char *end;
    if (*v < '0' || *v > '9' || (n = strtoul(v, &end, 10)) == 0)
        return -1;
    if (*end == ':') {
        const char *kv = end + 1;
        if (*kv < '0' || *kv > '9' || (k = strtoul(kv, &end, 10)) == 0)
            return -1;
    }
    if (*end)
        return -1;
    fault_at = n;
    fault_count = k;
    return 0;
}

void pgc__os_fault_show(char *buf, size_t size) {
    snprintf(buf, size, "%lu:%lu", fault_at, fault_count);
}

/* Is this call one that must fail? Counts it. The variable is read here at
 * the first call, which may come before the options are (jemalloc's start
 * on a large request made before poolgc's constructor ran). */
static int inject(void) {
    if (!atomic_load_explicit(&fault_read, memory_order_acquire)) {
        const char *v = secure_getenv("POOLGC_FAULT_MMAP");
        if (v)
            pgc__os_fault_parse(v);
        atomic_store_explicit(&fault_read, 1, memory_order_release);
    }
    if (hold)
        return 0; /* and not counted: the walk need not visit it */
    unsigned long n = atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed) + 1;
    if (!fault_at || n < fault_at || n - fault_at >= fault_count)
        return 0;
    atomic_fetch_add_explicit(&faults, 1, memory_order_relaxed);
    errno = ENOMEM;
    return 1;
}
#define INJECT(failed)                                                                             \
    do {                                                                                           \
        if (inject())                                                                              \
            return failed;                                                                         \
    } while (0)
#else
#define INJECT(failed) ((void)0)
void pgc__os_fault_hold(int delta) {
    (void)delta;
}
#endif

unsigned long pgc__os_calls(void) {
#ifdef PGC_FAULT_INJECTION
    return atomic_load_explicit(&calls, memory_order_relaxed);
#else
    return 0;
#endif
}

unsigned long pgc__os_faults(void) {
#ifdef PGC_FAULT_INJECTION
    return atomic_load_explicit(&faults, memory_order_relaxed);
#else
    return 0;
#endif
}

/* ---- the address-space limit ------------------------------------------------ */

static _Atomic size_t as_limit; /* bytes, SIZE_MAX for none; 0: not read yet */

static size_t read_as_limit(void) {
    struct rlimit lim;
    size_t limit = SIZE_MAX;
    if (getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
        limit = lim.rlim_cur ? (size_t)lim.rlim_cur : 1;
    atomic_store_explicit(&as_limit, limit, memory_order_relaxed);
    return limit;
}

size_t pgc__os_as_limit(void) {
    size_t limit = atomic_load_explicit(&as_limit, memory_order_relaxed);
    return pgc_likely(limit != 0) ? limit : read_as_limit();
}

/* ---- mapping ------------------------------------------------------------------- */

static void *map(void *addr, size_t len, int prot, int flags) {
    INJECT(MAP_FAILED);
    return mmap(addr, len, prot, flags | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* A mapping refused for want of address space (ENOMEM under RLIMIT_AS, as
 * when a program lowered its limit after the pool region was reserved) is
 * tried again once the region has given back what it does not use. */
static int worth_retry(void) {
    if (errno != ENOMEM)
        return 0;
    read_as_limit(); /* a limit set at run time: seen from now on */
    return pgc__region_shrink();
}

void *pgc__os_map(void *addr, size_t len, int prot, int flags) {
    int saved = errno;
    void *p = map(addr, len, prot, flags);
    if (p == MAP_FAILED && worth_retry())
        p = map(addr, len, prot, flags);
    if (p != MAP_FAILED)
        errno = saved;
    return p;
}

int pgc__os_protect(void *addr, size_t len, int prot) {
    INJECT(-1);
    return mprotect(addr, len, prot);
}

int pgc__os_advise(void *addr, size_t len, int advice) {
    INJECT(-1);
    return madvise(addr, len, advice);
}

int pgc__os_unmap(void *addr, size_t len) {
    return munmap(addr, len);
}

/* ---- the far zone (see the top of this file) ------------------------------------ */

#define FAR_GAP ((uintptr_t)2 << 40)   /* plus twice the limit */
#define FAR_SIZE ((uintptr_t)16 << 40) /* the zone */
#define FAR_KEEP ((uintptr_t)1 << 40)  /* left below the zone at least */
#define FAR_ALIGN ((uintptr_t)1 << 30) /* of the zone: a leaf of jemalloc's radix tree */
#define FAR_NONE ((uintptr_t)1)        /* far_base: no room for a zone */
#define FAR_SHARE 8                    /* slots for mappings of limit / 8 and more */
#define FAR_SLOTS (2 * FAR_SHARE)      /* tried in order before the kernel chooses */
#define FAR_SLOT_ALIGN ((uintptr_t)2 << 20)

static _Atomic uintptr_t far_base;   /* 0: not placed yet */
static _Atomic uintptr_t far_ranged; /* bytes of ranges handed out, from the base up */

uintptr_t pgc__os_far_base(void) {
    uintptr_t base = atomic_load_explicit(&far_base, memory_order_acquire);
    if (pgc_likely(base != 0))
        return base == FAR_NONE ? 0 : base;
    int saved = errno;
    void *probe = map(NULL, PGC_PAGE_SIZE, PROT_NONE, MAP_NORESERVE);
    errno = saved;
    if (probe == MAP_FAILED)
        return 0; /* no address space even for that (or a fault): next time */
    munmap(probe, PGC_PAGE_SIZE);
    uintptr_t top = (uintptr_t)probe, gap = FAR_GAP;
    size_t limit = pgc__os_as_limit();
    gap += 2 * (limit < ((uintptr_t)1 << 45) ? limit : ((uintptr_t)1 << 45));
    base = FAR_NONE;
    if (top > gap + FAR_SIZE + FAR_KEEP)
        base = (top - gap - FAR_SIZE) & ~(FAR_ALIGN - 1);
    uintptr_t expected = 0;
    if (!atomic_compare_exchange_strong_explicit(&far_base, &expected, base, memory_order_acq_rel,
                                                 memory_order_acquire))
        base = expected; /* another thread placed it first */
    return base == FAR_NONE ? 0 : base;
}

void *pgc__os_map_far(size_t len, int prot, int flags) {
    size_t limit = pgc__os_as_limit(), stride = limit > len ? limit : len;
    uintptr_t base = 0;
    if (limit != SIZE_MAX && len >= limit / FAR_SHARE && stride <= FAR_SIZE / FAR_SLOTS)
        base = pgc__os_far_base();
    if (base) {
        stride = (stride + FAR_SLOT_ALIGN - 1) & ~(FAR_SLOT_ALIGN - 1);
        int saved = errno;
        for (uintptr_t slot = 0; slot < FAR_SLOTS; slot++) {
            void *want = (void *)(base + slot * stride);
            void *p = pgc__os_map(want, len, prot, flags | MAP_FIXED_NOREPLACE);
            if (p != MAP_FAILED || errno != EEXIST)
                return p; /* there (or where a kernel without the flag put it), or no room */
            errno = saved;
        }
    }
    return NULL;
}

void *pgc__os_far_range(size_t len, size_t alignment) {
    uintptr_t base = pgc__os_far_base();
    if (!base)
        return NULL;
    if (alignment < PGC_PAGE_SIZE)
        alignment = PGC_PAGE_SIZE;
    uintptr_t used = atomic_load_explicit(&far_ranged, memory_order_relaxed), start, end;
    do {
        start = (base + used + alignment - 1) & ~(uintptr_t)(alignment - 1);
        if (len > FAR_SIZE || start - base > FAR_SIZE - len)
            return NULL; /* the zone is spent */
        end = start + len;
    } while (!atomic_compare_exchange_weak_explicit(&far_ranged, &used, end - base,
                                                    memory_order_relaxed, memory_order_relaxed));
    return (void *)start;
}

uintptr_t pgc__os_far_ranged_end(void) {
    uintptr_t base = atomic_load_explicit(&far_base, memory_order_acquire);
    if (base <= FAR_NONE)
        return 0;
    return base + atomic_load_explicit(&far_ranged, memory_order_relaxed);
}

int pgc__os_far_ranged(const void *addr) {
    uintptr_t base = atomic_load_explicit(&far_base, memory_order_relaxed);
    uintptr_t ranged = atomic_load_explicit(&far_ranged, memory_order_relaxed);
    return base > FAR_NONE && (uintptr_t)addr - base < ranged;
}
