/*
 * gc_ring.h - the object the GC benchmarks (gc_shapes.c, gc_pauses.c) build
 * their shapes from: a node with one reference, and rings of them.
 */
#ifndef POOLGC_BENCH_GC_RING_H
#define POOLGC_BENCH_GC_RING_H

#include <poolgc.h>

struct node {
    struct node *next;
    long value;
};

static void node_traverse(void *obj, pgc_visit_fn visit, void *arg) {
    struct node *n = obj;
    if (n->next)
        visit(n->next, arg);
}

static const pgc_type node_type = {"node", node_traverse, NULL, NULL};

/* A ring of len nodes, values value.. value+len-1: one reference to its
 * first node, the caller's. */
static inline struct node *make_ring(long len, long value) {
    struct node *first = pgc_new(&node_type, sizeof *first), *last = first;
    first->value = value;
    for (long i = 1; i < len; i++) {
        struct node *n = pgc_new(&node_type, sizeof *n);
        n->value = value + i;
        last->next = n; /* the ring's reference: pgc_new's */
        last = n;
    }
    last->next = pgc_incref(first);
    return first;
}

#endif /* POOLGC_BENCH_GC_RING_H */
