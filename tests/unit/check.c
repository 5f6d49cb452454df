/*
 * check - pgc_check (lib/check.c) runs every structure checker: on a sound
 * heap (small, medium and large blocks, some freed, GC objects tracked) it
 * returns, twice in a row; when a pool's free list is corrupted (a free
 * block's link points into the middle of a block, which pool.c's checker
 * forbids) it prints one line "poolgc: internal check failed: ..." and
 * aborts. The corrupted case runs in a child (run_self.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc/internal.h"
#include "internal.h"
#include "../check.h"
#include "run_self.h"

typedef struct pair {
    void *a, *b;
} pair;
static void traverse(void *obj, pgc_visit_fn visit, void *arg) {
    visit(((pair *)obj)->a, arg);
    visit(((pair *)obj)->b, arg);
}
static const pgc_type pair_type = {"pair", traverse, NULL, NULL};

/* The child: corrupt the free list of the pool of 32-byte blocks, then
 * check; pgc_check must not return. */
static int corrupt(void) {
    pgc__init_ensure();
    char *a = pgc_malloc(32), *b = pgc_malloc(32);
    if (!pgc_in_region(a) || pgc_pool_of(a) != pgc_pool_of(b))
        return 2; /* no pools: nothing to corrupt */
    pgc_free(b);  /* b heads its pool's free list */
    ((pgc_block *)b)->next = (pgc_block *)(a + 16);
    pgc_check();
    return 3; /* returned: the corruption went unseen */
}

int main(int argc, char **argv) {
    (void)argv;
    if (argc == 2)
        return corrupt();

    void *blocks[300];
    for (int i = 0; i < 300; i++)
        blocks[i] = pgc_malloc(i < 200 ? 1 + (size_t)i * 7 : (size_t)(i - 199) * 3000);
    for (int i = 0; i < 300; i += 3)
        pgc_free(blocks[i]);
    pair *p = pgc_new(&pair_type, sizeof(pair)), *q = pgc_new(&pair_type, sizeof(pair));
    p->a = pgc_incref(q);
    q->a = pgc_incref(p); /* a cycle, tracked in generation 0 */
    pgc_check();
    pgc_check();
    CHECK(1, "not reached when pgc_check aborts on a sound heap");

    static char err[4096];
    int rc = run_self("corrupt", (char *[]){NULL}, err, sizeof err);
    CHECK(rc == -1, "the child exited with %d (2: no pools, 3: pgc_check returned)", rc);
    CHECK(!strncmp(err, "poolgc: internal check failed: ", 31) && lines_with(err, "") == 1,
          "stderr: [%s]", err);

    pgc_decref(p);
    pgc_decref(q);
    for (int i = 0; i < 300; i++)
        if (i % 3)
            pgc_free(blocks[i]);
    pgc_check();
    return check_done();
}
