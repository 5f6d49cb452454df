/*
 * gc/object.c - GC objects: pgc_new, reference counts, deallocation,
 * tracking, the misuse messages, and pgc_lock().
 *
 * Header layout and rc tags: see internal.h.
 *
 * Deallocation. A count reaching zero does not recurse: the object is put on
 * a work list (pgc__gc.pending, linked through the rc words of the dying
 * objects, so it never allocates) and the outermost caller drains it:
 *
 *   pop obj -> finalize (once; count 1 while it runs; a count above 1 after
 *              it means resurrection: the object lives on, re-tracked)
 *           -> traverse(obj, drop): each child's count - 1; zero -> queued
 *           -> release -> free
 *
 * so a 10-million-long chain is freed in a loop, with constant C stack (what
 * CPython's "trashcan" approximates), and finalize/release always run from
 * the drain loop, never from inside another object's traverse. A container
 * leaves its generation list the moment its count reaches zero, so a
 * collection that runs meanwhile (from a finalizer) never sees it. Leaves
 * with neither finalize nor release are freed on the spot.
 *
 * Weak references: weakref.c; a death by reference counting calls it
 * (pgc__weakref_clear) between finalize and dropping references.
 *
 * Statistics: while they are on (POOLGC_STATS), pgc_new and the free path
 * count live objects and bytes per type in pgc__gc.types, a fixed table
 * (never malloc, which may be where a report comes from); control.c reads it.
 *
 * Misuse (a count already zero, a freed or foreign pointer, a decref too many
 * inside a finalizer, a call from a traverse function) prints one line
 * naming the function, the address and the type where it is known, then
 * aborts: never silent corruption.
 */
#define PGC_NO_INLINE /* this file defines the exported pgc_incref/pgc_decref */

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* ---- misuse --------------------------------------------------------------- */

/* What is wrong with an object whose rc word failed a check. */
static const char *describe(const void *obj) {
    unsigned long long rc = pgc_ob(obj)->rc;
    if (pgc_rc_is_live(rc)) /* the checks only fail live objects at count 0 */
        return "reference count is already zero (object being deallocated)";
    if (PGC_RC_TAG(rc) == PGC_RC_TAG(PGC__RC_PENDING))
        return "reference count is already zero (object waiting to be deallocated)";
    /* A leaf's rc word is its block's second word, where a free block
     * carries the allocator's freed mark instead of PGC__RC_FREED. */
    if (PGC_RC_TAG(rc) == PGC_RC_TAG(PGC__RC_FREED) || rc == pgc_freed_mark(pgc_ob(obj)))
        return "object was already freed";
    return "not a GC object (or freed and reused)";
}

/* The type of obj if its header says it is a GC object, else NULL. */
static const pgc_type *known_type(const void *obj) {
    unsigned long long tag = PGC_RC_TAG(pgc_ob(obj)->rc);
    if (tag != PGC_RC_TAG(PGC__RC_LIVE) && tag != PGC_RC_TAG(PGC__RC_PENDING))
        return NULL;
    return pgc_ob_type(pgc_ob(obj));
}

static int type_text(char *buf, size_t size, const pgc_type *t) {
    if (!t)
        return snprintf(buf, size, "type unknown");
    if (t->name)
        return snprintf(buf, size, "type \"%.64s\"", t->name);
    return snprintf(buf, size, "type %p", (const void *)t);
}

/* "poolgc: FUNC(OBJ): WHAT; type "NAME"[; reported by the traverse of P (...)]"
 * or, with no object, "poolgc: FUNC: WHAT". */
void pgc__object_misuse_in(const char *func, const void *obj, const char *what,
                           const void *parent) {
    char msg[PGC_MESSAGE_MAX - 1];
    size_t n;
    if (!obj) /* no object to name: pgc_new(NULL, ...), pgc_unlock(), NULL */
        n = (size_t)snprintf(msg, sizeof msg, "poolgc: %s: %s", func,
                             what ? what : "NULL is not a GC object");
    else {
        n = (size_t)snprintf(msg, sizeof msg, "poolgc: %s(%p): %s; ", func, obj,
                             what ? what : describe(obj));
        if (n < sizeof msg)
            n += (size_t)type_text(msg + n, sizeof msg - n, known_type(obj));
    }
    if (parent && n < sizeof msg) {
        n +=
            (size_t)snprintf(msg + n, sizeof msg - n, "; reported by the traverse of %p (", parent);
        if (n < sizeof msg)
            n += (size_t)type_text(msg + n, sizeof msg - n, known_type(parent));
        if (n < sizeof msg)
            n += (size_t)snprintf(msg + n, sizeof msg - n, ")");
    }
    pgc__message_fatal("%s", msg);
}

void pgc__object_misuse(const char *func, const void *obj, const char *what) {
    pgc__object_misuse_in(func, obj, what, NULL);
}

void pgc__object_misuse_traversing(const char *func, const void *obj) {
    const void *parent = pgc__gc.traversing;
    char what[128];
    const pgc_type *t = known_type(parent);
    snprintf(what, sizeof what, "called from the traverse function of %p (type %s%.64s%s)", parent,
             t && t->name ? "\"" : "", t && t->name ? t->name : "unknown",
             t && t->name ? "\"" : "");
    pgc__object_misuse(func, obj, what);
}

pgc_ob_head *pgc__object_check(const char *func, const void *obj) {
    if (pgc_unlikely(!obj))
        pgc__object_misuse(func, obj, NULL);
    pgc_ob_head *ob = pgc_ob(obj);
    unsigned long long tag = PGC_RC_TAG(ob->rc);
    if (pgc_unlikely(tag != PGC_RC_TAG(PGC__RC_LIVE) && tag != PGC_RC_TAG(PGC__RC_PENDING)))
        pgc__object_misuse(func, obj, NULL);
    return ob;
}

/* ---- allocation -------------------------------------------------------------- */

/* Statistics: count (sign 1) or uncount (-1) the object at mem of type t. */
static PGC_NOINLINE void count_type(const pgc_type *t, const void *mem, int sign) {
    pgc_type_slot *slot = &pgc__gc.types[PGC_TYPE_SLOTS]; /* other types */
    size_t h = (size_t)(((uintptr_t)t >> 3) * 0x9e3779b97f4a7c15u >> 56);
    for (size_t i = 0; i < PGC_TYPE_SLOTS; i++) {
        pgc_type_slot *s = &pgc__gc.types[(h + i) % PGC_TYPE_SLOTS];
        if (s->type == t || !s->type) {
            s->type = t;
            slot = s;
            break;
        }
    }
    size_t bytes = pgc_usable_size(mem);
    if (sign > 0) {
        slot->objects++;
        slot->bytes += bytes;
    } else {
        slot->objects--;
        slot->bytes -= bytes;
    }
}

PGC_API void *pgc_new(const pgc_type *type, size_t size) {
    if (pgc_unlikely(!type))
        pgc__object_misuse("pgc_new", NULL, "the type is NULL");
    pgc_check_not_traversing("pgc_new", NULL);
    int container = type->traverse != NULL;
    size_t prefix = container ? PGC_CONTAINER_PREFIX : PGC_OB_SIZE;
    if (pgc_unlikely(size > SIZE_MAX - prefix)) {
        errno = ENOMEM;
        return NULL;
    }
    char *mem = pgc_malloc(prefix + size);
    if (pgc_unlikely(!mem))
        return NULL;
    pgc__gc.used = 1;
    if (pgc_unlikely(pgc__options.stats != PGC_STATS_OFF))
        count_type(type, mem, 1);
    void *obj = mem + prefix;
    memset(obj, 0, size);
    pgc_ob_head *ob = pgc_ob(obj);
    ob->type = (uintptr_t)type | (container ? PGC_TYPE_CONTAINER : 0);
    ob->rc = PGC__RC_LIVE + 1;
    if (container) {
        /* CPython's rule: the young count is container allocations minus
         * deallocations; collect (before the new object is visible) once it
         * passes threshold 0. */
        pgc_generation *young = &pgc__gc.gen[0];
        if (++young->count > young->threshold && pgc__gc.enabled)
            pgc__collect_auto();
        pgc_list_append(pgc_link(obj), &young->head);
    }
    return obj;
}

void pgc__object_free(void *obj) {
    pgc_ob_head *ob = pgc_ob(obj);
    void *mem = ob;
    if (pgc_is_container(ob)) {
        mem = pgc_link(obj);
        if (pgc__gc.gen[0].count > 0)
            pgc__gc.gen[0].count--;
    }
    if (pgc_unlikely(pgc__options.stats != PGC_STATS_OFF))
        count_type(pgc_ob_type(ob), mem, -1);
    ob->rc = PGC__RC_FREED;
    pgc_free(mem);
}

/* ---- deallocation ---------------------------------------------------------- */

/* obj's count has just reached zero: queue it (or free a plain leaf now). */
static void queue_dead(void *obj) {
    pgc_ob_head *ob = pgc_ob(obj);
    if (pgc_is_container(ob)) {
        pgc_gc_link *link = pgc_link(obj);
        if (pgc_unlikely(pgc__gc.keep_unreachable) && (link->prev & PGC_PREV_COLLECTING)) {
            /* unreachable, the collector runs finalizers: stays (collect.c) */
            ob->rc = PGC__RC_LIVE;
            return;
        }
        uintptr_t was_tracked = 0;
        if (link->next) {
            pgc_list_remove(link);
            was_tracked = PGC_PREV_WAS_TRACKED;
        }
        link->prev = was_tracked;
    } else {
        const pgc_type *t = pgc_ob_type(ob);
        if (!t->finalize && !t->release && !(ob->type & PGC_TYPE_WEAKREFS)) {
            pgc__object_free(obj); /* nothing can run: no need to queue */
            return;
        }
    }
    if (pgc_unlikely((unsigned long long)(uintptr_t)obj >>
                     (PGC__RC_TAG_SHIFT + PGC_PENDING_ADDR_SHIFT)))
        pgc__object_misuse("pgc_decref", obj, "address beyond 2^52, unsupported");
    ob->rc = PGC__RC_PENDING | ((uintptr_t)pgc__gc.pending >> PGC_PENDING_ADDR_SHIFT);
    pgc__gc.pending = obj;
}

static void visit_drop(void *child, void *parent) {
    if (child)
        pgc__object_drop_from(child, parent);
}

void pgc__object_drop_from(void *child, const void *parent) {
    pgc_ob_head *ob = pgc_ob(child);
    unsigned long long rc = ob->rc;
    if (pgc_likely(rc - (PGC__RC_LIVE + 2) < PGC__RC_LIMIT - 2))
        ob->rc = rc - 1;
    else if (rc == PGC__RC_LIVE + 1)
        queue_dead(child);
    else
        pgc__object_misuse_in("pgc_decref", child, NULL, parent);
}

/* Finalize, drop references, release, free: obj came off the work list. */
static void destroy(void *obj) {
    pgc_ob_head *ob = pgc_ob(obj);
    const pgc_type *t = pgc_ob_type(ob);
    if (t->finalize && !(ob->type & PGC_TYPE_FINALIZED)) {
        ob->type |= PGC_TYPE_FINALIZED;
        ob->rc = PGC__RC_LIVE + 1; /* the finalizer's own reference */
        pgc__gc.finalizing = obj;
        t->finalize(obj);
        pgc__gc.finalizing = NULL;
        if (ob->rc != PGC__RC_LIVE + 1) {
            /* resurrected: it stored a new reference to itself somewhere */
            ob->rc--;
            if (pgc_is_container(ob)) {
                pgc_gc_link *link = pgc_link(obj);
                uintptr_t was_tracked = link->prev;
                if (!link->next) {
                    link->prev = 0;
                    if (was_tracked == PGC_PREV_WAS_TRACKED)
                        pgc_list_append(link, &pgc__gc.gen[0].head);
                }
            }
            return;
        }
        if (pgc_is_container(ob) && pgc_link(obj)->next)
            pgc_list_remove(pgc_link(obj)); /* the finalizer tracked it */
    }
    ob->rc = PGC__RC_LIVE; /* count 0: being torn down */
    if (ob->type & PGC_TYPE_WEAKREFS) {
        /* after finalize (which may resurrect), before any reference goes;
         * count 0 meanwhile, so a callback that reaches obj by other means
         * cannot resurrect it (that is misuse, caught) */
        pgc__weakref_clear(obj);
        if (!pgc__gc.weak_hold)
            pgc__weakref_run_callbacks();
    }
    if (pgc_is_container(ob)) {
        const void *outer = pgc__gc.traversing;
        pgc__gc.traversing = obj;
        t->traverse(obj, visit_drop, obj);
        pgc__gc.traversing = outer;
    }
    if (t->release)
        t->release(obj);
    pgc__object_free(obj);
}

void pgc__object_drain(void) {
    pgc__gc.draining = 1;
    while (pgc__gc.pending) {
        void *obj = pgc__gc.pending;
        unsigned long long link = pgc_ob(obj)->rc & PGC_RC_COUNT_MASK;
        pgc__gc.pending = (void *)(uintptr_t)(link << PGC_PENDING_ADDR_SHIFT);
        destroy(obj);
    }
    pgc__gc.draining = 0;
}

/* ---- reference counts -------------------------------------------------------- */

/* Count 1 reaching zero, or misuse. */
static void decref_slow(void *obj) {
    unsigned long long rc = pgc_ob(obj)->rc;
    pgc_check_not_traversing("pgc_decref", obj);
    if (rc != PGC__RC_LIVE + 1)
        pgc__object_misuse("pgc_decref", obj, NULL);
    if (pgc_unlikely(obj == pgc__gc.finalizing))
        pgc__object_misuse("pgc_decref", obj,
                           "its finalize dropped a reference it does not own (count 1 -> 0)");
    queue_dead(obj);
    if (!pgc__gc.draining)
        pgc__object_drain();
}

static void incref_slow(void *obj) {
    unsigned long long rc = pgc_ob(obj)->rc;
    pgc__object_misuse("pgc_incref", obj,
                       rc == PGC__RC_LIVE + PGC_RC_COUNT_MASK ? "reference count overflow" : NULL);
}

/* The exported functions; the inline versions in poolgc.h do the common case
 * themselves (the same compare) and call these for the rest. */
PGC_API void *pgc_incref(void *obj) {
    if (obj) {
        unsigned long long *rc = &pgc_ob(obj)->rc;
        if (pgc_likely(*rc - (PGC__RC_LIVE + 1) < PGC__RC_LIMIT - 2))
            ++*rc;
        else
            incref_slow(obj);
    }
    return obj;
}

PGC_API void pgc_decref(void *obj) {
    if (obj) {
        unsigned long long *rc = &pgc_ob(obj)->rc;
        if (pgc_likely(*rc - (PGC__RC_LIVE + 2) < PGC__RC_LIMIT - 2))
            --*rc;
        else
            decref_slow(obj);
    }
}

PGC_API size_t pgc_refcount(const void *obj) {
    pgc_ob_head *ob = pgc__object_check("pgc_refcount", obj);
    return pgc_rc_is_live(ob->rc) ? (size_t)(ob->rc & PGC_RC_COUNT_MASK) : 0;
}

PGC_API const pgc_type *pgc_type_of(const void *obj) {
    return pgc_ob_type(pgc__object_check("pgc_type_of", obj));
}

/* ---- tracking ------------------------------------------------------------------ */

PGC_API void pgc_track(void *obj) {
    pgc_ob_head *ob = pgc__object_check("pgc_track", obj);
    if (!pgc_is_container(ob))
        pgc__object_misuse("pgc_track", obj, "a leaf (its type has no traverse) cannot be tracked");
    if (ob->rc - (PGC__RC_LIVE + 1) >= PGC__RC_LIMIT - 1)
        pgc__object_misuse("pgc_track", obj, NULL); /* dying */
    pgc_gc_link *link = pgc_link(obj);
    if (!link->next)
        pgc_list_append(link, &pgc__gc.gen[0].head);
}

PGC_API void pgc_untrack(void *obj) {
    pgc_ob_head *ob = pgc__object_check("pgc_untrack", obj);
    if (!pgc_is_container(ob))
        return;
    pgc_gc_link *link = pgc_link(obj);
    if (link->next)
        pgc_list_remove(link);
    link->prev = 0; /* also: a finalizer untracking itself stays untracked */
}

PGC_API int pgc_is_tracked(const void *obj) {
    pgc_ob_head *ob = pgc__object_check("pgc_is_tracked", obj);
    return pgc_is_container(ob) && pgc_link(obj)->next != 0;
}

PGC_API int pgc_is_finalized(const void *obj) {
    return (pgc__object_check("pgc_is_finalized", obj)->type & PGC_TYPE_FINALIZED) != 0;
}

/* ---- pgc_lock ------------------------------------------------------------------ */

/* A plain mutex made recursive by a per-thread depth: only the first
 * pgc_lock() of a thread takes the mutex, only its last pgc_unlock() releases
 * it. Around fork() it is taken like the allocator's locks (the lock order
 * and the fork handlers are in init.c); the child gets a fresh mutex, held
 * if the forking thread held it. */
static pthread_mutex_t gc_mutex = PTHREAD_MUTEX_INITIALIZER;
static __thread unsigned long gc_lock_depth;

void pgc__object_fork_prepare(void) {
    pgc_lock();
}
void pgc__object_fork_parent(void) {
    pgc_unlock();
}
void pgc__object_fork_child(void) {
    pthread_mutex_init(&gc_mutex, NULL);
    if (--gc_lock_depth > 0)
        pthread_mutex_lock(&gc_mutex);
}

PGC_API void pgc_lock(void) {
    if (gc_lock_depth++ == 0)
        pthread_mutex_lock(&gc_mutex);
}

PGC_API void pgc_unlock(void) {
    if (pgc_unlikely(gc_lock_depth == 0))
        pgc__object_misuse("pgc_unlock", NULL, "the calling thread does not hold the lock");
    if (--gc_lock_depth == 0)
        pthread_mutex_unlock(&gc_mutex);
}
