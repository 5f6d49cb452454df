/*
 * control.c - the collector's control API, what CPython's gcmodule.c is to
 * its gc.c: pgc_collect, enable/disable, incremental mode, thresholds and
 * counts, freeze, callbacks, statistics (and the snapshot the POOLGC_STATS
 * report prints, stats.c), debug flags, and the garbage kept under
 * PGC_DEBUG_SAVEALL. The algorithm itself is in collect.c.
 *
 * Everything here reads or sets pgc__gc (internal.h) and nothing else; the
 * caller holds pgc_lock() when several threads use GC objects.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

PGC_API size_t pgc_collect(int generation) {
    if (generation < 0 || generation > PGC_OLDEST) {
        errno = EINVAL;
        return 0;
    }
    pgc_check_not_traversing("pgc_collect", NULL);
    if (pgc__gc.collecting)
        return 0;
    return pgc__collect_run(generation);
}

PGC_API void pgc_set_incremental(int on) {
    if (!pgc__gc.collecting) /* the lists are the collection's meanwhile */
        pgc__collect_set_incremental(on);
}
PGC_API int pgc_get_incremental(void) {
    return pgc__gc.incremental;
}

PGC_API void pgc_enable(void) {
    pgc__gc.enabled = 1;
}
PGC_API void pgc_disable(void) {
    pgc__gc.enabled = 0;
}
PGC_API int pgc_is_enabled(void) {
    return pgc__gc.enabled;
}

PGC_API void pgc_set_threshold(long t0, long t1, long t2) {
    pgc__gc.gen[0].threshold = t0;
    pgc__gc.gen[1].threshold = t1;
    pgc__gc.gen[2].threshold = t2;
}

PGC_API void pgc_get_threshold(long out[PGC_GENERATIONS]) {
    for (int i = 0; i < PGC_GENERATIONS; i++)
        out[i] = pgc__gc.gen[i].threshold;
}

PGC_API void pgc_get_count(long out[PGC_GENERATIONS]) {
    for (int i = 0; i < PGC_GENERATIONS; i++)
        out[i] = pgc__gc.gen[i].count;
}

/* Both walk the objects they move, to give them their new list's tag
 * (gc/internal.h). */
PGC_API void pgc_freeze(void) {
    pgc__collect_end_pass();
    for (int i = 0; i < PGC_GENERATIONS; i++) {
        pgc__collect_mark(&pgc__gc.gen[i].head, PGC_TAG_PERMANENT);
        pgc_list_merge(&pgc__gc.gen[i].head, &pgc__gc.permanent);
    }
    pgc__gc.gen[0].count = 0;
}

PGC_API void pgc_unfreeze(void) {
    /* counted as survivors of the last full collection: a pass over them
     * still takes at most PGC_PASS_STEPS increments (collect.c) */
    pgc__gc.long_lived_total += pgc__collect_mark(&pgc__gc.permanent, pgc_gen_tag(PGC_OLDEST));
    pgc_list_merge(&pgc__gc.permanent, &pgc__gc.gen[PGC_OLDEST].head);
}

PGC_API size_t pgc_get_freeze_count(void) {
    return pgc_list_size(&pgc__gc.permanent);
}

/* ---- callbacks ------------------------------------------------------------ */

void pgc__control_invoke_callbacks(int phase, const pgc_collect_info *info) {
    if (!pgc__gc.ncallbacks)
        return;
    /* A callback may add or remove callbacks: removal leaves a hole (fn
     * NULL) until the outermost invocation ends. */
    pgc__gc.callbacks_running++;
    for (size_t i = 0; i < pgc__gc.ncallbacks; i++) {
        pgc_callback_entry c = pgc__gc.callbacks[i];
        if (c.fn)
            c.fn(phase, info, c.arg);
    }
    if (--pgc__gc.callbacks_running == 0) {
        size_t kept = 0;
        for (size_t i = 0; i < pgc__gc.ncallbacks; i++)
            if (pgc__gc.callbacks[i].fn)
                pgc__gc.callbacks[kept++] = pgc__gc.callbacks[i];
        pgc__gc.ncallbacks = kept;
    }
}

PGC_API int pgc_callback_add(pgc_callback_fn fn, void *arg) {
    if (pgc__gc.ncallbacks == pgc__gc.callbacks_cap) {
        size_t cap = pgc__gc.callbacks_cap ? 2 * pgc__gc.callbacks_cap : 8;
        pgc_callback_entry *grown = pgc_malloc(cap * sizeof *grown);
        if (!grown)
            return -1;
        if (pgc__gc.ncallbacks)
            memcpy(grown, pgc__gc.callbacks, pgc__gc.ncallbacks * sizeof *grown);
        pgc_free(pgc__gc.callbacks);
        pgc__gc.callbacks = grown;
        pgc__gc.callbacks_cap = cap;
    }
    pgc__gc.callbacks[pgc__gc.ncallbacks++] = (pgc_callback_entry){fn, arg};
    return 0;
}

// cppcheck-suppress constParameter ; the arg given to pgc_callback_add
PGC_API int pgc_callback_remove(pgc_callback_fn fn, void *arg) {
    for (size_t i = 0; i < pgc__gc.ncallbacks; i++) {
        pgc_callback_entry *c = &pgc__gc.callbacks[i];
        if (c->fn == fn && c->arg == arg && fn) {
            if (pgc__gc.callbacks_running)
                c->fn = NULL;
            else
                memmove(c, c + 1, (--pgc__gc.ncallbacks - i) * sizeof *c);
            return 0;
        }
    }
    return -1;
}

PGC_API void pgc_get_stats(pgc_gen_stats out[PGC_GENERATIONS]) {
    memcpy(out, pgc__gc.stats, sizeof pgc__gc.stats);
}

PGC_API void pgc_set_debug(unsigned flags) {
    pgc__gc.debug = flags;
}
PGC_API unsigned pgc_get_debug(void) {
    return pgc__gc.debug;
}

/* ---- saved garbage ---------------------------------------------------------- */

/* Append obj, with a new reference, to pgc_garbage()'s list. Returns 0 when
 * the list cannot grow. */
int pgc__control_save_garbage(void *obj) {
    if (pgc__gc.ngarbage == pgc__gc.garbage_cap) {
        size_t cap = pgc__gc.garbage_cap ? 2 * pgc__gc.garbage_cap : 64;
        void **grown = pgc_malloc(cap * sizeof *grown);
        if (!grown)
            return 0;
        if (pgc__gc.ngarbage)
            memcpy(grown, pgc__gc.garbage, pgc__gc.ngarbage * sizeof *grown);
        pgc_free(pgc__gc.garbage);
        pgc__gc.garbage = grown;
        pgc__gc.garbage_cap = cap;
    }
    pgc__gc.garbage[pgc__gc.ngarbage++] = pgc_incref(obj);
    return 1;
}

PGC_API size_t pgc_garbage(void **buf, size_t cap) {
    size_t n = pgc__gc.ngarbage;
    if (buf && cap && n) {
        size_t k = cap < n ? cap : n;
        memcpy(buf, pgc__gc.garbage, k * sizeof *buf);
        memmove(pgc__gc.garbage, pgc__gc.garbage + k, (n - k) * sizeof *buf);
        pgc__gc.ngarbage = n - k;
    }
    return n;
}

/* ---- the statistics report's snapshot --------------------------------------- */

static const char *type_name(const pgc_type *t) {
    if (!t)
        return "(other types)";
    return t->name ? t->name : "(unnamed)";
}

void pgc__control_snapshot(pgc_gc_snapshot *out) {
    memset(out, 0, sizeof *out);
    out->used = pgc__gc.used;
    memcpy(out->gens, pgc__gc.stats, sizeof out->gens);
    /* per name (types of one name together), then most bytes first */
    pgc_gc_type_stats all[PGC_TYPE_SLOTS + 1];
    size_t n = 0;
    for (size_t i = 0; i <= PGC_TYPE_SLOTS; i++) {
        const pgc_type_slot *slot = &pgc__gc.types[i];
        if (!slot->objects) /* the type may be gone: its name is not read */
            continue;
        const char *name = type_name(i < PGC_TYPE_SLOTS ? slot->type : NULL);
        out->objects += slot->objects;
        out->bytes += slot->bytes;
        size_t k = 0;
        while (k < n && strcmp(all[k].name, name) != 0)
            k++;
        if (k == n)
            all[n++] = (pgc_gc_type_stats){name, 0, 0};
        all[k].objects += slot->objects;
        all[k].bytes += slot->bytes;
    }
    for (size_t i = 1; i < n; i++) /* insertion sort: n <= 257 */
        for (size_t k = i; k > 0 && all[k].bytes > all[k - 1].bytes; k--) {
            pgc_gc_type_stats t = all[k];
            all[k] = all[k - 1];
            all[k - 1] = t;
        }
    if (n > PGC_STATS_TYPES) { /* the smallest together, as other types */
        pgc_gc_type_stats *rest = &all[PGC_STATS_TYPES - 1];
        for (size_t k = PGC_STATS_TYPES; k < n; k++) {
            rest->objects += all[k].objects;
            rest->bytes += all[k].bytes;
        }
        rest->name = type_name(NULL);
        n = PGC_STATS_TYPES;
    }
    memcpy(out->types, all, n * sizeof *all);
    out->ntypes = n;
}
