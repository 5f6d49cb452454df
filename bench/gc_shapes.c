/*
 * gc_shapes - poolgc's reference-counted objects and cycle collector on the
 * four shapes that the same-named CPython (gc_shapes.py) and Boehm GC
 * (gc_shapes_boehm.c) programs build, so the three can be compared per
 * object.
 *
 * Models what a language runtime asks of its collector: the object graph of
 * an interpreter is mostly small containers, some of them in reference
 * cycles (a node and its parent, an object and its bound method, a closure
 * and its cell) that reference counting alone never frees.
 *
 * Shapes (the first word on the command line):
 *   rings  automatic collection off; build `n` objects as rings of `ring`
 *          nodes, drop every external reference (only the cycles keep them),
 *          then one full collection. Measures the cost of finding and
 *          freeing cyclic garbage: collect_ns per object.
 *   live   the same rings, all kept reachable from a root array; one full
 *          collection finds nothing. Measures the cost of scanning live
 *          objects: collect_ns per object.
 *   auto   automatic collection on, default thresholds; `live` objects stay
 *          reachable in rings while a loop makes `n` objects as rings and
 *          drops them at once. Measures what a program pays per object,
 *          allocation and collections included: total_ns per object.
 *   chain  `n` objects in one linked list, freed by reference counting
 *          alone when the head is dropped (CPython: Py_DECREF and its
 *          trashcan). free_ns per object.
 *
 * Parameters (key=value after the shape):
 *   n     objects built (rings, live, chain) or allocated in the loop (auto)
 *                                                           default 1000000
 *   ring  nodes per ring                                    default 4
 *   live  objects kept alive during `auto`                  default 100000
 *
 * One measurement per run, in the runner's format, so the runner can
 * interleave and repeat it like every other workload.
 *
 * Exits with 77 (skipped) when the library it is linked with does not
 * implement the GC layer yet: the GC functions are weak references.
 */
#include <poolgc.h>

#include "bench.h"

/* Weak: this program links and runs (to report a skip) against a
 * libpoolgc.so that has the allocator but not yet the GC layer. pgc_incref
 * and pgc_decref are inline (poolgc.h); their slow paths come with pgc_new. */
#pragma weak pgc_new
#pragma weak pgc__incref_slow
#pragma weak pgc__decref_slow
#pragma weak pgc_collect
#pragma weak pgc_enable
#pragma weak pgc_disable
#pragma weak pgc_get_stats

#include "gc_ring.h"

static size_t collections(void) {
    pgc_gen_stats s[3];
    pgc_get_stats(s);
    return s[0].collections + s[1].collections + s[2].collections;
}

/* rings, live: one full collection over n objects in rings, after dropping
 * every external reference (rings) or keeping them all (live). */
static void collect_rings(long n, long ring, int drop) {
    long rings = n / ring;
    struct node **root = malloc((size_t)rings * sizeof *root);
    pgc_disable();
    double t0 = bench_now();
    for (long r = 0; r < rings; r++)
        root[r] = make_ring(ring, r);
    double t_build = bench_now() - t0;
    if (drop)
        for (long r = 0; r < rings; r++)
            pgc_decref(root[r]); /* only the cycle holds it now */
    t0 = bench_now();
    size_t found = pgc_collect(2);
    double t = bench_now() - t0;
    bench_result("ops=%ld collect_ns=%.1f build_ns=%.1f collected=%zu", rings * ring,
                 t * 1e9 / (double)(rings * ring), t_build * 1e9 / (double)(rings * ring), found);
    if (!drop)
        for (long r = 0; r < rings; r++)
            pgc_decref(root[r]);
    free(root);
}

/* auto: a running program; its garbage cycles are left to the thresholds. */
static void automatic(long n, long ring, long live) {
    long rings = live / ring;
    struct node **root = malloc((size_t)(rings ? rings : 1) * sizeof *root);
    for (long r = 0; r < rings; r++)
        root[r] = make_ring(ring, r);
    size_t before = collections();
    double t0 = bench_now();
    for (long made = 0; made < n; made += ring)
        pgc_decref(make_ring(ring, made));
    double t = bench_now() - t0;
    bench_result("ops=%ld total_ns=%.1f collections=%zu", n, t * 1e9 / (double)n,
                 collections() - before);
    for (long r = 0; r < rings; r++)
        pgc_decref(root[r]);
    free(root);
}

/* chain: n objects in one list, freed by reference counting alone when its
 * head is dropped (iteratively: no C stack growth). */
static void chain(long n) {
    struct node *head = NULL;
    pgc_disable();
    double t0 = bench_now();
    for (long i = 0; i < n; i++) {
        struct node *x = pgc_new(&node_type, sizeof *x);
        x->next = head; /* takes over the reference */
        x->value = i;
        head = x;
    }
    double t_build = bench_now() - t0;
    t0 = bench_now();
    pgc_decref(head);
    double t = bench_now() - t0;
    bench_result("ops=%ld free_ns=%.1f build_ns=%.1f", n, t * 1e9 / (double)n,
                 t_build * 1e9 / (double)n);
}

int main(int argc, char **argv) {
    long n = 1000000, ring = 4, live = 100000;
    const char *shape = bench_gc_shape_args(argc, argv, &n, &ring, &live);

    if (!pgc_new || !pgc_collect || !pgc_get_stats) {
        bench_result("skip reason=libpoolgc_has_no_GC_layer");
        return 77;
    }
    struct node *probe = pgc_new(&node_type, sizeof *probe);
    if (!probe) {
        bench_result("skip reason=pgc_new_failed");
        return 77;
    }
    pgc_decref(probe);

    if (strcmp(shape, "rings") == 0)
        collect_rings(n, ring, 1);
    else if (strcmp(shape, "live") == 0)
        collect_rings(n, ring, 0);
    else if (strcmp(shape, "auto") == 0)
        automatic(n, ring, live);
    else
        chain(n);
    return 0;
}
