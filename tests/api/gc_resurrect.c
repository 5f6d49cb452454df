/* gc_resurrect - a finalizer that stores a new reference to its object keeps
 * it, and the whole cycle it belongs to, alive (reported as uncollectable);
 * dropped again, the cycle is collected and the finalizers do not run twice.
 * The same through reference counting: a resurrected object is tracked
 * again and its second death skips finalize. */
#include "gc_test.h"

static void *saved;
static int finalize_calls;

static void res_finalize(void *obj) {
    finalize_calls++;
    if (((node *)obj)->id == 1)
        saved = pgc_incref(obj);
}
static const pgc_type res_type = {"res", node_traverse, res_finalize, node_release};

static node *res_new(long id) {
    node *n = pgc_new(&res_type, sizeof(node));
    n->id = id;
    return n;
}

int main(void) {
    node *a = res_new(1), *b = res_new(2);
    node_set(a, 0, b);
    node_set(b, 0, a);
    pgc_decref(a);
    pgc_decref(b);

    pgc_gen_stats st[3];
    CHECK(pgc_collect(2) == 2, "the cycle was not found unreachable");
    CHECK(finalize_calls == 2, "finalize calls %d", finalize_calls);
    CHECK(nodes_released == 0, "a resurrected cycle was freed");
    CHECK(saved == a && pgc_refcount(a) == 2 && pgc_refcount(b) == 1, "counts %zu %zu",
          pgc_refcount(a), pgc_refcount(b));
    CHECK(pgc_is_tracked(a) && pgc_is_tracked(b), "resurrected objects untracked");
    CHECK(pgc_is_finalized(a) && pgc_is_finalized(b), "finalized flags not set");
    pgc_get_stats(st);
    CHECK(st[2].uncollectable == 2 && st[2].collected == 0, "stats %zu collected %zu uncollectable",
          st[2].collected, st[2].uncollectable);
    CHECK(pgc_collect(2) == 0, "kept alive by `saved`, yet found");

    pgc_decref(saved);
    CHECK(pgc_collect(2) == 2, "dropped again, not found");
    CHECK(finalize_calls == 2 && nodes_released == 2, "finalize %d released %zu", finalize_calls,
          nodes_released);

    /* reference counting */
    node *c = res_new(1);
    saved = NULL;
    pgc_decref(c);
    CHECK(saved == c && nodes_released == 2, "not resurrected");
    CHECK(pgc_refcount(c) == 1 && pgc_is_tracked(c), "count %zu tracked %d", pgc_refcount(c),
          pgc_is_tracked(c));
    pgc_decref(c);
    CHECK(finalize_calls == 3 && nodes_released == 3, "finalize %d released %zu", finalize_calls,
          nodes_released);
    return check_done();
}
