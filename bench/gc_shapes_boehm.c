/*
 * gc_shapes_boehm - the shapes of gc_shapes.c built with the Boehm-Demers-
 * Weiser collector (Debian's libgc), for comparison with poolgc's collector.
 *
 * Boehm GC is a tracing, conservative, mark-sweep collector: it has no
 * reference counts, so "dropping" an object means clearing the last pointer
 * to it, and a collection costs in proportion to what is live (marking) plus
 * what it sweeps (done lazily, on later allocations). The shapes are those
 * of gc_shapes.c, as far as Boehm can express them:
 *
 *   rings  automatic collection off (GC_disable); build `n` objects as rings
 *          of `ring` nodes held by a root array, clear the root array, then
 *          GC_gcollect(). collect_ns per object.
 *   live   the same, the root array kept: GC_gcollect() marks everything.
 *          collect_ns per object.
 *   auto   automatic collection on; `live` objects stay reachable while a
 *          loop allocates `n` objects as rings and drops them.
 *          total_ns per object, collections counted with GC_get_gc_no().
 *   chain  `n` objects in one linked list; the head is dropped, then
 *          GC_gcollect() (what a tracing collector does instead of reference
 *          counting's cascade of frees). free_ns per object.
 *
 * Parameters: n (default 1000000), ring (4), live (100000), as gc_shapes.c.
 */
#include <gc.h>

#include "bench.h"

struct node {
    struct node *next;
    long value;
};

/* The root array, in a global: the collector scans the data segment, while a
 * local the compiler considers dead after its last use would not be a root. */
static struct node **root;
static struct node *head;

static struct node *make_ring(long len, long value) {
    struct node *first = GC_MALLOC(sizeof *first), *last = first;
    first->value = value;
    for (long i = 1; i < len; i++) {
        struct node *n = GC_MALLOC(sizeof *n);
        n->value = value + i;
        last->next = n;
        last = n;
    }
    last->next = first;
    return first;
}

int main(int argc, char **argv) {
    long n = 1000000, ring = 4, live = 100000;
    const char *shape = bench_gc_shape_args(argc, argv, &n, &ring, &live);
    GC_INIT();

    if (strcmp(shape, "chain") == 0) {
        GC_disable();
        double t0 = bench_now();
        for (long i = 0; i < n; i++) {
            struct node *x = GC_MALLOC(sizeof *x);
            x->next = head;
            x->value = i;
            head = x;
        }
        double t_build = bench_now() - t0;
        head = NULL;
        GC_enable();
        t0 = bench_now();
        GC_gcollect();
        double t = bench_now() - t0;
        bench_result("ops=%ld free_ns=%.1f build_ns=%.1f", n, t * 1e9 / (double)n,
                     t_build * 1e9 / (double)n);
        return 0;
    }

    long rings = (strcmp(shape, "auto") ? n : live) / ring;
    /* the root array is itself collected memory, so the collector scans it */
    root = GC_MALLOC((size_t)(rings ? rings : 1) * sizeof *root);
    if (strcmp(shape, "auto"))
        GC_disable();
    double t0 = bench_now();
    for (long r = 0; r < rings; r++)
        root[r] = make_ring(ring, r);
    double t_build = bench_now() - t0;

    if (strcmp(shape, "auto") == 0) {
        GC_word before = GC_get_gc_no();
        volatile long sink = 0;
        t0 = bench_now();
        for (long made = 0; made < n; made += ring)
            sink += make_ring(ring, made)->value;
        double t = bench_now() - t0;
        bench_result("ops=%ld total_ns=%.1f collections=%lu", n, t * 1e9 / (double)n,
                     (unsigned long)(GC_get_gc_no() - before));
    } else {
        if (strcmp(shape, "rings") == 0)
            memset(root, 0, (size_t)rings * sizeof *root);
        GC_enable();
        size_t heap_before = GC_get_heap_size() - GC_get_free_bytes();
        t0 = bench_now();
        GC_gcollect();
        double t = bench_now() - t0;
        size_t heap_after = GC_get_heap_size() - GC_get_free_bytes();
        bench_result("ops=%ld collect_ns=%.1f build_ns=%.1f freed_kb=%zu", rings * ring,
                     t * 1e9 / (double)(rings * ring), t_build * 1e9 / (double)(rings * ring),
                     heap_before > heap_after ? (heap_before - heap_after) / 1024 : 0);
    }
    return 0;
}
