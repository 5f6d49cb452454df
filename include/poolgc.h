/*
 * poolgc.h - the public interface of poolgc.
 *
 * poolgc replaces malloc: requests up to 8 KiB are served from per-thread
 * pymalloc-style pools (pymalloc's own classes up to 512 bytes, then medium
 * ones), larger or over-aligned ones by jemalloc. Preloaded
 * (LD_PRELOAD=libpoolgc.so) it serves every standard allocation call of a
 * program; linked (-lpoolgc) the pgc_* names below can be called directly.
 *
 * On top of the pools, an opt-in object layer gives reference-counted,
 * type-tagged objects with CPython-style generational cycle detection.
 * See poolgc(3) and pgc_gc(3).
 *
 * This header needs C99 or later, or C++11 or later: it uses variadic macros
 * and long long, so it does not compile as C89/C90 (-std=c89, -ansi). It is
 * clean under -std=c99 -pedantic -Wall -Wextra (tests/api/header_pedantic.sh).
 * Compiler extensions (__attribute__, __builtin_expect, and with them the
 * inline reference counts) are used only where __GNUC__ is defined.
 */
#ifndef POOLGC_H
#define POOLGC_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PGC_MALLOC_ATTR(...) __attribute__((malloc, warn_unused_result, __VA_ARGS__))
#define PGC_ALLOC_SIZE(n) alloc_size(n)
#define PGC_ALLOC_SIZE2(n, m) alloc_size(n, m)
#define PGC_REALLOC_ATTR(n) __attribute__((warn_unused_result, alloc_size(n)))
#define PGC_WARN_UNUSED_RESULT __attribute__((warn_unused_result))
#else
#define PGC_MALLOC_ATTR(...)
#define PGC_REALLOC_ATTR(n)
#define PGC_WARN_UNUSED_RESULT
#endif

/* ---- Allocation (the standard names are aliases of these) ------------- */

/* All of these are thread-safe: no pgc_lock() is needed. */

/* malloc: at least `size` bytes aligned to 16; NULL and errno = ENOMEM on failure. */
void *pgc_malloc(size_t size) PGC_MALLOC_ATTR(PGC_ALLOC_SIZE(1));
/* calloc: zeroed; NULL and errno = ENOMEM when nmemb * size overflows. */
void *pgc_calloc(size_t nmemb, size_t size) PGC_MALLOC_ATTR(PGC_ALLOC_SIZE2(1, 2));
/* realloc: realloc(NULL, n) mallocs; realloc(p, 0) frees p and returns NULL.
 * Not `malloc`: the block it returns may be ptr's, with ptr's contents. */
void *pgc_realloc(void *ptr, size_t size) PGC_REALLOC_ATTR(2);
/* free: NULL is a no-op; errno is preserved. */
void pgc_free(void *ptr);
/* malloc_usable_size: bytes usable at ptr (>= the request); 0 for NULL. */
size_t pgc_usable_size(const void *ptr);
/* posix_memalign: 0, EINVAL (alignment not a power of two multiple of
 * sizeof(void *)) or ENOMEM; *memptr is untouched on error. */
int pgc_posix_memalign(void **memptr, size_t alignment, size_t size);
/* aligned_alloc: glibc 2.36 semantics (any alignment, rounded up to a power
 * of two; size need not be a multiple of it). */
void *pgc_aligned_alloc(size_t alignment, size_t size) PGC_MALLOC_ATTR(PGC_ALLOC_SIZE(2));
/* malloc_trim: return empty arenas and jemalloc's unused pages to the OS.
 * Returns 1 if memory was released, 0 otherwise. */
int pgc_trim(size_t pad);
/* Print the per-class statistics report (see poolgc(3)) to `out`. */
void pgc_stats_print(FILE *out);
/* Check poolgc's structures: the calling thread's heap and its pools, the
 * arenas, and the GC layer's generation lists (taking pgc_lock()). Returns
 * when all keep their invariants; otherwise prints one line naming the
 * broken invariant and aborts. Costs a walk of every structure: for tests
 * and for hunting a corruption, not for production paths. */
void pgc_check(void);

/* ---- Heap profiling (POOLGC_PROF, see poolgc(3)) ------------------------ */

/* Write the heap profile sampled so far (gperftools' format, for
 * google-pprof or jeprof) to `path`, or with path NULL to PREFIX.<pid>.heap,
 * PREFIX being POOLGC_PROF's value. Thread-safe: other threads keep
 * allocating and wait only while the samples are written out. Returns 0, or
 * -1 with errno set: EINVAL when the process is not profiling (POOLGC_PROF
 * unset or empty), or open(2)'s or write(2)'s errno. */
int pgc_prof_dump(const char *path);

/* ---- GC objects (pgc_gc(3)) ------------------------------------------- */

/* Every object carries a hidden header before the pointer pgc_new returns:
 * its reference count and its type, and for containers (types with a
 * traverse function) the links of the collector's generation lists.
 *
 * What the comments of this section and the next say:
 * - NEW: a reference the caller now owns; it gives it up with pgc_decref()
 *   or moves it by storing the pointer where a reference belongs.
 *   BORROWED: a pointer without a count, valid only while something else
 *   keeps the object alive (pgc_incref() it to keep it). An `obj` argument is
 *   borrowed by the call: no function takes or drops a caller's reference
 *   except pgc_decref().
 * - "Lock: needed": when more than one thread uses GC objects, the call is
 *   made with pgc_lock() held (see there). A program in which only one
 *   thread ever uses GC objects needs no lock.
 * - `obj` must be a live GC object: NULL (except for pgc_incref and
 *   pgc_decref) or a freed or foreign pointer is misuse, which prints one
 *   line on stderr and aborts (pgc_gc(3), "Misuse"). */

/* A visit function, given to a type's traverse: called once for each
 * reference the object holds. `child` is BORROWED and may be NULL (ignored);
 * visiting takes no reference. Runs on the thread running traverse (lock held
 * when needed). */
typedef void (*pgc_visit_fn)(void *child, void *arg);

/* An object's type. The program owns it, and it must outlive every object of
 * its type (a static const structure is usual). The library calls its
 * functions on whichever thread drops the last reference or runs a collection
 * (lock held when needed). */
typedef struct pgc_type {
    const char *name; /* for messages and debug output; may be NULL */
    /* Report every GC object this object holds a reference to, with
     * visit(child, arg), and do nothing else: no allocation, no count change,
     * no call into this API (misuse, caught: pgc_gc(3)). NULL: a leaf, never
     * tracked by the cycle detector. */
    void (*traverse)(void *obj, pgc_visit_fn visit, void *arg);
    /* Optional; runs at most once per object before it is freed, with all its
     * references still valid. It may drop references the object owns (a
     * self-reference too), and must not drop one it does not own. May
     * resurrect the object by storing a new reference to it. */
    void (*finalize)(void *obj);
    /* Optional; frees resources that are not GC objects, after the library
     * dropped the references traverse reports (count 0). */
    void (*release)(void *obj);
} pgc_type;

/* A new object of `size` zeroed bytes, aligned to 16, refcount 1.
 * Returns a NEW reference, or NULL with errno = ENOMEM (out of memory, or
 * size plus the header overflows). Containers are tracked from birth; leaves
 * never are. `type` must outlive the object; NULL is misuse. May first run an
 * automatic collection (with its finalizers and callbacks). Lock: needed.
 * Only warn_unused_result: not `malloc`, since a container is on the
 * collector's lists from birth, so pgc_get_objects() and traverse reach it
 * before the caller hands the pointer anywhere, and a compiler told that no
 * other pointer can would drop or reorder stores through it; not
 * `alloc_size`, since the inline pgc_incref/pgc_decref read the 8 bytes before
 * the object, which GCC would then report with -Warray-bounds. */
void *pgc_new(const pgc_type *type, size_t size) PGC_WARN_UNUSED_RESULT;
/* Returns obj's reference count; 0 while obj is being destroyed (queued for
 * deallocation, or in its release). Lock: needed. */
size_t pgc_refcount(const void *obj);
/* Returns obj's type, the pointer given to pgc_new: BORROWED from the
 * program, which owns the type (types have no count). Lock: needed. */
const pgc_type *pgc_type_of(const void *obj);
/* Put a container back on the collector's lists (generation 0); no-op if
 * tracked. A leaf, or an object being destroyed, is misuse. Lock: needed. */
void pgc_track(void *obj);
/* Take a container off the collector's lists: it stays reference counted but
 * is never scanned, so only for objects that cannot be part of a cycle. No-op
 * for an untracked container or a leaf. Lock: needed. */
void pgc_untrack(void *obj);
/* Returns 1 if obj is a tracked container, else 0. Lock: needed. */
int pgc_is_tracked(const void *obj);
/* Returns 1 once obj's finalize has run, else 0. Lock: needed. */
int pgc_is_finalized(const void *obj);

/* pgc_incref adds one to obj's count and returns obj: the caller owns the
 * reference just added (a NEW reference; `p->next = pgc_incref(q);`).
 * pgc_decref gives up one reference the caller owns; it returns nothing. Both
 * ignore NULL. A count reaching zero runs finalize, drops the references
 * traverse reports, runs release, frees (dead objects are queued, never
 * destroyed recursively). Misuse (a count already zero, a freed or foreign
 * pointer) aborts with a message. Lock: needed.
 * Calls are inlined (macros over static inline functions, which fall back on
 * the exported functions for everything but the common case) unless
 * PGC_NO_INLINE is defined before this header; `(pgc_decref)(obj)` or a
 * function pointer always reaches the exported function. */
void *pgc_incref(void *obj);
void pgc_decref(void *obj);

/* Implementation details, not API: the PGC__ names (double underscore) are
 * shared with lib/ and may change in any release. The layout of an object's
 * reference-count word, the 8 bytes before the object: the tag in the bits
 * from PGC__RC_TAG_SHIFT up, a count or a link below.
 *   PGC__RC_LIVE + n     a live object with count n (n < PGC__RC_LIMIT;
 *                        n == 0 while it is torn down)
 *   PGC__RC_PENDING | l  count reached zero, queued for deallocation (l
 *                        links the queue)
 *   PGC__RC_FREED        memory given back (until reused)
 *   anything else        not a GC object
 * The inline versions handle a live count away from the edges and leave every
 * other value to the exported functions. */
#define PGC__RC_TAG_SHIFT 48
#define PGC__RC_LIVE (0x9c5aULL << PGC__RC_TAG_SHIFT)
#define PGC__RC_PENDING (0x9c5bULL << PGC__RC_TAG_SHIFT)
#define PGC__RC_FREED (0x9c5cULL << PGC__RC_TAG_SHIFT)
#define PGC__RC_LIMIT (1ULL << PGC__RC_TAG_SHIFT)

#if !defined(PGC_NO_INLINE) && defined(__GNUC__)
static inline void *pgc__incref_inline(void *obj) {
    if (__builtin_expect(obj != 0, 1)) {
        unsigned long long *rc = (unsigned long long *)obj - 1;
        /* one compare: live object and 1 <= count < limit - 1 */
        if (__builtin_expect(*rc - (PGC__RC_LIVE + 1) < PGC__RC_LIMIT - 2, 1)) {
            ++*rc;
            return obj;
        }
    }
    void *(*exported)(void *) = pgc_incref; /* not the macro below */
    return exported(obj);                   /* NULL, count at a limit, or misuse */
}

static inline void pgc__decref_inline(void *obj) {
    if (__builtin_expect(obj != 0, 1)) {
        unsigned long long *rc = (unsigned long long *)obj - 1;
        /* one compare: live object and 2 <= count < limit */
        if (__builtin_expect(*rc - (PGC__RC_LIVE + 2) < PGC__RC_LIMIT - 2, 1)) {
            --*rc;
            return;
        }
    }
    (pgc_decref)(obj); /* NULL, count 1 (deallocate), or misuse */
}
#define pgc_incref(obj) pgc__incref_inline(obj)
#define pgc_decref(obj) pgc__decref_inline(obj)
#endif

/* ---- The collector ------------------------------------------------------ */

/* The number of generations, 0 (youngest) to 2 (oldest), not counting the
 * permanent one of pgc_freeze(): the length of the arrays below. */
#define PGC_GENERATIONS 3

/* Collect `generation` (0, 1 or 2) and the younger ones, even while automatic
 * collection is disabled; runs the callbacks, and the finalizers of the
 * unreachable objects. Returns the number of unreachable tracked objects
 * found: the garbage freed (or kept, under PGC_DEBUG_SAVEALL) plus those a
 * finalizer resurrected. Any other generation: returns 0, errno = EINVAL.
 * Called during a collection (from a callback or a finalizer): does nothing,
 * returns 0. Lock: needed. */
size_t pgc_collect(int generation);
/* Turn automatic collection (started from pgc_new) on, the initial state,
 * or off. Lock: needed. */
void pgc_enable(void);
void pgc_disable(void);
/* Returns 1 if automatic collection is on, else 0. Lock: needed. */
int pgc_is_enabled(void);
/* Set the thresholds (CPython's defaults: 700, 10, 10): generation 0 is
 * collected when its count exceeds t0, an older one when its count exceeds
 * its threshold too (see pgc_gc(3)). t0 == 0 turns automatic collection off.
 * Lock: needed. */
void pgc_set_threshold(long t0, long t1, long t2);
/* Fill out with the three thresholds. Lock: needed. */
void pgc_get_threshold(long out[PGC_GENERATIONS]);
/* Fill out with the counts: for generation 0, containers allocated minus
 * deallocated since its last collection; for 1 and 2, collections of the next
 * younger generation since their own last one. Lock: needed. */
void pgc_get_count(long out[PGC_GENERATIONS]);
/* Move every tracked object into the permanent generation, which no
 * collection scans (before fork(): children then do not copy those pages),
 * and reset generation 0's count; ends an incremental pass. Walks the objects
 * it moves once. Lock: needed. */
void pgc_freeze(void);
/* Move the permanent generation's objects into generation 2 (one walk over
 * them). Lock: needed. */
void pgc_unfreeze(void);
/* Returns how many objects the permanent generation holds. Lock: needed. */
size_t pgc_get_freeze_count(void);

/* The phase given to a pgc_callback_fn. */
enum { PGC_START = 0, PGC_STOP = 1 };
/* What a callback is told: the generation collected (2 for an increment)
 * and, at PGC_STOP, the unreachable objects freed (or kept, under
 * PGC_DEBUG_SAVEALL) and the other unreachable ones, which finalizers
 * resurrected (both 0 at PGC_START). */
typedef struct pgc_collect_info {
    int generation;
    size_t collected, uncollectable;
} pgc_collect_info;
/* Called at the start and the end of every collection, automatic or not, on
 * the collecting thread (lock held when needed). `info` is BORROWED, valid
 * during the call only; `arg` is the one given to pgc_callback_add. It may
 * add or remove callbacks; a collection it starts does not run. */
typedef void (*pgc_callback_fn)(int phase /* PGC_START, PGC_STOP */, const pgc_collect_info *info,
                                void *arg);
/* Register fn with arg, called after those registered before (the library
 * never reads or frees arg). Returns 0, or -1 with errno = ENOMEM.
 * Lock: needed. */
int pgc_callback_add(pgc_callback_fn fn, void *arg);
/* Remove the first registration of the pair (fn, arg). Returns 0, or -1 if
 * there is none. Lock: needed. */
int pgc_callback_remove(pgc_callback_fn fn, void *arg);

/* One generation's totals since start-up: collections of it, the collected
 * and uncollectable objects they found (as in pgc_collect_info), the time
 * they took and the longest one, in nanoseconds (finalizers and weak
 * reference callbacks included, the callbacks of pgc_callback_add not). In
 * incremental mode each increment counts as a collection of generation 2. */
typedef struct pgc_gen_stats {
    size_t collections, collected, uncollectable;
    size_t total_ns, max_pause_ns;
} pgc_gen_stats;
/* Fill out with each generation's totals. Lock: needed. */
void pgc_get_stats(pgc_gen_stats out[PGC_GENERATIONS]);

/* Incremental mode (off at start) bounds the pauses of automatic collection:
 * where generational mode would collect generation 2 whole, a pass scans it
 * in increments, at most 32, each after the collection of the younger
 * generations that was due anyway (see pgc_gc(3)). on: nonzero to turn it
 * on, 0 off (ending a pass in progress); ignored during a collection.
 * pgc_get_incremental returns 1 if it is on, else 0. Lock: needed. */
void pgc_set_incremental(int on);
int pgc_get_incremental(void);

/* These fill buf with up to cap BORROWED pointers (no count is taken) and
 * return how many there are in all, which may exceed cap; buf NULL or cap 0
 * only counts. They allocate nothing and change nothing. Lock: needed. */
/* The tracked containers of `generation`, or of all three for -1 (not the
 * permanent generation; generation 2 includes those an incremental pass has
 * not scanned yet). Any other generation: returns 0, errno = EINVAL. */
size_t pgc_get_objects(int generation, void **buf, size_t cap);
/* What obj's traverse reports, in its order, NULLs left out (none for a
 * leaf). */
size_t pgc_get_referents(void *obj, void **buf, size_t cap);
/* Every tracked container, the frozen ones included, whose traverse reports
 * obj, each once. */
size_t pgc_get_referrers(void *obj, void **buf, size_t cap);

/* Debug flags: a mask for pgc_set_debug. */
enum {
    PGC_DEBUG_STATS = 1 << 0,         /* one line per collection on stderr */
    PGC_DEBUG_COLLECTABLE = 1 << 1,   /* report collectable objects found */
    PGC_DEBUG_UNCOLLECTABLE = 1 << 2, /* report uncollectable objects found */
    PGC_DEBUG_SAVEALL = 1 << 5,       /* keep garbage for pgc_garbage() */
    PGC_DEBUG_LEAK = PGC_DEBUG_COLLECTABLE | PGC_DEBUG_UNCOLLECTABLE | PGC_DEBUG_SAVEALL,
};
/* Set the mask of PGC_DEBUG_* flags (0 at start). Lock: needed. */
void pgc_set_debug(unsigned flags);
/* Returns the mask of PGC_DEBUG_* flags. Lock: needed. */
unsigned pgc_get_debug(void);
/* Garbage kept under PGC_DEBUG_SAVEALL: moves up to cap objects, with the
 * reference the list held on each, into buf: NEW references, which the
 * caller drops with pgc_decref(). Returns how many the list held before the
 * call; buf NULL or cap 0 only counts. Lock: needed. */
size_t pgc_garbage(void **buf, size_t cap);

/* ---- Weak references ---------------------------------------------------- */

/* A weak reference's callback: called once, after the referent died and the
 * reference was cleared (pgc_weakref_get returns NULL), on the thread where
 * it died, lock held when needed. `ref` is BORROWED (the library holds a
 * reference during the call, so dropping the caller's own is fine); `arg` is
 * the one given to pgc_weakref_new. */
typedef void (*pgc_weakref_fn)(void *ref, void *arg);
/* A new weak reference to obj: a leaf GC object that does not keep obj
 * alive. When obj dies (by reference counting, after its finalize; or as
 * garbage of a collection, before any finalizer of that garbage runs) the
 * reference is cleared, then callback(ref, arg) runs unless the reference
 * itself died meanwhile. callback may be NULL; the library never reads arg.
 * Returns a NEW reference, or NULL with errno = ENOMEM. obj must be live
 * (count >= 1). Lock: needed. */
void *pgc_weakref_new(void *obj, pgc_weakref_fn callback, void *arg) PGC_WARN_UNUSED_RESULT;
/* Returns a NEW reference to ref's referent, or NULL once it died (its count
 * reached zero, or a collection found it garbage). ref must be a weak
 * reference. Lock: needed. */
void *pgc_weakref_get(void *ref);
/* Returns how many weak references point to obj now. Lock: needed. */
size_t pgc_weakref_count(const void *obj);

/* The program's lock for GC objects shared between threads (like CPython's
 * GIL): reference counts are not atomic and there is one collector per
 * process. When more than one thread uses GC objects, every call marked
 * "Lock: needed" and every change to an object's references happens with it
 * held, even for objects a thread keeps to itself: the collector, run by
 * whichever thread holds the lock, reads every tracked object. Recursive: a
 * thread holding it may take it again, and releases it as many times. fork()
 * waits for it; the child holds it as the forking thread did.
 * pgc_lock returns once the calling thread holds the lock; pgc_unlock
 * releases one level of it, and is misuse from a thread that does not hold
 * it. They need no lock themselves. */
void pgc_lock(void);
void pgc_unlock(void);

#ifdef __cplusplus
}
#endif

#endif /* POOLGC_H */
