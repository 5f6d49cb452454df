/*
 * gc_object - GC objects (lib/gc/object.c) laid out as lib/gc/internal.h
 * says:
 * - a leaf is | ob head | data | and a container | gc link | ob head | data |,
 *   each one block from pgc_malloc (the prefix is the block's start); the
 *   type word is the type, plus PGC_TYPE_CONTAINER for containers; the rc
 *   word is PGC__RC_LIVE + the count; the data comes zeroed;
 * - a new container is appended to generation 0 and counted in its count;
 *   its deallocation counts down;
 * - a count reaching zero queues the object (rc tag PGC__RC_PENDING, on
 *   pgc__gc.pending) instead of destroying it inside another's teardown:
 *   while the parent's release runs, the child it dropped is pending;
 * - finalize runs once per object, with pgc__gc.finalizing naming it, and
 *   sets PGC_TYPE_FINALIZED.
 */
#include <stdint.h>

#include "gc/internal.h"
#include "../check.h"

typedef struct node {
    struct node *child;
    long payload[5];
} node;

static node *parent, *child;
static int finalized, finalizing_ok, released;
static unsigned long long child_rc_in_release;
static void *pending_in_release;

static void traverse(void *obj, pgc_visit_fn visit, void *arg) {
    visit(((node *)obj)->child, arg);
}
static void finalize(void *obj) {
    finalizing_ok += pgc__gc.finalizing == obj && pgc_is_finalized(obj);
    finalized++;
}
static void release(void *obj) {
    if (obj == parent) {
        child_rc_in_release = pgc_ob(child)->rc;
        pending_in_release = pgc__gc.pending;
    }
    released++;
}
static const pgc_type node_type = {"node", traverse, finalize, release};
static const pgc_type leaf_type = {"leaf", NULL, NULL, NULL};

static int zeroed(const void *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (((const unsigned char *)p)[i])
            return 0;
    return 1;
}

int main(void) {
    pgc_disable(); /* no automatic collection in the middle */
    char *leaf = pgc_new(&leaf_type, 40);
    pgc_ob_head *ob = pgc_ob(leaf);
    CHECK(ob->type == (uintptr_t)&leaf_type && !pgc_is_container(ob) &&
              ob->rc == PGC__RC_LIVE + 1 && zeroed(leaf, 40),
          "leaf head: type %#lx rc %#llx", (unsigned long)ob->type, ob->rc);
    CHECK(pgc_usable_size(ob) == pgc_class_size(pgc_class_index(PGC_OB_SIZE + 40)),
          "the leaf's head is not its block's start");
    CHECK(pgc_incref(leaf) == leaf && ob->rc == PGC__RC_LIVE + 2, "incref: rc %#llx", ob->rc);
    pgc_decref(leaf);
    CHECK(ob->rc == PGC__RC_LIVE + 1 && pgc_refcount(leaf) == 1, "decref: rc %#llx", ob->rc);
    pgc_decref(leaf);

    long young = pgc__gc.gen[0].count;
    parent = pgc_new(&node_type, sizeof(node));
    child = pgc_new(&node_type, sizeof(node));
    pgc_gc_link *pl = pgc_link(parent), *cl = pgc_link(child);
    CHECK(pgc_ob(parent)->type == ((uintptr_t)&node_type | PGC_TYPE_CONTAINER) &&
              pgc_obj_of(pl) == parent && (uintptr_t)pl % 16 == 0 && zeroed(parent, sizeof(node)),
          "container head: type %#lx", (unsigned long)pgc_ob(parent)->type);
    CHECK(pgc_usable_size(pl) ==
              pgc_class_size(pgc_class_index(PGC_CONTAINER_PREFIX + sizeof(node))),
          "the container's gc link is not its block's start");
    CHECK(pgc_gc_next(pl) == cl && pgc_gc_prev(&pgc__gc.gen[0].head) == cl &&
              pgc__gc.gen[0].count == young + 2,
          "new containers not appended to generation 0 (count %ld)", pgc__gc.gen[0].count);

    parent->child = child; /* the parent owns the reference pgc_new gave */
    pgc_decref(parent);
    CHECK(finalized == 2 && finalizing_ok == 2 && released == 2,
          "finalized %d (%d named), released %d", finalized, finalizing_ok, released);
    CHECK(PGC_RC_TAG(child_rc_in_release) == PGC_RC_TAG(PGC__RC_PENDING) &&
              pending_in_release == child,
          "the child was not pending during the parent's release (rc %#llx)", child_rc_in_release);
    CHECK(pgc__gc.gen[0].count == young && pgc_list_is_empty(&pgc__gc.gen[0].head) &&
              pgc__gc.pending == NULL,
          "after teardown: count %ld", pgc__gc.gen[0].count);
    return check_done();
}
