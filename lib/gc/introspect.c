/*
 * gc/introspect.c - the gc module's queries: pgc_get_objects,
 * pgc_get_referents, pgc_get_referrers.
 *
 * Each fills a caller's array with up to cap borrowed pointers (no reference
 * taken) and returns how many there are in all, so a caller can size its
 * array with a first call (buf NULL, cap 0). They read the generation lists
 * and call traverse functions only: nothing is allocated, nothing changes.
 * Like CPython's, they leave out the permanent generation of pgc_freeze().
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
        pgc_gc_link *list = &pgc__gc.gen[g].head;
        for (pgc_gc_link *l = pgc_gc_next(list); l != list; l = pgc_gc_next(l))
            put(&r, pgc_obj_of(l));
    }
    return r.n;
}

static void visit_referent(void *child, void *arg) {
    if (child)
        put(arg, child);
}

PGC_API size_t pgc_get_referents(void *obj, void **buf, size_t cap) {
    result r = {buf, buf ? cap : 0, 0};
    const pgc_type *t = pgc_ob_type(pgc__object_check("pgc_get_referents", obj));
    if (t->traverse)
        t->traverse(obj, visit_referent, &r);
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

PGC_API size_t pgc_get_referrers(void *obj, void **buf, size_t cap) {
    result r = {buf, buf ? cap : 0, 0};
    pgc__object_check("pgc_get_referrers", obj);
    for (int g = 0; g < PGC_GENERATIONS; g++) {
        pgc_gc_link *list = &pgc__gc.gen[g].head;
        for (pgc_gc_link *l = pgc_gc_next(list); l != list; l = pgc_gc_next(l)) {
            void *container = pgc_obj_of(l);
            search s = {obj, 0};
            pgc_ob_type(pgc_ob(container))->traverse(container, visit_search, &s);
            if (s.found)
                put(&r, container); /* once, however many references it holds */
        }
    }
    return r.n;
}
