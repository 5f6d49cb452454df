/*
 * gc/gc.c - the GC layer's one state, pgc__gc (its fields: internal.h):
 * the generation lists, thresholds and counts, the deallocation work list,
 * weak references, callbacks and saved garbage, shared by every file of
 * lib/gc/. One process-wide collector: no thread-local state, so any
 * thread holding pgc_lock() may call anything.
 */
#include "internal.h"

#define LIST_INIT(head)                                                                            \
    { (uintptr_t) & (head), (uintptr_t) & (head) }
#define GEN_INIT(i, t)                                                                             \
    { LIST_INIT(pgc__gc.gen[i].head), (t), 0 }

pgc_gc_state pgc__gc = {
    .gen = {GEN_INIT(0, PGC_THRESHOLD0), GEN_INIT(1, PGC_THRESHOLD1), GEN_INIT(2, PGC_THRESHOLD2)},
    .permanent = LIST_INIT(pgc__gc.permanent),
    .unscanned = LIST_INIT(pgc__gc.unscanned),
    .enabled = 1,
};
