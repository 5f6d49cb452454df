/*
 * gc_speed_boehm - Boehm GC's GC_gcollect() on the shapes of bench/gc_speed.c:
 *   garbage: N objects built as rings of R, all dropped, then collected
 *   live:    N objects in rings of R, all reachable from a root array
 * Collection is off (GC_disable) while building. Note that Boehm sweeps
 * lazily: much of freeing garbage happens in later allocations, not in
 * GC_gcollect.
 *
 *   cc -O2 bench/gc_speed_boehm.c -lgc -o gc_speed_boehm
 *   ./gc_speed_boehm [N=1000000] [R=4] [reps=5]     (prints the median of reps)
 */
#include <gc/gc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct item {
    struct item *next;
    long value;
} item;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void build(item **roots, long n, long r) {
    for (long k = 0; k < n / r; k++) {
        item *first = GC_MALLOC(sizeof(item)), *last = first;
        for (long j = 1; j < r; j++) {
            item *it = GC_MALLOC(sizeof(item));
            last->next = it;
            last = it;
        }
        last->next = first;
        roots[k] = first;
    }
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000, r = argc > 2 ? atol(argv[2]) : 4;
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    double garbage[64], live[64];
    if (reps > 64)
        reps = 64;
    GC_INIT();
    item **roots = GC_MALLOC((size_t)(n / r) * sizeof *roots); /* scanned by the GC */
    for (int rep = 0; rep < reps; rep++) {
        GC_disable();
        build(roots, n, r);
        for (long k = 0; k < n / r; k++)
            roots[k] = NULL;
        GC_enable();
        double t = now();
        GC_gcollect();
        garbage[rep] = now() - t;

        GC_disable();
        build(roots, n, r);
        GC_enable();
        t = now();
        GC_gcollect();
        live[rep] = now() - t;
        for (long k = 0; k < n / r; k++)
            roots[k] = NULL;
        GC_gcollect();
    }
    qsort(garbage, (size_t)reps, sizeof *garbage, cmp);
    qsort(live, (size_t)reps, sizeof *live, cmp);
    printf("boehm   garbage %ld objects (rings of %ld): %8.2f ms  %6.1f ns/object\n", n, r,
           garbage[reps / 2] * 1e3, garbage[reps / 2] * 1e9 / (double)n);
    printf("boehm   live    %ld objects (rings of %ld): %8.2f ms  %6.1f ns/object\n", n, r,
           live[reps / 2] * 1e3, live[reps / 2] * 1e9 / (double)n);
    return 0;
}
