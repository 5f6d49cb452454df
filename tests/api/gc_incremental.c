/* gc_incremental - incremental mode (pgc_set_incremental): where generation 2
 * would be collected whole, a pass scans it in at most 32 increments, each
 * after a young collection and each a bounded part of the old generation
 * (at least 1024 objects, about 1/32 of it, plus what those reach: a garbage
 * ring longer than that is taken whole), and the garbage cycles of the old
 * generation are still all found: rings that died while old, one long ring,
 * rings made and dropped while passes ran. pgc_freeze, pgc_unfreeze,
 * switching the mode off and on, and pgc_collect(2) in the middle of a pass
 * keep the lists sound (pgc_check). */
#include <string.h>
#include <unistd.h>

#include "gc_test.h"

#define RINGS 16000 /* kept rings of 4: the old generation */
#define LONG_RING 6000
#define STEPS 40000 /* iterations: replace a kept ring, drop a new one */

static size_t old_garbage_released;
static void old_release(void *obj) {
    (void)obj;
    old_garbage_released++;
}
static const pgc_type old_type = {"old", node_traverse, NULL, old_release};

static node *ring(const pgc_type *t, int len) {
    node *first = pgc_new(t, sizeof(node)), *last = first;
    for (int i = 1; i < len; i++) {
        node *n = pgc_new(t, sizeof(node));
        last->child[0] = n; /* the reference pgc_new gave */
        last = n;
    }
    last->child[0] = pgc_incref(first);
    return first;
}

static node *keep[RINGS];
static unsigned long seed = 1;
static size_t pick(size_t n) {
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    return (size_t)(seed >> 33) % n;
}
static void churn(void) { /* one step of a running program */
    size_t i = pick(RINGS);
    pgc_decref(keep[i]);
    keep[i] = ring(&node_type, 4);
    pgc_decref(ring(&node_type, 4));
}

static int increments;
static void on_collect(int phase, const pgc_collect_info *info, void *arg) {
    (void)arg;
    if (phase == PGC_START && info->generation == 2)
        increments++;
}
/* Churn until the next increment has run: a pass is then under way. */
static void until_increment(void) {
    int seen = increments;
    for (long n = 0; increments == seen && n < 10000000; n++)
        churn();
    CHECK(increments > seen, "no increment");
}

int main(void) {
    pgc_set_incremental(1);
    CHECK(pgc_get_incremental() == 1, "not on");
    pgc_disable();
    for (int i = 0; i < RINGS; i++)
        keep[i] = ring(&node_type, 4);
    node *dead[500];
    for (int i = 0; i < 500; i++)
        dead[i] = ring(&old_type, 4);
    node *longest = ring(&old_type, LONG_RING);
    pgc_collect(2); /* all old now */
    for (int i = 0; i < 500; i++)
        pgc_decref(dead[i]); /* garbage cycles in the old generation */
    pgc_decref(longest);
    pgc_enable();

    /* a running program, PGC_DEBUG_STATS on: one line per collection */
    FILE *err = tmpfile();
    int saved = dup(2);
    fflush(stderr);
    dup2(fileno(err), 2);
    pgc_set_debug(PGC_DEBUG_STATS);
    for (long i = 0; i < STEPS; i++)
        churn();
    pgc_set_debug(0);
    fflush(stderr);
    dup2(saved, 2);

    char line[256];
    size_t scanned, most = 0;
    int young_before = 0, run = 0, longest_run = 0, nincrements = 0, full = 0;
    rewind(err);
    while (fgets(line, sizeof line, err)) {
        int generation;
        if (sscanf(line, "poolgc: gc: generation %d (increment): %zu", &generation, &scanned) ==
            2) {
            nincrements++;
            most = scanned > most ? scanned : most;
            if (++run > longest_run)
                longest_run = run;
            young_before = 0;
        } else if (sscanf(line, "poolgc: gc: generation %d: %zu", &generation, &scanned) == 2) {
            full += generation == 2;
            if (young_before) /* a young collection without an increment: no pass */
                run = 0;
            young_before = 1;
        }
    }
    fclose(err);
    printf("%d increments, longest pass %d, most scanned %zu\n", nincrements, longest_run, most);
    CHECK(nincrements > 32, "only %d increments", nincrements);
    CHECK(full == 0, "%d automatic full collections in incremental mode", full);
    CHECK(longest_run <= 32, "a pass of %d increments", longest_run);
    CHECK(most >= LONG_RING && most <= LONG_RING + 8000, "an increment scanned %zu objects", most);
    CHECK(old_garbage_released == 500 * 4 + LONG_RING, "old garbage released: %zu of %d",
          old_garbage_released, 500 * 4 + LONG_RING);
    pgc_gen_stats st[3];
    pgc_get_stats(st);
    CHECK(st[2].collections == (size_t)nincrements + 1 && st[2].max_pause_ns > 0 &&
              st[2].total_ns >= st[2].max_pause_ns,
          "stats: %zu collections, %zu ns, longest %zu ns", st[2].collections, st[2].total_ns,
          st[2].max_pause_ns);

    /* in the middle of a pass */
    pgc_callback_add(on_collect, NULL);
    until_increment();
    pgc_check();
    pgc_freeze();
    pgc_check();
    CHECK(pgc_get_objects(2, NULL, 0) == 0, "generation 2 after freeze");
    pgc_unfreeze();
    pgc_check();
    until_increment();
    pgc_set_incremental(0);
    CHECK(pgc_get_incremental() == 0, "not off");
    pgc_check();
    pgc_set_incremental(1);
    pgc_check();
    until_increment();
    size_t before = nodes_released;
    size_t found = pgc_collect(2);
    pgc_check();
    CHECK(found > 0 && nodes_released - before == found, "full collection: %zu found, %zu freed",
          found, nodes_released - before);

    /* everything else is garbage: found at once */
    pgc_disable();
    for (int i = 0; i < RINGS; i++)
        pgc_decref(keep[i]);
    CHECK(pgc_collect(2) == RINGS * 4, "kept rings not all found");
    CHECK(pgc_get_objects(-1, NULL, 0) == 0, "objects left");
    return check_done();
}
