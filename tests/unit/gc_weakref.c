/*
 * gc_weakref - the weak reference side table (lib/gc/weakref.c): one entry
 * per object that has weak references, however many it has; the table
 * starts at 64 slots and doubles so that it stays at most half full. An
 * entry goes when its object's last weak reference dies or when the object
 * dies, and the entries left are still found (deletion without tombstones):
 * the entries in use drop back to 0, and the table keeps its slots for
 * reuse. pgc_weakref_count is the number of live weak references to an
 * object: 0 for one that never had any, and it drops as they die.
 */
#include "gc/internal.h"
#include "../check.h"

#define N 100

static const pgc_type leaf_type = {"leaf", NULL, NULL, NULL};
static void *objs[N], *refs[N][3];

int main(void) {
    CHECK(pgc__gc.weak_cap == 0 && pgc__gc.weak_used == 0 && pgc__gc.weak_table == NULL,
          "a table before the first weak reference: %zu slots", pgc__gc.weak_cap);
    for (int i = 0; i < N; i++) {
        objs[i] = pgc_new(&leaf_type, 16);
        CHECK(pgc_weakref_count(objs[i]) == 0, "object %d: weak references before any", i);
        for (int k = 0; k < 1 + i % 3; k++)
            refs[i][k] = pgc_weakref_new(objs[i], NULL, NULL);
        if (i == 31 || i == 32 || i == 64)
            CHECK(pgc__gc.weak_cap == (i == 31   ? 64u
                                       : i == 32 ? 128u
                                                 : 256u),
                  "%d objects: %zu slots", i + 1, pgc__gc.weak_cap);
    }
    CHECK(pgc__gc.weak_used == N && pgc__gc.weak_cap == 256, "%zu entries in %zu slots",
          pgc__gc.weak_used, pgc__gc.weak_cap);
    for (int i = 0; i < N; i++)
        CHECK(pgc_weakref_count(objs[i]) == (size_t)(1 + i % 3), "object %d: %zu weak references",
              i, pgc_weakref_count(objs[i]));

    /* Objects with three weak references lose one: entries stay. */
    for (int i = 2; i < N; i += 3) {
        pgc_decref(refs[i][2]);
        refs[i][2] = NULL;
    }
    CHECK(pgc__gc.weak_used == N, "%zu entries after dropping some weak references",
          pgc__gc.weak_used);
    /* Even objects die; odd ones with a single weak reference lose it. */
    size_t left = 0;
    for (int i = 0; i < N; i++) {
        if (i % 2 == 0) {
            pgc_decref(objs[i]);
            objs[i] = NULL;
            CHECK(pgc_weakref_get(refs[i][0]) == NULL, "object %d died, its weak reference not", i);
        } else if (i % 3 == 0) {
            pgc_decref(refs[i][0]);
            refs[i][0] = NULL;
        } else {
            left++;
        }
    }
    CHECK(pgc__gc.weak_used == left && pgc__gc.weak_cap == 256,
          "%zu entries in %zu slots, want %zu", pgc__gc.weak_used, pgc__gc.weak_cap, left);
    for (int i = 1; i < N; i += 2) { /* two weak references left, or none */
        size_t want = i % 3 == 0 ? 0 : 2;
        CHECK(pgc_weakref_count(objs[i]) == want, "object %d: %zu weak references, want %zu", i,
              pgc_weakref_count(objs[i]), want);
        void *got = want ? pgc_weakref_get(refs[i][0]) : NULL;
        CHECK(want == 0 || got == objs[i], "object %d not found through its weak reference", i);
        pgc_decref(got);
    }
    for (int i = 0; i < N; i++) {
        pgc_decref(objs[i]);
        for (int k = 0; k < 3; k++)
            pgc_decref(refs[i][k]);
    }
    CHECK(pgc__gc.weak_used == 0 && pgc__gc.weak_cap == 256, "%zu entries in %zu slots at the end",
          pgc__gc.weak_used, pgc__gc.weak_cap);
    return check_done();
}
