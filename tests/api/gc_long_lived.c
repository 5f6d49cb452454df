/* gc_long_lived - CPython's rule for automatic full collections: generation 2
 * is due by its count, but collected only once the objects that entered it
 * since the last full collection exceed 25% of what that one left there:
 * about when, and exactly at the boundary (3 of 12 is not more than 25%,
 * 4 of 12 is). */
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

    /* the boundary */
    pgc_disable();
    pgc_callback_remove(on_collect, NULL);
    node *k[16];
    for (int i = 0; i < 12; i++)
        k[i] = node_new(i);
    pgc_collect(2); /* the only objects: 12 long-lived */
    for (int i = 12; i < 15; i++)
        k[i] = node_new(i);
    pgc_collect(1);                /* 3 enter generation 2 */
    pgc_set_threshold(1, 1000, 0); /* generation 2 due by its count */
    pgc_get_stats(st);
    size_t full = st[2].collections, young = st[0].collections;
    pgc_enable();
    node *t1 = node_new(100), *t2 = node_new(101); /* the second one collects */
    pgc_get_stats(st);
    CHECK(st[0].collections == young + 1, "no young collection (%zu)", st[0].collections - young);
    CHECK(st[2].collections == full, "a full collection with 3 of 12 waiting");
    pgc_disable();
    pgc_decref(t1);
    pgc_decref(t2);
    k[15] = node_new(15);
    pgc_collect(1); /* a fourth enters generation 2 */
    pgc_enable();
    t1 = node_new(100);
    t2 = node_new(101);
    pgc_get_stats(st);
    CHECK(st[2].collections == full + 1, "no full collection with 4 of 12 waiting");
    pgc_decref(t1);
    pgc_decref(t2);
    for (int i = 0; i < 16; i++)
        pgc_decref(k[i]);
    return check_done();
}
