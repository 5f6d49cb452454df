/*
 * region_ownership - "is p a pool block?" (lib/internal.h): blocks of
 * 1..512 bytes lie in the pool region and their pool header (p rounded down
 * to 16 KiB) names the right class, for interior pointers too; blocks of 513
 * bytes and more, over-aligned blocks, stack and static addresses and NULL
 * are outside it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "../check.h"

static int global_var;

int main(void) {
    int local = 0;
    void *warm = malloc(16); /* start-up done, region reserved */
    if (pgc__region.base == 0) {
        fprintf(stderr, "note: no pool region here (ulimit?); nothing to check\n");
        free(warm);
        return 77;
    }
    for (size_t n = 1; n <= PGC_SMALL_MAX; n++) {
        char *p = malloc(n);
        CHECK(pgc_in_region(p), "malloc(%zu) = %p is not in the region", n, (void *)p);
        if (pgc_in_region(p)) {
            pgc_pool *pool = pgc_pool_of(p);
            size_t want = pgc_class_size(pgc_class_index(n));
            CHECK(pool->block_size == want && pool->cls == pgc_class_index(n),
                  "malloc(%zu): pool says %u bytes, class %u", n, pool->block_size, pool->cls);
            CHECK(pgc_pool_of(p + n - 1) == pool, "malloc(%zu): last byte in another pool", n);
        }
        free(p);
    }
    void *big = malloc(PGC_SMALL_MAX + 1), *aligned = aligned_alloc(64, 64);
    CHECK(!pgc_in_region(big), "malloc(%d) = %p is in the region", PGC_SMALL_MAX + 1, big);
    CHECK(!pgc_in_region(aligned), "aligned_alloc(64, 64) = %p is in the region", aligned);
    CHECK(!pgc_in_region(&local) && !pgc_in_region(&global_var) && !pgc_in_region(NULL),
          "stack, static or NULL address in the region");
    free(big);
    free(aligned);
    free(warm);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    return 0;
}
