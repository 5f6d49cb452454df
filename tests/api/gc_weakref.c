/* gc_weakref - weak references (CPython's weakref) and reference counting:
 * pgc_weakref_get gives a new reference while the referent lives and NULL
 * once it died; pgc_weakref_count counts the weak references to an object;
 * a death runs finalize first (the references are still set: it may
 * resurrect through one), then clears them and runs their callbacks, newest
 * first, before the object's own references are dropped; a callback may
 * drop the last reference to its own weak reference; one that died before
 * its referent never calls back; leaves, and weak references themselves, can
 * be weakly referenced. */
#include "gc_test.h"

static int calls;
static void *called[8];   /* the refs, in call order */
static size_t child_seen; /* the referent's child's count during a call */
static node *watched_child;

static void on_death(void *ref, void *arg) {
    CHECK(pgc_weakref_get(ref) == NULL, "the reference is not cleared in its callback");
    CHECK(arg == &calls, "arg %p", arg);
    if (calls < 8)
        called[calls] = ref;
    calls++;
    if (watched_child)
        child_seen = pgc_refcount(watched_child);
}

static void drop_own(void *ref, void *arg) {
    (void)arg;
    calls++;
    pgc_decref(ref); /* the test's only reference: handed to the callback */
}

/* a finalizer that resurrects its object through a weak reference */
static void *resurrect_ref, *saved;
static int res_finalized;
static void res_finalize(void *obj) {
    res_finalized++;
    saved = pgc_weakref_get(resurrect_ref);
    CHECK(saved == obj, "finalize: weak reference cleared too early (%p)", saved);
}
static const pgc_type res_type = {"res", node_traverse, res_finalize, node_release};

int main(void) {
    /* get and count */
    node *obj = node_new(1), *child = node_new(2);
    node_set(obj, 0, child);
    void *w1 = pgc_weakref_new(obj, NULL, NULL);
    CHECK(w1 && pgc_refcount(w1) == 1 && pgc_refcount(obj) == 1, "weakref_new: %p, count %zu", w1,
          pgc_refcount(obj));
    CHECK(pgc_type_of(w1) && pgc_type_of(w1)->traverse == NULL, "a weak reference is a leaf");
    CHECK(pgc_weakref_count(obj) == 1 && pgc_weakref_count(w1) == 0, "counts %zu %zu",
          pgc_weakref_count(obj), pgc_weakref_count(w1));
    void *got = pgc_weakref_get(w1);
    CHECK(got == obj && pgc_refcount(obj) == 2, "get: %p count %zu", got, pgc_refcount(obj));
    pgc_decref(got);
    void *w2 = pgc_weakref_new(obj, on_death, &calls);
    void *w3 = pgc_weakref_new(obj, on_death, &calls);
    void *w4 = pgc_weakref_new(obj, on_death, &calls);
    CHECK(pgc_weakref_count(obj) == 4, "count %zu", pgc_weakref_count(obj));
    pgc_decref(w3); /* dies first: never calls back */
    CHECK(pgc_weakref_count(obj) == 3, "count %zu after a weak reference died",
          pgc_weakref_count(obj));

    /* death: callbacks newest first, before obj's references are dropped */
    watched_child = child;
    pgc_decref(child); /* obj holds the only reference now */
    pgc_decref(obj);
    CHECK(calls == 2 && called[0] == w4 && called[1] == w2, "%d calls", calls);
    CHECK(child_seen == 1, "the child's count was %zu during the callbacks", child_seen);
    CHECK(nodes_released == 2, "released %zu", nodes_released);
    CHECK(pgc_weakref_get(w1) == NULL && pgc_weakref_get(w2) == NULL, "not cleared");
    watched_child = NULL;
    pgc_decref(w1);
    pgc_decref(w2);
    pgc_decref(w4);

    /* a callback that drops the last reference to its weak reference, whose
     * own weak reference then calls back */
    node *o = node_new(3);
    void *w = pgc_weakref_new(o, drop_own, NULL);
    void *ww = pgc_weakref_new(w, on_death, &calls);
    calls = 0;
    pgc_decref(o);
    CHECK(calls == 2 && called[1] == ww, "%d calls", calls);
    CHECK(pgc_weakref_get(ww) == NULL, "the weak reference to the weak reference is set");
    pgc_decref(ww);

    /* leaves */
    void *leaf = leaf_new();
    void *wl = pgc_weakref_new(leaf, on_death, &calls);
    calls = 0;
    CHECK(pgc_weakref_count(leaf) == 1, "leaf count %zu", pgc_weakref_count(leaf));
    pgc_decref(leaf);
    CHECK(calls == 1 && leaves_released == 1, "leaf: %d calls, released %zu", calls,
          leaves_released);
    CHECK(pgc_weakref_get(wl) == NULL, "leaf reference not cleared");
    pgc_decref(wl);

    /* finalize runs first and may resurrect through a weak reference */
    node *r = pgc_new(&res_type, sizeof(node));
    resurrect_ref = pgc_weakref_new(r, on_death, &calls);
    calls = 0;
    pgc_decref(r);
    CHECK(res_finalized == 1 && saved == r && calls == 0, "finalized %d calls %d", res_finalized,
          calls);
    CHECK(pgc_weakref_get(resurrect_ref) == r && pgc_refcount(r) == 2, "resurrected: count %zu",
          pgc_refcount(r));
    pgc_decref(r);
    pgc_decref(saved); /* second death: no finalize, cleared, called back */
    CHECK(res_finalized == 1 && calls == 1 && pgc_weakref_get(resurrect_ref) == NULL,
          "finalized %d calls %d", res_finalized, calls);
    pgc_decref(resurrect_ref);

    CHECK(pgc_get_objects(-1, NULL, 0) == 0, "objects left");
    pgc_check();
    return check_done();
}
