/*
 * stats - the snapshot behind every report and mallinfo (lib/stats.c):
 * - blocks_in_use of a class moves by exactly the blocks allocated or freed,
 *   and pool_bytes_in_use by their sizes;
 * - in every class, blocks_in_use + free_blocks fill the class's pools, and
 *   the byte totals are the sums over the classes;
 * - blocks another thread freed into the caller's pools are taken back
 *   before counting (they are not in use any more);
 * - jemalloc_requests counts the large requests of threads with a heap.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "../check.h"

#define N1 100 /* blocks of class C1: two pools' worth */
#define C1 13
#define N2 7
#define C2 5

static void *a[N1], *b[N2];
static pgc_snapshot s0, s1, s2, s3;

static void *free_a(void *arg) {
    (void)arg;
    for (int i = 0; i < N1; i++)
        free(a[i]);
    return NULL;
}

static int consistent(const pgc_snapshot *s) {
    size_t in_use = 0, free_bytes = 0;
    for (unsigned cls = 1; cls <= PGC_NUM_CLASSES; cls++) {
        const pgc_class_stats *c = &s->classes[cls];
        size_t size = pgc_class_size(cls);
        if (c->blocks_in_use + c->free_blocks !=
            c->pools * ((pgc_class_slots(cls) * PGC_POOL_SIZE) / size))
            return 0;
        in_use += c->blocks_in_use * size;
        free_bytes += c->free_blocks * size;
    }
    return in_use == s->pool_bytes_in_use && free_bytes == s->pool_bytes_free;
}

int main(void) {
    free(malloc(1)); /* this thread has a heap */
    if (!pgc__region.base) {
        fprintf(stderr, "note: no pool region here (ulimit -v?); nothing to check\n");
        return 77;
    }
    pgc__stats_snapshot(&s0);
    for (int i = 0; i < N1; i++)
        a[i] = malloc(pgc_class_size(C1));
    for (int i = 0; i < N2; i++)
        b[i] = malloc(pgc_class_size(C2) - 3);
    void *big = malloc(100000);
    pgc__stats_snapshot(&s1);
    CHECK(s1.classes[C1].blocks_in_use == s0.classes[C1].blocks_in_use + N1 &&
              s1.classes[C2].blocks_in_use == s0.classes[C2].blocks_in_use + N2,
          "in use: class %d %zu -> %zu, class %d %zu -> %zu", C1, s0.classes[C1].blocks_in_use,
          s1.classes[C1].blocks_in_use, C2, s0.classes[C2].blocks_in_use,
          s1.classes[C2].blocks_in_use);
    CHECK(s1.pool_bytes_in_use ==
              s0.pool_bytes_in_use + N1 * pgc_class_size(C1) + N2 * pgc_class_size(C2),
          "pool bytes in use %zu -> %zu", s0.pool_bytes_in_use, s1.pool_bytes_in_use);
    CHECK(s1.jemalloc_requests == s0.jemalloc_requests + 1, "jemalloc requests %llu -> %llu",
          (unsigned long long)s0.jemalloc_requests, (unsigned long long)s1.jemalloc_requests);
    CHECK(s1.classes[C1].pools >= 2 && s1.classes[C1].pools_taken >= 2, "class %d: %zu pools", C1,
          s1.classes[C1].pools);

    pthread_t t;
    pthread_create(&t, NULL, free_a, NULL);
    pthread_join(t, NULL);
    pgc__stats_snapshot(&s2);
    CHECK(s2.classes[C1].blocks_in_use == s0.classes[C1].blocks_in_use,
          "remote frees still counted: %zu in use, %zu before", s2.classes[C1].blocks_in_use,
          s0.classes[C1].blocks_in_use);

    for (int i = 0; i < N2; i++)
        free(b[i]);
    free(big);
    pgc__stats_snapshot(&s3);
    /* (pthread_create allocated the thread's TLS vector meanwhile: compare
     * the classes this test uses, not the totals) */
    CHECK(s3.classes[C1].blocks_in_use == s0.classes[C1].blocks_in_use &&
              s3.classes[C2].blocks_in_use == s0.classes[C2].blocks_in_use,
          "after freeing: class %d: %zu in use, %zu before", C2, s3.classes[C2].blocks_in_use,
          s0.classes[C2].blocks_in_use);
    CHECK(consistent(&s0) && consistent(&s1) && consistent(&s2) && consistent(&s3),
          "blocks do not fill the pools, or the totals are not the sums");
    return check_done();
}
