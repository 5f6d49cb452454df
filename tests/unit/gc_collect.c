/*
 * gc_collect - the collector (lib/gc/collect.c) and the lists it works on
 * (lib/gc/internal.h):
 * - list helpers: append keeps order; remove and merge keep the flags of
 *   the neighbours; move keeps the moved node's flags; merge empties its
 *   source;
 * - a collection of generation 0 frees an unreachable cycle and nothing
 *   else: an object first met with no outside reference but reachable from
 *   a survivor is moved back (CPython's move_unreachable); survivors join
 *   generation 1 with clean prev words (pgc__collect_check), and the counts
 *   and statistics follow CPython's rules; a collection of generation 1
 *   adds its survivors to long_lived_pending.
 */
#include "gc/internal.h"
#include "../check.h"

typedef struct node {
    struct node *child;
} node;

static int released;
static void traverse(void *obj, pgc_visit_fn visit, void *arg) {
    visit(((node *)obj)->child, arg);
}
static void release(void *obj) {
    (void)obj;
    released++;
}
static const pgc_type node_type = {"node", traverse, NULL, release};

static node *make(void) {
    return pgc_new(&node_type, sizeof(node));
}

int main(void) {
    pgc_gc_link list, other, n[3];
    pgc_list_init(&list);
    pgc_list_init(&other);
    for (int i = 0; i < 3; i++)
        pgc_list_append(&n[i], &list);
    CHECK(pgc_list_size(&list) == 3 && pgc_gc_next(&list) == &n[0] && pgc_gc_prev(&list) == &n[2],
          "append");
    n[1].prev |= PGC_PREV_COLLECTING;
    n[2].prev |= PGC_PREV_UNREACHABLE;
    pgc_list_remove(&n[0]);
    CHECK(n[0].next == 0 && pgc_gc_prev(&n[1]) == &list &&
              (n[1].prev & PGC_PREV_FLAGS) == PGC_PREV_COLLECTING,
          "remove lost a neighbour's flags");
    pgc_list_move(&n[2], &other);
    CHECK(pgc_gc_next(&other) == &n[2] && (n[2].prev & PGC_PREV_FLAGS) == PGC_PREV_UNREACHABLE &&
              pgc_list_size(&list) == 1,
          "move lost the node's flags");
    pgc_list_merge(&other, &list);
    CHECK(pgc_list_is_empty(&other) && pgc_list_size(&list) == 2 && pgc_gc_next(&n[1]) == &n[2] &&
              pgc_gc_prev(&n[2]) == &n[1] && (n[1].prev & PGC_PREV_COLLECTING),
          "merge");

    pgc_disable();
    /* w first: it is scanned before z, the survivor that reaches it. */
    node *w = make(), *x = make(), *y = make(), *z = make();
    x->child = y;             /* x holds the reference pgc_new gave for y */
    y->child = pgc_incref(x); /* y holds a second reference to x */
    z->child = w;             /* z holds w's; we hold z's */
    pgc_decref(x);            /* x <-> y: reachable from nowhere now */
    size_t gen1 = pgc_list_size(&pgc__gc.gen[1].head);
    long count1 = pgc__gc.gen[1].count;
    pgc_gen_stats before = pgc__gc.stats[0];
    CHECK(pgc__collect_run(0) == 2 && released == 2, "found the cycle? released %d", released);
    CHECK(pgc_list_is_empty(&pgc__gc.gen[0].head) && pgc__gc.gen[0].count == 0 &&
              pgc__gc.gen[1].count == count1 + 1,
          "generation 0 not emptied, or counts wrong");
    CHECK(pgc_list_size(&pgc__gc.gen[1].head) == gen1 + 2 && pgc_is_tracked(z) &&
              pgc_is_tracked(w) && pgc_refcount(w) == 1,
          "survivors z and w not in generation 1");
    CHECK(pgc__gc.stats[0].collections == before.collections + 1 &&
              pgc__gc.stats[0].collected == before.collected + 2,
          "statistics");
    pgc__collect_check();

    size_t pending = pgc__gc.long_lived_pending, survivors = pgc_list_size(&pgc__gc.gen[1].head);
    CHECK(pgc__collect_run(1) == 0 && pgc__gc.long_lived_pending == pending + survivors,
          "long_lived_pending %zu -> %zu", pending, pgc__gc.long_lived_pending);
    pgc_decref(z);
    CHECK(released == 4, "z and w not freed with z's last reference");
    pgc__collect_check();
    return check_done();
}
