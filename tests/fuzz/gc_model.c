/*
 * gc_model - a model-based fuzzer of the GC object layer (pgc_gc(3)).
 *
 * The rule: under any sequence of pgc_new (containers with SLOTS child slots,
 * and leaves; some with finalizers that resurrect their object or drop their
 * own references), pgc_incref/pgc_decref, slot assignments, collections of
 * random generations (explicit, and automatic under random thresholds, in
 * generational and incremental mode), pgc_freeze/pgc_unfreeze and weak
 * references, checked against the program's own copy of the graph:
 *   - an object reachable from the roots (the references the program holds,
 *     and those finalizers stored in the resurrection list) is never released;
 *   - after pgc_collect(2) with nothing frozen, exactly the unreachable objects
 *     have been released, pgc_collect returned the number of unreachable
 *     containers that were alive, and every survivor's count is its
 *     references from the roots and from survivors, its finalized flag says
 *     whether its finalizer ran, and pgc_get_objects(-1) counts the survivors'
 *     containers;
 *   - an object is released at most once, its finalizer runs at most once,
 *     its memory keeps the pattern written to it until then, and its count
 *     is 0 in its release;
 *   - pgc_get_freeze_count() counts the frozen objects still alive;
 *     pgc_get_referents and pgc_get_referrers agree with the graph;
 *   - a weak reference returns its referent while the referent has stayed
 *     reachable, NULL once the referent is released or a full collection
 *     found it unreachable, and its callback has run exactly when it returns
 *     NULL (never for a weak reference the program dropped);
 *   - collections do not nest, and each reports at its end what pgc_collect
 *     returns; pgc_check() finds the structures sound after each full check.
 * The model's reachability is its own graph walk (roots: the held and the
 * resurrected references), independent of the collector; the release,
 * finalize and weak reference callbacks tell it what the library did.
 *
 * One thread; a run is a function of its arguments: a failure prints them
 * with the index of the operation, and reruns the same way.
 *
 * usage: gc_model [seed=N] [ops=N] [plant=N]
 * plant=N takes a reference the model does not know of at operation N, which
 * the model must report (tests/fuzz/plant.sh). Built with -DPGC_LIBFUZZER
 * (make fuzz), the choices are an input's bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poolgc.h"
#include "fuzz.h"

#define PROG "gc_model"
#define SLOTS 4
#define MAX_ALIVE 1500 /* objects alive at most (then drops and collections) */
#define MAX_HELD 4096  /* references the program holds */
#define MAX_WEAK 32    /* weak references the program holds */

/* The body of every object: containers use slot[], leaves do not (zero).
 * extra bytes of pattern follow, checked at finalize and release. */
typedef struct gobj {
    long id;
    void *slot[SLOTS]; /* owned references, reported by traverse */
    uint64_t seed;
    size_t extra;
    int mode; /* what finalize does */
    unsigned char data[];
} gobj;

enum { FIN_NOTHING, FIN_RESURRECT, FIN_DROP };
enum { K_CONTAINER, K_FCONTAINER, K_LEAF, K_FLEAF, K_COUNT };

/* The model of one object. */
typedef struct mobj {
    gobj *ptr;
    int kind;
    int edge[SLOTS]; /* ids, -1: none; a copy of slot[] */
    int held;        /* references in held[] */
    int saved;       /* references in saved[] */
    unsigned char released, finalized, frozen;
    unsigned reach; /* == walk_stamp: reachable at the last walk */
} mobj;

typedef struct mweak {
    void *ref;     /* NULL: dropped, or never made */
    int target;    /* id */
    int has_cb;    /* made with a callback */
    int callbacks; /* how many times it ran */
    int maybe_cleared, must_clear;
} mweak;

static struct model {
    mobj *obj; /* by id */
    int nobj, cap, alive, alive_containers, frozen_alive;
    int held[MAX_HELD], nheld; /* ids, once per reference held */
    int *saved, nsaved;        /* the resurrection list: ids, once per reference */
    mweak weak[MAX_WEAK];
    int *reachable, nreachable; /* the last walk's */
    int *stack;
    unsigned walk_stamp;
    long op;
    const char *what;
    fuzz_rng r;
    /* the collector, as the callback saw it */
    int collecting, collections;
    size_t last_found;
    /* for the summary line */
    long full_checks, finalized, resurrected, weak_callbacks, max_alive, frozen;
} m;

static long plant_op = -1;

#define FAIL(...) fuzz_fail(PROG, 0, m.op, m.what, __VA_ARGS__)

/* ---- the types ------------------------------------------------------------- */

static void traverse(void *obj, pgc_visit_fn visit, void *arg) {
    gobj *o = obj;
    for (int i = 0; i < SLOTS; i++)
        visit(o->slot[i], arg);
}

static mobj *model_of(const gobj *o, const char *who) {
    if (o->id < 0 || o->id >= m.nobj || m.obj[o->id].ptr != o)
        FAIL("%s: object %p has id %ld, which the model does not know", who, (const void *)o,
             o->id);
    return &m.obj[o->id];
}

static void check_body(const gobj *o, const char *who) {
    size_t bad = fuzz_check(o->data, 0, o->extra, o->seed);
    if (bad != o->extra)
        FAIL("%s: object %ld (%p): byte %zu of its %zu-byte body differs", who, o->id,
             (const void *)o, bad, o->extra);
}

static void set_slot(gobj *o, int i, gobj *child);

static void save(int id) {
    if (m.nsaved % 256 == 0) {
        int *grown = realloc(m.saved, (size_t)(m.nsaved + 256) * sizeof *grown);
        if (!grown)
            FAIL("out of memory");
        m.saved = grown;
    }
    m.saved[m.nsaved++] = id;
    m.obj[id].saved++;
}

/* Runs at most once per object: record it, then do what the object's mode
 * says. Its weak references may be cleared from now on. */
static void finalize(void *obj) {
    gobj *o = obj;
    mobj *mo = model_of(o, "finalize");
    if (mo->released || ++mo->finalized != 1)
        FAIL("object %ld finalized %d times (released %d)", o->id, mo->finalized, mo->released);
    if (!pgc_is_finalized(o))
        FAIL("object %ld: pgc_is_finalized is 0 in its finalizer", o->id);
    check_body(o, "finalize");
    for (int w = 0; w < MAX_WEAK; w++)
        if (m.weak[w].ref && m.weak[w].target == o->id)
            m.weak[w].maybe_cleared = 1;
    if (mo->frozen) { /* by counting: it left the permanent generation */
        mo->frozen = 0;
        m.frozen_alive--;
    }
    m.finalized++;
    if (o->mode == FIN_RESURRECT) {
        m.resurrected++;
        pgc_incref(o);
        save((int)o->id);
    } else if (o->mode == FIN_DROP && mo->kind == K_FCONTAINER) {
        for (int i = 0; i < SLOTS; i++)
            set_slot(o, i, NULL);
    }
}

static void release(void *obj) {
    gobj *o = obj;
    mobj *mo = model_of(o, "release");
    if (mo->released++)
        FAIL("object %ld released twice", o->id);
    if (pgc_refcount(o) != 0)
        FAIL("object %ld: count %zu in its release", o->id, pgc_refcount(o));
    check_body(o, "release");
    for (int i = 0; i < SLOTS; i++)
        mo->edge[i] = -1;
    m.alive--;
    m.alive_containers -= mo->kind <= K_FCONTAINER;
    if (mo->frozen) {
        mo->frozen = 0;
        m.frozen_alive--;
    }
}

static const pgc_type types[K_COUNT] = {
    {"container", traverse, NULL, release},
    {"fcontainer", traverse, finalize, release},
    {"leaf", NULL, NULL, release},
    {"fleaf", NULL, finalize, release},
};

/* Store a new reference to child (or NULL) in o's slot i, in the model too. */
static void set_slot(gobj *o, int i, gobj *child) {
    void *old = o->slot[i];
    o->slot[i] = pgc_incref(child);
    m.obj[o->id].edge[i] = child ? (int)child->id : -1;
    pgc_decref(old);
}

/* The collector's callback: collections do not nest; at the end, what it
 * found (collected + uncollectable), for pgc_collect's return value. */
static void on_collect(int phase, const pgc_collect_info *info, void *arg) {
    (void)arg;
    if (phase == PGC_START) {
        if (m.collecting++)
            FAIL("a collection of generation %d started inside another", info->generation);
        if (info->collected || info->uncollectable)
            FAIL("PGC_START with counts %zu %zu", info->collected, info->uncollectable);
    } else {
        if (m.collecting-- != 1)
            FAIL("PGC_STOP without PGC_START");
        m.last_found = info->collected + info->uncollectable;
    }
    m.collections++;
}

static void on_weak(void *ref, void *arg) {
    mweak *w = &m.weak[(uintptr_t)arg];
    if (w->ref != ref)
        FAIL("weak reference callback for %p, which the program dropped", ref);
    m.weak_callbacks++;
    if (++w->callbacks != 1)
        FAIL("weak reference %p (to object %d): callback ran %d times", ref, w->target,
             w->callbacks);
    void *got = pgc_weakref_get(ref);
    if (got)
        FAIL("weak reference %p: still set (to %p) in its callback", ref, got);
}

/* ---- the model's reachability ---------------------------------------------- */

/* Walk the graph from the roots: reach == walk_stamp marks the reachable,
 * reachable[] lists them. Fails if one of them was released. */
static void walk(void) {
    int top = 0;
    m.walk_stamp++;
    m.nreachable = 0;
    for (int pass = 0; pass < 2; pass++) {
        int n = pass ? m.nsaved : m.nheld, *ids = pass ? m.saved : m.held;
        for (int i = 0; i < n; i++)
            if (m.obj[ids[i]].reach != m.walk_stamp) {
                m.obj[ids[i]].reach = m.walk_stamp;
                m.stack[top++] = ids[i];
            }
    }
    while (top) {
        int id = m.stack[--top];
        mobj *mo = &m.obj[id];
        if (mo->released)
            FAIL("object %d is reachable but was released", id);
        m.reachable[m.nreachable++] = id;
        for (int s = 0; s < SLOTS; s++) {
            int c = mo->edge[s];
            if (c >= 0 && m.obj[c].reach != m.walk_stamp) {
                m.obj[c].reach = m.walk_stamp;
                m.stack[top++] = c;
            }
        }
    }
}

static int reachable(int id) {
    return m.obj[id].reach == m.walk_stamp;
}

/* Alive containers the last walk did not reach. */
static int unreachable_containers(void) {
    int n = 0;
    for (int id = 0; id < m.nobj; id++)
        n += !m.obj[id].released && m.obj[id].kind <= K_FCONTAINER && !reachable(id);
    return n;
}

/* What weak references say, against the model (after every operation). */
static void check_weak(void) {
    for (int i = 0; i < MAX_WEAK; i++) {
        mweak *w = &m.weak[i];
        if (!w->ref)
            continue;
        mobj *t = &m.obj[w->target];
        if (!reachable(w->target))
            w->maybe_cleared = 1;
        void *got = pgc_weakref_get(w->ref);
        if (got && got != t->ptr)
            FAIL("weak reference %d returned %p, not its referent %d (%p)", i, got, w->target,
                 (void *)t->ptr);
        pgc_decref(got);
        if (got && (t->released || w->must_clear))
            FAIL("weak reference %d still returns object %d, %s", i, w->target,
                 t->released ? "released" : "found unreachable by a full collection");
        if (!got && !w->maybe_cleared)
            FAIL("weak reference %d cleared, yet object %d stayed reachable", i, w->target);
        if (w->has_cb && w->callbacks != !got)
            FAIL("weak reference %d: %s, and its callback ran %d times", i, got ? "set" : "cleared",
                 w->callbacks);
    }
}

/* After every operation: walk (no reachable object released), the frozen
 * count, the weak references. */
static void quiet_check(void) {
    walk();
    if (pgc_get_freeze_count() != (size_t)m.frozen_alive)
        FAIL("pgc_get_freeze_count() = %zu, want %d", pgc_get_freeze_count(), m.frozen_alive);
    if (m.collecting)
        FAIL("a collection is still running");
    check_weak();
}

/* After pgc_collect(2) with nothing frozen: the alive objects are exactly the
 * reachable ones, with the right counts and flags. */
static void full_check(void) {
    size_t *in = calloc((size_t)m.nobj + 1, sizeof *in);
    if (!in)
        FAIL("out of memory");
    for (int id = 0; id < m.nobj; id++) {
        mobj *mo = &m.obj[id];
        if (mo->released)
            continue;
        if (!reachable(id))
            FAIL("object %d (%s) is unreachable, yet alive after pgc_collect(2)", id,
                 types[mo->kind].name);
        for (int s = 0; s < SLOTS; s++)
            if (mo->edge[s] >= 0)
                in[mo->edge[s]]++;
    }
    for (int id = 0; id < m.nobj; id++) {
        mobj *mo = &m.obj[id];
        if (mo->released)
            continue;
        size_t want = in[id] + (size_t)mo->held + (size_t)mo->saved;
        if (pgc_refcount(mo->ptr) != want)
            FAIL("object %d: count %zu, want %zu (%zu from objects, %d held, %d resurrected)", id,
                 pgc_refcount(mo->ptr), want, in[id], mo->held, mo->saved);
        if (pgc_is_finalized(mo->ptr) != (mo->finalized != 0))
            FAIL("object %d: pgc_is_finalized %d, finalizer ran %d times", id,
                 pgc_is_finalized(mo->ptr), mo->finalized);
        if (pgc_is_tracked(mo->ptr) != (mo->kind <= K_FCONTAINER))
            FAIL("object %d (%s): pgc_is_tracked %d", id, types[mo->kind].name,
                 pgc_is_tracked(mo->ptr));
    }
    free(in);
    m.full_checks++;
    size_t tracked = pgc_get_objects(-1, NULL, 0);
    if (tracked != (size_t)m.alive_containers)
        FAIL("pgc_get_objects(-1) counts %zu, want %d alive containers", tracked,
             m.alive_containers);
    pgc_check();
}

/* ---- operations -------------------------------------------------------------- */

static int random_reachable(void) {
    return m.reachable[fuzz_below(&m.r, (uint64_t)m.nreachable)];
}

static int random_reachable_container(void) {
    for (int tries = 0; tries < 8; tries++) {
        int id = random_reachable();
        if (m.obj[id].kind <= K_FCONTAINER)
            return id;
    }
    return -1;
}

static void hold(int id) {
    m.held[m.nheld++] = id;
    m.obj[id].held++;
}

static void op_drop(void);

static void op_new(void) {
    fuzz_rng *r = &m.r;
    int kind = (int)fuzz_below(r, 10);
    kind = kind < 4 ? K_CONTAINER : kind < 7 ? K_FCONTAINER : kind < 9 ? K_LEAF : K_FLEAF;
    size_t extra = fuzz_one_in(r, 50)   ? (size_t)fuzz_below(r, 70000)
                   : fuzz_one_in(r, 10) ? (size_t)fuzz_below(r, 2000)
                                        : (size_t)fuzz_below(r, 200);
    m.what = "pgc_new";
    if (m.alive >= MAX_ALIVE || m.nheld == MAX_HELD || m.nobj == m.cap) {
        if (m.nheld)
            op_drop();
        return;
    }
    gobj *o = pgc_new(&types[kind], sizeof(gobj) + extra);
    if (!o)
        FAIL("pgc_new(%s, %zu) returned NULL (errno %d)", types[kind].name, sizeof(gobj) + extra,
             errno);
    size_t nonzero = fuzz_check_zero((const unsigned char *)o, sizeof(gobj) + extra);
    if (nonzero != sizeof(gobj) + extra)
        FAIL("pgc_new(%s, %zu) = %p: byte %zu is not 0", types[kind].name, sizeof(gobj) + extra,
             (void *)o, nonzero);
    if ((uintptr_t)o % 16 || pgc_refcount(o) != 1 || pgc_type_of(o) != &types[kind] ||
        pgc_is_tracked(o) != (kind <= K_FCONTAINER) || pgc_is_finalized(o))
        FAIL("pgc_new(%s) = %p: count %zu, type %p, tracked %d, finalized %d", types[kind].name,
             (void *)o, pgc_refcount(o), (const void *)pgc_type_of(o), pgc_is_tracked(o),
             pgc_is_finalized(o));
    int id = m.nobj++;
    mobj *mo = &m.obj[id];
    memset(mo, 0, sizeof *mo);
    mo->ptr = o;
    mo->kind = kind;
    for (int s = 0; s < SLOTS; s++)
        mo->edge[s] = -1;
    o->id = id;
    o->seed = fuzz_bits(r);
    o->extra = extra;
    o->mode = (int)fuzz_below(r, 3);
    fuzz_fill(o->data, 0, extra, o->seed);
    m.alive++;
    m.alive_containers += kind <= K_FCONTAINER;
    if (m.alive > m.max_alive)
        m.max_alive = m.alive;
    hold(id);
}

static void op_drop(void) {
    m.what = "drop";
    if (!m.nheld)
        return;
    int i = (int)fuzz_below(&m.r, (uint64_t)m.nheld), id = m.held[i];
    m.held[i] = m.held[--m.nheld];
    m.obj[id].held--;
    pgc_decref(m.obj[id].ptr);
}

static void op_incref(void) {
    m.what = "incref";
    if (!m.nreachable || m.nheld == MAX_HELD)
        return;
    int id = random_reachable();
    if (pgc_incref(m.obj[id].ptr) != m.obj[id].ptr)
        FAIL("pgc_incref(%p) returned another pointer", (void *)m.obj[id].ptr);
    hold(id);
}

static void op_set(void) {
    m.what = "set slot";
    if (!m.nreachable)
        return;
    int x = random_reachable_container();
    if (x < 0)
        return;
    int slot = (int)fuzz_below(&m.r, SLOTS);
    int y = fuzz_one_in(&m.r, 5) ? -1 : random_reachable();
    set_slot(m.obj[x].ptr, slot, y < 0 ? NULL : m.obj[y].ptr);
}

/* pgc_collect(g): finds no more than the unreachable containers alive; with
 * g = 2 and nothing frozen, exactly those, and the full check follows. */
static void op_collect(void) {
    int g = (int)fuzz_below(&m.r, 3);
    int full = g == 2 && m.frozen_alive == 0;
    m.what = g == 0 ? "pgc_collect(0)" : g == 1 ? "pgc_collect(1)" : "pgc_collect(2)";
    int unreachable = unreachable_containers();
    if (full) /* a container it finds unreachable: its weak references cleared */
        for (int i = 0; i < MAX_WEAK; i++)
            if (m.weak[i].ref && !reachable(m.weak[i].target) &&
                m.obj[m.weak[i].target].kind <= K_FCONTAINER)
                m.weak[i].must_clear = 1;
    int before = m.collections;
    size_t found = pgc_collect(g);
    if (m.collections != before + 2 || found != m.last_found)
        FAIL("returned %zu; its callbacks ran %d times and reported %zu", found,
             m.collections - before, m.last_found);
    if (found > (size_t)unreachable || (full && found != (size_t)unreachable))
        FAIL("found %zu unreachable objects, want %s%d", found, full ? "" : "at most ",
             unreachable);
    if (full) {
        walk();
        full_check();
    }
}

static void op_freeze(void) {
    m.what = "pgc_freeze";
    pgc_freeze();
    for (int id = 0; id < m.nobj; id++) {
        mobj *mo = &m.obj[id];
        if (!mo->released && mo->kind <= K_FCONTAINER && !mo->frozen) {
            mo->frozen = 1;
            m.frozen_alive++;
            m.frozen++;
        }
    }
}

static void op_unfreeze(void) {
    m.what = "pgc_unfreeze";
    pgc_unfreeze();
    for (int id = 0; id < m.nobj; id++)
        m.obj[id].frozen = 0;
    m.frozen_alive = 0;
}

/* Drop one reference of the resurrection list. */
static void op_unsave(void) {
    m.what = "drop a resurrected reference";
    if (!m.nsaved)
        return;
    int i = (int)fuzz_below(&m.r, (uint64_t)m.nsaved), id = m.saved[i];
    m.saved[i] = m.saved[--m.nsaved];
    m.obj[id].saved--;
    pgc_decref(m.obj[id].ptr);
}

static int weak_count(int target) {
    int n = 0;
    for (int i = 0; i < MAX_WEAK; i++)
        n += m.weak[i].ref && m.weak[i].target == target;
    return n;
}

/* A weak reference to a reachable object, in a free entry of weak[]; or drop
 * one. */
static void op_weak(void) {
    int i = (int)fuzz_below(&m.r, MAX_WEAK);
    mweak *w = &m.weak[i];
    if (w->ref) {
        m.what = "drop a weak reference";
        void *ref = w->ref;
        w->ref = NULL; /* before: its callback must not run any more */
        pgc_decref(ref);
        return;
    }
    m.what = "pgc_weakref_new";
    if (!m.nreachable)
        return;
    int target = random_reachable(), has_cb = fuzz_one_in(&m.r, 2);
    size_t before = pgc_weakref_count(m.obj[target].ptr);
    int others_set = 1;
    for (int k = 0; k < MAX_WEAK; k++)
        if (m.weak[k].ref && m.weak[k].target == target && m.weak[k].maybe_cleared)
            others_set = 0;
    if (others_set && before != (size_t)weak_count(target))
        FAIL("pgc_weakref_count(object %d) = %zu, want %d", target, before, weak_count(target));
    void *ref = pgc_weakref_new(m.obj[target].ptr, has_cb ? on_weak : NULL, (void *)(uintptr_t)i);
    if (!ref)
        FAIL("pgc_weakref_new returned NULL (errno %d)", errno);
    *w = (mweak){.ref = ref, .target = target, .has_cb = has_cb};
    if (pgc_weakref_count(m.obj[target].ptr) != before + 1)
        FAIL("pgc_weakref_count(object %d) = %zu after pgc_weakref_new, was %zu", target,
             pgc_weakref_count(m.obj[target].ptr), before);
}

/* pgc_get_referents and pgc_get_referrers against the graph. */
static void op_introspect(void) {
    void *buf[64];
    if (!m.nreachable)
        return;
    if (fuzz_one_in(&m.r, 2)) {
        m.what = "pgc_get_referents";
        int x = random_reachable();
        mobj *mo = &m.obj[x];
        size_t n = pgc_get_referents(mo->ptr, buf, 64), k = 0;
        for (int s = 0; s < SLOTS; s++)
            if (mo->edge[s] >= 0 && (k >= n || buf[k++] != m.obj[mo->edge[s]].ptr))
                FAIL("object %d: referent %zu differs from slot %d", x, k - 1, s);
        if (k != n)
            FAIL("object %d: %zu referents, want %zu", x, n, k);
        return;
    }
    m.what = "pgc_get_referrers";
    int y = random_reachable(), want = 0;
    size_t n = pgc_get_referrers(m.obj[y].ptr, buf, 64);
    for (int id = 0; id < m.nobj; id++) {
        mobj *mo = &m.obj[id];
        int refers = 0;
        for (int s = 0; s < SLOTS; s++)
            refers |= !mo->released && mo->edge[s] == y;
        if (!refers)
            continue;
        want++;
        int listed = 0;
        for (size_t k = 0; k < n && k < 64; k++)
            listed += buf[k] == mo->ptr;
        if (n <= 64 && listed != 1)
            FAIL("object %d refers to object %d and is listed %d times", id, y, listed);
    }
    if (n != (size_t)want)
        FAIL("object %d: %zu referrers, want %d", y, n, want);
}

/* Thresholds (small: automatic collections happen), on and off, generational
 * or incremental. */
static void op_control(void) {
    fuzz_rng *r = &m.r;
    switch (fuzz_below(r, 4)) {
    case 0:
        m.what = "pgc_set_threshold";
        pgc_set_threshold((long)fuzz_below(r, 200), 1 + (long)fuzz_below(r, 10),
                          1 + (long)fuzz_below(r, 10));
        break;
    case 1:
        m.what = "pgc_enable/pgc_disable";
        if (fuzz_one_in(r, 3))
            pgc_disable();
        else
            pgc_enable();
        break;
    default:
        m.what = "pgc_set_incremental";
        pgc_set_incremental((int)fuzz_below(r, 2));
        break;
    }
}

/* Operation plant=N: a reference the model does not know of. */
static void plant(void) {
    if (!m.nreachable)
        return;
    int id = random_reachable();
    (void)pgc_incref(m.obj[id].ptr);
    fprintf(stderr, PROG ": planted: an unrecorded reference to object %d at op %ld\n", id, m.op);
}

static void step(void) {
    static const struct {
        int weight;
        void (*run)(void);
    } ops[] = {
        {250, op_new},    {190, op_drop},      {70, op_incref},  {300, op_set},
        {40, op_collect}, {4, op_freeze},      {6, op_unfreeze}, {30, op_unsave},
        {40, op_weak},    {20, op_introspect}, {8, op_control},
    };
    int total = 0, k = 0;
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        total += ops[i].weight;
    if (m.op == plant_op)
        plant();
    /* weak references to objects unreachable now may be cleared by this op */
    for (int i = 0; i < MAX_WEAK; i++)
        if (m.weak[i].ref && !reachable(m.weak[i].target))
            m.weak[i].maybe_cleared = 1;
    int pick = (int)fuzz_below(&m.r, (uint64_t)total);
    while (pick >= ops[k].weight)
        pick -= ops[k++].weight;
    ops[k].run();
    quiet_check();
}

/* Drop everything, collect until nothing is left: every object released
 * exactly once. */
static void teardown(void) {
    m.what = "teardown";
    for (int i = 0; i < MAX_WEAK; i++)
        if (m.weak[i].ref) {
            void *ref = m.weak[i].ref;
            m.weak[i].ref = NULL;
            pgc_decref(ref);
        }
    op_unfreeze();
    m.what = "teardown";
    int rounds = 0;
    do { /* finalizers that resurrect refill saved[], once per object */
        if (rounds++ > 3)
            FAIL("the resurrection list still holds %d references after %d rounds", m.nsaved,
                 rounds);
        while (m.nheld)
            op_drop();
        while (m.nsaved)
            op_unsave();
        m.what = "teardown";
        pgc_collect(2);
    } while (m.nheld || m.nsaved);
    walk();
    full_check();
    for (int id = 0; id < m.nobj; id++)
        if (m.obj[id].released != 1)
            FAIL("object %d released %d times at the end", id, m.obj[id].released);
    if (m.alive != 0 || pgc_get_objects(-1, NULL, 0) != 0)
        FAIL("%d objects alive, %zu tracked at the end", m.alive, pgc_get_objects(-1, NULL, 0));
    pgc_callback_remove(on_collect, NULL);
}

/* A fresh model for at most `ops` operations. */
static void start(long ops) {
    free(m.obj);
    free(m.reachable);
    free(m.stack);
    free(m.saved);
    memset(&m, 0, sizeof m);
    m.cap = (int)ops + 1;
    m.obj = calloc((size_t)m.cap, sizeof *m.obj);
    m.reachable = calloc((size_t)m.cap, sizeof *m.reachable);
    m.stack = calloc((size_t)m.cap, sizeof *m.stack);
    if (!m.obj || !m.reachable || !m.stack || pgc_callback_add(on_collect, NULL) != 0) {
        perror(PROG);
        exit(2);
    }
    walk(); /* nothing reachable yet */
}

#ifndef PGC_LIBFUZZER
int main(int argc, char **argv) {
    fuzz_arg args[] = {
        {"seed", 1, "the PRNG's seed: the run is a function of the arguments"},
        {"ops", 20000, "operations"},
        {"plant", 0, "N > 0: an unrecorded reference at op N (the model must fail)"},
    };
    fuzz_parse(PROG, argc, argv, args, sizeof args / sizeof *args);
    plant_op = args[2].value ? (long)args[2].value : -1;
    if (plant_op >= (long)args[1].value) {
        fprintf(stderr, PROG ": plant=%ld: operations are 0 to %llu\n", plant_op,
                args[1].value - 1);
        return 2;
    }
    start((long)args[1].value);
    m.r.state = args[0].value;
    m.what = "start";
    pgc_set_threshold(1 + (long)fuzz_below(&m.r, 100), 1 + (long)fuzz_below(&m.r, 10),
                      1 + (long)fuzz_below(&m.r, 10));
    for (m.op = 0; m.op < (long)args[1].value; m.op++)
        step();
    teardown();
    printf("%s: %d objects (%ld alive at most), %d collections, %ld full checks, %ld finalized, "
           "%ld resurrected, %ld frozen, %ld weak reference callbacks\n",
           fuzz_command, m.nobj, m.max_alive, m.collections / 2, m.full_checks, m.finalized,
           m.resurrected, m.frozen, m.weak_callbacks);
    return 0;
}
#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    snprintf(fuzz_command, sizeof fuzz_command, "%s", "(libFuzzer input)");
    start((long)size + 1); /* an operation reads one byte at least */
    m.r = (fuzz_rng){.state = 1, .data = data, .size = size};
    m.what = "start";
    pgc_set_threshold(1 + (long)fuzz_below(&m.r, 100), 1 + (long)fuzz_below(&m.r, 10),
                      1 + (long)fuzz_below(&m.r, 10));
    for (m.op = 0; !fuzz_exhausted(&m.r); m.op++)
        step();
    teardown();
    pgc_set_threshold(700, 10, 10);
    pgc_set_incremental(0);
    pgc_enable();
    return 0;
}
#endif
