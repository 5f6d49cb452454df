/* gc_finalize_once - finalize runs exactly once per object, before release:
 * on a garbage cycle, on an object freed by reference counting, and when a
 * finalizer breaks its cycle so that its neighbours die by reference count
 * in the middle of the collection. */
#include "gc_test.h"

static int finalized[8], released[8];
static int order_ok = 1;

static void fin_finalize(void *obj) {
    node *n = obj;
    finalized[n->id]++;
    if (released[n->id])
        order_ok = 0;
    if (n->id == 5) { /* breaks its cycle: the library must cope */
        void *c = n->child[0];
        n->child[0] = NULL;
        pgc_decref(c);
    }
}
static void fin_release(void *obj) {
    released[((node *)obj)->id]++;
}
static const pgc_type fin_type = {"fin", node_traverse, fin_finalize, fin_release};

static node *fin_new(long id) {
    node *n = pgc_new(&fin_type, sizeof(node));
    n->id = id;
    return n;
}

int main(void) {
    /* a garbage cycle 0 -> 1 -> 2 -> 0 */
    node *c[3];
    for (int i = 0; i < 3; i++)
        c[i] = fin_new(i);
    for (int i = 0; i < 3; i++)
        node_set(c[i], 0, c[(i + 1) % 3]);
    for (int i = 0; i < 3; i++)
        pgc_decref(c[i]);
    CHECK(pgc_collect(2) == 3, "cycle not found");
    for (int i = 0; i < 3; i++)
        CHECK(finalized[i] == 1 && released[i] == 1, "object %d: finalized %d released %d", i,
              finalized[i], released[i]);

    /* reference counting */
    node *solo = fin_new(3);
    CHECK(!pgc_is_finalized(solo), "finalized too early");
    pgc_decref(solo);
    CHECK(finalized[3] == 1 && released[3] == 1, "solo: finalized %d released %d", finalized[3],
          released[3]);

    /* 4 <-> 5; 5's finalizer drops its reference to 4 */
    node *a = fin_new(4), *b = fin_new(5);
    node_set(a, 0, b);
    node_set(b, 0, a);
    pgc_decref(a);
    pgc_decref(b);
    CHECK(pgc_collect(2) == 2, "second cycle not found");
    for (int i = 4; i <= 5; i++)
        CHECK(finalized[i] == 1 && released[i] == 1, "object %d: finalized %d released %d", i,
              finalized[i], released[i]);
    CHECK(order_ok, "release ran before finalize");
    CHECK(pgc_collect(2) == 0, "garbage left");
    return check_done();
}
