/*
 * gc/internal.h - the GC layer's object header, generation lists and state,
 * shared by object.c (objects, reference counts, deallocation), collect.c
 * (the collector's algorithm), control.c (its control API) and
 * introspect.c (the gc module's queries).
 *
 * Memory of one object, from pgc_malloc (pools when it fits in PGC_SMALL_MAX):
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
 * ob_head.type: the pgc_type pointer, its two low bits used as flags
 * (pgc_type holds pointers, so it is at least 4-aligned):
 *   PGC_TYPE_FINALIZED  finalize has run (it never runs twice)
 *   PGC_TYPE_CONTAINER  the type has traverse: there is a gc link
 *
 * gc_link.next: 0 when untracked, else the next element of a circular list
 * (a generation, the permanent generation, or a list private to one
 * collection). Links are 16-aligned, so the list heads too.
 * gc_link.prev: the previous element; its two low bits are flags while a
 * collection owns the object: PGC_PREV_COLLECTING, and PGC_PREV_UNREACHABLE
 * on the objects move_unreachable has put on the unreachable list. Between
 * update_refs and move_unreachable, the bits above the flags hold gc_refs
 * (CPython's trick: no extra word per object; CPython keeps the unreachable
 * flag in next, which costs a pass to clear).
 *
 * Invariants other files rely on:
 * - Outside a collection, every tracked object has a clean prev pointer
 *   (no flags) and a live count >= 1; untracked containers have next == 0
 *   and prev == 0 (pending ones: prev == PGC_PREV_WAS_TRACKED or 0).
 * - Only collect.c sets the prev flags; after move_unreachable
 *   PGC_PREV_COLLECTING marks exactly the objects found unreachable.
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
    uintptr_t prev;              /* list predecessor | PGC__PREV_*, or gc_refs */
} pgc_gc_link;

typedef struct pgc_ob_head {
    uintptr_t type; /* const pgc_type * | PGC__TYPE_* flags */
    /* PGC__RC_LIVE + count, or a PENDING/FREED tag; unsigned long long as in
     * the inline pgc_incref/pgc_decref, so both access it through one type */
    _Alignas(8) unsigned long long rc;
} pgc_ob_head;

#define PGC_OB_SIZE sizeof(pgc_ob_head)                          /* 16 */
#define PGC_CONTAINER_PREFIX (sizeof(pgc_gc_link) + PGC_OB_SIZE) /* 32 */

#define PGC__RC_TAG_SHIFT 48
#define PGC_RC_COUNT_MASK (PGC__RC_LIMIT - 1)
#define PGC_RC_TAG(rc) ((rc) >> PGC__RC_TAG_SHIFT)
#define PGC__RC_PENDING (0x9c5bULL << PGC__RC_TAG_SHIFT)
#define PGC__RC_FREED (0x9c5cULL << PGC__RC_TAG_SHIFT)
/* Pending links store address >> 4 in 48 bits: addresses below 2^52. */
#define PGC_PENDING_ADDR_SHIFT 4

#define PGC_TYPE_FINALIZED ((uintptr_t)1)
#define PGC_TYPE_CONTAINER ((uintptr_t)2)
#define PGC_TYPE_FLAGS (PGC_TYPE_FINALIZED | PGC_TYPE_CONTAINER)

#define PGC_PREV_COLLECTING ((uintptr_t)1)
#define PGC_PREV_UNREACHABLE ((uintptr_t)2)
#define PGC_PREV_FLAGS (PGC_PREV_COLLECTING | PGC_PREV_UNREACHABLE)
#define PGC_REFS_SHIFT 2
/* the prev word of a pending (untracked, dying) container: was it tracked? */
#define PGC_PREV_WAS_TRACKED ((uintptr_t)1 << PGC_REFS_SHIFT)
#define PGC_REFS_ONE ((uintptr_t)1 << PGC_REFS_SHIFT)

_Static_assert(sizeof(pgc_ob_head) == 16 && sizeof(pgc_gc_link) == 16,
               "the inline reference counts expect rc 8 bytes before the object");
_Static_assert(_Alignof(pgc_type) >= 4, "type flags need two free low bits");

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

#ifndef PGC_GENERATIONS /* poolgc.h defines it */
#define PGC_GENERATIONS 3
#endif
#define PGC_OLDEST (PGC_GENERATIONS - 1)
/* CPython's defaults (Modules/gcmodule.c): a young collection after 700 more
 * container allocations than deallocations, an older one every 10 younger. */
#define PGC_THRESHOLD0 700
#define PGC_THRESHOLD1 10
#define PGC_THRESHOLD2 10

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

typedef struct pgc_gc_state {
    pgc_generation gen[PGC_GENERATIONS];
    pgc_gc_link permanent; /* pgc_freeze(): never scanned */
    int enabled;           /* automatic collection from pgc_new */
    int collecting;        /* a collection is running: no nested ones */
    unsigned debug;        /* PGC_DEBUG_* */
    /* CPython's rule for full collections: only when the objects that
     * survived a generation-1 collection since the last full one exceed a
     * quarter of those that survived the last full one. */
    size_t long_lived_total, long_lived_pending;
    pgc_gen_stats stats[PGC_GENERATIONS];

    /* deallocation work list (object.c): objects whose count reached
     * zero, linked through their rc word; drained by the outermost caller */
    void *pending;
    int draining;
    const void *finalizing; /* object whose finalize the drain is running */

    pgc_callback_entry *callbacks; /* pgc_callback_add() order */
    size_t ncallbacks, callbacks_cap;
    int callbacks_running;

    void **garbage; /* PGC_DEBUG_SAVEALL: one reference to each */
    size_t ngarbage, garbage_cap;
} pgc_gc_state;

PGC_INTERNAL extern pgc_gc_state pgc__gc;

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
/* Drop the reference parent (being torn down) holds on child; a count
 * reaching zero is queued on the work list, never deallocated recursively. */
PGC_INTERNAL void pgc__object_drop_from(void *child, const void *parent);
PGC_INTERNAL void pgc__object_drain(void); /* empty the work list */
/* pgc_lock() around fork(): init.c's handlers call these, in its lock order. */
PGC_INTERNAL void pgc__object_fork_prepare(void);
PGC_INTERNAL void pgc__object_fork_parent(void);
PGC_INTERNAL void pgc__object_fork_child(void);
PGC_INTERNAL void pgc__object_free(void *obj); /* no finalize/release */

/* collect.c */
PGC_INTERNAL void pgc__collect_auto(void); /* from pgc_new when gen 0 is due */
/* One collection of `generation` and the younger ones, with callbacks;
 * returns the unreachable objects found. Not while one runs. */
PGC_INTERNAL size_t pgc__collect_run(int generation);
/* Abort with a message unless the generation lists keep their invariants
 * (not during a collection; the caller holds pgc_lock when threads share). */
PGC_INTERNAL void pgc__collect_check(void);

/* control.c */
PGC_INTERNAL void pgc__control_invoke_callbacks(int phase, const pgc_collect_info *info);
PGC_INTERNAL int pgc__control_save_garbage(void *obj); /* 0: no memory */

#endif /* POOLGC_GC_INTERNAL_H */
