/*
 * gc/internal.h - the GC layer's object header, generation lists and state,
 * shared by object.c (objects, reference counts, deallocation), collect.c
 * (the collector's algorithm), control.c (its control API) and
 * introspect.c (the gc module's queries).
 *
 * Memory of one object, from pgc_malloc (pools when it fits in either tier):
 *
 *   container:  | pgc_gc_link (16) | pgc_ob_head (16) | user data ...
 *   leaf:                           | pgc_ob_head (16) | user data ...
 *                                                       ^ pointer the user holds
 *
 * The object head is CPython's PyObject (count and type); the gc link is its
 * PyGC_Head, present only for containers (types with traverse), as in CPython.
 *
 * ob_head.rc, the top 16 bits say what the object is:
 *   PGC__RC_LIVE + n     a live object with count n (n == 0: being torn down)
 *   PGC__RC_PENDING | l  count reached zero, waiting on the deallocation work
 *                        list; l is the next pending object's address >> 4
 *   PGC__RC_FREED        memory given back (best effort: until reused)
 *   anything else        not a GC object: the GC API aborts with a message
 * The inline pgc_incref/pgc_decref in poolgc.h rely on this layout.
 *
 * ob_head.type: the pgc_type pointer, its three low bits used as flags
 * (pgc_type holds pointers, so it is at least 8-aligned):
 *   PGC_TYPE_FINALIZED  finalize has run (it never runs twice)
 *   PGC_TYPE_CONTAINER  the type has traverse: there is a gc link
 *   PGC_TYPE_WEAKREFS   weak references point to the object: its entry in
 *                       the weak reference table (weakref.c) lists them
 *
 * gc_link.next: 0 when untracked, else the next element of a circular list
 * (a generation, the old objects a pass has not scanned yet, the permanent
 * generation, or a list private to one collection). Links are 16-aligned, so
 * the list heads too, which leaves four low bits in prev.
 * gc_link.prev: the previous element, and in its four low bits a tag naming
 * the list the object is on (outside a collection):
 *   0                              generation 0
 *   PGC_PREV_SPACE                 generation 1
 *   PGC_PREV_OLD | scanned_space   generation 2 (pgc__gc.scanned_space is 0
 *                                  or PGC_PREV_SPACE)
 *   PGC_PREV_OLD | the other one   `unscanned`: incremental mode's old
 *                                  objects the current pass has yet to scan;
 *                                  a pass starts by flipping scanned_space,
 *                                  which moves them all there untouched
 *   PGC_PREV_UNREACHABLE           the permanent generation
 * The objects a collection owns have PGC_PREV_COLLECTING and gc_refs in the
 * bits from PGC_REFS_SHIFT up instead of a pointer (CPython's trick: no
 * extra word per object), plus PGC_PREV_UNREACHABLE on the unreachable list
 * (CPython keeps that flag in next, which costs a pass to clear). The tags
 * let a collection recognise an object of its set the first time it meets
 * it, so it copies the counts on the way (no pass of its own) and an
 * increment takes in the unscanned objects it reaches.
 *
 * Invariants other files rely on (pgc__collect_check checks them):
 * - Outside a collection, every tracked object has a live count >= 1 and
 *   the tag of its list; `unscanned` is empty in generational mode.
 *   Untracked containers have next == 0 and prev == 0 (pending ones: prev ==
 *   PGC_PREV_WAS_TRACKED or 0).
 * - Only collect.c sets COLLECTING; after move_unreachable it marks exactly
 *   the objects found unreachable. A list append clears the appended
 *   object's tag (generation 0's); whoever moves objects to another list
 *   sets their tag (pgc__collect_mark).
 * - All state lives in pgc__gc: one process-wide collector, no thread-local
 *   state, so any thread holding pgc_lock() may call anything.
 */
#ifndef POOLGC_GC_INTERNAL_H
#define POOLGC_GC_INTERNAL_H

#include <stdint.h>

#include "../internal.h" /* PGC_API, PGC_INTERNAL, pgc_likely, PGC_COLD */

/* ---- the header ---------------------------------------------------------- */

typedef struct pgc_gc_link {
    _Alignas(16) uintptr_t next; /* list successor; 0: untracked */
    uintptr_t prev;              /* list predecessor | a tag, or gc_refs | flags */
} pgc_gc_link;

typedef struct pgc_ob_head {
    uintptr_t type; /* const pgc_type * | PGC__TYPE_* flags */
    /* PGC__RC_LIVE + count, or a PENDING/FREED tag; unsigned long long as in
     * the inline pgc_incref/pgc_decref, so both access it through one type */
    _Alignas(8) unsigned long long rc;
} pgc_ob_head;

#define PGC_OB_SIZE sizeof(pgc_ob_head)                          /* 16 */
#define PGC_CONTAINER_PREFIX (sizeof(pgc_gc_link) + PGC_OB_SIZE) /* 32 */

#define PGC_RC_COUNT_MASK (PGC__RC_LIMIT - 1)
#define PGC_RC_TAG(rc) ((rc) >> PGC__RC_TAG_SHIFT)
/* Pending links store address >> 4 in 48 bits: addresses below 2^52. */
#define PGC_PENDING_ADDR_SHIFT 4

#define PGC_TYPE_FINALIZED ((uintptr_t)1)
#define PGC_TYPE_CONTAINER ((uintptr_t)2)
#define PGC_TYPE_WEAKREFS ((uintptr_t)4)
#define PGC_TYPE_FLAGS (PGC_TYPE_FINALIZED | PGC_TYPE_CONTAINER | PGC_TYPE_WEAKREFS)

#define PGC_PREV_COLLECTING ((uintptr_t)1)
#define PGC_PREV_UNREACHABLE ((uintptr_t)2)
#define PGC_PREV_SPACE ((uintptr_t)4)
#define PGC_PREV_OLD ((uintptr_t)8)
#define PGC_PREV_FLAGS ((uintptr_t)15) /* a tag, or the flags of a collection */
#define PGC_TAG_PERMANENT PGC_PREV_UNREACHABLE
#define PGC_REFS_SHIFT 4
/* the prev word of a pending (untracked, dying) container: was it tracked? */
#define PGC_PREV_WAS_TRACKED ((uintptr_t)1 << PGC_REFS_SHIFT)
#define PGC_REFS_ONE ((uintptr_t)1 << PGC_REFS_SHIFT)

_Static_assert(sizeof(pgc_ob_head) == 16 && sizeof(pgc_gc_link) == 16,
               "the inline reference counts expect rc 8 bytes before the object");
_Static_assert(_Alignof(pgc_type) >= 8, "type flags need three free low bits");
_Static_assert(_Alignof(pgc_gc_link) > PGC_PREV_FLAGS, "prev flags need four free low bits");

static inline pgc_ob_head *pgc_ob(const void *obj) {
    return (pgc_ob_head *)((char *)obj - PGC_OB_SIZE);
}
static inline pgc_gc_link *pgc_link(const void *obj) {
    return (pgc_gc_link *)((char *)obj - PGC_CONTAINER_PREFIX);
}
static inline void *pgc_obj_of(const pgc_gc_link *link) {
    return (char *)link + PGC_CONTAINER_PREFIX;
}
static inline const pgc_type *pgc_ob_type(const pgc_ob_head *ob) {
    return (const pgc_type *)(ob->type & ~PGC_TYPE_FLAGS);
}
static inline int pgc_is_container(const pgc_ob_head *ob) {
    return (ob->type & PGC_TYPE_CONTAINER) != 0;
}
/* A live object with any count, 0 included. */
static inline int pgc_rc_is_live(unsigned long long rc) {
    return PGC_RC_TAG(rc) == PGC_RC_TAG(PGC__RC_LIVE);
}

/* ---- circular doubly linked lists of gc links ---------------------------- */

static inline pgc_gc_link *pgc_gc_next(const pgc_gc_link *l) {
    return (pgc_gc_link *)l->next;
}
static inline pgc_gc_link *pgc_gc_prev(const pgc_gc_link *l) {
    return (pgc_gc_link *)(l->prev & ~(uintptr_t)PGC_PREV_FLAGS);
}
/* Set l's predecessor, keeping l's flags. */
static inline void pgc_gc_set_prev(pgc_gc_link *l, pgc_gc_link *p) {
    l->prev = (l->prev & PGC_PREV_FLAGS) | (uintptr_t)p;
}
static inline void pgc_list_init(pgc_gc_link *list) {
    list->next = list->prev = (uintptr_t)list;
}
static inline int pgc_list_is_empty(const pgc_gc_link *list) {
    return list->next == (uintptr_t)list;
}
/* Append node (its flags cleared) to list, whose head has no flags. */
static inline void pgc_list_append(pgc_gc_link *node, pgc_gc_link *list) {
    pgc_gc_link *last = (pgc_gc_link *)list->prev;
    node->prev = (uintptr_t)last;
    node->next = (uintptr_t)list;
    last->next = (uintptr_t)node;
    list->prev = (uintptr_t)node;
}
/* Unlink node; neighbours keep their flags. Leaves node->next == 0. */
static inline void pgc_list_remove(pgc_gc_link *node) {
    pgc_gc_link *prev = pgc_gc_prev(node), *next = pgc_gc_next(node);
    prev->next = (uintptr_t)next;
    pgc_gc_set_prev(next, prev);
    node->next = 0;
}
/* Move node to the end of list, keeping node's flags. */
static inline void pgc_list_move(pgc_gc_link *node, pgc_gc_link *list) {
    uintptr_t flags = node->prev & PGC_PREV_FLAGS;
    pgc_list_remove(node);
    pgc_list_append(node, list);
    node->prev |= flags;
}
/* Append all of from to list; from becomes empty. */
static inline void pgc_list_merge(pgc_gc_link *from, pgc_gc_link *list) {
    if (!pgc_list_is_empty(from)) {
        pgc_gc_link *first = (pgc_gc_link *)from->next, *last = (pgc_gc_link *)from->prev;
        pgc_gc_link *tail = (pgc_gc_link *)list->prev;
        tail->next = (uintptr_t)first;
        pgc_gc_set_prev(first, tail);
        last->next = (uintptr_t)list;
        list->prev = (uintptr_t)last;
        pgc_list_init(from);
    }
}
static inline size_t pgc_list_size(const pgc_gc_link *list) {
    size_t n = 0;
    for (const pgc_gc_link *l = pgc_gc_next(list); l != list; l = pgc_gc_next(l))
        n++;
    return n;
}

/* ---- the collector's state ----------------------------------------------- */

#define PGC_OLDEST (PGC_GENERATIONS - 1)
/* CPython's defaults (Modules/gcmodule.c): a young collection after 700 more
 * container allocations than deallocations, an older one every 10 younger. */
#define PGC_THRESHOLD0 700
#define PGC_THRESHOLD1 10
#define PGC_THRESHOLD2 10
/* Incremental mode (collect.c): a pass over the old generation takes at most
 * PGC_PASS_STEPS increments, so one scans about 1/PGC_PASS_STEPS of it and
 * the longest pause is that fraction of a full collection's (plus a young
 * collection); at least PGC_STEP_MIN objects each, so that a small old
 * generation is not cut into slivers. */
#define PGC_PASS_STEPS 32
#define PGC_STEP_MIN 1024

typedef struct pgc_generation {
    pgc_gc_link head; /* the objects of this generation */
    long threshold;   /* collect when count > threshold */
    long count;       /* gen 0: allocations - deallocations; others:
                        * collections of the next younger one since this
                        * generation was last collected */
} pgc_generation;

typedef struct pgc_callback_entry {
    pgc_callback_fn fn; /* NULL: removed while callbacks were running */
    void *arg;
} pgc_callback_entry;

/* A weak reference's data (the object pgc_weakref_new returns is one: a
 * leaf of type pgc__weakref_type). States: set (referent != NULL, on the
 * referent's list in the table), cleared with its callback waiting
 * (referent NULL, queued, on pgc__gc.weak_queue), cleared (referent NULL). */
typedef struct pgc_weakref {
    void *referent;           /* borrowed; NULL once cleared */
    pgc_weakref_fn callback;  /* NULL: none */
    void *arg;                /* given to callback, never read */
    struct pgc_weakref *next; /* the referent's list, then the queue */
    struct pgc_weakref *prev; /* NULL: first of its list */
    int queued;
} pgc_weakref;

/* One object with weak references (PGC_TYPE_WEAKREFS set): its list. The
 * table is open addressing with linear probing on the object's address, in
 * memory from pgc_malloc; count == length of the list. */
typedef struct pgc_weak_entry {
    const void *obj; /* NULL: empty slot */
    pgc_weakref *first;
    size_t count;
} pgc_weak_entry;

/* Live objects per type, kept only while statistics are on
 * (pgc__options.stats): open addressing on the type's address in a fixed
 * table, so counting never allocates; types that find no slot go to the last
 * one, type NULL ("other types"). */
#define PGC_TYPE_SLOTS 256
typedef struct pgc_type_slot {
    const pgc_type *type;
    size_t objects, bytes;
} pgc_type_slot;

typedef struct pgc_gc_state {
    pgc_generation gen[PGC_GENERATIONS];
    pgc_gc_link permanent; /* pgc_freeze(): never scanned */
    int enabled;           /* automatic collection from pgc_new */
    int collecting;        /* a collection is running: no nested ones */
    int used;              /* a GC object was ever made */
    unsigned debug;        /* PGC_DEBUG_* */
    /* CPython's rule for full collections: only when the objects that
     * survived a generation-1 collection since the last full one exceed a
     * quarter of those that survived the last full one. */
    size_t long_lived_total, long_lived_pending;
    pgc_gen_stats stats[PGC_GENERATIONS];

    /* incremental mode (collect.c): generation 2 holds the old objects the
     * current pass has scanned (or that arrived since it started),
     * `unscanned` those it has yet to scan; empty between passes */
    int incremental;
    pgc_gc_link unscanned;
    uintptr_t scanned_space; /* 0 or PGC_PREV_SPACE: see the prev tags */
    size_t step_budget;      /* objects an increment takes from unscanned */

    /* deallocation work list (object.c): objects whose count reached
     * zero, linked through their rc word; drained by the outermost caller */
    void *pending;
    int draining;
    const void *finalizing; /* object whose finalize is running */
    /* while the collector runs finalizers: objects of the unreachable set
     * whose count reaches zero stay where they are, count 0, for the
     * collector to examine again (a finalizer that dropped a reference it
     * does not own is then caught there) */
    int keep_unreachable;
    /* the object whose traverse the library is running: any call into the
     * API from there (other than visit) is misuse */
    const void *traversing;

    /* weak references (weakref.c) */
    pgc_weak_entry *weak_table;
    size_t weak_cap, weak_used; /* slots (a power of two, or 0), used slots */
    pgc_weakref *weak_queue;    /* cleared, callbacks to run, oldest first */
    pgc_weakref *weak_queue_end;
    int weak_hold; /* a collection runs: callbacks wait for its end */

    pgc_callback_entry *callbacks; /* pgc_callback_add() order */
    size_t ncallbacks, callbacks_cap;
    int callbacks_running;

    void **garbage; /* PGC_DEBUG_SAVEALL: one reference to each */
    size_t ngarbage, garbage_cap;

    pgc_type_slot types[PGC_TYPE_SLOTS + 1]; /* statistics on; last: other */
} pgc_gc_state;

PGC_INTERNAL extern pgc_gc_state pgc__gc;             /* gc.c */
PGC_INTERNAL extern const pgc_type pgc__weakref_type; /* weakref.c */

_Static_assert(PGC_GENERATIONS == 3, "one tag per generation below");
/* The tag of generation g's objects (see gc_link.prev), and of unscanned's. */
static inline uintptr_t pgc_gen_tag(int g) {
    return g == 0 ? 0 : g == 1 ? PGC_PREV_SPACE : PGC_PREV_OLD | pgc__gc.scanned_space;
}
static inline uintptr_t pgc_unscanned_tag(void) {
    return PGC_PREV_OLD | (pgc__gc.scanned_space ^ PGC_PREV_SPACE);
}

/* ---- the collector in the statistics report (stats.c) --------------------- */

#define PGC_STATS_TYPES 32 /* types listed in the report, most bytes first */
typedef struct pgc_gc_type_stats {
    const char *name; /* the type's name; "(unnamed)" or "(other types)" */
    size_t objects, bytes;
} pgc_gc_type_stats;
typedef struct pgc_gc_snapshot {
    int used;              /* 0: no GC object was ever made: no GC section */
    size_t objects, bytes; /* live GC objects, all types; bytes: their blocks
                            * (usable size, headers included) */
    size_t ntypes;         /* entries filled in types[] */
    pgc_gc_type_stats types[PGC_STATS_TYPES];
    pgc_gen_stats gens[PGC_GENERATIONS]; /* collections, collected,
                                          * uncollectable, total_ns, max_pause_ns */
} pgc_gc_snapshot;
/* Fill out (the caller holds pgc_lock when threads share GC objects; at
 * exit, nothing else runs). Objects and bytes are counted only while
 * statistics are on (POOLGC_STATS): 0 otherwise. Allocates nothing. */
PGC_INTERNAL void pgc__control_snapshot(pgc_gc_snapshot *out);

/* ---- cross-file functions ------------------------------------------------ */

/* object.c */
/* The object at obj, checked: live or pending; else a one-line message
 * naming func and obj, then abort. */
PGC_INTERNAL pgc_ob_head *pgc__object_check(const char *func, const void *obj);
/* "poolgc: FUNC(OBJ): WHAT; type ..." on stderr, then abort. what NULL: say
 * what obj's header shows; parent: the object whose traverse reported obj. */
PGC_INTERNAL void pgc__object_misuse(const char *func, const void *obj, const char *what)
    __attribute__((noreturn, cold));
PGC_INTERNAL void pgc__object_misuse_in(const char *func, const void *obj, const char *what,
                                        const void *parent) __attribute__((noreturn, cold));
/* "poolgc: FUNC(OBJ): called from the traverse function of ...", abort. */
PGC_INTERNAL void pgc__object_misuse_traversing(const char *func, const void *obj)
    __attribute__((noreturn, cold));
/* Drop the reference parent (being torn down) holds on child; a count
 * reaching zero is queued on the work list, never deallocated recursively. */
PGC_INTERNAL void pgc__object_drop_from(void *child, const void *parent);
PGC_INTERNAL void pgc__object_drain(void); /* empty the work list */
/* pgc_lock() around fork(): init.c's handlers call these, in its lock order. */
PGC_INTERNAL void pgc__object_fork_prepare(void);
PGC_INTERNAL void pgc__object_fork_parent(void);
PGC_INTERNAL void pgc__object_fork_child(void);
PGC_INTERNAL void pgc__object_free(void *obj); /* no finalize/release */

/* weakref.c */
/* Clear every weak reference to obj (which is dying, its PGC_TYPE_WEAKREFS
 * set): they return NULL from now on; those with a callback join the queue. */
PGC_INTERNAL void pgc__weakref_clear(void *obj);
/* Run the queued weak reference callbacks, oldest first, until the queue is
 * empty; a weak reference that is dying meanwhile gets no call. */
PGC_INTERNAL void pgc__weakref_run_callbacks(void);

/* Abort if a traverse function the library runs called func. */
static inline void pgc_check_not_traversing(const char *func, const void *obj) {
    if (pgc_unlikely(pgc__gc.traversing != NULL))
        pgc__object_misuse_traversing(func, obj);
}

/* collect.c */
PGC_INTERNAL void pgc__collect_auto(void); /* from pgc_new when gen 0 is due */
/* One collection of `generation` and the younger ones, with callbacks;
 * returns the unreachable objects found. Not while one runs. */
PGC_INTERNAL size_t pgc__collect_run(int generation);
/* Abort with a message unless the generation lists keep their invariants
 * (not during a collection; the caller holds pgc_lock when threads share). */
PGC_INTERNAL void pgc__collect_check(void);
/* Incremental mode on or off (off: the current pass ends). */
PGC_INTERNAL void pgc__collect_set_incremental(int on);
/* End the current pass, if any: what it has not scanned joins generation 2. */
PGC_INTERNAL void pgc__collect_end_pass(void);
/* Give every object of list the tag `tag` (one walk); returns how many. */
PGC_INTERNAL size_t pgc__collect_mark(pgc_gc_link *list, uintptr_t tag);

/* control.c */
PGC_INTERNAL void pgc__control_invoke_callbacks(int phase, const pgc_collect_info *info);
PGC_INTERNAL int pgc__control_save_garbage(void *obj); /* 0: no memory */

#endif /* POOLGC_GC_INTERNAL_H */
