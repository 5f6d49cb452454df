/*
 * exports - the standard names (lib/exports.c) are thin shells over the
 * front end: mallinfo2 gives the snapshot's numbers (arena: bytes of the
 * mapped arenas, ordblks: those arenas, hblkhd: jemalloc's bytes, uordblks:
 * bytes in use in pools and jemalloc, fordblks: free bytes in held pools),
 * mallinfo the same clamped to int; malloc_usable_size is pgc_usable_size;
 * valloc and pvalloc give whole pages (pvalloc(0): one); reallocarray
 * refuses an overflowing product with ENOMEM and keeps the block; mallopt
 * accepts anything; free_sized does not trust its size.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "../check.h"

void free_sized(void *p, size_t size); /* C23: not in glibc 2.36's headers */

#pragma GCC diagnostic ignored "-Wdeprecated-declarations" /* mallinfo */

static size_t clamped(size_t v) {
    return v > INT32_MAX ? INT32_MAX : v;
}

int main(void) {
    void *small = malloc(100), *large = malloc(200000);
    struct mallinfo2 mi = mallinfo2();
    pgc_snapshot s;
    pgc__stats_snapshot(&s);
    CHECK(
        mi.arena == s.region.arenas_mapped * PGC_ARENA_SIZE && mi.ordblks == s.region.arenas_mapped,
        "arena %zu, ordblks %zu; %zu arenas mapped", mi.arena, mi.ordblks, s.region.arenas_mapped);
    CHECK(mi.hblkhd == s.jemalloc_bytes && mi.hblkhd >= 200000, "hblkhd %zu, jemalloc %zu",
          mi.hblkhd, s.jemalloc_bytes);
    CHECK(mi.uordblks == s.pool_bytes_in_use + s.jemalloc_bytes && mi.fordblks == s.pool_bytes_free,
          "uordblks %zu, fordblks %zu", mi.uordblks, mi.fordblks);
    struct mallinfo m = mallinfo();
    CHECK((size_t)m.arena == clamped(mi.arena) && (size_t)m.uordblks == clamped(mi.uordblks) &&
              (size_t)m.hblkhd == clamped(mi.hblkhd),
          "mallinfo %d %d %d", m.arena, m.uordblks, m.hblkhd);

    CHECK(malloc_usable_size(small) == pgc_usable_size(small) &&
              malloc_usable_size(large) == pgc_usable_size(large) && malloc_usable_size(NULL) == 0,
          "malloc_usable_size differs from pgc_usable_size");
    void *v = valloc(1), *pv0 = pvalloc(0), *pv = pvalloc(PGC_PAGE_SIZE + 1);
    CHECK(v && (uintptr_t)v % PGC_PAGE_SIZE == 0, "valloc %p", v);
    CHECK(pv0 && (uintptr_t)pv0 % PGC_PAGE_SIZE == 0 && malloc_usable_size(pv0) >= PGC_PAGE_SIZE,
          "pvalloc(0) %p", pv0);
    CHECK(pv && (uintptr_t)pv % PGC_PAGE_SIZE == 0 && malloc_usable_size(pv) >= 2 * PGC_PAGE_SIZE,
          "pvalloc(page + 1): %zu bytes", pv ? malloc_usable_size(pv) : 0);
    volatile size_t half = SIZE_MAX / 2; /* not known at compile time: no warning */
    void *volatile kept = small;         /* nor that small survives the failure */
    errno = 0;
    CHECK(reallocarray(small, half, 3) == NULL && errno == ENOMEM, "reallocarray overflow");
    small = kept;
    memset(small, 1, 100); /* still ours */
    small = reallocarray(small, 10, 30);
    CHECK(small && malloc_usable_size(small) >= 300, "reallocarray(p, 10, 30)");
    CHECK(mallopt(M_MMAP_THRESHOLD, 1) == 1 && mallopt(-12345, 0) == 1, "mallopt refused");
    free_sized(small, 1); /* a wrong size must not matter */
    free_sized(large, 0);
    free(v);
    free(pv0);
    free(pv);
    return check_done();
}
