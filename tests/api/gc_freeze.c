/* gc_freeze - pgc_freeze moves every tracked object to the permanent
 * generation: never scanned (its garbage stays), absent from
 * pgc_get_objects but not from pgc_get_referrers, counted by
 * pgc_get_freeze_count; pgc_unfreeze returns it to generation 2, where the
 * next full collection finds the garbage. */
#include "gc_test.h"

int main(void) {
    node *live = node_new(0), *a = node_new(1), *b = node_new(2);
    node_set(a, 0, b);
    node_set(b, 0, a);
    pgc_decref(a);
    pgc_decref(b);

    pgc_freeze();
    CHECK(pgc_get_freeze_count() == 3, "freeze count %zu", pgc_get_freeze_count());
    CHECK(pgc_get_objects(-1, NULL, 0) == 0, "frozen objects listed");
    long count[3];
    pgc_get_count(count);
    CHECK(count[0] == 0, "young count %ld after freeze", count[0]);
    CHECK(pgc_collect(2) == 0 && nodes_released == 0, "frozen garbage collected");
    CHECK(pgc_is_tracked(a), "frozen objects are still tracked");

    node *young = node_new(3); /* new objects are not frozen */
    CHECK(pgc_get_objects(0, NULL, 0) == 1, "young object missing");
    node_set(live, 1, young); /* a frozen referrer */
    void *referrers[4];
    CHECK(pgc_get_referrers(young, referrers, 4) == 1 && referrers[0] == live,
          "the frozen referrer is not listed");

    pgc_unfreeze();
    CHECK(pgc_get_freeze_count() == 0, "freeze count %zu after unfreeze", pgc_get_freeze_count());
    CHECK(pgc_get_objects(2, NULL, 0) == 3, "unfrozen objects not in generation 2");
    CHECK(pgc_collect(2) == 2 && nodes_released == 2, "garbage not found after unfreeze");
    pgc_decref(live);
    pgc_decref(young);
    return check_done();
}
