/*
 * exports.c - the standard C allocation names, exported so that a program
 * and every library in it allocate through poolgc when it is preloaded or
 * linked. Each is a thin shell over the pgc_* functions (alloc.c), with the
 * fast paths inlined for malloc and free.
 *
 * glibc's __libc_* names are deliberately not exported: pointers that
 * reach us from glibc's own allocator are handed back to it (large.c).
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "alloc_inline.h"

PGC_API void *malloc(size_t size) {
    return pgc_malloc_fast(size);
}
PGC_API void free(void *p) {
    pgc_free_fast(p);
}
PGC_API void *calloc(size_t nmemb, size_t size) {
    return pgc_calloc(nmemb, size);
}
PGC_API void *realloc(void *p, size_t size) {
    return pgc_realloc(p, size);
}

PGC_API void *reallocarray(void *p, size_t nmemb, size_t size) {
    size_t bytes;
    if (__builtin_mul_overflow(nmemb, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    return pgc_realloc(p, bytes);
}

PGC_API int posix_memalign(void **memptr, size_t alignment, size_t size) {
    return pgc_posix_memalign(memptr, alignment, size);
}
PGC_API void *aligned_alloc(size_t alignment, size_t size) {
    return pgc__alloc_memalign(alignment, size);
}
PGC_API void *memalign(size_t alignment, size_t size) {
    return pgc__alloc_memalign(alignment, size);
}
PGC_API void *valloc(size_t size) {
    return pgc__alloc_memalign(PGC_PAGE_SIZE, size);
}

/* pvalloc: the size rounded up to whole pages; pvalloc(0) is one page. */
PGC_API void *pvalloc(size_t size) {
    size_t rounded;
    if (__builtin_add_overflow(size, PGC_PAGE_SIZE - 1, &rounded)) {
        errno = ENOMEM;
        return NULL;
    }
    rounded &= ~(PGC_PAGE_SIZE - 1);
    return pgc__alloc_memalign(PGC_PAGE_SIZE, rounded ? rounded : PGC_PAGE_SIZE);
}

PGC_API size_t malloc_usable_size(void *p) {
    return pgc_usable_size(p);
}

/* C23; not declared by glibc 2.36's headers. */
PGC_API void free_sized(void *p, size_t size);
PGC_API void free_aligned_sized(void *p, size_t alignment, size_t size);
void free_sized(void *p, size_t size) {
    (void)size; /* not trusted: a wrong size must not corrupt the heap */
    pgc_free_fast(p);
}
void free_aligned_sized(void *p, size_t alignment, size_t size) {
    (void)alignment;
    (void)size; /* not trusted: a wrong size must not corrupt the heap */
    pgc_free_fast(p);
}

/* ---- glibc's extras ------------------------------------------------------ */

PGC_API int malloc_trim(size_t pad) {
    return pgc_trim(pad);
}

/* Options of glibc's allocator mean nothing here: accept them all. */
PGC_API int mallopt(int param, int value) {
    (void)param;
    (void)value;
    return 1;
}

PGC_API void malloc_stats(void) {
    pgc_stats_print(stderr);
}

static size_t clamp_int(size_t v) {
    return v > INT32_MAX ? INT32_MAX : v;
}

PGC_API struct mallinfo2 mallinfo2(void) {
    pgc_snapshot s;
    pgc__stats_snapshot(&s);
    struct mallinfo2 mi = {0};
    mi.arena = s.region.arenas_mapped * PGC_ARENA_SIZE; /* pool arenas */
    mi.ordblks = s.region.arenas_mapped;
    mi.hblkhd = s.jemalloc_bytes;                         /* the large path */
    mi.uordblks = s.pool_bytes_in_use + s.jemalloc_bytes; /* in use */
    mi.fordblks = s.pool_bytes_free;                      /* free in held pools */
    return mi;
}

PGC_API struct mallinfo mallinfo(void) {
    struct mallinfo2 m2 = mallinfo2();
    struct mallinfo mi = {0};
    mi.arena = (int)clamp_int(m2.arena);
    mi.ordblks = (int)clamp_int(m2.ordblks);
    mi.hblkhd = (int)clamp_int(m2.hblkhd);
    mi.uordblks = (int)clamp_int(m2.uordblks);
    mi.fordblks = (int)clamp_int(m2.fordblks);
    return mi;
}
