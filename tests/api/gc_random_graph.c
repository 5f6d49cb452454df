/* gc_random_graph - random graphs of 10^5 objects (containers and leaves,
 * random edges, random roots): drop every reference but the roots', collect,
 * and compare with a reachability computed here from the edge list alone.
 * Exactly the unreachable objects are released, pgc_collect counts the
 * unreachable containers still alive, and every survivor's count equals its
 * references from survivors plus its root reference. */
#include <stdint.h>
#include <string.h>

#include "gc_test.h"

#define N 100000
#define LEAVES (N / 5) /* ids N - LEAVES .. N - 1 are leaves */
#define ROOTS 50

typedef struct obj {
    long id;
    void *child[NODE_SLOTS];
} obj;

static unsigned char released[N];
static void obj_release(void *o) {
    released[((obj *)o)->id]++;
}
static const pgc_type container_type = {"container", node_traverse, NULL, obj_release};
static const pgc_type leaf_obj_type = {"leaf", NULL, NULL, obj_release};

static void *objs[N];
static int edges[N][NODE_SLOTS]; /* -1: none; the test's own copy of the graph */
static int is_root[N], reachable[N], stack_[N];
static size_t refs_from_live[N];

static int is_leaf(int id) {
    return id >= N - LEAVES;
}

/* Which objects the roots reach, by the edge list only. */
static void compute_reachable(void) {
    int top = 0;
    memset(reachable, 0, sizeof reachable);
    for (int i = 0; i < N; i++)
        if (is_root[i]) {
            reachable[i] = 1;
            stack_[top++] = i;
        }
    while (top) {
        int i = stack_[--top];
        for (int s = 0; s < NODE_SLOTS; s++) {
            int j = edges[i][s];
            if (j >= 0 && !reachable[j]) {
                reachable[j] = 1;
                stack_[top++] = j;
            }
        }
    }
}

static void run(unsigned seed, int edges_per_container) {
    srand(seed);
    memset(released, 0, sizeof released);
    for (int i = 0; i < N; i++) {
        obj *o = pgc_new(is_leaf(i) ? &leaf_obj_type : &container_type, sizeof(obj));
        o->id = i;
        objs[i] = o;
        is_root[i] = 0;
    }
    for (int i = 0; i < N; i++)
        for (int s = 0; s < NODE_SLOTS; s++) {
            int j = !is_leaf(i) && s < edges_per_container ? rand() % N : -1;
            edges[i][s] = j;
            if (j >= 0)
                ((obj *)objs[i])->child[s] = pgc_incref(objs[j]);
        }
    for (int r = 0; r < ROOTS; r++)
        is_root[rand() % N] = 1;
    compute_reachable();

    for (int i = 0; i < N; i++)
        if (!is_root[i])
            pgc_decref(objs[i]); /* may free acyclic garbage by counting */
    size_t dead_containers = 0, unreachable_containers = 0;
    for (int i = 0; i < N; i++) {
        if (reachable[i] && released[i])
            CHECK(0, "seed %u: reachable object %d freed by reference counting", seed, i);
        if (!reachable[i] && !is_leaf(i)) {
            unreachable_containers++;
            dead_containers += released[i];
        }
    }

    size_t found = pgc_collect(2);
    CHECK(found == unreachable_containers - dead_containers, "seed %u: collect found %zu, want %zu",
          seed, found, unreachable_containers - dead_containers);
    memset(refs_from_live, 0, sizeof refs_from_live);
    size_t wrong = 0;
    for (int i = 0; i < N; i++) {
        if (released[i] != !reachable[i])
            wrong++;
        if (reachable[i])
            for (int s = 0; s < NODE_SLOTS; s++)
                if (edges[i][s] >= 0)
                    refs_from_live[edges[i][s]]++;
    }
    CHECK(wrong == 0, "seed %u: %zu objects released wrongly", seed, wrong);
    size_t bad_counts = 0;
    for (int i = 0; i < N; i++)
        if (reachable[i] && pgc_refcount(objs[i]) != refs_from_live[i] + (size_t)is_root[i])
            bad_counts++;
    CHECK(bad_counts == 0, "seed %u: %zu survivors with wrong counts", seed, bad_counts);

    for (int i = 0; i < N; i++)
        if (is_root[i])
            pgc_decref(objs[i]);
    pgc_collect(2);
    pgc_check(); /* the generation lists and the pools, after it all */
    size_t left = 0;
    for (int i = 0; i < N; i++)
        left += released[i] != 1;
    CHECK(left == 0, "seed %u: %zu objects not released exactly once at the end", seed, left);
}

int main(void) {
    /* sparse graphs: much is freed by counting; dense ones: cycles dominate */
    run(1, 1);
    run(2, 2);
    run(3, 4);
    return check_done();
}
