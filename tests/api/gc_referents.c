/* gc_referents - pgc_get_referents lists exactly what traverse reports (no
 * NULLs, duplicates kept); pgc_get_referrers lists each tracked container
 * holding a reference once (the object itself if it refers to itself);
 * pgc_get_objects lists tracked containers by generation, never leaves or
 * untracked ones; all return the full count when the array is too small. */
#include <errno.h>

#include "gc_test.h"

static int contains(void **v, size_t n, void *x) {
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return 1;
    return 0;
}

int main(void) {
    node *a = node_new(1), *b = node_new(2), *c = node_new(3), *u = node_new(4);
    void *leaf = leaf_new();
    void *buf[8];
    node_set(a, 0, b);
    node_set(a, 1, leaf);
    node_set(a, 3, b); /* slot 2 stays NULL */
    node_set(c, 0, b);
    node_set(b, 0, b);
    node_set(u, 0, b);
    pgc_untrack(u);

    size_t n = pgc_get_referents(a, buf, 8);
    CHECK(n == 3 && buf[0] == b && buf[1] == leaf && buf[2] == b, "referents of a: %zu", n);
    CHECK(pgc_get_referents(leaf, buf, 8) == 0, "a leaf has referents");
    CHECK(pgc_get_referents(a, buf, 1) == 3 && buf[0] == b, "short array");

    n = pgc_get_referrers(b, buf, 8);
    CHECK(n == 3 && contains(buf, n, a) && contains(buf, n, b) && contains(buf, n, c),
          "referrers of b: %zu (the untracked one is invisible)", n);
    n = pgc_get_referrers(leaf, buf, 8);
    CHECK(n == 1 && buf[0] == a, "referrers of leaf: %zu", n);
    CHECK(pgc_get_referrers(c, buf, 8) == 0, "c has referrers");

    n = pgc_get_objects(0, buf, 8);
    CHECK(n == 3 && contains(buf, n, a) && contains(buf, n, b) && contains(buf, n, c),
          "generation 0: %zu", n);
    CHECK(pgc_get_objects(1, buf, 8) == 0, "generation 1 not empty");
    pgc_collect(0); /* survivors move to generation 1 */
    CHECK(pgc_get_objects(0, buf, 8) == 0 && pgc_get_objects(1, buf, 8) == 3,
          "survivors not moved to generation 1");
    CHECK(pgc_get_objects(-1, buf, 2) == 3, "all generations, short array");
    errno = 0;
    CHECK(pgc_get_objects(3, buf, 8) == 0 && errno == EINVAL, "generation 3 accepted");

    pgc_decref(u);
    node_set(b, 0, NULL);
    pgc_decref(a);
    pgc_decref(b);
    pgc_decref(c);
    pgc_decref(leaf);
    CHECK(nodes_released == 4 && leaves_released == 1, "not all freed");
    return check_done();
}
