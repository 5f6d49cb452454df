/*
 * gc/introspect.c - the gc module's queries: pgc_get_objects,
 * pgc_get_referents, pgc_get_referrers.
 *
 * Each fills a caller's array with up to cap borrowed pointers (no reference
 * taken) and returns how many there are in all, so a caller can size its
 * array with a first call (buf NULL, cap 0). They read the generation lists
 * and call traverse functions only: nothing is allocated, nothing changes.
 * Generation 2 includes, in incremental mode, the old objects the current
 * pass has not scanned yet. Like CPython's, pgc_get_objects leaves out the
 * permanent generation of pgc_freeze(); pgc_get_referrers includes it (every
 * tracked container).
 */
#include <errno.h>

#include "internal.h"

typedef struct {
    void **buf;
    size_t cap, n;
} result;

static void put(result *r, void *obj) {
    if (r->n < r->cap)
        r->buf[r->n] = obj;
    r->n++;
}

static void put_list(result *r, const pgc_gc_link *list) {
    for (const pgc_gc_link *l = pgc_gc_next(list); l != list; l = pgc_gc_next(l))
        put(r, pgc_obj_of(l));
}

PGC_API size_t pgc_get_objects(int generation, void **buf, size_t cap) {
    result r = {buf, buf ? cap : 0, 0};
    int first = generation, last = generation;
    if (generation == -1) {
        first = 0;
        last = PGC_GENERATIONS - 1;
    } else if (generation < 0 || generation >= PGC_GENERATIONS) {
        errno = EINVAL;
        return 0;
    }
    for (int g = first; g <= last; g++) {
        put_list(&r, &pgc__gc.gen[g].head);
        if (g == PGC_OLDEST)
            put_list(&r, &pgc__gc.unscanned);
    }
    return r.n;
}

static void visit_referent(void *child, void *arg) {
    if (child)
        put(arg, child);
}

/* Run obj's traverse, marked as the library's (no API call from there). */
static void traverse(void *obj, const pgc_type *t, pgc_visit_fn visit, void *arg) {
    pgc__gc.traversing = obj;
    t->traverse(obj, visit, arg);
    pgc__gc.traversing = NULL;
}

PGC_API size_t pgc_get_referents(void *obj, void **buf, size_t cap) {
    result r = {buf, buf ? cap : 0, 0};
    const pgc_type *t = pgc_ob_type(pgc__object_check("pgc_get_referents", obj));
    pgc_check_not_traversing("pgc_get_referents", obj);
    if (t->traverse)
        traverse(obj, t, visit_referent, &r);
    return r.n;
}

typedef struct {
    const void *target;
    int found;
} search;

// cppcheck-suppress constParameter ; a pgc_visit_fn
static void visit_search(void *child, void *arg) {
    search *s = arg;
    if (child == s->target)
        s->found = 1;
}

static void search_list(result *r, const void *obj, const pgc_gc_link *list) {
    for (const pgc_gc_link *l = pgc_gc_next(list); l != list; l = pgc_gc_next(l)) {
        void *container = pgc_obj_of(l);
        search s = {obj, 0};
        traverse(container, pgc_ob_type(pgc_ob(container)), visit_search, &s);
        if (s.found)
            put(r, container); /* once, however many references it holds */
    }
}

PGC_API size_t pgc_get_referrers(void *obj, void **buf, size_t cap) {
    result r = {buf, buf ? cap : 0, 0};
    pgc__object_check("pgc_get_referrers", obj);
    pgc_check_not_traversing("pgc_get_referrers", obj);
    for (int g = 0; g < PGC_GENERATIONS; g++)
        search_list(&r, obj, &pgc__gc.gen[g].head);
    search_list(&r, obj, &pgc__gc.unscanned);
    search_list(&r, obj, &pgc__gc.permanent);
    return r.n;
}
