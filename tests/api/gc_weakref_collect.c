/* gc_weakref_collect - weak references and the collector, after CPython's
 * test_gc (test_bug1055820*, test_callback_in_cycle) and test_weakref: every
 * weak reference to garbage is cleared before any finalizer of that garbage
 * runs; callbacks run after, only for weak references that are not garbage
 * themselves (one in the cycle never calls back), and find their referent
 * gone; a callback may start a collection (it does not run) and make new
 * cycles (the next collection frees them); a weak reference made by a
 * finalizer to garbage is cleared when the garbage is freed; one to an
 * object a finalizer resurrects stays cleared (CPython's order); a leaf
 * reachable only from garbage dies with it and clears its references. */
#include "gc_test.h"

static int calls;
static void *last_ref;

static void on_death(void *ref, void *arg) {
    (void)arg;
    CHECK(pgc_weakref_get(ref) == NULL, "callback: the reference is still set");
    last_ref = ref;
    calls++;
}

/* finalizers that look at weak references to the garbage */
static void *wa, *wb;
static int finalized, saw_set;
static void look_finalize(void *obj) {
    finalized++;
    void *a = pgc_weakref_get(wa), *b = pgc_weakref_get(wb);
    saw_set += (a != NULL) + (b != NULL);
    pgc_decref(a);
    pgc_decref(b);
    (void)obj;
}
static const pgc_type look_type = {"look", node_traverse, look_finalize, node_release};

/* a callback that makes a new cycle, and tries to collect */
static size_t nested;
static void make_cycle(void *ref, void *arg) {
    (void)ref;
    (void)arg;
    calls++;
    nested = pgc_collect(2);
    node *a = node_new(10), *b = node_new(11);
    node_set(a, 0, b);
    node_set(b, 0, a);
    pgc_decref(a);
    pgc_decref(b);
}

/* a finalizer that makes a weak reference to its (garbage) object */
static void *late_ref;
static void late_finalize(void *obj) {
    late_ref = pgc_weakref_new(obj, on_death, NULL);
}
static const pgc_type late_type = {"late", node_traverse, late_finalize, node_release};

/* a finalizer that resurrects its object */
static void *saved;
static void res_finalize(void *obj) {
    saved = pgc_incref(obj);
}
static const pgc_type res_type = {"res", node_traverse, res_finalize, node_release};

static void cycle(node *a, node *b) {
    node_set(a, 0, b);
    node_set(b, 0, a);
    pgc_decref(a);
    pgc_decref(b);
}

int main(void) {
    pgc_disable();

    /* cleared before finalizers; called back after, referent gone */
    node *a = pgc_new(&look_type, sizeof(node)), *b = pgc_new(&look_type, sizeof(node));
    wa = pgc_weakref_new(a, on_death, NULL);
    wb = pgc_weakref_new(b, NULL, NULL);
    cycle(a, b);
    CHECK(pgc_collect(2) == 2, "cycle not found");
    CHECK(finalized == 2 && saw_set == 0, "finalizers saw %d set weak references", saw_set);
    CHECK(calls == 1 && last_ref == wa && nodes_released == 2, "%d calls, released %zu", calls,
          nodes_released);
    pgc_decref(wa);
    pgc_decref(wb);

    /* a weak reference in the cycle: garbage itself, no callback; one held
     * by the cycle and by a live object calls back */
    calls = 0;
    a = node_new(1);
    b = node_new(2);
    void *inner = pgc_weakref_new(b, on_death, NULL);
    void *shared = pgc_weakref_new(a, on_death, NULL);
    node_set(a, 1, inner);
    node_set(b, 1, shared);
    pgc_decref(inner);
    node *holder = node_new(3);
    node_set(holder, 0, shared);
    pgc_decref(shared);
    cycle(a, b);
    CHECK(pgc_collect(2) == 2, "cycle with weak references not found");
    CHECK(calls == 1 && last_ref == shared, "%d calls (the one in the cycle must not call)", calls);
    CHECK(pgc_refcount(shared) == 1 && pgc_weakref_get(shared) == NULL, "shared reference");
    pgc_decref(holder);

    /* a callback that collects (nothing runs) and makes a new cycle */
    calls = 0;
    a = node_new(4);
    b = node_new(5);
    void *w = pgc_weakref_new(a, make_cycle, NULL);
    cycle(a, b);
    size_t released = nodes_released;
    CHECK(pgc_collect(2) == 2 && calls == 1 && nested == 0, "collect %d calls, nested %zu", calls,
          nested);
    CHECK(nodes_released == released + 2, "released %zu", nodes_released - released);
    CHECK(pgc_collect(2) == 2, "the callback's cycle was not found next time");
    pgc_decref(w);

    /* a finalizer makes a weak reference to garbage: cleared when freed */
    calls = 0;
    a = pgc_new(&late_type, sizeof(node));
    b = node_new(6);
    cycle(a, b);
    CHECK(pgc_collect(2) == 2, "late cycle not found");
    CHECK(late_ref && calls == 1 && last_ref == late_ref, "late reference: %d calls", calls);
    pgc_decref(late_ref);

    /* resurrected by its finalizer: its weak references stay cleared */
    calls = 0;
    a = pgc_new(&res_type, sizeof(node));
    b = node_new(7);
    w = pgc_weakref_new(a, on_death, NULL);
    cycle(a, b);
    CHECK(pgc_collect(2) == 2 && saved == a, "resurrection");
    CHECK(calls == 1 && pgc_weakref_get(w) == NULL && pgc_refcount(a) == 2, "%d calls, count %zu",
          calls, pgc_refcount(a));
    CHECK(pgc_weakref_count(a) == 0, "count %zu", pgc_weakref_count(a));
    pgc_decref(w);
    node_set(a, 0, NULL);
    pgc_decref(saved);

    /* a leaf reachable only from garbage dies with it */
    calls = 0;
    a = node_new(8);
    b = node_new(9);
    void *leaf = leaf_new();
    node_set(a, 2, leaf);
    w = pgc_weakref_new(leaf, on_death, NULL);
    pgc_decref(leaf);
    cycle(a, b);
    released = leaves_released;
    CHECK(pgc_collect(2) == 2 && leaves_released == released + 1, "leaf not freed");
    CHECK(calls == 1 && last_ref == w && pgc_weakref_get(w) == NULL, "leaf: %d calls", calls);
    pgc_decref(w);

    CHECK(pgc_collect(2) == 0 && pgc_get_objects(-1, NULL, 0) == 0, "objects left");
    pgc_check();
    return check_done();
}
