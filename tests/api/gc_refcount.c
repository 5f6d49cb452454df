/* gc_refcount - the object basics: pgc_new gives zeroed memory of any size
 * (pools and large) with count 1 and its type; containers are tracked from
 * birth and leaves never; incref/decref count, ignore NULL, and the
 * exported out-of-line versions agree with the inline ones; track/untrack;
 * the young count follows container allocations minus deallocations; a size
 * that overflows fails with ENOMEM. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>

#include "gc_test.h"

int main(void) {
    static const size_t sizes[] = {0, 1, 16, 100, 480, 481, 4096, 100000};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        for (int container = 0; container <= 1; container++) {
            const pgc_type *t = container ? &node_type : &leaf_type;
            unsigned char *p = pgc_new(t, sizes[i] + (container ? sizeof(node) : 0));
            size_t n = sizes[i] + (container ? sizeof(node) : 0), nonzero = 0;
            CHECK(p && ((uintptr_t)p & 15) == 0, "pgc_new(%zu) = %p", n, (void *)p);
            for (size_t k = 0; k < n; k++)
                nonzero += p[k] != 0;
            CHECK(nonzero == 0, "pgc_new(%zu): %zu nonzero bytes", n, nonzero);
            CHECK(pgc_refcount(p) == 1 && pgc_type_of(p) == t, "count %zu", pgc_refcount(p));
            CHECK(pgc_is_tracked(p) == container, "size %zu container %d tracked %d", n, container,
                  pgc_is_tracked(p));
            CHECK(!pgc_is_finalized(p), "finalized at birth");
            pgc_decref(p);
        }
    }
    CHECK(nodes_released == 8 && leaves_released == 8, "released %zu %zu", nodes_released,
          leaves_released);

    node *n = node_new(1);
    CHECK(pgc_incref(n) == n && pgc_refcount(n) == 2, "incref");
    pgc_decref(n);
    CHECK(pgc_incref(NULL) == NULL, "incref(NULL)");
    pgc_decref(NULL);
    void *(*incref)(void *) = (void *(*)(void *))dlsym(RTLD_DEFAULT, "pgc_incref");
    void (*decref)(void *) = (void (*)(void *))dlsym(RTLD_DEFAULT, "pgc_decref");
    CHECK(incref && decref, "out-of-line pgc_incref/pgc_decref not exported");
    if (incref && decref) {
        CHECK(incref(n) == n && pgc_refcount(n) == 2, "exported incref");
        decref(n);
        CHECK(pgc_refcount(n) == 1, "exported decref");
        incref(NULL);
        decref(NULL);
    }

    pgc_untrack(n);
    CHECK(!pgc_is_tracked(n) && pgc_get_objects(-1, NULL, 0) == 0, "untrack");
    pgc_untrack(n);
    pgc_track(n);
    pgc_track(n);
    CHECK(pgc_is_tracked(n) && pgc_get_objects(-1, NULL, 0) == 1, "track");
    void *leaf = leaf_new();
    pgc_untrack(leaf); /* a leaf is never tracked: nothing to do */
    CHECK(!pgc_is_tracked(leaf), "leaf tracked");

    long count[3];
    pgc_get_count(count);
    long young = count[0];
    node *more[10];
    for (int i = 0; i < 10; i++)
        more[i] = node_new(i);
    pgc_decref(leaf_new());
    pgc_get_count(count);
    CHECK(count[0] == young + 10, "young count %ld, want %ld", count[0], young + 10);
    for (int i = 0; i < 4; i++)
        pgc_decref(more[i]);
    pgc_get_count(count);
    CHECK(count[0] == young + 6, "young count %ld after 4 deallocations", count[0]);
    for (int i = 4; i < 10; i++)
        pgc_decref(more[i]);

    errno = 0;
    CHECK(pgc_new(&node_type, SIZE_MAX - 8) == NULL && errno == ENOMEM, "huge size");
    pgc_decref(n);
    pgc_decref(leaf);
    return check_done();
}
