/*
 * poolgc.h - the public interface of poolgc.
 *
 * poolgc replaces malloc: requests up to 512 bytes are served from per-thread
 * pymalloc-style pools, larger or over-aligned ones by jemalloc. Preloaded
 * (LD_PRELOAD=libpoolgc.so) it serves every standard allocation call of a
 * program; linked (-lpoolgc) the pgc_* names below can be called directly.
 *
 * On top of the pools, an opt-in object layer gives reference-counted,
 * type-tagged objects with CPython-style generational cycle detection.
 * See poolgc(3) and pgc_gc(3).
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
#else
#define PGC_MALLOC_ATTR(...)
#endif

/* ---- Allocation (the standard names are aliases of these) ------------- */

/* malloc: at least `size` bytes aligned to 16; NULL and errno = ENOMEM on failure. */
void *pgc_malloc(size_t size) PGC_MALLOC_ATTR(PGC_ALLOC_SIZE(1));
/* calloc: zeroed; NULL and errno = ENOMEM when nmemb * size overflows. */
void *pgc_calloc(size_t nmemb, size_t size) PGC_MALLOC_ATTR(PGC_ALLOC_SIZE2(1, 2));
/* realloc: realloc(NULL, n) mallocs; realloc(p, 0) frees p and returns NULL. */
void *pgc_realloc(void *ptr, size_t size) __attribute__((warn_unused_result, alloc_size(2)));
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

/* ---- GC objects (pgc_gc(3)) ------------------------------------------- */

/* Every object carries a hidden header before the pointer pgc_new returns:
 * its reference count and its type, and for containers (types with a
 * traverse function) the links of the collector's generation lists.
 * Reference counts are not atomic: see pgc_lock() below. */

typedef void (*pgc_visit_fn)(void *child, void *arg);

typedef struct pgc_type {
    const char *name;
    /* Report every GC object this object holds a reference to. NULL: a leaf,
     * never tracked by the cycle detector. */
    void (*traverse)(void *obj, pgc_visit_fn visit, void *arg);
    /* Optional; runs at most once per object before it is freed. May resurrect
     * the object by storing a new reference to it. */
    void (*finalize)(void *obj);
    /* Optional; frees resources that are not GC objects. */
    void (*release)(void *obj);
} pgc_type;

/* A new object of `size` zeroed bytes, refcount 1. NULL and ENOMEM on failure.
 * Containers are tracked from birth; leaves never are. `type` must outlive
 * the object. */
void *pgc_new(const pgc_type *type, size_t size);
size_t pgc_refcount(const void *obj);
const pgc_type *pgc_type_of(const void *obj);
void pgc_track(void *obj);   /* containers only; no-op if tracked */
void pgc_untrack(void *obj); /* no-op if untracked */
int pgc_is_tracked(const void *obj);
int pgc_is_finalized(const void *obj);

/* pgc_incref returns obj; both ignore NULL. A count reaching zero runs
 * finalize, drops the references traverse reports, runs release, frees.
 * Misuse (a count already zero, a freed or foreign pointer) aborts with a
 * message. Calls are inlined (macros over static inline functions, which fall
 * back on the exported functions for everything but the common case) unless
 * PGC_NO_INLINE is defined before this header; `(pgc_decref)(obj)` or a
 * function pointer always reaches the exported function. */
void *pgc_incref(void *obj);
void pgc_decref(void *obj);

/* Implementation detail of the inline versions, not API: the 8 bytes before
 * an object hold PGC__RC_LIVE + its count (counts stay below 2^48); any other
 * value there, or a count at the edges, is left to the exported functions. */
#define PGC__RC_LIVE (0x9c5aULL << 48)
#define PGC__RC_LIMIT (1ULL << 48)

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

size_t pgc_collect(int generation); /* 0, 1, 2; returns garbage found */
void pgc_enable(void);
void pgc_disable(void);
int pgc_is_enabled(void);
void pgc_set_threshold(long t0, long t1, long t2);
void pgc_get_threshold(long out[3]);
void pgc_get_count(long out[3]);
void pgc_freeze(void);
void pgc_unfreeze(void);
size_t pgc_get_freeze_count(void);

enum { PGC_START = 0, PGC_STOP = 1 };
typedef struct pgc_collect_info {
    int generation;
    size_t collected, uncollectable;
} pgc_collect_info;
typedef void (*pgc_callback_fn)(int phase /* PGC_START, PGC_STOP */, const pgc_collect_info *info,
                                void *arg);
int pgc_callback_add(pgc_callback_fn fn, void *arg);    /* 0, or -1 and ENOMEM */
int pgc_callback_remove(pgc_callback_fn fn, void *arg); /* 0, or -1: not found */

typedef struct pgc_gen_stats {
    size_t collections, collected, uncollectable;
} pgc_gen_stats;
void pgc_get_stats(pgc_gen_stats out[3]);

/* These fill buf with up to cap borrowed pointers and return how many there
 * are in all (which may exceed cap). */
size_t pgc_get_objects(int generation, void **buf, size_t cap); /* -1: all; returns count */
size_t pgc_get_referents(void *obj, void **buf, size_t cap);
size_t pgc_get_referrers(void *obj, void **buf, size_t cap);

enum {
    PGC_DEBUG_STATS = 1 << 0,         /* one line per collection on stderr */
    PGC_DEBUG_COLLECTABLE = 1 << 1,   /* report collectable objects found */
    PGC_DEBUG_UNCOLLECTABLE = 1 << 2, /* report uncollectable objects found */
    PGC_DEBUG_SAVEALL = 1 << 5,       /* keep garbage for pgc_garbage() */
    PGC_DEBUG_LEAK = PGC_DEBUG_COLLECTABLE | PGC_DEBUG_UNCOLLECTABLE | PGC_DEBUG_SAVEALL,
};
void pgc_set_debug(unsigned flags);
unsigned pgc_get_debug(void);
/* Garbage kept under PGC_DEBUG_SAVEALL: moves up to cap objects, with the
 * reference the list held on each, into buf (the caller decrefs them) and
 * returns how many the list held. buf NULL or cap 0 only counts. */
size_t pgc_garbage(void **buf, size_t cap);

/* The program's lock for GC objects shared between threads (like CPython's
 * GIL): reference counts are not atomic. Recursive. When more than one
 * thread uses GC objects, every GC call and every change to an object's
 * references happens with it held. */
void pgc_lock(void);
void pgc_unlock(void);

#ifdef __cplusplus
}
#endif

#endif /* POOLGC_H */
