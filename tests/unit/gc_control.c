/*
 * gc_control - the collector's control API (lib/gc/control.c), read through
 * pgc__gc:
 * - thresholds and counts are the generations' fields;
 * - pgc_freeze moves every generation onto the permanent list, which no
 *   collection scans (a frozen unreachable cycle survives pgc_collect(2));
 *   pgc_unfreeze moves it onto the oldest generation;
 * - a callback removed while callbacks run leaves a hole (fn NULL) that the
 *   others see, closed when the outermost invocation ends;
 * - pgc__control_save_garbage keeps a new reference; pgc_garbage moves the
 *   saved objects out, with those references;
 * - pgc_collect refuses a bad generation (EINVAL) and does nothing while a
 *   collection runs.
 */
#include <errno.h>

#include "gc/internal.h"
#include "../check.h"

typedef struct node {
    struct node *child;
} node;
static void traverse(void *obj, pgc_visit_fn visit, void *arg) {
    visit(((node *)obj)->child, arg);
}
static const pgc_type node_type = {"node", traverse, NULL, NULL};

static int calls[2], hole_seen;
static void first(int phase, const pgc_collect_info *info, void *arg) {
    (void)info;
    calls[0] += phase == PGC_STOP;
    pgc_callback_remove(first, arg);
}
static void second(int phase, const pgc_collect_info *info, void *arg) {
    (void)info;
    (void)arg;
    calls[1] += phase == PGC_STOP;
    hole_seen += pgc__gc.callbacks[0].fn == NULL;
}

int main(void) {
    pgc_disable();
    pgc_set_threshold(5, 6, 7);
    long t[3], c[3];
    pgc_get_threshold(t);
    CHECK(t[0] == 5 && t[2] == 7 && pgc__gc.gen[1].threshold == 6, "thresholds");
    pgc__gc.gen[2].count = 42;
    pgc_get_count(c);
    CHECK(c[2] == 42 && c[0] == pgc__gc.gen[0].count, "counts");
    pgc__gc.gen[2].count = 0;

    node *a = pgc_new(&node_type, sizeof(node)), *b = pgc_new(&node_type, sizeof(node));
    a->child = b;
    b->child = pgc_incref(a);
    pgc_decref(a); /* an unreachable cycle */
    pgc_freeze();
    CHECK(pgc_get_freeze_count() == 2 && pgc_list_is_empty(&pgc__gc.gen[0].head) &&
              pgc__gc.gen[0].count == 0,
          "freeze left objects in the generations");
    CHECK(pgc_collect(2) == 0 && pgc_is_tracked(b), "a frozen cycle was collected");
    pgc_unfreeze();
    CHECK(pgc_get_freeze_count() == 0 && pgc_list_size(&pgc__gc.gen[PGC_OLDEST].head) == 2,
          "unfreeze did not move to the oldest generation");

    pgc_callback_add(first, &calls[0]);
    pgc_callback_add(second, NULL);
    pgc_collect_info info = {0, 0, 0};
    pgc__control_invoke_callbacks(PGC_STOP, &info);
    CHECK(calls[0] == 1 && calls[1] == 1 && hole_seen == 1, "calls %d %d, hole seen %d", calls[0],
          calls[1], hole_seen);
    CHECK(pgc__gc.ncallbacks == 1 && pgc__gc.callbacks[0].fn == second, "hole not closed");
    pgc_callback_remove(second, NULL);

    size_t rc = pgc_refcount(b);
    CHECK(pgc__control_save_garbage(b) && pgc_refcount(b) == rc + 1 && pgc__gc.ngarbage == 1,
          "save_garbage");
    void *out[2] = {0};
    CHECK(pgc_garbage(out, 2) == 1 && out[0] == b && pgc__gc.ngarbage == 0, "pgc_garbage");
    pgc_decref(out[0]);

    errno = 0;
    CHECK(pgc_collect(PGC_GENERATIONS) == 0 && errno == EINVAL, "bad generation accepted");
    pgc_gen_stats before = pgc__gc.stats[0];
    pgc__gc.collecting = 1;
    CHECK(pgc_collect(0) == 0 && pgc__gc.stats[0].collections == before.collections,
          "a collection ran inside another");
    pgc__gc.collecting = 0;
    CHECK(pgc_collect(2) == 2, "the unfrozen cycle was not collected");
    return check_done();
}
