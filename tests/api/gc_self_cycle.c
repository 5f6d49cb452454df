/* gc_self_cycle - a container that references itself is not freed by
 * reference counting, and one collection frees it (pgc_collect counts it). */
#include "gc_test.h"

int main(void) {
    node *n = node_new(1);
    node_set(n, 0, n);
    CHECK(pgc_refcount(n) == 2, "refcount %zu", pgc_refcount(n));
    pgc_decref(n);
    CHECK(nodes_released == 0, "freed by reference counting");

    size_t found = pgc_collect(2);
    CHECK(found == 1, "pgc_collect found %zu", found);
    CHECK(nodes_released == 1, "released %zu", nodes_released);
    CHECK(pgc_collect(2) == 0, "second collection found garbage");
    return check_done();
}
