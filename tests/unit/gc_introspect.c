/*
 * gc_introspect - the gc module's queries (lib/gc/introspect.c): each
 * returns how many results there are in all and stores at most cap of them
 * (buf NULL: count only), borrowed, changing nothing:
 * - pgc_get_objects lists a generation's tracked objects, or all three with
 *   -1, never the permanent generation nor untracked objects; another
 *   generation number fails with EINVAL;
 * - pgc_get_referents reports what traverse visits, NULL children left out
 *   (a leaf has none);
 * - pgc_get_referrers lists each tracked container that refers to the
 *   object once, however many references it holds, frozen ones included,
 *   untracked ones never.
 */
#include <errno.h>

#include "gc/internal.h"
#include "../check.h"

typedef struct pair {
    void *a, *b;
} pair;
static void traverse(void *obj, pgc_visit_fn visit, void *arg) {
    visit(((pair *)obj)->a, arg);
    visit(((pair *)obj)->b, arg);
}
static const pgc_type pair_type = {"pair", traverse, NULL, NULL};
static const pgc_type leaf_type = {"leaf", NULL, NULL, NULL};

int main(void) {
    pgc_disable();
    size_t all = pgc_get_objects(-1, NULL, 0), young = pgc_get_objects(0, NULL, 0);
    void *leaf = pgc_new(&leaf_type, 8);
    pair *frozen = pgc_new(&pair_type, sizeof(pair));
    pgc_freeze(); /* frozen: on the permanent list */
    pair *p = pgc_new(&pair_type, sizeof(pair)), *q = pgc_new(&pair_type, sizeof(pair));
    pgc_collect(0); /* p and q survive into generation 1 */
    pair *r = pgc_new(&pair_type, sizeof(pair)), *hidden = pgc_new(&pair_type, sizeof(pair));
    pgc_untrack(hidden);
    p->a = pgc_incref(leaf);
    q->a = pgc_incref(leaf);
    q->b = pgc_incref(leaf); /* q refers to leaf twice */
    r->b = pgc_incref(leaf);
    frozen->a = pgc_incref(leaf);
    hidden->a = pgc_incref(leaf);

    void *buf[8] = {0};
    CHECK(pgc_get_objects(-1, NULL, 0) == all + 3 && pgc_get_objects(0, buf, 8) == young + 1,
          "%zu objects in all, %zu young", pgc_get_objects(-1, NULL, 0),
          pgc_get_objects(0, NULL, 0));
    CHECK(pgc_get_objects(1, buf, 1) == 2 && (buf[0] == p || buf[0] == q) && buf[1] != p &&
              buf[1] != q,
          "generation 1 (cap 1)");
    errno = 0;
    CHECK(pgc_get_objects(PGC_GENERATIONS, buf, 8) == 0 && errno == EINVAL, "bad generation");

    CHECK(pgc_get_referents(leaf, buf, 8) == 0, "a leaf has referents");
    CHECK(pgc_get_referents(p, buf, 8) == 1 && buf[0] == leaf, "p's referents (b is NULL)");
    buf[1] = NULL;
    CHECK(pgc_get_referents(q, buf, 1) == 2 && buf[0] == leaf && buf[1] == NULL, "q's referents");

    size_t n = pgc_get_referrers(leaf, buf, 8);
    int seen = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        seen |=
            (buf[i] == p) << 0 | (buf[i] == q) << 1 | (buf[i] == r) << 2 | (buf[i] == frozen) << 3;
    CHECK(n == 4 && seen == 15, "%zu referrers (p, q, r, frozen seen: %#x)", n, seen);
    return check_done();
}
