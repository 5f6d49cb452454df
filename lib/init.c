/*
 * init.c - start-up, fork and exit.
 *
 * The first allocation can come before any constructor runs (the dynamic
 * loader, other libraries' constructors), so initialisation is lazy: the
 * first slow-path allocation of any thread calls pgc__ensure_init(), which
 * reads the options and reserves the pool region, using only getenv and
 * system calls (no allocation, so nothing can recurse into it). jemalloc is
 * not touched: it initialises on the first large request, and any small
 * allocation made during its start-up is served by the pools.
 *
 * The constructor registers the fork handlers, which allocate; at that point
 * the pools already work. The destructor prints the statistics at exit.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "internal.h"

static _Atomic int initialized;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

void pgc__ensure_init(void) {
    if (pgc_likely(atomic_load_explicit(&initialized, memory_order_acquire)))
        return;
    pthread_mutex_lock(&init_lock);
    if (!atomic_load_explicit(&initialized, memory_order_relaxed)) {
        pgc__options_read();
        int ok = pgc__region_init(pgc__options.region_size);
        pgc__heaps_init();
        if (pgc__options.verbose) {
            if (ok)
                pgc__message("poolgc: pool region of %zu MiB reserved at %p (%zu arenas of 1 MiB)",
                             pgc__region.size >> 20, (void *)pgc__region.base,
                             pgc__region.size / PGC_ARENA_SIZE);
            else
                pgc__message(
                    "poolgc: no pool region could be reserved; every request goes to jemalloc");
            if (pgc__options.debug)
                pgc__message("poolgc: debug mode: every free is checked");
        }
        atomic_store_explicit(&initialized, 1, memory_order_release);
    }
    pthread_mutex_unlock(&init_lock);
}

/* fork: take every lock so that the child finds none held mid-update. The
 * heaps' own lists need no lock: only their thread touches them. */
static void fork_prepare(void) {
    pgc__heaps_lock();
    pgc__region_lock();
}

static void fork_parent(void) {
    pgc__region_unlock();
    pgc__heaps_unlock();
}

static void fork_child(void) {
    pgc__region_after_fork_child();
    pgc__heaps_after_fork_child();
}

__attribute__((constructor)) static void pgc_constructor(void) {
    pgc__ensure_init();
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

__attribute__((destructor)) static void pgc_destructor(void) {
    if (pgc__options.stats != PGC_STATS_OFF)
        pgc__stats_at_exit();
}
