/*
 * init.c - start-up, the lock order, fork, and exit.
 *
 * The first allocation can come before any constructor runs (the dynamic
 * loader, other libraries' constructors), so initialisation is lazy: the
 * first slow-path allocation of any thread calls pgc__init_ensure(), which
 * reads the options and reserves the pool region, using only getenv and
 * system calls (no allocation, so nothing can recurse into it). jemalloc is
 * not touched: it initialises on the first large request, and any pool-sized
 * allocation made during its start-up is served by the pools.
 *
 * The locks, in the order they are taken (a thread holding one may take
 * those below it, never those above):
 *
 *   1. the GC lock      pgc_lock(), gc/object.c: held by the program around
 *                       GC calls, which allocate
 *   2. the prof lock    prof.c (POOLGC_PROF): the heap profiler's tables and
 *                       pools, taken by sampled allocations and their frees
 *                       (with none of 3 to 5 held) and by a profile dump
 *   3. the heaps lock   heap.c: the list of heaps, adoption at thread start
 *                       and exit, reclaiming abandoned heaps
 *   4. the region lock  region.c: arenas and the pools they hand out
 *   5. the init lock    here: start-up only
 *   6. the boot lock    large.c: held while jemalloc starts (it takes only
 *                       jemalloc's own locks inside)
 *   7. the sizes lock   valgrind.c: only under a valgrind tool that
 *                       replaces malloc; nothing is taken inside it
 *   7. the quarantine lock  debug.c: POOLGC_DEBUG only; nothing is taken
 *                       inside it
 *
 * jemalloc's own locks sit below all of these (the large path is called
 * with none of them held, or from under 3 and 4 only when giving memory
 * back). The embedded jemalloc's fork handlers are run by poolgc's, after
 * 1 to 7 (large.c: registered with glibc, they ran first, and a fork while
 * a thread started jemalloc deadlocked on the boot lock).
 *
 * Below everything, the region's tail lock (region.c: the end of the pool
 * region), taken inside 4. pgc__region_shrink, which any failed mapping may
 * call (os.c) with any of the above or jemalloc's held, only tries 4 and the
 * tail lock, never waits for them. fork does not take the tail lock; the
 * child makes it anew (pgc__region_after_fork_child).
 *
 * fork: the constructor registers the only pthread_atfork handlers of
 * poolgc and its jemalloc, below. prepare takes every lock in the order above, so that the
 * child finds none held mid-update; the parent releases them in reverse; the
 * child re-creates them (the GC lock held again if the forking thread held
 * it) and orphans the heaps of the threads that did not survive (heap.c). The
 * heaps' own lists need no lock: only their thread touches them.
 *
 * The constructor starts the heap profiler (POOLGC_PROF) once the program's
 * start-up has begun: its first backtrace() loads libgcc_s, which allocates,
 * so it must not happen inside the first malloc. The destructor writes the
 * heap profile and prints the statistics at exit (not at _exit(), which runs
 * no destructors).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "gc/internal.h"
#include "debug.h"
#include "internal.h"
#include "prof.h"

static _Atomic int initialized;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

void pgc__init_ensure(void) {
    if (pgc_likely(atomic_load_explicit(&initialized, memory_order_acquire)))
        return;
    pthread_mutex_lock(&init_lock);
    if (!atomic_load_explicit(&initialized, memory_order_relaxed)) {
        pgc__message_init();
        pgc__size_class_init();
        pgc__options_read();
        if (pgc__valgrind_init())
            pgc__options.region_size = 0; /* the tool's malloc serves everything */
        /* POOLGC_DEBUG: debug.c takes the calls from now on (debug.h) */
        pgc__debug_on = pgc__options.debug != 0;
        int ok = pgc__region_init(pgc__options.region_size);
        pgc__heap_setup();
        if (pgc__options.verbose) {
            if (ok)
                pgc__message(
                    "poolgc: pool region of %zu MiB reserved at %p (%zu arenas of %zu KiB)",
                    pgc__region.size >> 20, (void *)pgc__region.base,
                    pgc__region.size / PGC_ARENA_SIZE, PGC_ARENA_SIZE >> 10);
            else
                pgc__message(
                    "poolgc: no pool region could be reserved; every request goes to jemalloc");
            if (pgc__options.debug)
                pgc__message("poolgc: debug mode: every block checked (guard bytes, fill "
                             "patterns, a quarantine, a leak summary at exit)");
            if (pgc__valgrind_aside)
                pgc__message("poolgc: a valgrind tool replaces malloc: its allocator serves "
                             "every request");
        }
        atomic_store_explicit(&initialized, 1, memory_order_release);
    }
    pthread_mutex_unlock(&init_lock);
}

static void fork_prepare(void) {
    pgc__object_fork_prepare();
    pgc__prof_fork_prepare();
    pgc__heap_list_lock();
    pgc__region_lock();
    pthread_mutex_lock(&init_lock);
    pgc__large_fork_prepare();
    pgc__valgrind_fork_prepare();
    pgc__debug_fork_prepare();
    pgc__large_jemalloc_fork_prepare();
}

static void fork_parent(void) {
    pgc__large_jemalloc_fork_parent();
    pgc__debug_fork_parent();
    pgc__valgrind_fork_parent();
    pgc__large_fork_parent();
    pthread_mutex_unlock(&init_lock);
    pgc__region_unlock();
    pgc__heap_list_unlock();
    pgc__prof_fork_parent();
    pgc__object_fork_parent();
}

static void fork_child(void) {
    pgc__large_jemalloc_fork_child();
    pgc__debug_fork_child();
    pgc__valgrind_fork_child();
    pgc__large_fork_child();
    pthread_mutex_init(&init_lock, NULL);
    pgc__region_after_fork_child();
    pgc__heap_after_fork_child();
    pgc__prof_fork_child();
    pgc__object_fork_child();
}

/* glibc calls ELF constructors with main's arguments (as it calls main);
 * argv[0] names the program in the statistics report. */
__attribute__((constructor)) static void pgc_constructor(int argc, char **argv, char **envp) {
    (void)envp;
    pgc__stats_remember_program(argc > 0 && argv ? argv[0] : NULL);
    pgc__init_ensure();
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    if (!pgc__options.debug)
        pgc__prof_start(); /* POOLGC_DEBUG wins over POOLGC_PROF */
}

__attribute__((destructor)) static void pgc_destructor(void) {
    pgc__debug_at_exit(); /* POOLGC_DEBUG: the quarantine, the leak summary */
    pgc__prof_at_exit();
    if (pgc__options.stats != PGC_STATS_OFF)
        pgc__stats_at_exit();
}
