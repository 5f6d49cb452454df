/* gc_cycle_leaves - objects reachable only from a garbage cycle go with it:
 * leaves hanging off the cycle, and an untracked container holding one. */
#include "gc_test.h"

int main(void) {
    node *a = node_new(1), *b = node_new(2), *u = node_new(3);
    void *l1 = leaf_new(), *l2 = leaf_new(), *shared = leaf_new();
    node_set(a, 0, b);
    node_set(b, 0, a);
    node_set(a, 1, l1);
    node_set(b, 1, l2);
    node_set(a, 2, shared);
    node_set(b, 2, shared);
    pgc_untrack(u); /* an untracked container is reference counted only */
    node_set(u, 0, leaf_new());
    pgc_decref(u->child[0]);
    node_set(a, 3, u);
    pgc_decref(u);
    pgc_decref(l1);
    pgc_decref(l2);
    pgc_decref(shared);
    pgc_decref(a);
    pgc_decref(b);
    CHECK(nodes_released == 0 && leaves_released == 0, "freed early");

    size_t found = pgc_collect(2);
    CHECK(found == 2, "found %zu, want the 2 tracked cycle members", found);
    CHECK(nodes_released == 3, "nodes released %zu, want 3", nodes_released);
    CHECK(leaves_released == 4, "leaves released %zu, want 4", leaves_released);
    return check_done();
}
