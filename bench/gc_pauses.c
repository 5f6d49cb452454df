/*
 * gc_pauses - the collector's pauses in a running program with a large
 * heap, in generational mode (poolgc's default, CPython 3.12's) and in
 * incremental mode (pgc_set_incremental, the aim of CPython's PEP 848).
 *
 * The program keeps `live` containers, as rings of `ring` nodes reachable
 * from a plain array (so that each ring is its own small structure), built
 * with automatic collection off and then made old by one full collection.
 * Then it runs steadily, automatic collection on (default thresholds): each
 * step replaces one kept ring by a new one (the old ring becomes cyclic
 * garbage in the old generation, the new one survives into it: so full
 * collections, or passes, keep coming) and makes and drops one more ring
 * (young garbage), until `n` objects were allocated.
 *
 * Reported (one line, the runner's format), in CPU time of the program's
 * thread (the collector runs on it; on a busy machine wall time would count
 * the time other processes took):
 *   full_ms       the reference: one full collection (pgc_collect(2)) at the
 *                 end of the steady phase, over the heap the program made
 *   max_pause_ms  the longest pause the program saw in the steady phase: a
 *                 collection, or a young collection and an increment run
 *                 back to back from one allocation
 *   gc_ms         collector time in the steady phase (all collections)
 *   run_ms        the steady phase's CPU time, collections included
 *   collections   collections in the steady phase (increments included)
 * and, in wall time, gc_wall_ms (pgc_get_stats: total_ns) and
 * max_wall_ms (the longest single collection), which a loaded machine
 * inflates.
 *
 * Usage: gc_pauses gen|inc [live=2000000] [n=20000000] [ring=4]
 */
#include <poolgc.h>

#include "bench.h"
#include "gc_ring.h"

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Collections, timed by their callbacks: `event` adds up those that one
 * allocation ran, the main loop takes the longest. */
static double started, started_wall, event, gc_cpu, longest_wall;
static size_t collections;
static void on_collect(int phase, const pgc_collect_info *info, void *arg) {
    (void)info;
    (void)arg;
    if (phase == PGC_START) {
        started_wall = bench_now();
        started = cpu_now();
        return;
    }
    double t = cpu_now() - started, w = bench_now() - started_wall;
    event += t;
    gc_cpu += t;
    collections++;
    if (w > longest_wall)
        longest_wall = w;
}

/* A ring of `len` nodes; returns the caller's reference to its first node. */
static size_t stats_ns(void) {
    pgc_gen_stats s[PGC_GENERATIONS];
    pgc_get_stats(s);
    size_t ns = 0;
    for (int g = 0; g < PGC_GENERATIONS; g++)
        ns += s[g].total_ns;
    return ns;
}

int main(int argc, char **argv) {
    long live = 2000000, n = 20000000, ring = 4;
    const struct bench_param params[] = {
        {"live", &live, "containers kept alive"},
        {"n", &n, "objects allocated in the steady phase"},
        {"ring", &ring, "nodes per ring"},
        {0, 0, 0},
    };
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "gen") && strcmp(mode, "inc")) {
        fprintf(stderr, "usage: %s gen|inc [key=value ...]\n", argv[0]);
        return 2;
    }
    bench_args(argc - 1, argv + 1, params);
    pgc_set_incremental(strcmp(mode, "inc") == 0);

    long rings = live / ring;
    struct node **keep = malloc((size_t)rings * sizeof *keep);
    pgc_disable();
    for (long r = 0; r < rings; r++)
        keep[r] = make_ring(ring, r);
    pgc_collect(2);
    pgc_callback_add(on_collect, NULL);
    pgc_enable();

    uint64_t rng = 42;
    size_t ns0 = stats_ns();
    double longest = 0;
    gc_cpu = longest_wall = 0;
    collections = 0;
    double t0 = cpu_now();
    for (long made = 0; made < n; made += 2 * ring) {
        size_t r = (size_t)(bench_rand(&rng) % (uint64_t)rings);
        pgc_decref(keep[r]);
        keep[r] = make_ring(ring, made);
        pgc_decref(make_ring(ring, made));
        if (event > longest)
            longest = event;
        event = 0;
    }
    double run = cpu_now() - t0;
    pgc_callback_remove(on_collect, NULL);
    t0 = cpu_now();
    pgc_collect(2); /* the reference: a full collection of this heap */
    double full = cpu_now() - t0;

    bench_result("ops=%ld mode=%s full_ms=%.2f max_pause_ms=%.3f gc_ms=%.1f run_ms=%.1f "
                 "collections=%zu gc_wall_ms=%.1f max_wall_ms=%.3f",
                 n, mode, full * 1e3, longest * 1e3, gc_cpu * 1e3, run * 1e3, collections,
                 (double)(stats_ns() - ns0) * 1e-6, longest_wall * 1e3);
    pgc_disable();
    for (long r = 0; r < rings; r++)
        pgc_decref(keep[r]);
    free(keep);
    return 0;
}
