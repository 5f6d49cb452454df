/*
 * gc/collect.c - the cycle detector's algorithm: one collection, and when
 * an automatic one runs, in generational or incremental mode. Its control
 * API (pgc_collect, thresholds, freeze, callbacks, statistics, debug flags,
 * saved garbage) is control.c.
 *
 * CPython's algorithm (Python/gc.c), on the lists of internal.h. A
 * collection of generation g merges the younger ones into it and then, over
 * that list ("young"):
 *
 *   update_refs       gc_refs = refcount, stored in gc_link.prev; done on
 *                     the way by subtract_refs, the first time it meets an
 *                     object, which its tag says belongs to young (no pass
 *                     of its own: one pass less over memory)
 *   subtract_refs     for each reference one young object holds on another,
 *                     that one's gc_refs - 1: what stays > 0 is referenced
 *                     from outside young (C locals, older generations,
 *                     untracked objects, leaves)
 *   move_unreachable  objects with gc_refs > 0 and all they reach stay; the
 *                     rest go to "unreachable"; survivors join generation g+1
 *   weak references   every weak reference to an unreachable object is
 *                     cleared: no finalizer can reach one through them
 *   finalize          each unreachable object's finalize, once ever; an
 *                     unreachable object whose count reaches zero meanwhile
 *                     stays in the set (keep_unreachable, object.c)
 *   resurrection      if a finalizer ran, the three steps again over the
 *                     unreachable set: what a finalizer made reachable, and
 *                     all it reaches, survives (uncollectable); an object
 *                     still reported by a traverse function after its count
 *                     reached zero is misuse (a finalizer dropped a
 *                     reference it did not own), caught here
 *   delete            the rest is garbage, and nothing outside it refers to
 *                     it: drop its references to outside objects (leaves
 *                     reachable only from garbage go with it), release and
 *                     free every garbage object, without touching the
 *                     reference counts inside the garbage at all
 *   callbacks         of the weak references cleared, unless they died with
 *                     the garbage
 *
 * Post-conditions: after subtract_refs every object of young has COLLECTING
 * and gc_refs >= 0, its count minus the references from inside young; after
 * move_unreachable young holds what is reachable, flags cleared, prev
 * pointers restored (with the tag of its destination), and the unreachable
 * list holds the rest with COLLECTING and UNREACHABLE. The counts of young
 * are summed when copied and again in move_unreachable: only a traverse
 * function that changed one meanwhile (misuse, even through the inline
 * pgc_decref that never calls the library) makes the sums differ.
 *
 * Generations: 0 (new containers), 1, 2 (oldest) and the permanent one of
 * pgc_freeze(), never scanned. Automatic collections start from pgc_new when
 * generation 0's count (container allocations - deallocations) passes its
 * threshold; generation g+1 is collected instead when it has seen more than
 * its threshold collections of g; generation 2 only when the survivors
 * waiting to reach it exceed 25% of its size (long_lived_pending * 4 >
 * long_lived_total), which keeps the cost of full collections linear in the
 * heap's growth.
 *
 * Incremental mode (pgc_set_incremental) bounds pauses: where generation 2
 * would be collected whole, a pass starts instead. It flips scanned_space, so
 * that every old object is at once in `unscanned` (the list moves whole, no
 * object is touched), and from then on each automatic collection runs the
 * younger collection that is due, then an increment: step_budget objects
 * from the head of `unscanned` plus, as subtract_refs meets them, every
 * unscanned object that those reach, transitively (CPython 3.14's increment:
 * the closure of a slice within the old space). Survivors go to generation 2
 * with the scanned space's bits; the pass ends when `unscanned` is empty,
 * after at most PGC_PASS_STEPS increments. Old-generation work per pass is a
 * full collection's, spread out; what grows with the heap is the number of
 * increments, not their size (except that an increment takes whole any
 * structure that one old object reaches).
 *
 * Why an increment is sound: any set S of tracked objects can be collected
 * this way. References from outside S (other lists, untracked objects,
 * leaves, C variables) are never subtracted, so an object they reach keeps
 * gc_refs > 0, and move_unreachable keeps all it reaches: nothing reachable
 * from outside S is freed. Only completeness needs the closure: garbage
 * never changes (nothing reaches it to change it), so take a garbage cycle C
 * at the start of a pass in which all of C is old (true of every pass after
 * the one during which C's objects reached generation 2): the first of its
 * objects an increment takes in pulls every other one (each is reachable
 * from it, and unscanned until taken), and none is referenced from outside
 * C but by garbage, so all of C is found in that increment, or in the pass
 * after the garbage that referred to it is gone.
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

static const pgc_type *type_of_link(const pgc_gc_link *link) {
    return pgc_ob_type(pgc_ob(pgc_obj_of(link)));
}

/* ---- invariants ------------------------------------------------------------ */

/* Outside a collection (internal.h): every list is circular and doubly
 * linked, its objects have its tag, and it holds live tracked containers. */
static void check_list(const pgc_gc_link *list, uintptr_t tag) {
    const pgc_gc_link *prev = list;
    for (const pgc_gc_link *l = pgc_gc_next(list); l != list; prev = l, l = pgc_gc_next(l)) {
        pgc_verify(pgc_gc_prev(l) == prev);
        pgc_verify((l->prev & PGC_PREV_FLAGS) == tag);
        const pgc_ob_head *ob = pgc_ob(pgc_obj_of(l));
        pgc_verify(pgc_is_container(ob) && pgc_ob_type(ob)->traverse);
        pgc_verify(ob->rc - (PGC__RC_LIVE + 1) < PGC__RC_LIMIT - 1); /* live, count >= 1 */
    }
    pgc_verify(list->prev == (uintptr_t)prev);
}

/* The weak reference table and the callback queue (weakref.c). */
static void check_weakrefs(void) {
    size_t used = 0;
    for (size_t i = 0; i < pgc__gc.weak_cap; i++) {
        const pgc_weak_entry *e = &pgc__gc.weak_table[i];
        if (!e->obj)
            continue;
        used++;
        const pgc_ob_head *ob = pgc_ob(e->obj);
        pgc_verify(pgc_rc_is_live(ob->rc) || PGC_RC_TAG(ob->rc) == PGC_RC_TAG(PGC__RC_PENDING));
        pgc_verify(ob->type & PGC_TYPE_WEAKREFS);
        size_t n = 0;
        const pgc_weakref *prev = NULL;
        for (const pgc_weakref *w = e->first; w; prev = w, w = w->next, n++) {
            pgc_verify(w->referent == e->obj && w->prev == prev && !w->queued);
            pgc_verify(pgc_ob_type(pgc_ob(w)) == &pgc__weakref_type);
        }
        pgc_verify(n == e->count && n > 0);
    }
    pgc_verify(used == pgc__gc.weak_used && 2 * used <= pgc__gc.weak_cap);
    const pgc_weakref *prev = NULL;
    for (const pgc_weakref *w = pgc__gc.weak_queue; w; prev = w, w = w->next)
        pgc_verify(w->queued && !w->referent && w->prev == prev && w->callback);
    pgc_verify(pgc__gc.weak_queue_end == prev);
}

void pgc__collect_check(void) {
    for (int g = 0; g < PGC_GENERATIONS; g++)
        check_list(&pgc__gc.gen[g].head, pgc_gen_tag(g));
    pgc_verify(pgc__gc.incremental || pgc_list_is_empty(&pgc__gc.unscanned));
    check_list(&pgc__gc.unscanned, pgc_unscanned_tag());
    check_list(&pgc__gc.permanent, PGC_TAG_PERMANENT);
    pgc_verify(!pgc__gc.keep_unreachable && !pgc__gc.traversing);
    pgc_verify(pgc__gc.scanned_space == 0 || pgc__gc.scanned_space == PGC_PREV_SPACE);
    check_weakrefs();
}

/* ---- finding the unreachable ----------------------------------------------- */

/* What a collection's passes share. */
typedef struct scan {
    pgc_gc_link *young;
    uintptr_t restore; /* the tag of the survivors' destination */
    /* bit t set: an object tagged t, met before it has COLLECTING, belongs
     * to the set and gets its gc_refs then (`in_place`: it is on young
     * already, the generations collected; `pull`: an increment takes it in
     * from unscanned, at the end of young) */
    unsigned in_place, pull;
    int zero_ok;        /* the resurrection pass: counts may be 0 (keep_unreachable) */
    size_t budget;      /* an increment: objects it may still take from unscanned */
    size_t unreachable; /* on the unreachable list now */
    size_t finalizable; /* of those, with a finalize that has not run */
    size_t weakrefs;    /* of those, with weak references */
    size_t scanned;     /* objects that got their gc_refs */
    unsigned long long sum_before, sum_after; /* the counts of young */
} scan;

static scan *current; /* the scan subtract_refs runs (visit functions) */

/* The lists are walked by next pointers, one object after the other; most
 * objects lie in memory in list order (allocated one after the other, and
 * promoted in that order), so a prefetch PREFETCH_AHEAD bytes ahead of the
 * current one brings the objects a few dozen steps ahead into the cache
 * while the walk is busy here (the hardware prefetchers stop at each 4 KiB
 * page). Where the order is lost it costs one useless cache line per
 * object. Measured (bench/gc_shapes live, 10^6 objects): 25 ns an object
 * without, 15 with 1 KiB, 9 with 4 KiB, no better beyond. */
#define PREFETCH_AHEAD 4096
#ifdef NOPF
#define prefetch_ahead(l) ((void)(l))
#else
#define prefetch_ahead(l) __builtin_prefetch((const char *)(l) + PREFETCH_AHEAD, 1)
#endif

/* obj enters the set: gc_refs = its count, COLLECTING; returns that prev
 * word. parent: who reported it (NULL: found on the list). */
static inline __attribute__((always_inline)) uintptr_t take(pgc_gc_link *l, const void *obj,
                                                            const void *parent, scan *s) {
    unsigned long long rc = pgc_ob(obj)->rc, count = rc - PGC__RC_LIVE;
    if (pgc_unlikely(count - 1 >= PGC__RC_LIMIT - 1) && !(s->zero_ok && count == 0))
        pgc__object_misuse_in("pgc_collect", obj,
                              pgc_rc_is_live(rc) ? "a tracked object has reference count 0"
                                                 : "a tracked object's header was overwritten",
                              parent);
    s->sum_before += rc;
    s->scanned++;
    return l->prev = ((uintptr_t)count << PGC_REFS_SHIFT) | PGC_PREV_COLLECTING;
}

/* gc_refs = refcount for every object of list, which gets the COLLECTING
 * flag: for the resurrection pass only. The other collections find their
 * objects by their tags, on the way (subtract_refs), with no pass of their
 * own for this. */
static void update_refs(pgc_gc_link *list, scan *s) {
    for (pgc_gc_link *l = pgc_gc_next(list); l != list; l = (pgc_gc_link *)l->next) {
        prefetch_ahead(l);
        take(l, pgc_obj_of(l), NULL, s);
    }
}

static PGC_COLD void too_many_references(void *child, const void *parent) {
    if (pgc_ob(child)->rc == PGC__RC_LIVE)
        pgc__object_misuse_in("pgc_collect", child,
                              "its count reached zero while finalizers ran, yet a traverse "
                              "function still reports it (a finalizer dropped a reference it "
                              "does not own)",
                              parent);
    pgc__object_misuse_in("pgc_collect", child,
                          "more references reported by traverse functions than its reference "
                          "count",
                          parent);
}

/* A child of an object of the set: one reference from inside. A child that
 * belongs to the set but was not met yet gets its gc_refs now (tags). */
static void visit_decref(void *child, void *parent) {
    if (!child)
        return;
    pgc_ob_head *ob = pgc_ob(child);
    if (pgc_unlikely(!pgc_rc_is_live(ob->rc)))
        pgc__object_misuse_in("pgc_collect", child, NULL, parent);
    if (!pgc_is_container(ob))
        return;
    pgc_gc_link *l = pgc_link(child);
    uintptr_t prev = l->prev;
    if (!(prev & PGC_PREV_COLLECTING)) {
        unsigned tag = 1u << (prev & PGC_PREV_FLAGS);
        scan *s = current;
        if (!((s->in_place | s->pull) & tag) || !l->next)
            return;          /* outside the set (or untracked) */
        if (s->pull & tag) { /* an increment takes it in, at the end */
            pgc_list_remove(l);
            pgc_list_append(l, s->young); /* young->prev is a pointer still */
            s->budget -= s->budget > 0;
        }
        prev = take(l, child, parent, s);
    }
    if (pgc_unlikely(prev < PGC_REFS_ONE))
        too_many_references(child, parent);
    l->prev = prev - PGC_REFS_ONE;
}

/* An increment that reached the end of its list with budget left: the next
 * object from the head of unscanned, moved there (else list). */
static PGC_NOINLINE pgc_gc_link *next_seed(pgc_gc_link *list, scan *s) {
    if (!s->budget || pgc_list_is_empty(&pgc__gc.unscanned))
        return list;
    pgc_gc_link *next = pgc_gc_next(&pgc__gc.unscanned);
    pgc_list_remove(next);
    pgc_list_append(next, list); /* list->prev is a pointer still */
    s->budget--;
    return next;
}

/* The next object of list after l (list's first for l == list). */
static inline pgc_gc_link *next_of(pgc_gc_link *l, pgc_gc_link *list, scan *s) {
    pgc_gc_link *next = (pgc_gc_link *)l->next;
    return pgc_likely(next != list) ? next : next_seed(list, s);
}

/* Subtract the references list's objects hold on each other; give those not
 * met yet their gc_refs first. traverse may append to list (an increment),
 * so the next object is found after it. */
static void subtract_refs(pgc_gc_link *list, scan *s) {
    current = s;
    for (pgc_gc_link *l = next_of(list, list, s); l != list; l = next_of(l, list, s)) {
        void *obj = pgc_obj_of(l);
        prefetch_ahead(l);
        if (!(l->prev & PGC_PREV_COLLECTING))
            take(l, obj, NULL, s);
        pgc__gc.traversing = obj;
        type_of_link(l)->traverse(obj, visit_decref, obj);
    }
    pgc__gc.traversing = NULL;
    current = NULL;
}

static int needs_finalize(const pgc_ob_head *ob) {
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
        const pgc_ob_head *ob = pgc_ob(child);
        pgc_list_remove(l);
        pgc_gc_link *last = (pgc_gc_link *)s->young->prev;
        last->next = (uintptr_t)l;
        l->next = (uintptr_t)s->young;
        s->young->prev = (uintptr_t)l;
        l->prev = PGC_REFS_ONE | PGC_PREV_COLLECTING;
        s->unreachable--;
        s->finalizable -= (size_t)needs_finalize(ob);
        s->weakrefs -= (ob->type & PGC_TYPE_WEAKREFS) != 0;
        s->sum_after -= ob->rc; /* counted again when the scan reaches it */
    } else if (prev < PGC_REFS_ONE) {
        /* in young, not scanned yet: it will be scanned as reachable */
        l->prev = PGC_REFS_ONE | PGC_PREV_COLLECTING;
    }
    /* else gc_refs > 0: in young ahead of the scan, reachable already */
}

/* Split young: what is reachable from objects with gc_refs > 0 stays (prev
 * pointers restored with s->restore, flags cleared); the rest moves to the
 * unreachable list (COLLECTING and UNREACHABLE set). Young is singly linked
 * (by next) meanwhile: its prev words hold gc_refs until the scan passes. */
static void move_unreachable(pgc_gc_link *young, pgc_gc_link *unreachable, scan *s) {
    pgc_gc_link *prev = young; /* last reachable object scanned */
    pgc_gc_link *l = pgc_gc_next(young);
    uintptr_t restore = s->restore;
    unsigned long long sum = 0;
    while (l != young) {
        void *obj = pgc_obj_of(l);
        const pgc_ob_head *ob = pgc_ob(obj);
        prefetch_ahead(l);
        if (l->prev >= PGC_REFS_ONE) {
            /* reachable: so are its children. traverse may append to young
             * (young->prev may be l), so read l->next only after it. */
            pgc__gc.traversing = obj;
            pgc_ob_type(ob)->traverse(obj, visit_reachable, s);
            sum += ob->rc;
            l->prev = (uintptr_t)prev | restore;
            prev = l;
        } else {
            /* maybe unreachable: a later object may still reach it */
            sum += ob->rc;
            prev->next = l->next;
            pgc_list_append(l, unreachable);
            l->prev |= PGC_PREV_COLLECTING | PGC_PREV_UNREACHABLE;
            s->unreachable++;
            s->finalizable += (size_t)needs_finalize(ob);
            s->weakrefs += (ob->type & PGC_TYPE_WEAKREFS) != 0;
        }
        l = pgc_gc_next(prev);
    }
    pgc__gc.traversing = NULL;
    young->prev = (uintptr_t)prev;
    s->sum_after += sum;
}

/* The three steps: young keeps what is reachable from outside it, the rest
 * goes to unreachable. Returns young's size before the split (objects an
 * increment took in included); s counts what went to unreachable. Objects
 * whose tag is in s->in_place need no update_refs (those of a collection of
 * generations); the others must have it done (an increment's slice, the
 * resurrection pass). */
static size_t deduce_unreachable(pgc_gc_link *young, pgc_gc_link *unreachable, scan *s) {
    s->young = young;
    subtract_refs(young, s);
    pgc_list_init(unreachable);
    move_unreachable(young, unreachable, s);
    if (pgc_unlikely(s->sum_after != s->sum_before))
        pgc__object_misuse("pgc_collect", NULL,
                           "reference counts changed while traverse functions ran (a traverse "
                           "function called pgc_incref or pgc_decref)");
    return s->scanned;
}

/* ---- what to do with it ------------------------------------------------------ */

/* Clear the weak references to the unreachable objects, before any of their
 * finalizers runs; the callbacks wait for the end of the collection. */
static void clear_weakrefs(pgc_gc_link *unreachable) {
    for (pgc_gc_link *l = pgc_gc_next(unreachable); l != unreachable; l = pgc_gc_next(l)) {
        void *obj = pgc_obj_of(l);
        if (pgc_ob(obj)->type & PGC_TYPE_WEAKREFS)
            pgc__weakref_clear(obj);
    }
}

/* Run each unreachable object's finalize (if it never ran). An unreachable
 * object whose count reaches zero meanwhile stays on the list, count 0
 * (keep_unreachable): the resurrection pass sees it again. A finalizer may
 * untrack an object, which then leaves the list: the list is consumed from
 * its head. */
static void finalize_garbage(pgc_gc_link *unreachable) {
    pgc_gc_link seen;
    pgc_list_init(&seen);
    pgc__gc.keep_unreachable = 1;
    while (!pgc_list_is_empty(unreachable)) {
        pgc_gc_link *l = pgc_gc_next(unreachable);
        void *obj = pgc_obj_of(l);
        pgc_ob_head *ob = pgc_ob(obj);
        const pgc_type *t = pgc_ob_type(ob);
        pgc_list_move(l, &seen);
        if (t->finalize && !(ob->type & PGC_TYPE_FINALIZED)) {
            ob->type |= PGC_TYPE_FINALIZED;
            ob->rc++; /* obj cannot die while its finalizer runs (count may be 0) */
            const void *outer = pgc__gc.finalizing;
            pgc__gc.finalizing = obj;
            t->finalize(obj);
            pgc__gc.finalizing = outer;
            if (l->prev & PGC_PREV_COLLECTING)
                ob->rc--; /* may reach zero: kept */
            else
                pgc_decref(obj); /* the finalizer untracked it: an ordinary object */
        }
    }
    pgc__gc.keep_unreachable = 0;
    pgc_list_merge(&seen, unreachable);
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

/* Free the garbage; returns how many objects that was. */
static size_t delete_garbage(pgc_gc_link *garbage) {
    /* Objects that die meanwhile only queue up: no finalizer runs while the
     * garbage is half freed. The drain below (or an outer one) frees them. */
    int outer_drain = pgc__gc.draining;
    size_t freed = 0;
    pgc__gc.draining = 1;
    for (pgc_gc_link *l = pgc_gc_next(garbage); l != garbage; l = pgc_gc_next(l)) {
        void *obj = pgc_obj_of(l);
        prefetch_ahead(l);
        pgc__gc.traversing = obj;
        type_of_link(l)->traverse(obj, visit_drop_outside, obj);
    }
    pgc__gc.traversing = NULL;
    /* free it all: the list is not kept in order on the way (each next is
     * read before its object goes) */
    for (pgc_gc_link *l = pgc_gc_next(garbage), *next; l != garbage; l = next) {
        void *obj = pgc_obj_of(l);
        pgc_ob_head *ob = pgc_ob(obj);
        const pgc_type *t = pgc_ob_type(ob);
        prefetch_ahead(l);
        next = pgc_gc_next(l);
        l->next = 0;                      /* untracked */
        ob->rc = PGC__RC_LIVE;            /* count 0: being torn down */
        if (ob->type & PGC_TYPE_WEAKREFS) /* made by a finalizer */
            pgc__weakref_clear(obj);
        if (t->release)
            t->release(obj);
        pgc__object_free(obj);
        freed++;
    }
    pgc_list_init(garbage);
    if (!outer_drain)
        pgc__object_drain();
    return freed;
}

/* PGC_DEBUG_SAVEALL: pgc_garbage()'s list takes a reference to each object,
 * which joins `old` (with its old bits `restore`). If the list cannot grow,
 * the rest just joins old. Returns how many were saved. */
static size_t save_garbage(pgc_gc_link *garbage, pgc_gc_link *old, uintptr_t restore) {
    size_t saved = 0;
    int full = 0;
    for (pgc_gc_link *l = pgc_gc_next(garbage); l != garbage; l = pgc_gc_next(l)) {
        l->prev = (l->prev & ~PGC_PREV_FLAGS) | restore;
        if (!full && pgc__control_save_garbage(pgc_obj_of(l)))
            saved++;
        else
            full = 1;
    }
    pgc_list_merge(garbage, old);
    return saved;
}

static void report_objects(const char *what, pgc_gc_link *list) {
    for (pgc_gc_link *l = pgc_gc_next(list); l != list; l = pgc_gc_next(l)) {
        const pgc_type *t = type_of_link(l);
        pgc__message("poolgc: gc: %s <%s %p>", what, t->name ? t->name : "?", pgc_obj_of(l));
    }
}

/* ---- a collection -------------------------------------------------------------- */

/* What one collection found. */
typedef struct outcome {
    size_t scanned;   /* objects examined */
    size_t found;     /* found unreachable */
    size_t collected; /* of those, freed or saved; the rest was resurrected */
    size_t kept;      /* survivors, resurrected and saved objects: all that
                       * joined the destination */
} outcome;

/* Collect the objects of `young` (gathered by the caller, first set up as
 * deduce_unreachable wants it): survivors, then resurrected objects, join
 * `old` with the tag first->restore. */
static outcome collect_list(pgc_gc_link *young, pgc_gc_link *old, scan *first) {
    unsigned debug = pgc__gc.debug;
    uintptr_t restore = first->restore;
    outcome o = {0, 0, 0, 0};
    pgc_gc_link unreachable, garbage;
    o.scanned = deduce_unreachable(young, &unreachable, first);
    o.found = first->unreachable;
    if (young != old)
        pgc_list_merge(young, old);

    if (first->weakrefs)
        clear_weakrefs(&unreachable);
    if (first->finalizable) {
        /* Finalizers run user code: look again. What is still unreachable is
         * garbage; the rest (left in `unreachable`) was resurrected. */
        scan again = {.restore = restore, .zero_ok = 1};
        finalize_garbage(&unreachable);
        update_refs(&unreachable, &again);
        deduce_unreachable(&unreachable, &garbage, &again);
        if (debug & PGC_DEBUG_UNCOLLECTABLE)
            report_objects("uncollectable", &unreachable);
        pgc_list_merge(&unreachable, old);
    } else {
        pgc_list_init(&garbage);
        pgc_list_merge(&unreachable, &garbage);
    }
    if (debug & PGC_DEBUG_COLLECTABLE)
        report_objects("collectable", &garbage);
    if (debug & PGC_DEBUG_SAVEALL) {
        o.collected = save_garbage(&garbage, old, restore);
        o.kept = o.scanned;
    } else {
        o.collected = delete_garbage(&garbage);
        o.kept = o.scanned - o.collected;
    }
    return o;
}

/* Collect `generation` (and the younger ones), whole. */
static outcome collect(int generation) {
    if (generation < PGC_OLDEST)
        pgc__gc.gen[generation + 1].count++;
    for (int i = 0; i <= generation; i++)
        pgc__gc.gen[i].count = 0;
    pgc_gc_link *young = &pgc__gc.gen[generation].head;
    pgc_gc_link *old = generation < PGC_OLDEST ? &pgc__gc.gen[generation + 1].head : young;
    for (int i = 0; i < generation; i++)
        pgc_list_merge(&pgc__gc.gen[i].head, young);
    /* the objects of these generations, by their tags */
    scan first = {.restore = pgc_gen_tag(generation < PGC_OLDEST ? generation + 1 : generation)};
    for (int i = 0; i <= generation; i++)
        first.in_place |= 1u << pgc_gen_tag(i);
    if (generation == PGC_OLDEST) { /* a pass in progress ends */
        first.in_place |= 1u << pgc_unscanned_tag();
        pgc_list_merge(&pgc__gc.unscanned, young);
    }

    outcome o = collect_list(young, old, &first);
    if (generation == PGC_OLDEST - 1) {
        pgc__gc.long_lived_pending += o.kept;
    } else if (generation == PGC_OLDEST) {
        pgc__gc.long_lived_pending = 0;
        pgc__gc.long_lived_total = o.kept;
    }
    return o;
}

/* Incremental mode: the survivors of the current pass so far. */
static size_t pass_survivors;

/* Start a pass over the old generation: all of it becomes unscanned.
 * long_lived_total + long_lived_pending is at least its size (every object
 * that enters it is counted, those that die there are not), so a pass takes
 * at most PGC_PASS_STEPS increments. */
static void start_pass(void) {
    size_t old = pgc__gc.long_lived_total + pgc__gc.long_lived_pending;
    size_t step = (old + PGC_PASS_STEPS - 1) / PGC_PASS_STEPS;
    pgc__gc.step_budget = step > PGC_STEP_MIN ? step : PGC_STEP_MIN;
    pgc_list_merge(&pgc__gc.gen[PGC_OLDEST].head, &pgc__gc.unscanned);
    pgc__gc.scanned_space ^= PGC_PREV_SPACE;
    pgc__gc.gen[PGC_OLDEST].count = 0;
    pgc__gc.long_lived_pending = 0;
    pass_survivors = 0;
}

/* One increment of the current pass: subtract_refs takes objects from the
 * head of unscanned as it goes, and what they reach there, until it has
 * taken step_budget (or more: what the last ones reach). */
static outcome collect_increment(void) {
    pgc_gc_link increment;
    pgc_list_init(&increment);
    scan first = {.restore = pgc_gen_tag(PGC_OLDEST),
                  .pull = 1u << pgc_unscanned_tag(),
                  .budget = pgc__gc.step_budget};
    outcome o = collect_list(&increment, &pgc__gc.gen[PGC_OLDEST].head, &first);
    pass_survivors += o.kept;
    if (pgc_list_is_empty(&pgc__gc.unscanned))
        pgc__gc.long_lived_total = pass_survivors; /* the pass is over */
    return o;
}

static unsigned long long nanoseconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000u + (unsigned long long)ts.tv_nsec;
}

/* One collection with its callbacks: of `generation`, or an increment
 * (counted as generation 2). Returns the unreachable objects found. */
static size_t run(int generation, int increment) {
    pgc_collect_info info = {generation, 0, 0};
    pgc__gc.collecting = 1;
    pgc__control_invoke_callbacks(PGC_START, &info);
    pgc_debug_check(pgc__collect_check());
    unsigned long long start = nanoseconds_now();

    pgc__gc.weak_hold = 1;
    outcome o = increment ? collect_increment() : collect(generation);
    pgc__weakref_run_callbacks();
    pgc__gc.weak_hold = 0;

    unsigned long long ns = nanoseconds_now() - start;
    info.collected = o.collected;
    info.uncollectable = o.found - o.collected;
    pgc_gen_stats *st = &pgc__gc.stats[generation];
    st->collections++;
    st->collected += info.collected;
    st->uncollectable += info.uncollectable;
    st->total_ns += ns;
    if (ns > st->max_pause_ns)
        st->max_pause_ns = ns;
    if (pgc__gc.debug & PGC_DEBUG_STATS)
        pgc__message("poolgc: gc: generation %d%s: %zu objects scanned, %zu unreachable, "
                     "%zu collected, %zu uncollectable, %.6f s",
                     generation, increment ? " (increment)" : "", o.scanned, o.found,
                     info.collected, info.uncollectable, (double)ns * 1e-9);
    pgc_debug_check(pgc__collect_check());
    pgc__control_invoke_callbacks(PGC_STOP, &info);
    pgc__gc.collecting = 0;
    return o.found;
}

size_t pgc__collect_run(int generation) {
    return run(generation, 0);
}

void pgc__collect_auto(void) {
    if (!pgc__gc.enabled || !pgc__gc.gen[0].threshold || pgc__gc.collecting)
        return;
    int passing = !pgc_list_is_empty(&pgc__gc.unscanned);
    for (int i = PGC_OLDEST; i >= 0; i--) {
        if (pgc__gc.gen[i].count > pgc__gc.gen[i].threshold) {
            if (i == PGC_OLDEST) {
                /* CPython's rule: a full collection only when the objects
                 * waiting to enter the oldest generation exceed 25% of it
                 * (exactly: 2 of 11 do not). A pass already running takes
                 * care of the oldest generation. */
                if (passing || pgc__gc.long_lived_pending * 4 <= pgc__gc.long_lived_total)
                    continue;
                if (pgc__gc.incremental) {
                    start_pass();
                    passing = !pgc_list_is_empty(&pgc__gc.unscanned);
                    i = PGC_OLDEST - 1;
                }
            }
            run(i, 0);
            break;
        }
    }
    if (passing && !pgc_list_is_empty(&pgc__gc.unscanned))
        run(PGC_OLDEST, 1);
}

/* ---- incremental mode on and off --------------------------------------------- */

size_t pgc__collect_mark(pgc_gc_link *list, uintptr_t tag) {
    size_t n = 0;
    for (pgc_gc_link *l = pgc_gc_next(list); l != list; l = pgc_gc_next(l), n++)
        l->prev = (l->prev & ~PGC_PREV_FLAGS) | tag;
    return n;
}

void pgc__collect_end_pass(void) {
    if (!pgc_list_is_empty(&pgc__gc.unscanned)) {
        pgc__collect_mark(&pgc__gc.unscanned, pgc_gen_tag(PGC_OLDEST));
        pgc_list_merge(&pgc__gc.unscanned, &pgc__gc.gen[PGC_OLDEST].head);
    }
}

void pgc__collect_set_incremental(int on) {
    if (!on)
        pgc__collect_end_pass();
    pgc__gc.incremental = on != 0;
}
