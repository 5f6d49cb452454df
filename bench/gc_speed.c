/*
 * gc_speed - the cost of one full collection, per object, in two shapes:
 *   garbage: N containers built as rings of R, all dropped, then collected
 *   live:    N containers in rings of R, all still referenced (no garbage)
 *   chain:   N containers in one chain, freed by reference counting when
 *            the head is dropped (no collection: CPython's Py_DECREF+dealloc)
 * Automatic collection is off while building, so the timed collection sees
 * all N objects. Same shapes: bench/gc_speed.py (CPython), gc_speed_boehm.c.
 *
 *   cc -O2 -Iinclude bench/gc_speed.c -Llib/.libs -lpoolgc -o gc_speed
 *   ./gc_speed [N=1000000] [R=4] [reps=5]     (prints the median of reps)
 */
#include <poolgc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct item {
    struct item *next;
    long value;
} item;

static void item_traverse(void *obj, pgc_visit_fn visit, void *arg) {
    visit(((item *)obj)->next, arg);
}
static const pgc_type item_type = {"item", item_traverse, NULL, NULL};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* n / r rings of r items; roots[i] holds a reference to ring i. */
static void build(item **roots, long n, long r) {
    for (long k = 0; k < n / r; k++) {
        item *first = pgc_new(&item_type, sizeof(item)), *last = first;
        for (long j = 1; j < r; j++) {
            item *it = pgc_new(&item_type, sizeof(item));
            last->next = it; /* takes over pgc_new's reference */
            last = it;
        }
        last->next = pgc_incref(first);
        roots[k] = first;
    }
}

static item *build_chain(long n) {
    item *head = NULL;
    for (long k = 0; k < n; k++) {
        item *it = pgc_new(&item_type, sizeof(item));
        it->next = head; /* takes over the reference */
        head = it;
    }
    return head;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000, r = argc > 2 ? atol(argv[2]) : 4;
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    item **roots = malloc((size_t)(n / r) * sizeof *roots);
    double garbage[64], live[64], chain[64];
    size_t found = 0;
    if (reps > 64)
        reps = 64;
    pgc_disable();
    for (int rep = 0; rep < reps; rep++) {
        build(roots, n, r);
        for (long k = 0; k < n / r; k++)
            pgc_decref(roots[k]);
        double t = now();
        found = pgc_collect(2);
        garbage[rep] = now() - t;

        build(roots, n, r);
        t = now();
        pgc_collect(2);
        live[rep] = now() - t;
        for (long k = 0; k < n / r; k++)
            pgc_decref(roots[k]);
        pgc_collect(2);

        item *head = build_chain(n);
        t = now();
        pgc_decref(head);
        chain[rep] = now() - t;
    }
    qsort(garbage, (size_t)reps, sizeof *garbage, cmp);
    qsort(live, (size_t)reps, sizeof *live, cmp);
    qsort(chain, (size_t)reps, sizeof *chain, cmp);
    printf("poolgc  garbage %ld objects (rings of %ld): %8.2f ms  %6.1f ns/object  (found %zu)\n",
           n, r, garbage[reps / 2] * 1e3, garbage[reps / 2] * 1e9 / (double)n, found);
    printf("poolgc  live    %ld objects (rings of %ld): %8.2f ms  %6.1f ns/object\n", n, r,
           live[reps / 2] * 1e3, live[reps / 2] * 1e9 / (double)n);
    printf("poolgc  chain   %ld objects freed by one decref:  %8.2f ms  %6.1f ns/object\n", n,
           chain[reps / 2] * 1e3, chain[reps / 2] * 1e9 / (double)n);
    free(roots);
    return 0;
}
