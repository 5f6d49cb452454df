/*
 * alloc - the front end (lib/alloc.c):
 * - a request of 1..PGC_MEDIUM_LIMIT bytes, small or medium, comes from a
 *   pool of the smallest class that holds it (its pool header names the
 *   class, for its last byte too) and its usable size is the class size;
 *   larger requests, and alignments above PGC_ALIGNMENT, go to jemalloc;
 * - calloc zeroes the whole usable size of a reused block, small, medium or
 *   large, and refuses an overflowing product with ENOMEM;
 * - realloc: NULL is malloc; size 0 frees and returns NULL; a size within
 *   the block's class, or a shrink by less than a quarter, keeps the block;
 *   other sizes move it with its contents, between the tiers and across the
 *   pool/jemalloc line both ways;
 * - memalign rounds an alignment up to a power of two, takes alignments up
 *   to PGC_ALIGNMENT as plain malloc, and refuses one above SIZE_MAX/2 + 1.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "../check.h"

int main(void) {
    pgc_free(pgc_malloc(1));
    if (!pgc__region.base) {
        fprintf(stderr, "note: no pool region here (ulimit -v?); nothing to check\n");
        return 77;
    }
    for (size_t n = 1; n <= PGC_MEDIUM_LIMIT; n++) {
        char *p = pgc_malloc(n);
        pgc_pool *pool = pgc_in_region(p) ? pgc_pool_of(p) : NULL;
        CHECK(pool && pool->cls == pgc_size_class(n) && pgc_pool_of(p + n - 1) == pool &&
                  pgc_usable_size(p) == pgc_class_size(pool->cls),
              "malloc(%zu) = %p: not a block of class %u", n, (void *)p, pgc_size_class(n));
        pgc_free(p);
    }
    void *big = pgc_malloc(PGC_MEDIUM_LIMIT + 1), *aligned = pgc__alloc_memalign(64, 64);
    CHECK(big && !pgc_in_region(big), "malloc(%zu) = %p in the region",
          (size_t)PGC_MEDIUM_LIMIT + 1, big);
    CHECK(aligned && !pgc_in_region(aligned) && (uintptr_t)aligned % 64 == 0, "memalign(64) %p",
          aligned);
    pgc_free(big);
    pgc_free(aligned);

    const size_t sizes[] = {40, PGC_SMALL_MAX, 3000, PGC_MEDIUM_LIMIT, 3 * PGC_MEDIUM_LIMIT};
    for (int i = 0; i < 5; i++) {
        unsigned char *p = pgc_malloc(sizes[i]);
        memset(p, 0xff, pgc_usable_size(p));
        pgc_free(p);
        unsigned char *z = pgc_calloc(1, sizes[i] - 1);
        CHECK(z && check_all_bytes(z, 0, pgc_usable_size(z)), "calloc(%zu) left bytes of %zu",
              sizes[i], pgc_usable_size(z));
        pgc_free(z);
    }
    volatile size_t half = SIZE_MAX / 2; /* not known at compile time: no warning */
    errno = 0;
    CHECK(pgc_calloc(half, 3) == NULL && errno == ENOMEM, "calloc overflow");

    unsigned char *p = pgc_realloc(NULL, 33);
    CHECK(p && pgc_usable_size(p) == 48 && pgc_realloc(p, 48) == p, "33 -> 48 moved");
    pgc_free(p);
    p = pgc_malloc(512);
    memset(p, 9, 512);
    CHECK(pgc_realloc(p, 400) == p, "512 -> 400 (less than a quarter) moved");
    unsigned char *q = pgc_realloc(p, 100);
    CHECK(q != p && pgc_usable_size(q) == 112 && check_all_bytes(q, 9, 100), "512 -> 100 kept %zu",
          pgc_usable_size(q));
    /* Medium blocks: kept within their class (one byte above the class
     * below) or shrinking by less than a quarter, moved otherwise; up to
     * the largest class in the pools, past it to jemalloc. */
    unsigned char *m = pgc_realloc(q, 8192);
    size_t below = pgc_class_size(pgc_medium_class(8192) - 1);
    CHECK(m && pgc_in_region(m) && pgc_usable_size(m) == 8192 && check_all_bytes(m, 9, 100),
          "100 -> 8192 not moved to a medium class of its own");
    memset(m, 9, 8192);
    CHECK(below > 6144 && pgc_realloc(m, below + 1) == m, "8192 -> %zu (the same class) moved",
          below + 1);
    CHECK(pgc_realloc(m, below) == m, "8192 -> %zu (the class below, less than a quarter) moved",
          below);
    unsigned char *m2 = pgc_realloc(m, 4096);
    CHECK(m2 != m && pgc_usable_size(m2) == 4096 && check_all_bytes(m2, 9, 4096),
          "8192 -> 4096 (shrinking by half) kept");
    CHECK(pgc_realloc(m2, 3088) == m2, "4096 -> 3088 (less than a quarter) moved");
    unsigned char *top = pgc_realloc(m2, PGC_MEDIUM_LIMIT);
    CHECK(top && pgc_in_region(top) && pgc_usable_size(top) == PGC_MEDIUM_LIMIT &&
              check_all_bytes(top, 9, 3088),
          "4096 -> %zu not moved to the largest medium class", (size_t)PGC_MEDIUM_LIMIT);
    unsigned char *l = pgc_realloc(top, 3 * PGC_MEDIUM_LIMIT);
    CHECK(l && !pgc_in_region(l) && check_all_bytes(l, 9, 3088),
          "medium -> %zu not moved to jemalloc", (size_t)3 * PGC_MEDIUM_LIMIT);
    unsigned char *md = pgc_realloc(l, 1000);
    CHECK(md && pgc_in_region(md) && pgc_pool_of(md)->cls == pgc_medium_class(1000) &&
              check_all_bytes(md, 9, 1000),
          "%zu -> 1000 not moved to a medium pool", (size_t)3 * PGC_MEDIUM_LIMIT);
    unsigned char *s = pgc_realloc(md, 200);
    CHECK(s && pgc_in_region(s) && pgc_usable_size(s) == 208 && check_all_bytes(s, 9, 200),
          "1000 -> 200 not moved to a small pool");
    CHECK(pgc_realloc(s, 0) == NULL, "realloc(p, 0) returned a block");

    void *a8 = pgc__alloc_memalign(8, 10), *a24 = pgc__alloc_memalign(24, 10);
    CHECK(pgc_in_region(a8) && a24 && (uintptr_t)a24 % 32 == 0, "memalign 8: %p, 24: %p", a8, a24);
    errno = 0;
    CHECK(pgc__alloc_memalign(SIZE_MAX / 2 + 2, 1) == NULL && errno == EINVAL,
          "huge alignment accepted");
    pgc_free(a8);
    pgc_free(a24);
    return check_done();
}
