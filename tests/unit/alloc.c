/*
 * alloc - the front end (lib/alloc.c):
 * - a request of 1..PGC_SMALL_MAX bytes comes from a pool of the smallest
 *   class that holds it (its pool header names the class, for its last byte
 *   too) and its usable size is the class size; larger requests, and
 *   alignments above PGC_ALIGNMENT, go to jemalloc;
 * - calloc zeroes the whole usable size of a reused block, pool or large,
 *   and refuses an overflowing product with ENOMEM;
 * - realloc: NULL is malloc; size 0 frees and returns NULL; the same class,
 *   or a shrink by less than a quarter, keeps the block; other sizes move it
 *   with its contents, across the pool/jemalloc line both ways;
 * - memalign rounds an alignment up to a power of two, takes alignments up
 *   to PGC_ALIGNMENT as plain malloc, and refuses one above SIZE_MAX/2 + 1.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "../check.h"

static int all_bytes(const unsigned char *p, int c, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != c)
            return 0;
    return 1;
}

int main(void) {
    pgc_free(pgc_malloc(1));
    if (!pgc__region.base) {
        fprintf(stderr, "note: no pool region here (ulimit -v?); nothing to check\n");
        return 77;
    }
    for (size_t n = 1; n <= PGC_SMALL_MAX; n++) {
        char *p = pgc_malloc(n);
        pgc_pool *pool = pgc_in_region(p) ? pgc_pool_of(p) : NULL;
        CHECK(pool && pool->cls == pgc_class_index(n) && pgc_pool_of(p + n - 1) == pool &&
                  pgc_usable_size(p) == pgc_class_size(pool->cls),
              "malloc(%zu) = %p: not a block of class %u", n, (void *)p, pgc_class_index(n));
        pgc_free(p);
    }
    void *big = pgc_malloc(PGC_SMALL_MAX + 1), *aligned = pgc__alloc_memalign(64, 64);
    CHECK(big && !pgc_in_region(big), "malloc(%d) = %p in the region", PGC_SMALL_MAX + 1, big);
    CHECK(aligned && !pgc_in_region(aligned) && (uintptr_t)aligned % 64 == 0, "memalign(64) %p",
          aligned);
    pgc_free(big);
    pgc_free(aligned);

    const size_t sizes[] = {40, PGC_SMALL_MAX, 3000};
    for (int i = 0; i < 3; i++) {
        unsigned char *p = pgc_malloc(sizes[i]);
        memset(p, 0xff, pgc_usable_size(p));
        pgc_free(p);
        unsigned char *z = pgc_calloc(1, sizes[i] - 1);
        CHECK(z && all_bytes(z, 0, pgc_usable_size(z)), "calloc(%zu) left bytes of %zu", sizes[i],
              pgc_usable_size(z));
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
    CHECK(q != p && pgc_usable_size(q) == 112 && all_bytes(q, 9, 100), "512 -> 100 kept %zu",
          pgc_usable_size(q));
    unsigned char *l = pgc_realloc(q, 5000);
    CHECK(l && !pgc_in_region(l) && all_bytes(l, 9, 100), "100 -> 5000 not moved to jemalloc");
    unsigned char *s = pgc_realloc(l, 200);
    CHECK(s && pgc_in_region(s) && all_bytes(s, 9, 100), "5000 -> 200 not moved to the pools");
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
