/*
 * os.c - every system call of poolgc that maps, protects, advises or unmaps
 * memory: the pool region and its arenas (region.c), the thread heaps
 * (heap.c), jemalloc's own mmap and munmap with poolgc's page map of them
 * (large.c), and huge blocks (huge.c). Nothing else in lib/ calls mmap,
 * mremap, mprotect, madvise or munmap.
 *
 * Each function is the system call with its answer: MAP_FAILED or -1 with
 * errno set on failure. Memory is always anonymous and private; a remap may
 * move (MREMAP_MAYMOVE). A map or remap that fails with ENOMEM under an
 * address-space limit is retried once if pgc__region_shrink gave address
 * space back (region.c), whoever asked: jemalloc, the heaps, the page map,
 * huge blocks.
 *
 * Fault injection (./configure --enable-fault-injection, which defines
 * PGC_FAULT_INJECTION; without it none of this is compiled in):
 * POOLGC_FAULT_MMAP=N makes the Nth call of pgc__os_map, pgc__os_remap,
 * pgc__os_protect or pgc__os_advise fail with ENOMEM (N:K: that call and
 * the K - 1 after it). Unmapping never fails on purpose, nor does a call
 * made between pgc__os_fault_hold(1) and (-1) on the same thread (code that
 * cannot take a failure: jemalloc starting). Calls are counted
 * from the process's first one, which may come before poolgc's own start-up
 * (jemalloc starting on a large request made before our constructor).
 * pgc__os_calls and pgc__os_faults say how many calls were made and how
 * many failed on purpose, for the tests that walk N over every call of a
 * workload (tests/stress/fault_injection.sh).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "internal.h"

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

static void *map(void *addr, size_t len, int prot, int flags) {
    INJECT(MAP_FAILED);
    return mmap(addr, len, prot, flags | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void *remap(void *addr, size_t len, size_t new_len) {
    INJECT(MAP_FAILED);
    return mremap(addr, len, new_len, MREMAP_MAYMOVE);
}

/* A mapping refused for want of address space (ENOMEM under RLIMIT_AS, as
 * when a program lowered its limit after the pool region was reserved) is
 * tried again once the region has given back what it does not use. */
static int worth_retry(void) {
    if (errno != ENOMEM)
        return 0;
    pgc__huge_limit_changed(); /* a limit set at run time: huge blocks from now on */
    return pgc__region_shrink();
}

void *pgc__os_map(void *addr, size_t len, int prot, int flags) {
    void *p = map(addr, len, prot, flags);
    if (p == MAP_FAILED && worth_retry())
        p = map(addr, len, prot, flags);
    return p;
}

void *pgc__os_remap(void *addr, size_t len, size_t new_len) {
    void *p = remap(addr, len, new_len);
    if (p == MAP_FAILED && worth_retry())
        p = remap(addr, len, new_len);
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
