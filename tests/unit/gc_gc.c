/*
 * gc_gc - the GC layer's state before its first use (lib/gc/gc.c): the
 * three generation lists, the permanent generation and `unscanned` are
 * empty circular lists (each head its own next and prev, no tag bits);
 * thresholds are CPython's 700, 10 and 10 with counts 0; automatic
 * collection is enabled, generational (not incremental), nothing collecting,
 * pending, queued or saved, and no weak reference table. The control API
 * reads the same state (pgc_is_enabled, pgc_get_threshold, pgc_get_count).
 */
#include "gc/internal.h"
#include "../check.h"

static int empty(const pgc_gc_link *head) {
    return head->next == (uintptr_t)head && head->prev == (uintptr_t)head &&
           ((uintptr_t)head & PGC_PREV_FLAGS) == 0;
}

int main(void) {
    static const long thresholds[PGC_GENERATIONS] = {700, 10, 10};
    for (int g = 0; g < PGC_GENERATIONS; g++) {
        CHECK(empty(&pgc__gc.gen[g].head), "generation %d not an empty list", g);
        CHECK(pgc__gc.gen[g].threshold == thresholds[g] && pgc__gc.gen[g].count == 0,
              "generation %d: threshold %ld, count %ld", g, pgc__gc.gen[g].threshold,
              pgc__gc.gen[g].count);
    }
    CHECK(empty(&pgc__gc.permanent) && empty(&pgc__gc.unscanned),
          "permanent or unscanned not an empty list");
    CHECK(pgc__gc.enabled == 1 && !pgc__gc.collecting && !pgc__gc.used && !pgc__gc.incremental &&
              pgc__gc.debug == 0,
          "enabled %d, collecting %d, used %d, incremental %d, debug %u", pgc__gc.enabled,
          pgc__gc.collecting, pgc__gc.used, pgc__gc.incremental, pgc__gc.debug);
    CHECK(!pgc__gc.pending && !pgc__gc.weak_table && !pgc__gc.weak_queue && !pgc__gc.callbacks &&
              !pgc__gc.garbage && pgc__gc.scanned_space == 0,
          "work list, weak references, callbacks or garbage not empty");

    long t[PGC_GENERATIONS], c[PGC_GENERATIONS];
    pgc_get_threshold(t);
    pgc_get_count(c);
    for (int g = 0; g < PGC_GENERATIONS; g++)
        CHECK(t[g] == thresholds[g] && c[g] == 0, "pgc_get_threshold/count: %ld %ld", t[g], c[g]);
    CHECK(pgc_is_enabled() == 1, "pgc_is_enabled() = %d", pgc_is_enabled());
    pgc_check(); /* the collector's checker accepts the initial state */
    return check_done();
}
