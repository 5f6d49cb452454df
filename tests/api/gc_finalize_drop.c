/* gc_finalize_drop - a finalizer run by the collector may drop references it
 * owns (breaking a self-reference, or its link to the next object of its
 * cycle): an unreachable object whose count reaches zero that way is freed
 * with the garbage, once, its own finalizer run first. An object counts as
 * collected only when it is freed: with X <-> Y, X's finalizer dropping the
 * last reference to Y and Y's finalizer resurrecting Y, nothing is freed,
 * and the collection reports 0 collected, 2 uncollectable; the same when X's
 * finalizer untracks Y. (The misuse, a finalizer dropping a reference it
 * does not own, is in gc_misuse.) */
#include "gc_test.h"

static int finalized[8];
static void *saved;

/* id 0..2, 4: drop the reference in slot 0 (owned); id 3: resurrect;
 * id 5: untrack what slot 0 holds */
static void drop_finalize(void *obj) {
    node *n = obj;
    finalized[n->id]++;
    if (n->id == 3) {
        saved = pgc_incref(n);
        return;
    }
    if (n->id == 5) {
        pgc_untrack(n->child[0]);
        return;
    }
    void *c = n->child[0];
    n->child[0] = NULL;
    pgc_decref(c);
}
static const pgc_type drop_type = {"drop", node_traverse, drop_finalize, node_release};

static node *drop_new(long id) {
    node *n = pgc_new(&drop_type, sizeof(node));
    n->id = id;
    return n;
}

static pgc_collect_info last;
static void on_collect(int phase, const pgc_collect_info *info, void *arg) {
    (void)arg;
    if (phase == PGC_STOP)
        last = *info;
}

int main(void) {
    pgc_disable();
    pgc_callback_add(on_collect, NULL);

    /* a self-reference, broken by its own finalizer */
    node *self = drop_new(0);
    node_set(self, 0, self);
    pgc_decref(self);
    CHECK(pgc_collect(2) == 1, "self cycle not found");
    CHECK(finalized[0] == 1 && nodes_released == 1, "finalized %d released %zu", finalized[0],
          nodes_released);
    CHECK(last.collected == 1 && last.uncollectable == 0, "info %zu collected %zu uncollectable",
          last.collected, last.uncollectable);

    /* 1 -> 2 -> 1: 1's finalizer drops 2's last reference before 2's own
     * finalizer has run; 2's then drops its reference to 1 */
    node *a = drop_new(1), *b = drop_new(2);
    node_set(a, 0, b);
    node_set(b, 0, a);
    pgc_decref(a);
    pgc_decref(b);
    CHECK(pgc_collect(2) == 2, "cycle not found");
    CHECK(finalized[1] == 1 && finalized[2] == 1 && nodes_released == 3,
          "finalized %d %d released %zu", finalized[1], finalized[2], nodes_released);
    CHECK(last.collected == 2 && last.uncollectable == 0, "info %zu collected %zu uncollectable",
          last.collected, last.uncollectable);

    /* X <-> Y: X's finalizer drops Y's last reference, Y's resurrects Y */
    node *x = drop_new(4), *y = drop_new(3);
    node_set(x, 0, y);
    node_set(y, 1, x); /* slot 1: Y's finalizer keeps it */
    pgc_decref(x);
    pgc_decref(y);
    pgc_gen_stats before[3], after[3];
    pgc_get_stats(before);
    CHECK(pgc_collect(2) == 2, "X and Y not found unreachable");
    pgc_get_stats(after);
    CHECK(finalized[4] == 1 && finalized[3] == 1, "finalized %d %d", finalized[4], finalized[3]);
    CHECK(nodes_released == 3, "released %zu: a resurrected object was freed", nodes_released);
    CHECK(saved == y && pgc_refcount(y) == 1 && pgc_refcount(x) == 1, "counts %zu %zu",
          pgc_refcount(y), pgc_refcount(x));
    CHECK(last.collected == 0 && last.uncollectable == 2,
          "info %zu collected %zu uncollectable, want 0 and 2", last.collected, last.uncollectable);
    CHECK(after[2].collected - before[2].collected == 0 &&
              after[2].uncollectable - before[2].uncollectable == 2,
          "stats %zu collected %zu uncollectable", after[2].collected - before[2].collected,
          after[2].uncollectable - before[2].uncollectable);
    pgc_decref(saved); /* Y dies by count, and X with it */
    CHECK(nodes_released == 5 && finalized[3] == 1 && finalized[4] == 1,
          "released %zu, finalized %d %d", nodes_released, finalized[3], finalized[4]);

    /* X <-> Y: X's finalizer untracks Y, which leaves the collection */
    x = drop_new(5);
    y = node_new(6);
    node_set(x, 0, y);
    node_set(y, 0, x);
    pgc_decref(x);
    pgc_decref(y);
    CHECK(pgc_collect(2) == 2 && finalized[5] == 1 && nodes_released == 5, "untracked: %zu",
          nodes_released);
    CHECK(last.collected == 0 && last.uncollectable == 2,
          "untracked: info %zu collected %zu uncollectable, want 0 and 2", last.collected,
          last.uncollectable);
    node_set(x, 0, NULL); /* Y dies, and X with it */
    CHECK(nodes_released == 7, "released %zu", nodes_released);
    CHECK(pgc_collect(2) == 0, "garbage left");
    return check_done();
}
