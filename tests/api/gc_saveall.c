/* gc_saveall - with PGC_DEBUG_SAVEALL garbage is kept, not freed: still
 * tracked, listed by pgc_garbage, which hands the list's references over;
 * dropped, the objects are collected normally. */
#include "gc_test.h"

int main(void) {
    pgc_set_debug(PGC_DEBUG_SAVEALL);
    CHECK(pgc_get_debug() == PGC_DEBUG_SAVEALL, "get_debug %u", pgc_get_debug());
    node *a = node_new(1), *b = node_new(2);
    node_set(a, 0, b);
    node_set(b, 0, a);
    node_set(a, 1, leaf_new());
    pgc_decref(a->child[1]);
    pgc_decref(a);
    pgc_decref(b);

    CHECK(pgc_collect(2) == 2, "cycle not found");
    CHECK(nodes_released == 0 && leaves_released == 0, "saved garbage was freed");
    CHECK(pgc_garbage(NULL, 0) == 2, "garbage holds %zu", pgc_garbage(NULL, 0));
    CHECK(pgc_is_tracked(a) && pgc_refcount(a) == 2, "a: tracked %d count %zu", pgc_is_tracked(a),
          pgc_refcount(a));
    CHECK(pgc_collect(2) == 0, "saved garbage is reachable from the list");

    void *buf[1];
    CHECK(pgc_garbage(buf, 1) == 2 && (buf[0] == a || buf[0] == b), "first take");
    void *first = buf[0];
    CHECK(pgc_garbage(buf, 1) == 1 && buf[0] != first && (buf[0] == a || buf[0] == b),
          "second take");
    CHECK(pgc_garbage(NULL, 0) == 0, "list not emptied");

    pgc_set_debug(0);
    pgc_decref(a);
    pgc_decref(b);
    CHECK(pgc_collect(2) == 2, "dropped garbage not found");
    CHECK(nodes_released == 2 && leaves_released == 1, "released %zu %zu", nodes_released,
          leaves_released);
    return check_done();
}
