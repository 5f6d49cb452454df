/* gc_reachable_cycle - a cycle reachable from a live object survives every
 * collection with its reference counts unchanged; once the root lets go it
 * is collected. */
#include "gc_test.h"

int main(void) {
    node *root = node_new(0), *a = node_new(1), *b = node_new(2);
    void *leaf = leaf_new();
    node_set(a, 0, b);
    node_set(b, 0, a);
    node_set(b, 1, leaf);
    node_set(root, 0, a);
    pgc_decref(a);
    pgc_decref(b);
    pgc_decref(leaf);
    size_t before[4] = {pgc_refcount(root), pgc_refcount(a), pgc_refcount(b), pgc_refcount(leaf)};

    for (int gen = 0; gen <= 2; gen++)
        CHECK(pgc_collect(gen) == 0, "generation %d found garbage", gen);
    size_t after[4] = {pgc_refcount(root), pgc_refcount(a), pgc_refcount(b), pgc_refcount(leaf)};
    for (int i = 0; i < 4; i++)
        CHECK(before[i] == after[i], "object %d: refcount %zu -> %zu", i, before[i], after[i]);
    CHECK(nodes_released == 0 && leaves_released == 0, "something was freed");

    pgc_decref(root); /* frees root by reference counting, not the cycle */
    CHECK(nodes_released == 1, "released %zu", nodes_released);
    CHECK(pgc_collect(2) == 2, "the cycle was not found");
    CHECK(nodes_released == 3 && leaves_released == 1, "released %zu nodes %zu leaves",
          nodes_released, leaves_released);
    return check_done();
}
