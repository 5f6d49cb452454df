/*
 * gc_test.h - what the GC tests (tests/api/gc_*.c) share: CHECK and check_done
 * (check.h), and two types: "node", a container with four child slots, and
 * "leaf", with no references. Both count their releases, so a test can see
 * what was freed.
 */
#ifndef GC_TEST_H
#define GC_TEST_H

#include <stdio.h>
#include <stdlib.h>

#include "poolgc.h"
#include "../check.h"

#define NODE_SLOTS 4
typedef struct node {
    long id;
    void *child[NODE_SLOTS]; /* owned references (GC objects or NULL) */
} node;

static size_t nodes_released, leaves_released;

static inline void node_traverse(void *obj, pgc_visit_fn visit, void *arg) {
    node *n = obj;
    for (int i = 0; i < NODE_SLOTS; i++)
        visit(n->child[i], arg);
}
static inline void node_release(void *obj) {
    (void)obj;
    nodes_released++;
}
static inline void leaf_release(void *obj) {
    (void)obj;
    leaves_released++;
}

static const pgc_type node_type = {"node", node_traverse, NULL, node_release};
static const pgc_type leaf_type = {"leaf", NULL, NULL, leaf_release};

static inline node *node_new(long id) {
    node *n = pgc_new(&node_type, sizeof(node));
    if (!n) {
        perror("pgc_new");
        exit(2);
    }
    n->id = id;
    return n;
}
static inline void *leaf_new(void) {
    void *l = pgc_new(&leaf_type, 24);
    if (!l) {
        perror("pgc_new");
        exit(2);
    }
    return l;
}
/* Store a new reference in slot i (the ownership rule: the holder increfs). */
static inline void node_set(node *n, int i, void *child) {
    void *old = n->child[i];
    n->child[i] = pgc_incref(child);
    pgc_decref(old);
}

#endif
