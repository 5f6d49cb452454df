/*
 * debug.h - POOLGC_DEBUG, the run-time debug allocator (debug.c): every hook
 * it adds to the allocator, so that one file says everything debug mode
 * changes.
 *
 * Every mode catches a double free of a pool block (the freed mark,
 * internal.h). Debug mode makes every block a checked one (debug.c: a
 * header before it, guard bytes after it, fill patterns, a quarantine, a
 * leak summary at exit), at no cost to the fast paths when it is off:
 * - each thread's pgc__heap_tls is the sentinel heap pgc__heap_debug (heap.c)
 *   once it has allocated: its pools never have a free block and it owns no
 *   pool, so every pool malloc reaches pgc__heap_malloc_slow and every pool
 *   free reaches pgc__alloc_free_pool_slow (the owner test fails); the
 *   thread's real heap waits in pgc__debug_thread_heap;
 * - those two slow paths, the large path's entry points for malloc and free
 *   (pgc__large_malloc_plain, pgc__large_free) and the front end's calloc,
 *   realloc, usable size and memalign (alloc.c) each begin with one
 *   predictable test, pgc_debug_takes(), and hand the call to debug.c;
 * - debug.c allocates its real blocks through the same functions with
 *   pgc__debug_inside set (and its thread's real heap back in
 *   pgc__heap_tls), which the tests let through;
 * - heap.c's fork handler counts the forking thread's real heap as its own
 *   (pgc_debug_thread_heap); init.c reads the option, takes the quarantine
 *   lock around fork, prints the leak summary at exit, and does not start
 *   the heap profiler (POOLGC_PROF) in debug mode;
 *
 * This is not the debug *build* (./configure --enable-debug), which turns on
 * assertions and structure checkers: see pgc_assert in internal.h.
 */
#ifndef POOLGC_DEBUG_H
#define POOLGC_DEBUG_H

#include "internal.h"

/* -1 until the options are read (init.c), then POOLGC_DEBUG: 0 or 1. */
PGC_INTERNAL extern int pgc__debug_on;
/* Set while debug.c calls the real allocator on this thread. */
PGC_INTERNAL extern __thread int pgc__debug_inside;
/* The thread's own heap while pgc__heap_tls is pgc__heap_debug. */
PGC_INTERNAL extern __thread pgc_heap *pgc__debug_thread_heap;
/* The sentinel heap of debug mode (heap.c): no pool, never a free block. */
PGC_INTERNAL extern pgc_heap pgc__heap_debug;

/* Does debug.c take this call? Debug mode (or options not read yet) and not
 * debug.c's own call: one load and a predictable branch when it is off. */
static inline int pgc_debug_takes(void) {
    return pgc_unlikely(pgc__debug_on != 0) && !pgc__debug_inside;
}

/* The calling thread's real heap, where pgc__heap_tls is the debug sentinel. */
static inline pgc_heap *pgc_debug_thread_heap(void) {
    return pgc__heap_tls == &pgc__heap_debug ? pgc__debug_thread_heap : NULL;
}

/* Is p inside memory jemalloc mapped (large.c)? Else, out of the pool
 * region too, it is not poolgc's (glibc's, say) and passes through. */
PGC_INTERNAL int pgc__large_owns(const void *p);

/* The program's calls, in debug mode (debug.c). */
PGC_INTERNAL void *pgc__debug_malloc(size_t size);
PGC_INTERNAL void *pgc__debug_calloc(size_t nmemb, size_t size);
PGC_INTERNAL void *pgc__debug_realloc(void *p, size_t size);
PGC_INTERNAL void *pgc__debug_memalign(size_t alignment, size_t size);
PGC_INTERNAL void pgc__debug_free(void *p);
PGC_INTERNAL size_t pgc__debug_usable_size(const void *p);
/* At exit: check the quarantine, then one line per size class still in use. */
PGC_INTERNAL void pgc__debug_at_exit(void);
PGC_INTERNAL void pgc__debug_fork_prepare(void);
PGC_INTERNAL void pgc__debug_fork_parent(void);
PGC_INTERNAL void pgc__debug_fork_child(void);

#endif /* POOLGC_DEBUG_H */
