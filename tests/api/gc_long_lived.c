/* gc_long_lived - CPython's rule for automatic full collections: generation 2
 * is due by its count, but collected only once the objects that entered it
 * since the last full collection exceed 25% of what that one left there. */
#include "gc_test.h"

static long allocated;
static long full_at = -1;

static void on_collect(int phase, const pgc_collect_info *info, void *arg) {
    (void)arg;
    if (phase == PGC_START && info->generation == 2 && full_at < 0)
        full_at = allocated;
}

#define BASE 4000
static node *keep[BASE + 2000];

int main(void) {
    pgc_disable();
    for (int i = 0; i < BASE; i++)
        keep[i] = node_new(i);
    pgc_collect(2); /* 4000 long-lived objects */
    pgc_callback_add(on_collect, NULL);
    pgc_set_threshold(10, 1, 1); /* generation 2 is due after every 2 of generation 1 */
    pgc_enable();
    for (allocated = 0; allocated < 2000; allocated++)
        keep[BASE + allocated] = node_new(allocated);
    /* every object survives: each generation-1 collection adds all it holds
     * (at most 3 * 11) to the pending count, checked against 4000 / 4 */
    CHECK(full_at >= BASE / 4 && full_at <= BASE / 4 + 50,
          "first automatic full collection after %ld allocations, want about %d", full_at,
          BASE / 4);
    pgc_gen_stats st[3];
    pgc_get_stats(st);
    CHECK(st[1].collections > 20, "only %zu generation-1 collections", st[1].collections);
    for (int i = 0; i < BASE + 2000; i++)
        pgc_decref(keep[i]);
    return test_result();
}
