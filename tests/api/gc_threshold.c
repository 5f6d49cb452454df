/* gc_threshold - automatic collections (seen through a callback): a young
 * collection once container allocations minus deallocations pass
 * threshold 0, generation 1 once it has seen more than threshold 1 young
 * ones; none while disabled or with threshold 0 at 0. Leaves do not count. */
#include "gc_test.h"

static int runs[3];
static int last_gen = -1;

static void on_collect(int phase, const pgc_collect_info *info, void *arg) {
    (void)arg;
    if (phase == PGC_START) {
        runs[info->generation]++;
        last_gen = info->generation;
    }
}

static node *keep[5000];
static int nkeep;

static void allocate(int n) {
    for (int i = 0; i < n; i++)
        keep[nkeep++] = node_new(i);
}

int main(void) {
    long t[3], count[3];
    pgc_get_threshold(t);
    CHECK(t[0] == 700 && t[1] == 10 && t[2] == 10, "default thresholds %ld %ld %ld", t[0], t[1],
          t[2]);
    CHECK(pgc_is_enabled(), "not enabled at start");
    pgc_callback_add(on_collect, NULL);

    /* allocations minus deallocations: 600 made and freed leave count 0 */
    for (int i = 0; i < 600; i++)
        pgc_decref(node_new(i));
    for (int i = 0; i < 2000; i++)
        pgc_decref(leaf_new());
    pgc_get_count(count);
    CHECK(count[0] == 0, "young count %ld after balanced churn", count[0]);
    allocate(700);
    CHECK(runs[0] == 0, "collected at count 700 (threshold is exceeded at 701)");
    allocate(1);
    CHECK(runs[0] == 1 && last_gen == 0, "no young collection at count 701");

    pgc_set_threshold(10, 2, 1000);
    pgc_get_threshold(t);
    CHECK(t[0] == 10 && t[1] == 2 && t[2] == 1000, "set_threshold: %ld %ld %ld", t[0], t[1], t[2]);
    int before0 = runs[0], before1 = runs[1];
    allocate(11 * 3); /* three due: young, young, then generation 1 (count 3 > 2) */
    CHECK(runs[0] - before0 == 2 && runs[1] - before1 == 1, "young %d, gen1 %d", runs[0] - before0,
          runs[1] - before1);

    pgc_disable();
    CHECK(!pgc_is_enabled(), "still enabled");
    int total = runs[0] + runs[1] + runs[2];
    allocate(1000);
    CHECK(runs[0] + runs[1] + runs[2] == total, "collected while disabled");
    CHECK(pgc_collect(0) == 0 && runs[0] + runs[1] + runs[2] == total + 1,
          "explicit collection must still run when disabled");
    pgc_enable();
    pgc_set_threshold(0, 10, 10);
    total = runs[0] + runs[1] + runs[2];
    allocate(1000);
    CHECK(runs[0] + runs[1] + runs[2] == total, "collected with threshold 0 == 0");

    for (int i = 0; i < nkeep; i++)
        pgc_decref(keep[i]);
    return check_done();
}
