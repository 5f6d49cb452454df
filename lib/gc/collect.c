/*
 * gc/collect.c - the cycle detector's algorithm: one collection, and when
 * an automatic one runs. Its control API (pgc_collect, thresholds, freeze,
 * callbacks, statistics, debug flags, saved garbage) is control.c.
 *
 * CPython's algorithm (Python/gc.c), on the generation lists of
 * internal.h. A collection of generation g merges the younger ones into
 * it and then, over that list ("young"):
 *
 *   update_refs       gc_refs = refcount, stored in gc_link.prev
 *   subtract_refs     for each reference one young object holds on another,
 *                     that one's gc_refs - 1: what stays > 0 is referenced
 *                     from outside young (C locals, older generations,
 *                     untracked objects, leaves)
 *   move_unreachable  objects with gc_refs > 0 and all they reach stay; the
 *                     rest go to "unreachable"; survivors join generation g+1
 *   finalize          each unreachable object's finalize, once ever
 *   resurrection      if a finalizer ran, the three steps again over the
 *                     unreachable set: what a finalizer made reachable, and
 *                     all it reaches, survives (counted as uncollectable)
 *   delete            the rest is garbage, and nothing outside it refers to
 *                     it: drop its references to outside objects (leaves
 *                     reachable only from garbage go with it), release and
 *                     free every garbage object, without touching the
 *                     reference counts inside the garbage at all
 *
 * Generations: 0 (new containers), 1, 2 (oldest) and the permanent one of
 * pgc_freeze(), never scanned. Automatic collections start from pgc_new when
 * generation 0's count (container allocations - deallocations) passes its
 * threshold; generation g+1 is collected instead when it has seen more than
 * its threshold collections of g; generation 2 only when the survivors
 * waiting to reach it exceed 25% of its size (long_lived_pending/total), which
 * keeps the cost of full collections linear in the heap's growth.
 *
 * A collection never nests (pgc__gc.collecting); it may start inside a
 * deallocation drain (from a finalizer's pgc_new), where objects pending
 * deallocation are untracked and their references count as external.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define GEN_INIT(i, t)                                                                             \
    { {(uintptr_t)&pgc__gc.gen[i].head, (uintptr_t)&pgc__gc.gen[i].head}, (t), 0 }

pgc_gc_state pgc__gc = {
    .gen = {GEN_INIT(0, PGC_THRESHOLD0), GEN_INIT(1, PGC_THRESHOLD1), GEN_INIT(2, PGC_THRESHOLD2)},
    .permanent = {(uintptr_t)&pgc__gc.permanent, (uintptr_t)&pgc__gc.permanent},
    .enabled = 1,
};

static const pgc_type *type_of_link(const pgc_gc_link *link) {
    return pgc_ob_type(pgc_ob(pgc_obj_of(link)));
}

/* ---- invariants ------------------------------------------------------------ */

/* Outside a collection (internal.h): every list is circular and doubly
 * linked with clean prev words, and holds live tracked containers. */
static void check_list(const pgc_gc_link *list) {
    const pgc_gc_link *prev = list;
    for (const pgc_gc_link *l = pgc_gc_next(list); l != list; prev = l, l = pgc_gc_next(l)) {
        pgc_verify(l->prev == (uintptr_t)prev);
        const pgc_ob_head *ob = pgc_ob(pgc_obj_of(l));
        pgc_verify(pgc_is_container(ob) && pgc_ob_type(ob)->traverse);
        pgc_verify(ob->rc - (PGC__RC_LIVE + 1) < PGC__RC_LIMIT - 1); /* live, count >= 1 */
    }
    pgc_verify(list->prev == (uintptr_t)prev);
}

void pgc__collect_check(void) {
    for (int g = 0; g < PGC_GENERATIONS; g++)
        check_list(&pgc__gc.gen[g].head);
    check_list(&pgc__gc.permanent);
}

/* ---- finding the unreachable ----------------------------------------------- */

/* gc_refs = refcount for every object of list, which gets the COLLECTING
 * flag; returns how many there are. */
static size_t update_refs(pgc_gc_link *list) {
    size_t n = 0;
    for (pgc_gc_link *l = pgc_gc_next(list); l != list; l = (pgc_gc_link *)l->next, n++) {
        void *obj = pgc_obj_of(l);
        unsigned long long count = pgc_ob(obj)->rc - PGC__RC_LIVE;
        if (pgc_unlikely(count - 1 >= PGC__RC_LIMIT - 1))
            pgc__object_misuse("pgc_collect", obj,
                               pgc_rc_is_live(pgc_ob(obj)->rc)
                                   ? "a tracked object has reference count 0"
                                   : "a tracked object's header was overwritten");
        l->prev = ((uintptr_t)count << PGC_REFS_SHIFT) | PGC_PREV_COLLECTING;
    }
    return n;
}

static void visit_decref(void *child, void *parent) {
    if (!child)
        return;
    pgc_ob_head *ob = pgc_ob(child);
    if (pgc_unlikely(!pgc_rc_is_live(ob->rc)))
        pgc__object_misuse_in("pgc_collect", child, NULL, parent);
    if (!pgc_is_container(ob))
        return;
    pgc_gc_link *l = pgc_link(child);
    if (l->prev & PGC_PREV_COLLECTING) { /* in the set being collected */
        if (pgc_unlikely(l->prev < PGC_REFS_ONE))
            pgc__object_misuse_in("pgc_collect", child,
                                  "more references reported by traverse functions "
                                  "than its reference count",
                                  parent);
        l->prev -= PGC_REFS_ONE;
    }
}

/* Subtract the references list's objects hold on each other. */
static void subtract_refs(pgc_gc_link *list) {
    for (pgc_gc_link *l = pgc_gc_next(list); l != list; l = (pgc_gc_link *)l->next) {
        void *obj = pgc_obj_of(l);
        type_of_link(l)->traverse(obj, visit_decref, obj);
    }
}

/* What move_unreachable tracks while it scans. */
typedef struct scan {
    pgc_gc_link *young;
    size_t unreachable; /* on the unreachable list now */
    size_t finalizable; /* of those, with a finalize that has not run */
} scan;

static int needs_finalize(const pgc_gc_link *l) {
    const pgc_ob_head *ob = pgc_ob(pgc_obj_of(l));
    return pgc_ob_type(ob)->finalize && !(ob->type & PGC_TYPE_FINALIZED);
}

/* A child of an object known to be reachable is reachable. */
static void visit_reachable(void *child, void *scan_arg) {
    if (!child || !pgc_is_container(pgc_ob(child)))
        return;
    scan *s = scan_arg;
    pgc_gc_link *l = pgc_link(child);
    uintptr_t prev = l->prev;
    /* Not collecting: another generation, untracked, or already scanned and
     * found reachable (move_unreachable clears the flag). */
    if (!(prev & PGC_PREV_COLLECTING))
        return;
    if (prev & PGC_PREV_UNREACHABLE) {
        /* Moved to unreachable before (gc_refs was 0) but reachable after
         * all: back to the end of young, where the scan will reach it.
         * young->prev is young's last element: objects leave young only when
         * the scan passes them, and the scan ends after the last one. */
        pgc_list_remove(l);
        pgc_gc_link *last = (pgc_gc_link *)s->young->prev;
        last->next = (uintptr_t)l;
        l->next = (uintptr_t)s->young;
        s->young->prev = (uintptr_t)l;
        l->prev = PGC_REFS_ONE | PGC_PREV_COLLECTING;
        s->unreachable--;
        s->finalizable -= (size_t)needs_finalize(l);
    } else if (prev < PGC_REFS_ONE) {
        /* in young, not scanned yet: it will be scanned as reachable */
        l->prev = PGC_REFS_ONE | PGC_PREV_COLLECTING;
    }
    /* else gc_refs > 0: in young ahead of the scan, reachable already */
}

/* Split young: what is reachable from objects with gc_refs > 0 stays (prev
 * pointers restored, flags cleared); the rest moves to the unreachable list
 * (both prev flags set). Young is singly linked (by next) meanwhile: its
 * prev words hold gc_refs until the scan passes. */
static void move_unreachable(pgc_gc_link *young, pgc_gc_link *unreachable, scan *s) {
    pgc_gc_link *prev = young; /* last reachable object scanned */
    pgc_gc_link *l = pgc_gc_next(young);
    while (l != young) {
        if (l->prev >= PGC_REFS_ONE) {
            /* reachable: so are its children. traverse may append to young
             * (young->prev may be l), so read l->next only after it. */
            void *obj = pgc_obj_of(l);
            type_of_link(l)->traverse(obj, visit_reachable, s);
            l->prev = (uintptr_t)prev;
            prev = l;
        } else {
            /* maybe unreachable: a later object may still reach it */
            prev->next = l->next;
            pgc_list_append(l, unreachable);
            l->prev |= PGC_PREV_COLLECTING | PGC_PREV_UNREACHABLE;
            s->unreachable++;
            s->finalizable += (size_t)needs_finalize(l);
        }
        l = pgc_gc_next(prev);
    }
    young->prev = (uintptr_t)prev;
}

/* The three steps: young keeps what is reachable from outside it, the rest
 * goes to unreachable. Returns young's size before the split; s counts what
 * went to unreachable. */
static size_t deduce_unreachable(pgc_gc_link *young, pgc_gc_link *unreachable, scan *s) {
    size_t scanned = update_refs(young);
    subtract_refs(young);
    pgc_list_init(unreachable);
    *s = (scan){young, 0, 0};
    move_unreachable(young, unreachable, s);
    return scanned;
}

/* ---- what to do with it ------------------------------------------------------ */

/* Run each unreachable object's finalize (if it never ran). A finalizer may
 * free other unreachable objects (by dropping the references it holds), so
 * the list is consumed from its head. */
static void finalize_garbage(pgc_gc_link *unreachable) {
    pgc_gc_link seen;
    pgc_list_init(&seen);
    while (!pgc_list_is_empty(unreachable)) {
        pgc_gc_link *l = pgc_gc_next(unreachable);
        void *obj = pgc_obj_of(l);
        pgc_ob_head *ob = pgc_ob(obj);
        const pgc_type *t = pgc_ob_type(ob);
        pgc_list_move(l, &seen);
        if (t->finalize && !(ob->type & PGC_TYPE_FINALIZED)) {
            ob->type |= PGC_TYPE_FINALIZED;
            pgc_incref(obj); /* obj cannot be freed while its finalizer runs */
            t->finalize(obj);
            pgc_decref(obj);
        }
    }
    pgc_list_merge(&seen, unreachable);
}

static void clear_flags(pgc_gc_link *list) {
    for (pgc_gc_link *l = pgc_gc_next(list); l != list; l = pgc_gc_next(l))
        l->prev &= ~PGC_PREV_FLAGS;
}

/* Garbage holds references on itself (ignored: it all goes) and on outside
 * objects (dropped). Only garbage has the COLLECTING flag now. */
static void visit_drop_outside(void *child, void *parent) {
    if (!child)
        return;
    if (pgc_is_container(pgc_ob(child)) && (pgc_link(child)->prev & PGC_PREV_COLLECTING))
        return;
    pgc__object_drop_from(child, parent);
}

static void delete_garbage(pgc_gc_link *garbage) {
    /* Objects that die meanwhile only queue up: no finalizer runs while the
     * garbage is half freed. The drain below (or an outer one) frees them. */
    int outer_drain = pgc__gc.draining;
    pgc__gc.draining = 1;
    for (pgc_gc_link *l = pgc_gc_next(garbage); l != garbage; l = pgc_gc_next(l)) {
        void *obj = pgc_obj_of(l);
        type_of_link(l)->traverse(obj, visit_drop_outside, obj);
    }
    while (!pgc_list_is_empty(garbage)) {
        pgc_gc_link *l = pgc_gc_next(garbage);
        void *obj = pgc_obj_of(l);
        const pgc_type *t = type_of_link(l);
        pgc_list_remove(l);
        pgc_ob(obj)->rc = PGC__RC_LIVE; /* count 0: being torn down */
        if (t->release)
            t->release(obj);
        pgc__object_free(obj);
    }
    if (!outer_drain)
        pgc__object_drain();
}

/* PGC_DEBUG_SAVEALL: pgc_garbage()'s list takes a reference to each object,
 * which joins generation `old`. If the list cannot grow, the rest just joins
 * old. */
static void save_garbage(pgc_gc_link *garbage, pgc_gc_link *old) {
    clear_flags(garbage);
    for (pgc_gc_link *l = pgc_gc_next(garbage); l != garbage; l = pgc_gc_next(l))
        if (!pgc__control_save_garbage(pgc_obj_of(l)))
            break;
    pgc_list_merge(garbage, old);
}

static void report_objects(const char *what, pgc_gc_link *list) {
    for (pgc_gc_link *l = pgc_gc_next(list); l != list; l = pgc_gc_next(l)) {
        const pgc_type *t = type_of_link(l);
        pgc__message("poolgc: gc: %s <%s %p>", what, t->name ? t->name : "?", pgc_obj_of(l));
    }
}

/* ---- a collection -------------------------------------------------------------- */

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Collect `generation` (and the younger ones); fills info, returns the
 * number of unreachable objects found. */
static size_t collect(int generation, pgc_collect_info *info) {
    pgc_debug_check(pgc__collect_check());
    unsigned debug = pgc__gc.debug;
    double start = debug & PGC_DEBUG_STATS ? seconds_now() : 0;

    if (generation < PGC_OLDEST)
        pgc__gc.gen[generation + 1].count++;
    for (int i = 0; i <= generation; i++)
        pgc__gc.gen[i].count = 0;
    pgc_gc_link *young = &pgc__gc.gen[generation].head;
    pgc_gc_link *old = generation < PGC_OLDEST ? &pgc__gc.gen[generation + 1].head : young;
    for (int i = 0; i < generation; i++)
        pgc_list_merge(&pgc__gc.gen[i].head, young);

    pgc_gc_link unreachable, garbage;
    scan first;
    size_t scanned = deduce_unreachable(young, &unreachable, &first);
    size_t found = first.unreachable;
    if (young != old) {
        if (generation == PGC_OLDEST - 1)
            pgc__gc.long_lived_pending += scanned - found;
        pgc_list_merge(young, old);
    } else {
        pgc__gc.long_lived_pending = 0;
        pgc__gc.long_lived_total = scanned - found;
    }

    size_t resurrected = 0;
    if (first.finalizable) {
        /* Finalizers run user code: look again. What is still unreachable is
         * garbage; the rest (left in `unreachable`) was resurrected. */
        scan again;
        finalize_garbage(&unreachable);
        resurrected = deduce_unreachable(&unreachable, &garbage, &again) - again.unreachable;
        if (debug & PGC_DEBUG_UNCOLLECTABLE)
            report_objects("uncollectable", &unreachable);
        pgc_list_merge(&unreachable, old);
    } else {
        pgc_list_init(&garbage);
        pgc_list_merge(&unreachable, &garbage);
    }
    if (debug & PGC_DEBUG_COLLECTABLE)
        report_objects("collectable", &garbage);
    if (debug & PGC_DEBUG_SAVEALL)
        save_garbage(&garbage, old);
    else
        delete_garbage(&garbage);

    info->collected = found - resurrected;
    info->uncollectable = resurrected;
    pgc_gen_stats *st = &pgc__gc.stats[generation];
    st->collections++;
    st->collected += info->collected;
    st->uncollectable += info->uncollectable;
    if (debug & PGC_DEBUG_STATS)
        pgc__message("poolgc: gc: generation %d: %zu objects scanned, %zu unreachable, "
                     "%zu collected, %zu uncollectable, %.6f s",
                     generation, scanned, found, info->collected, info->uncollectable,
                     seconds_now() - start);
    pgc_debug_check(pgc__collect_check());
    return found;
}

size_t pgc__collect_run(int generation) {
    pgc_collect_info info = {generation, 0, 0};
    pgc__gc.collecting = 1;
    pgc__control_invoke_callbacks(PGC_START, &info);
    size_t found = collect(generation, &info);
    pgc__control_invoke_callbacks(PGC_STOP, &info);
    pgc__gc.collecting = 0;
    return found;
}

void pgc__collect_auto(void) {
    if (!pgc__gc.enabled || !pgc__gc.gen[0].threshold || pgc__gc.collecting)
        return;
    for (int i = PGC_OLDEST; i >= 0; i--) {
        if (pgc__gc.gen[i].count > pgc__gc.gen[i].threshold) {
            /* CPython's rule: a full collection only when the objects waiting
             * to enter the oldest generation exceed 25% of it. */
            if (i == PGC_OLDEST && pgc__gc.long_lived_pending < pgc__gc.long_lived_total / 4)
                continue;
            pgc__collect_run(i);
            break;
        }
    }
}
