/*
 * gc/weakref.c - weak references: pgc_weakref_new, pgc_weakref_get,
 * pgc_weakref_count, and their clearing when the referent dies.
 *
 * A weak reference is a leaf of type pgc__weakref_type. An object costs
 * nothing for them until it has one: then its type word gets
 * PGC_TYPE_WEAKREFS and a side table keyed by its address (memory from
 * pgc_malloc) holds the list of its weak references and their number. A
 * death by reference counting runs finalize (which may resurrect), then
 * clears the weak references and runs their callbacks, then drops the
 * references traverse reports (CPython's order); the collector clears them
 * before finalizers run (collect.c) and the callbacks wait for the end of
 * the collection (weak_hold), where those of weak references that died with
 * the garbage are skipped.
 */
#include <errno.h>
#include <stdint.h>

#include "internal.h"

static void weakref_release(void *ref);
const pgc_type pgc__weakref_type = {"weakref", NULL, NULL, weakref_release};

static size_t weak_home(const void *obj, size_t mask) {
    uint64_t h = ((uintptr_t)obj >> 4) * 0x9e3779b97f4a7c15u;
    return (size_t)(h ^ (h >> 29)) & mask;
}

/* obj's entry, or NULL. The table is at most half full: a probe ends. */
static pgc_weak_entry *weak_find(const void *obj) {
    if (!pgc__gc.weak_cap)
        return NULL;
    size_t mask = pgc__gc.weak_cap - 1;
    for (size_t i = weak_home(obj, mask);; i = (i + 1) & mask) {
        pgc_weak_entry *e = &pgc__gc.weak_table[i];
        if (e->obj == obj)
            return e;
        if (!e->obj)
            return NULL;
    }
}

static pgc_weak_entry *weak_slot(pgc_weak_entry *table, size_t cap, const void *obj) {
    size_t i = weak_home(obj, cap - 1);
    while (table[i].obj)
        i = (i + 1) & (cap - 1);
    return &table[i];
}

/* A new, empty entry for obj (which has none); NULL when the table cannot
 * grow. */
static pgc_weak_entry *weak_insert(const void *obj) {
    if (2 * (pgc__gc.weak_used + 1) > pgc__gc.weak_cap) {
        size_t cap = pgc__gc.weak_cap ? 2 * pgc__gc.weak_cap : 64;
        pgc_weak_entry *table = pgc_calloc(cap, sizeof *table);
        if (!table)
            return NULL;
        for (size_t i = 0; i < pgc__gc.weak_cap; i++)
            if (pgc__gc.weak_table[i].obj)
                *weak_slot(table, cap, pgc__gc.weak_table[i].obj) = pgc__gc.weak_table[i];
        pgc_free(pgc__gc.weak_table);
        pgc__gc.weak_table = table;
        pgc__gc.weak_cap = cap;
    }
    pgc_weak_entry *e = weak_slot(pgc__gc.weak_table, pgc__gc.weak_cap, obj);
    *e = (pgc_weak_entry){obj, NULL, 0};
    pgc__gc.weak_used++;
    return e;
}

/* Remove e, moving back the entries after it that belong before the hole
 * (linear probing's deletion, no tombstones). */
static void weak_delete(pgc_weak_entry *e) {
    pgc_weak_entry *table = pgc__gc.weak_table;
    size_t mask = pgc__gc.weak_cap - 1, hole = (size_t)(e - table);
    table[hole].obj = NULL;
    for (size_t j = (hole + 1) & mask; table[j].obj; j = (j + 1) & mask) {
        size_t home = weak_home(table[j].obj, mask);
        /* table[j] stays unless the hole lies between its home and j */
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            table[hole] = table[j];
            table[j].obj = NULL;
            hole = j;
        }
    }
    pgc__gc.weak_used--;
}

static void queue_unlink(pgc_weakref *w) {
    if (w->prev)
        w->prev->next = w->next;
    else
        pgc__gc.weak_queue = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        pgc__gc.weak_queue_end = w->prev;
    w->next = w->prev = NULL;
    w->queued = 0;
}

/* A weak reference dies: off its referent's list, or off the queue. */
static void weakref_release(void *ref) {
    pgc_weakref *w = ref;
    if (w->referent) {
        pgc_weak_entry *e = weak_find(w->referent);
        pgc_assert(e && e->count > 0);
        if (w->prev)
            w->prev->next = w->next;
        else
            e->first = w->next;
        if (w->next)
            w->next->prev = w->prev;
        if (--e->count == 0) {
            pgc_ob(w->referent)->type &= ~PGC_TYPE_WEAKREFS;
            weak_delete(e);
        }
        w->referent = NULL;
    } else if (w->queued) {
        queue_unlink(w);
    }
}

void pgc__weakref_clear(void *obj) {
    pgc_ob(obj)->type &= ~PGC_TYPE_WEAKREFS;
    pgc_weak_entry *e = weak_find(obj);
    pgc_assert(e != NULL);
    if (!e)
        return;
    pgc_weakref *w = e->first;
    weak_delete(e);
    while (w) {
        pgc_weakref *next = w->next;
        w->referent = NULL;
        w->next = w->prev = NULL;
        if (w->callback) {
            w->prev = pgc__gc.weak_queue_end;
            if (w->prev)
                w->prev->next = w;
            else
                pgc__gc.weak_queue = w;
            pgc__gc.weak_queue_end = w;
            w->queued = 1;
        }
        w = next;
    }
}

void pgc__weakref_run_callbacks(void) {
    pgc_weakref *w;
    while ((w = pgc__gc.weak_queue) != NULL) {
        queue_unlink(w);
        pgc_ob_head *ob = pgc_ob(w);
        if (ob->rc - (PGC__RC_LIVE + 1) >= PGC__RC_LIMIT - 2)
            continue; /* the weak reference is dying too: no call */
        ob->rc++;     /* held during the call */
        w->callback(w, w->arg);
        pgc_decref(w);
    }
}

PGC_API void *pgc_weakref_new(void *obj, pgc_weakref_fn callback, void *arg) {
    pgc_ob_head *ob = pgc__object_check("pgc_weakref_new", obj);
    if (pgc_unlikely(ob->rc - (PGC__RC_LIVE + 1) >= PGC__RC_LIMIT - 1))
        pgc__object_misuse("pgc_weakref_new", obj, NULL); /* dying */
    pgc_weakref *w = pgc_new(&pgc__weakref_type, sizeof *w);
    if (!w)
        return NULL;
    pgc_weak_entry *e = weak_find(obj);
    if (!e && !(e = weak_insert(obj))) {
        pgc_decref(w);
        errno = ENOMEM;
        return NULL;
    }
    *w = (pgc_weakref){obj, callback, arg, e->first, NULL, 0};
    if (e->first)
        e->first->prev = w;
    e->first = w;
    e->count++;
    ob->type |= PGC_TYPE_WEAKREFS;
    return w;
}

PGC_API void *pgc_weakref_get(void *ref) {
    pgc_ob_head *ob = pgc__object_check("pgc_weakref_get", ref);
    if (pgc_unlikely(pgc_ob_type(ob) != &pgc__weakref_type))
        pgc__object_misuse("pgc_weakref_get", ref, "not a weak reference");
    void *obj = ((pgc_weakref *)ref)->referent;
    if (!obj)
        return NULL;
    unsigned long long rc = pgc_ob(obj)->rc;
    if (!pgc_rc_is_live(rc) || rc == PGC__RC_LIVE)
        return NULL; /* died (queued for deallocation), not cleared yet */
    return pgc_incref(obj);
}

PGC_API size_t pgc_weakref_count(const void *obj) {
    pgc_ob_head *ob = pgc__object_check("pgc_weakref_count", obj);
    if (!(ob->type & PGC_TYPE_WEAKREFS))
        return 0;
    const pgc_weak_entry *e = weak_find(obj);
    return e ? e->count : 0;
}
